/** `history`: a conversation's messages, newest first, for its participants. */
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { groupMembership, historyStore, settingsReader } from '../lib/lambda/stores';
import { historyFrameSchema } from '../lib/protocol';
import { readHistory } from '../lib/conversations/history';

const deps = { history: historyStore(), groups: groupMembership(), settings: settingsReader(), clock };

export const handler = frameRoute(historyFrameSchema, (frame, { caller }) => readHistory(deps, caller, frame));
