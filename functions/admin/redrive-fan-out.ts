/** `POST /v1/fan-out/redrive`: the fan-out jobs that failed five times go back to be done again. */
import { httpRoute } from '../../lib/lambda/http-route';
import { fanOutDeadLetters } from '../../lib/lambda/stores';

const deadLetters = fanOutDeadLetters();

// 202: SQS moves the jobs back in the background; the handle names the move.
export const handler = httpRoute(async () => ({ status: 202, body: await deadLetters.redrive() }));
