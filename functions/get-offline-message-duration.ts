/** `getOfflineMessageDuration`: the duration in force for the caller, and whether it is their own. */
import { frameRoute } from '../lib/lambda/frame-route';
import { settingsReader } from '../lib/lambda/stores';
import { getOfflineMessageDuration } from '../lib/retention/offline-message-duration';
import { getOfflineMessageDurationFrameSchema } from '../lib/protocol';

const settings = settingsReader();

export const handler = frameRoute(getOfflineMessageDurationFrameSchema, (_frame, { caller }) =>
  getOfflineMessageDuration(settings, caller.userId),
);
