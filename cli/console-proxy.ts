/**
 * `pigeonhole console` (SPEC §8, §11): the admin web console for a stack on AWS. It serves the same
 * built files as `npm start` on 127.0.0.1 and forwards the console's `/v1` calls to `--endpoint`,
 * signed with SigV4 from the standard AWS credential chain, so IAM stays the only way into the stack
 * and nothing new is deployed.
 *
 * This proxy holds the admin's AWS identity, so it is itself an auth boundary. Binding 127.0.0.1 keeps
 * other machines out, but not other users of this machine, nor web pages open in the admin's browser:
 * any page may send a "simple" request (a form POST) to a loopback port, and a DNS-rebinding page may
 * even read the answers. So each run makes a random key, prints it in the console's URL fragment
 * (`/#key=…`, which browsers never send over the network), and forwards only requests that carry it as
 * a bearer token; a bearer header is not something a cross-site form can set, and a foreign `Host`
 * is refused as well. The console itself works exactly as it does against the local stack.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminBasePath } from '../lib/admin/admin-api';
import { serveStatic } from '../local/static-files';
import { AdminApiError, AdminClient, type AdminAuth } from './admin-client';

export const consoleDir = fileURLToPath(new URL('../dist/console', import.meta.url));

/** The admin API's own limit is 30 KB a body (SPEC §9); anything far past it is not the console's. */
const maxBodyBytes = 256 * 1024;

export interface ConsoleProxy {
  /** The URL to open: signed in, with the run's key in the fragment. */
  url: string;
  key: string;
  port: number;
  stop(): Promise<void>;
}

export async function startConsoleProxy(options: {
  endpoint: string;
  auth: AdminAuth;
  port: number;
  /** The built console; `dist/console/` unless a test says otherwise. */
  staticDir?: string;
}): Promise<ConsoleProxy> {
  const host = '127.0.0.1';
  const key = randomBytes(24).toString('base64url');
  const client = new AdminClient(options.endpoint, options.auth);
  const mounts = { '/': options.staticDir ?? consoleDir };
  let port = options.port;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else answerError(res, 500, 'INTERNAL', 'the console proxy failed');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page that rebinds its own name to 127.0.0.1 arrives with its own Host.
    if (req.headers.host !== `${host}:${port}` && req.headers.host !== `localhost:${port}`) {
      return answerError(res, 403, 'FORBIDDEN', 'this proxy answers only http://127.0.0.1');
    }
    const url = new URL(`http://${host}${req.url ?? '/'}`);
    if (url.pathname !== adminBasePath && !url.pathname.startsWith(`${adminBasePath}/`)) {
      if (await serveStatic(mounts, req, res, url.pathname)) return;
      return answerError(res, 404, 'NOT_FOUND', 'no such file');
    }
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!presented) return answerError(res, 401, 'UNAUTHORIZED', 'open the URL `pigeonhole console` printed: it carries this run’s key');
    if (!sameSecret(presented, key)) return answerError(res, 403, 'FORBIDDEN', 'that is not this run’s key; open the URL `pigeonhole console` printed');

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) return answerError(res, 413, 'TOO_LARGE', 'the body is too large');
      chunks.push(chunk as Buffer);
    }
    const body = chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
    let answer: Response;
    try {
      answer = await client.send(req.method ?? 'GET', `${url.pathname.slice(adminBasePath.length)}${url.search}`, body);
    } catch (error) {
      return answerError(res, 502, 'UNREACHABLE', error instanceof AdminApiError ? error.message : 'the admin API could not be reached');
    }
    const text = await answer.text();
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' });
    res.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/#key=${key}`,
    key,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The CLI command: serves until Ctrl-C. */
export async function serveConsole(endpoint: string, auth: AdminAuth, rawPort: string | undefined): Promise<void> {
  const port = rawPort === undefined ? 3003 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number (0–65535), not '${rawPort}'`);
  if (!existsSync(join(consoleDir, 'index.html'))) throw new Error('the console is not built: run `npm run build:console` (npm install does)');
  const proxy = await startConsoleProxy({ endpoint, auth, port });
  console.log(`
The Pigeonhole admin console for ${endpoint}
(requests ${auth.kind === 'sigv4' ? `signed with SigV4 for ${auth.region}, from your AWS credentials` : 'with the admin key'}):

  ${proxy.url}

Open it in a browser on this machine. The key in it is this run's only; Ctrl-C stops the console.
`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await proxy.stop();
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function answerError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
}

