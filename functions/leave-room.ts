/** `leaveRoom`: this connection leaves a chatroom. */
import { leaveRoom } from '../lib/conversations/chatrooms';
import { frameRoute } from '../lib/lambda/frame-route';
import { roomStore } from '../lib/lambda/stores';
import { leaveRoomFrameSchema } from '../lib/protocol';

const deps = { rooms: roomStore() };

export const handler = frameRoute(leaveRoomFrameSchema, (frame, { caller }) => leaveRoom(deps, caller, frame.room));
