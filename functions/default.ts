/**
 * `$default`: API Gateway sends here every frame whose `action` matches no route, including frames that
 * are not JSON at all. Each gets an error frame, and the connection stays open.
 */
import { UnknownActionError } from '../lib/errors';
import { frameRoute } from '../lib/lambda/frame-route';
import { anyClientFrameSchema } from '../lib/protocol';

export const handler = frameRoute(anyClientFrameSchema, async (frame) => {
  throw new UnknownActionError(frame.action);
});
