/** `history`: a conversation's messages, newest first, for its participants. */
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { groupMembership, historyStore } from '../lib/lambda/stores';
import { historyFrameSchema } from '../lib/protocol';
import { readHistory } from '../lib/conversations/history';

const deps = { history: historyStore(), groups: groupMembership(), clock };

export const handler = frameRoute(historyFrameSchema, (frame, { caller }) => readHistory(deps, caller, frame));
