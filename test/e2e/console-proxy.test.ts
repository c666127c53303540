/**
 * `pigeonhole console` against a stand-in for the AWS admin API: a local HTTP endpoint that accepts a
 * request only if its SigV4 signature is right, checked by re-signing it with the SDK's own signer
 * (@smithy/signature-v4), as IAM would. Credentials come from the standard chain: here, the environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startConsoleProxy, type ConsoleProxy } from '../../cli/console-proxy';
import { buildConsole } from '../../console/build';

const credentials = { accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: 'console-test-secret-key' };
const region = 'eu-west-1';

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
  authorization: string;
  signatureValid: boolean;
}

let verifier: Server;
let endpoint: string;
let received: Received[];
let proxy: ConsoleProxy;

/** Does what IAM does with a SigV4 request: signs it again from the signed headers and compares. */
async function verifySignature(req: IncomingMessage, url: URL, body: string): Promise<boolean> {
  const authorization = req.headers.authorization ?? '';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/execute-api\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    authorization,
  );
  const amzDate = req.headers['x-amz-date'];
  if (!match || typeof amzDate !== 'string' || match[1] !== credentials.accessKeyId || match[2] !== region) return false;
  const signedHeaders = (match[3] ?? '').split(';');
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(req.headers[name] ?? '')]));
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const resigned = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(body !== '' && { body }),
    },
    { signingDate },
  );
  return resigned.headers.authorization === authorization;
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  await buildConsole();
  verifier = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`);
      const body = Buffer.concat(chunks).toString('utf8');
      const signatureValid = await verifySignature(req, url, body);
      const query = Object.fromEntries(url.searchParams);
      received.push({ method: req.method ?? '', path: url.pathname, query, body, authorization: req.headers.authorization ?? '', signatureValid });
      // What API Gateway answers when IAM refuses a request: no function runs.
      if (!signatureValid) return res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
      if (url.pathname === '/v1/missing') {
        return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"no such admin route"}}');
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, path: url.pathname, query, body }));
    });
  });
  verifier.listen(0, '127.0.0.1');
  await once(verifier, 'listening');
  endpoint = `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/v1`;
  proxy = await startConsoleProxy({ endpoint, auth: { kind: 'sigv4', region }, port: 0 });
});
afterAll(async () => {
  await proxy?.stop();
  verifier?.close();
});
beforeEach(() => {
  received = [];
});

const base = () => `http://127.0.0.1:${proxy.port}`;
const withKey = (key = proxy.key) => ({ authorization: `Bearer ${key}` });

describe('the console proxy', () => {
  it('prints a URL on 127.0.0.1 with this run’s key in the fragment only', () => {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}/#key=${proxy.key}`);
    expect(proxy.key).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('forwards a GET with its query, signed with SigV4 from the credential chain, and hands back the answer', async () => {
    const answer = await fetch(`${base()}/v1/groups?cursor=abc%3D`, { headers: withKey() });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ method: 'GET', path: '/v1/groups', query: { cursor: 'abc=' }, body: '' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ signatureValid: true, authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 /) });
    expect(received[0]?.authorization).not.toContain(proxy.key);
  });

  it('forwards a PATCH with its body under the signature', async () => {
    const body = JSON.stringify({ offlineMessageDurationDays: 3 });
    const answer = await fetch(`${base()}/v1/config`, { method: 'PATCH', headers: { ...withKey(), 'content-type': 'application/json' }, body });
    expect(await answer.json()).toEqual({ method: 'PATCH', path: '/v1/config', query: {}, body });
    expect(received[0]?.signatureValid).toBe(true);
  });

  it('passes the API’s refusals through unchanged', async () => {
    const answer = await fetch(`${base()}/v1/missing`, { headers: withKey() });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such admin route' } });
  });

  it('the verifier refuses what is not signed right, so the checks above mean something', async () => {
    const answer = await fetch(`${endpoint}/config`, {
      headers: { authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260101/${region}/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`, 'x-amz-date': '20260101T000000Z' },
    });
    expect(answer.status).toBe(403);
  });

  it.each([
    ['no key', {}, 401],
    ['a wrong key', withKey('not-this-runs-key'), 403],
  ])('forwards nothing with %s', async (_label, headers, status) => {
    const answer = await fetch(`${base()}/v1/config`, { headers });
    expect(answer.status).toBe(status);
    expect(received).toEqual([]);
  });

  it('refuses a request for another host name (DNS rebinding), even with the key', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: proxy.port, path: '/v1/config', headers: { host: `attacker.example:${proxy.port}`, ...withKey() } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect(received).toEqual([]);
  });

  it('serves the built console under the same CSP as the local stack', async () => {
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
    expect((await fetch(`${base()}/app.js`)).status).toBe(200);
  });
});

describe('npx pigeonhole console', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGINT');
  });

  it('prints the URL to open, and forwards through it, signed', async () => {
    child = spawn(process.execPath, ['bin/pigeonhole.mjs', 'console', '--endpoint', endpoint, '--sigv4', '--region', region, '--port', '0'], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const found = /http:\/\/127\.0\.0\.1:\d+\/#key=[A-Za-z0-9_-]+/.exec(output)?.[0];
        if (found) resolve(found);
      });
      child?.once('exit', (code) => reject(new Error(`pigeonhole console exited (${code}): ${output}`)));
    });
    const { origin, hash } = new URL(url);
    const key = new URLSearchParams(hash.slice(1)).get('key') ?? '';
    const answer = await fetch(`${origin}/v1/stats`, { headers: { authorization: `Bearer ${key}` } });
    expect(answer.status).toBe(200);
    expect(received.at(-1)).toMatchObject({ path: '/v1/stats', signatureValid: true });
    child.kill('SIGINT');
    expect((await once(child, 'exit'))[0]).toBe(0);
    child = undefined;
  });
});
