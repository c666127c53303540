/** `setOfflineMessageDuration`: the caller's own duration, 1–7 days, when the app allows it. */
import { frameRoute } from '../lib/lambda/frame-route';
import { settingsReader, settingsStore } from '../lib/lambda/stores';
import { setOfflineMessageDuration } from '../lib/retention/offline-message-duration';
import { setOfflineMessageDurationFrameSchema } from '../lib/protocol';

const deps = { settings: settingsReader(), store: settingsStore() };

export const handler = frameRoute(setOfflineMessageDurationFrameSchema, (frame, { caller }) =>
  setOfflineMessageDuration(deps, caller.userId, frame.days),
);
