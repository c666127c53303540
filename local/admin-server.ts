/**
 * The admin API locally: a stand-in for the HTTP API that serves it on AWS. It runs the same handler
 * modules with payload-2.0 events, and checks `Authorization: Bearer <admin key>` where AWS checks a
 * SigV4 signature (IAM authorization): 401 without a key, 403 with a wrong one.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { adminBasePath } from '../lib/admin/admin-api';
import { listenOn, readBody, refuseJson, replyJson, stopServer } from './http-server';
import { invoke, localAccountId, type LocalFunction } from './lambda-runtime';
import { serveStatic, type StaticMounts } from './static-files';

export interface HttpRouteTarget {
  method: string;
  /** e.g. `/v1/users/{id}/config`, or `$default` for every request no route matches. */
  path: string;
  fn: LocalFunction;
}

interface CompiledRoute extends HttpRouteTarget {
  pattern: RegExp;
  params: string[];
}

export interface RunningAdminServer {
  url: string;
  stop(): Promise<void>;
}

export async function startAdminServer(options: {
  host: string;
  port: number;
  adminKey: string;
  routes: readonly HttpRouteTarget[];
  /** Static files served beside the API, outside its base path (the console, the examples). */
  staticMounts?: StaticMounts;
}): Promise<RunningAdminServer> {
  const routes = options.routes.map(compile);
  const mounts = options.staticMounts ?? {};
  const server: Server = createServer((req, res) => {
    const pathname = new URL(`http://localhost${req.url ?? '/'}`).pathname;
    const served =
      pathname === adminBasePath || pathname.startsWith(`${adminBasePath}/`) ? Promise.resolve(false) : serveStatic(mounts, req, res, pathname);
    served
      .then((done) => (done ? undefined : handle(req, res, options.adminKey, routes)))
      .catch(() => {
        if (res.headersSent) res.destroy();
        else error(res, 500, 'INTERNAL', 'the local admin server failed');
      });
  });
  const address = await listenOn(server, options.host, options.port);
  return {
    url: `http://${options.host}:${address.port}${adminBasePath}`,
    stop: async () => {
      await stopServer(server);
    },
  };
}

function compile(route: HttpRouteTarget): CompiledRoute {
  const params: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    params.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}$`), params };
}

/** The largest request body read; API Gateway's HTTP API itself takes 10 MB, and no admin body needs more than a few KB. */
export const maxAdminBodyBytes = 1024 * 1024;

async function handle(req: IncomingMessage, res: ServerResponse, adminKey: string, routes: CompiledRoute[]): Promise<void> {
  // Prefixed, not resolved against a base: a path such as `//host/x` stays a path.
  const url = new URL(`http://localhost${req.url ?? '/'}`);
  const method = req.method ?? 'GET';

  // The key first, and the body only then: nobody without it makes this server read anything.
  const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!presented) return refuse(res, 401, 'UNAUTHORIZED', 'send the admin key: Authorization: Bearer <admin key>');
  if (!sameSecret(presented, adminKey)) return refuse(res, 403, 'FORBIDDEN', 'the admin key is wrong');
  const bytes = await readBody(req, maxAdminBodyBytes);
  if (!bytes) return refuse(res, 413, 'TOO_LARGE', `the request body is larger than ${maxAdminBodyBytes / 1024 / 1024} MB`);

  let matched: { route: CompiledRoute; pathParameters: Record<string, string> } | undefined;
  for (const route of routes) {
    if (route.path === '$default' || route.method !== method) continue;
    const match = route.pattern.exec(url.pathname);
    if (!match) continue;
    const values = route.params.map((_, i) => decodePathSegment(match[i + 1] ?? ''));
    // What the HTTP API answers for a path whose escapes decode to no text.
    if (values.includes(undefined)) return error(res, 400, 'BAD_REQUEST', 'the path is not valid percent-encoded UTF-8');
    matched = { route, pathParameters: Object.fromEntries(route.params.map((name, i) => [name, values[i] as string])) };
    break;
  }
  const fallback = routes.find((route) => route.path === '$default');
  const target = matched?.route ?? fallback;
  if (!target) return error(res, 404, 'NOT_FOUND', 'no such admin route');

  const routeKey = matched ? `${method} ${target.path}` : '$default';
  const body = bytes.toString('utf8');
  const now = new Date();
  const event = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)])),
    ...(url.searchParams.size > 0 && { queryStringParameters: Object.fromEntries(url.searchParams) }),
    ...(matched && matched.route.params.length > 0 && { pathParameters: matched.pathParameters }),
    requestContext: {
      accountId: localAccountId,
      apiId: 'local-admin',
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local-admin',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body && { body }),
    isBase64Encoded: false,
  };

  try {
    const result = (await invoke(target.fn, event)) as { statusCode?: number; headers?: Record<string, string>; body?: string };
    res.writeHead(result.statusCode ?? 200, result.headers ?? {});
    res.end(result.body ?? '');
  } catch {
    // What API Gateway answers when the integration itself fails.
    replyJson(res, 500, { message: 'Internal Server Error' });
  }
}

/** An error the client sent too soon or too much for: answered, and the connection closed (see refuseJson). */
function refuse(res: ServerResponse, status: number, code: string, message: string): void {
  refuseJson(res, status, { error: { code, message } });
}

function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  replyJson(res, status, { error: { code, message } });
}
