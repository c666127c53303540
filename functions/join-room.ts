/** `joinRoom`: this connection joins a chatroom, until it leaves or closes. */
import { joinRoom } from '../lib/conversations/chatrooms';
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { connectionStore, roomStore } from '../lib/lambda/stores';
import { joinRoomFrameSchema } from '../lib/protocol';

const deps = { rooms: roomStore(), connections: connectionStore(), clock };

export const handler = frameRoute(joinRoomFrameSchema, (frame, { caller }) => joinRoom(deps, caller, frame.room));
