/**
 * What every local stand-in for an AWS endpoint (the WebSocket gateway's @connections API, Lambda,
 * SQS, EventBridge) and the admin server share: a loopback port, a bounded request body, a JSON answer,
 * and a stop that does not wait for idle keep-alive connections.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';

/** A TCP port that was free a moment ago on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts the server on `port` of `host` (0: a free one); resolves to where it listens. */
export async function listenOn(server: Server, host: string, port = 0): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

/**
 * The request's body, or undefined once it is past `maxBytes` (by its Content-Length, or as it
 * arrives): the rest is never read, so whoever refuses it closes the connection (see refuseJson).
 */
export async function readBody(req: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Answers with `body` as JSON (nothing for undefined), unless an answer has gone out already. */
export function replyJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body === undefined ? '' : JSON.stringify(body));
}

/**
 * Answers without reading what is left of the body, and closes the connection once the answer is out
 * (Node closes it for `connection: close`), rather than keep it for whatever the client still sends.
 */
export function refuseJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  replyJson(res, status, body, { ...headers, connection: 'close' });
}

/** Stops listening, dropping idle keep-alive connections rather than wait for them to time out. */
export async function stopServer(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
