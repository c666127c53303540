/** `POST /v1/messages`: a message sent on a user's behalf by the app's backend, through the client's own `send`. */
import { randomUUID } from 'node:crypto';
import { backendSend, backendSendResult } from '../../lib/sending/backend-send';
import { httpRoute } from '../../lib/lambda/http-route';
import { sendDeps } from '../../lib/lambda/send-deps';
import { statsCounters } from '../../lib/lambda/stats';
import { sendMessage } from '../../lib/sending/send-message';
import { countedSend } from '../../lib/admin/stats';

const stats = statsCounters();
const deps = sendDeps(stats, { asClient: false });

export const handler = httpRoute(async ({ body }) => {
  const { sender, frame } = backendSend(body, randomUUID);
  return backendSendResult(await countedSend(stats, frame, () => sendMessage(deps, sender, frame)));
});
