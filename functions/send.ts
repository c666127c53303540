/** `send`: a private, group or chatroom message; qos 1 is stored for its recipients before `accepted`. */
import { frameRoute } from '../lib/lambda/frame-route';
import { sendDeps } from '../lib/lambda/send-deps';
import { statsCounters } from '../lib/lambda/stats';
import { sendFrameSchema } from '../lib/protocol';
import { sendMessage } from '../lib/sending/send-message';
import { countedSend } from '../lib/admin/stats';

const stats = statsCounters();
const deps = sendDeps(stats, { asClient: true });
// Loaded only when on; a bundle built without tracing has no tracer in it at all (cdk/bundling.ts).
const tracing = process.env.POWERTOOLS_TRACE_ENABLED === 'true' ? await import('../lib/lambda/tracing') : undefined;

export const handler = frameRoute(sendFrameSchema, (frame, { caller }) => countedSend(stats, frame, () => sendMessage(deps, caller, frame)));
if (tracing) handler.use(tracing.traceHandler());
