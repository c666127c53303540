/** `recent`: the caller's recent conversations with their last message, newest first. */
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { logger } from '../lib/lambda/logger';
import { groupStore, recentConversationStore, settingsReader } from '../lib/lambda/stores';
import { recentFrameSchema } from '../lib/protocol';
import { listRecentConversations } from '../lib/conversations/recent-conversations';

const deps = { recent: recentConversationStore(), groups: groupStore(), settings: settingsReader(), clock, log: logger };

export const handler = frameRoute(recentFrameSchema, (frame, { caller }) => listRecentConversations(deps, caller.userId, frame.limit));
