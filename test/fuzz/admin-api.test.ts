/**
 * Property-based fuzzing of the admin API (SPEC §7, §9): generated methods, paths (raw, unnormalized),
 * query strings, headers and bodies, most of them near-valid requests with one part broken. Every
 * answer is JSON with a 2xx or a 4xx status, errors shaped `{error: {code, message}}`; a request
 * refused with a 4xx changes nothing (every table is compared before and after); nothing crashes.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminRoutes } from '../../lib/admin/admin-api';
import { adminErrorCodes } from '../../lib/protocol';
import type { LocalStack } from '../../local/stack';
import { startTestStack } from '../support/local-stack';
import { snapshot, type Snapshot } from '../support/snapshot';
import { anyValue, edgeStrings } from './arbitraries';

const requests = 1500;

interface Request {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string | undefined;
}

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

/** Percent-encodes every byte but letters and digits; unlike encodeURIComponent, takes lone surrogates (as U+FFFD). */
const percentEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`)).join('');

/** Ids as a path segment: escaped odd strings, raw odd bytes, and broken escapes. */
const idSegments = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('u1', 'g1', 'a'.repeat(128)) },
  { weight: 3, arbitrary: edgeStrings.map(percentEncode) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%ZZ', '%E0%A4%A', '..', '.', '', '%2F', 'a%00b', '*', '{id}') },
);

const paths = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('/v1/users/{id}/config', '/v1/users/{id}/offline', '/v1/groups/{id}', '/v1/groups/{id}/members', '/v1/groups/{id}/messages'), idSegments)
      .map(([template, id]) => template.replace('{id}', id)),
  },
  { weight: 2, arbitrary: fc.constantFrom('/v1/config', '/v1/tokens', '/v1/messages/system', '/v1/messages') },
  { weight: 1, arbitrary: fc.constantFrom('/', '/v1', '/v1/', '/v1//config', '/v1/config/', '/v1/../v1/config', '/V1/CONFIG', '/v2/config', '/v1/config/extra') },
  { weight: 1, arbitrary: fc.array(idSegments, { minLength: 1, maxLength: 5 }).map((segments) => `/v1/${segments.join('/')}`) },
);

const queries = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: idSegments.map((from) => `?from=${from}`) },
  { weight: 1, arbitrary: fc.constantFrom('?from=', '?from=u1&from=u2', '?%ZZ=1', '?from[]=u1', '?__proto__[x]=1', `?from=${'a'.repeat(129)}`) },
);

/** Valid bodies of each route, to be broken one field at a time. */
const validBodies = fc.oneof(
  fc.record({ offlineMessageDurationDays: fc.integer({ min: 1, max: 7 }), recentConversationsEnabled: fc.boolean() }),
  fc.record({ offlineMessageDurationDays: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ members: fc.array(fc.constantFrom('u1', 'u2', 'u3'), { maxLength: 3 }) }),
  fc.record({ add: fc.array(fc.constantFrom('u1', 'u2'), { maxLength: 2 }), remove: fc.array(fc.constantFrom('u3'), { maxLength: 1 }) }),
  fc.record({ to: fc.array(fc.constantFrom('u1', 'u2'), { minLength: 1, maxLength: 2 }), body: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ userId: fc.constantFrom('u1', 'u2'), ttlSeconds: fc.integer({ min: 60, max: 3600 }) }),
  fc.record({ from: fc.constantFrom('u1', 'u2'), type: fc.constantFrom('private', 'group'), target: fc.constantFrom('u3', 'g1'), body: fc.jsonValue({ maxDepth: 2 }) }),
);
const fieldNames = fc.constantFrom(
  'offlineMessageDurationDays',
  'groupOfflineMessageDurationDays',
  'groupOfflineMaxMessages',
  'maxOfflineMessages',
  'userLevelSettingsEnabled',
  'historyDays',
  'sessionExpiryHours',
  'members',
  'add',
  'remove',
  'to',
  'body',
  'clientMsgId',
  'ttlSeconds',
  'userId',
  'from',
  'type',
  'target',
  '__proto__',
  'constructor',
);
const bodies = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(validBodies, fieldNames, anyValue)
      .map(([body, key, value]) => JSON.stringify({ ...body, [key]: value })),
  },
  { weight: 2, arbitrary: anyValue.map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"members":', '{"__proto__":{"members":["u1"]}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '[]', '""') },
);

const authorizations = fc.oneof(
  { weight: 12, arbitrary: fc.constant('valid') },
  { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'bearer KEY', 'Bearer KEYx', 'Bearer ' + 'k'.repeat(5000)) },
);

/** Most requests take a real route's method and path, with a broken id, query or body; the rest are anything. */
const shapes = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.values(adminRoutes)), idSegments, queries)
      .map(([route, id, query]) => ({ method: route.method as string, path: `${route.path.replace('{id}', id)}${query}` })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS'), paths, queries)
      .map(([method, path, query]) => ({ method, path: `${path}${query}` })),
  },
);

const requestsArb: fc.Arbitrary<Request> = fc.tuple(shapes, authorizations, bodies).map(([shape, authorization, body]) => ({
  ...shape,
  authorization: authorization === 'valid' ? `Bearer ${stack.adminKey}` : authorization?.replace('KEY', stack.adminKey),
  body,
}));

/** Sends the request as written: no client-side normalization of the path. */
function send(req: Request): Promise<{ status: number; text: string; contentType: string }> {
  const url = new URL(stack.adminUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...(req.authorization !== undefined && { authorization: req.authorization }),
          // Node sends a GET's or DELETE's body unframed unless told its length.
          ...(req.body !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(req.body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: String(response.headers['content-type'] ?? '') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

const mutating = new Set(['PUT', 'PATCH', 'POST', 'DELETE']);

it(`answers ${requests} generated admin requests with JSON, never a 5xx, and a refused one changes nothing`, { timeout: 300_000 }, async () => {
  let before: Snapshot = await snapshot(stack, []);
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(requestsArb, async (req) => {
      const { status, text, contentType } = await send(req);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `${req.method} ${req.path}: ${text.slice(0, 300)}`).toBeLessThan(500);
      // Outside the API's base path, a GET may be answered with one of the console's files; the path as
      // the server reads it, dot segments resolved (`/v1/..` is `/`).
      const pathname = new URL(`http://localhost${req.path}`).pathname;
      const outsideApi = pathname !== '/v1' && !pathname.startsWith('/v1/');
      const consoleFile = ['GET', 'HEAD'].includes(req.method) && outsideApi && status < 400 && !contentType.includes('json');
      if (consoleFile) return;
      if (status >= 400) {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        expect(adminErrorCodes).toContain(body.error?.code);
        expect(typeof body.error?.message).toBe('string');
      } else if (text !== '') {
        JSON.parse(text);
      }
      if (!mutating.has(req.method)) return;
      const after = await snapshot(stack, []);
      if (status >= 400) expect(after, `${req.method} ${req.path} ${req.body ?? ''} changed something`).toEqual(before);
      before = after;
    }),
    { numRuns: requests },
  );
  console.log('admin fuzz, answers by status:', Object.fromEntries([...statuses].sort()));
  // The requests reached the handlers, and some were valid: the generators are not all noise.
  for (const status of [200, 400, 401, 403, 404]) expect(statuses.get(status), `status ${status}`).toBeGreaterThan(0);
  expect(Object.keys(Object.prototype)).toEqual([]);
  // Still up.
  const config = await fetch(`${stack.adminUrl}/config`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
  expect(config.status).toBe(200);
});
