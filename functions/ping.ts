/** `ping`: lets a client check the connection end to end, and keeps API Gateway's 10-minute idle timer at bay. */
import { frameRoute } from '../lib/lambda/frame-route';
import { pingFrameSchema } from '../lib/protocol';

export const handler = frameRoute(pingFrameSchema, async () => ({ type: 'pong' }));
