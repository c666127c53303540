/**
 * Tracing as the stack turns it on (`-c tracing=true`): with `POWERTOOLS_TRACE_ENABLED=true` in a
 * Lambda environment, a handler wrapped by lib/lambda/tracing sends its subsegment, and one for each
 * outgoing HTTP call, to the X-Ray daemon: here a UDP socket on loopback standing in for it.
 */
import { createSocket, type Socket } from 'node:dgram';
import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';

let daemon: Socket;
let server: Server;
const documents: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (datagram) => {
    // Each datagram is a header line, then one (sub)segment document.
    const [, body] = datagram.toString().split('\n');
    if (body) documents.push(JSON.parse(body) as Record<string, unknown>);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', () => resolve()));
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  // What Lambda sets in a traced function's environment.
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: 'index.handler',
    _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    POWERTOOLS_TRACE_ENABLED: 'true',
  });
});
afterAll(() => {
  daemon?.close();
  server?.close();
});

it('sends the invocation’s subsegment, with its HTTP calls inside, to the X-Ray daemon', async () => {
  const { traceHandler, tracer } = await import('../../lib/lambda/tracing');
  expect(tracer.isTracingEnabled()).toBe(true);
  const port = (server.address() as AddressInfo).port;
  const handler = middy(async () => {
    // Through the module, as the AWS SDK's HTTP handler calls it: the tracer patches `http.request`.
    await new Promise<void>((resolve, reject) => http.get(`http://127.0.0.1:${port}/`, (res) => res.resume().on('end', resolve)).on('error', reject));
    return 'done';
  }).use(traceHandler());
  expect(await handler({}, { functionName: 'send', awsRequestId: 'r1' } as Context)).toBe('done');

  await expect.poll(() => documents.find((doc) => doc.name === '## index.handler'), { timeout: 5000 }).toBeDefined();
  const invocation = documents.find((doc) => doc.name === '## index.handler') as { trace_id: string; annotations?: Record<string, unknown>; subsegments?: Array<{ name: string }> };
  expect(invocation.trace_id).toBe('1-5759e988-bd862e3fe1be46a994272793');
  expect(invocation.annotations).toMatchObject({ Service: 'pigeonhole', ColdStart: expect.any(Boolean) });
  const calls = [...(invocation.subsegments ?? []), ...documents.filter((doc) => doc.type === 'subsegment')] as Array<{ name: string }>;
  expect(calls.map((call) => call.name)).toContain('127.0.0.1');
});
