/**
 * The functions' own AWS client (lib/aws/aws-api.ts) against a server on loopback that checks each
 * request's SigV4 signature as AWS would, by signing what arrived again with the same secret, and
 * answers as told: the wire form of each call, the SDK's retries and error names, and the hooks.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AwsApi, AwsError, jsonCall } from '../../lib/aws/aws-api';
import { registerClientPlugin, type AwsCall } from '../../lib/aws/client-plugins';
import { ApiGatewayConnectionPoster } from '../../lib/aws/connection-poster';
import { LambdaDrainStarter } from '../../lib/aws/drain-starter';
import { SqsFanOutQueue } from '../../lib/aws/fan-out-queue';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Whether the signature is the one AWS would compute for what arrived. */
  signed: boolean;
}

type Answer = { status: number; body?: string; headers?: Record<string, string> };
const received: Received[] = [];
/** What the server answers, one per request; 200 {} once they run out. */
let answers: Answer[] = [];
let server: Server;
let origin: string;

/** Signs the request that arrived again, with the headers it says it signed, and compares. */
async function signatureHolds(service: string, method: string, path: string, headers: IncomingMessage['headers'], body: string): Promise<boolean> {
  const authorization = String(headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const date = String(headers['x-amz-date']);
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const [hostname, port] = String(headers.host).split(':');
  const signer = new SignatureV4({ service, region: 'us-east-1', sha256: Sha256, credentials });
  const again = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: hostname ?? '',
      ...(port && { port: Number(port) }),
      path,
      query: {},
      headers: Object.fromEntries(signedHeaders.map((name) => [name, String(headers[name])])),
      ...(body && { body }),
    },
    { signingDate },
  );
  return again.headers.authorization === authorization;
}

beforeAll(async () => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? '';
      void signatureHolds(service, req.method ?? '', req.url ?? '', req.headers, body).then((signed) => {
        received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, signed });
        const answer = answers.shift() ?? { status: 200, body: '{}' };
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  received.length = 0;
  answers = [];
});

describe('calls to AWS besides DynamoDB', () => {
  it('posts to a connection at the stage’s callback URL, signed for execute-api, and tells a gone connection apart', async () => {
    const poster = new ApiGatewayConnectionPoster(`${origin}/live`);
    expect(await poster.post('L0SM9cOFvHcCIhw=', '{"type":"message"}')).toBe('delivered');
    answers = [{ status: 410, body: '{"message":"Gone"}', headers: { 'x-amzn-errortype': 'GoneException:http://internal.amazon.com/coral/com.amazonaws.gatewayservice/' } }];
    expect(await poster.post('L0SM9cOFvHcCIhw=', '{}')).toBe('gone');
    answers = [{ status: 410, headers: { 'x-amzn-errortype': 'GoneException' } }];
    expect(await poster.isOpen('abc')).toBe(false);
    expect(await poster.close('abc')).toBe('closed');
    expect(received.map(({ method, path, body, signed }) => ({ method, path, body, signed }))).toEqual([
      { method: 'POST', path: '/live/@connections/L0SM9cOFvHcCIhw%3D', body: '{"type":"message"}', signed: true },
      { method: 'POST', path: '/live/@connections/L0SM9cOFvHcCIhw%3D', body: '{}', signed: true },
      { method: 'GET', path: '/live/@connections/abc', body: '', signed: true },
      { method: 'DELETE', path: '/live/@connections/abc', body: '', signed: true },
    ]);
    expect(received[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, /);
    expect(received[0]?.headers['x-amz-security-token']).toBe('session-token');
  });

  it('invokes a function asynchronously, as Lambda’s Invoke of type Event', async () => {
    answers = [{ status: 202 }];
    await new LambdaDrainStarter('pigeonhole-drain', origin).start({ userId: 'nora', connectionId: 'c1' } as never);
    expect(received).toMatchObject([
      { method: 'POST', path: '/2015-03-31/functions/pigeonhole-drain/invocations', body: '{"userId":"nora","connectionId":"c1"}', signed: true, headers: { 'x-amz-invocation-type': 'Event' } },
    ]);
  });

  it('sends a fan-out job over SQS’s JSON protocol, to the queue URL’s host', async () => {
    const queueUrl = `${origin}/000000000000/fan-out`;
    await new SqsFanOutQueue(queueUrl).enqueue([{ kind: 'deleteGroupMessages', groupId: 'g', members: ['a'] } as never]);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', path: '/', signed: true, headers: { 'x-amz-target': 'AmazonSQS.SendMessage', 'content-type': 'application/x-amz-json-1.0' } });
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ QueueUrl: queueUrl, MessageBody: '{"kind":"deleteGroupMessages","groupId":"g","members":["a"]}' });
  });

  it('retries what the SDK retries (a 500, a throttle), as often as the SDK would, and gives the rest back named as the SDK names them', async () => {
    const api = new AwsApi('SQSClient', 'sqs', origin);
    const call = () => jsonCall(api, { target: 'AmazonSQS', version: '1.0', action: 'SendMessage', input: { QueueUrl: 'q', MessageBody: 'm' } });
    answers = [{ status: 500, body: '{"__type":"com.amazonaws.sqs#InternalError","message":"try again"}' }, { status: 503 }, { status: 200, body: '{"MessageId":"1"}' }];
    expect(await call()).toEqual({ MessageId: '1' });
    expect(received).toHaveLength(3);

    received.length = 0;
    answers = [{ status: 400, body: '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}' }];
    const refused = await call().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AwsError);
    expect(refused).toMatchObject({ name: 'QueueDoesNotExist', message: 'The specified queue does not exist.', $metadata: { httpStatusCode: 400 } });
    expect(received).toHaveLength(1);

    received.length = 0;
    answers = Array.from({ length: 4 }, () => ({ status: 400, body: '{"__type":"ThrottlingException","message":"slow down"}' }));
    await expect(call()).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(received).toHaveLength(4);
  }, 30_000);

  it('retries a request that got no answer, and gives up on one its caller called off', async () => {
    const closed = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    let attempts = 0;
    const stop = registerClientPlugin({ aroundAttempt: (_call, next) => ((attempts += 1), next()) });
    try {
      const api = new AwsApi('LambdaClient', 'lambda', `http://127.0.0.1:${(closed.address() as AddressInfo).port}`);
      const request = { command: 'InvokeCommand', input: {}, method: 'POST' as const, path: '/x', body: '{}' };
      await expect(api.send(request)).rejects.toMatchObject({ name: 'NetworkError', code: 'ECONNRESET' });
      expect(attempts).toBe(4);
      attempts = 0;
      await expect(api.send({ ...request, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      expect(attempts).toBe(1);
    } finally {
      stop();
      await new Promise((resolve) => closed.close(resolve));
    }
  }, 30_000);

  it('runs the local stack’s hooks: around each call once, and around each attempt inside the retries', async () => {
    const seen: string[] = [];
    const describe = (call: AwsCall) => `${call.client} ${call.command} ${String(call.input.ConnectionId)}`;
    const stop = registerClientPlugin({
      aroundCall: async (call, next) => {
        seen.push(`call ${describe(call)}`);
        return next();
      },
      aroundAttempt: async (call, next) => {
        seen.push(`attempt ${describe(call)}`);
        return next();
      },
    });
    try {
      answers = [{ status: 500 }];
      expect(await new ApiGatewayConnectionPoster(origin).post('c1', 'x')).toBe('delivered');
    } finally {
      stop();
    }
    expect(seen).toEqual([
      'call ApiGatewayManagementApiClient PostToConnectionCommand c1',
      'attempt ApiGatewayManagementApiClient PostToConnectionCommand c1',
      'attempt ApiGatewayManagementApiClient PostToConnectionCommand c1',
    ]);
  });
});
