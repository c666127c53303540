/** `GET /v1/stats`: connections open and messages accepted, stored, delivered, acked and dropped. */
import { httpRoute } from '../../lib/lambda/http-route';
import { statsReader } from '../../lib/lambda/stats-reader';

const stats = statsReader();

export const handler = httpRoute(async () => ({ status: 200, body: await stats.read() }));
