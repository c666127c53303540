/**
 * The admin API's local port. The admin API itself arrives with the settings work; until then every
 * request gets a JSON 404 in the admin API's error format, so scripts see a clear answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningAdminServer {
  url: string;
  stop(): Promise<void>;
}

export async function startAdminServer(host: string, port: number): Promise<RunningAdminServer> {
  const server: Server = createServer((req, res) => {
    const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: `no admin route ${req.method ?? ''} ${req.url ?? ''}` } });
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/v1`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
