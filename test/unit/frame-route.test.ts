import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ForbiddenError } from '../../lib/errors';
import { frameRoute } from '../../lib/lambda/frame-route';

const context = { functionName: 'test', awsRequestId: 'aws-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function messageEvent(body: string, options: { isBase64Encoded?: boolean } = {}) {
  return {
    requestContext: {
      routeKey: 'echo',
      eventType: 'MESSAGE',
      connectionId: 'conn-1',
      requestId: 'req-1',
      connectedAt: Date.now(),
      authorizer: { principalId: 'alice' },
    },
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

const echoSchema = z.object({ action: z.literal('echo'), requestId: z.optional(z.string()), n: z.number() });

async function reply(handler: ReturnType<typeof frameRoute>, body: string, options?: { isBase64Encoded?: boolean }) {
  const response = await handler(messageEvent(body, options), context);
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body ?? '') as Record<string, unknown>;
}

describe('frameRoute', () => {
  it('passes the valid frame and the caller to the handler, and echoes requestId', async () => {
    const handler = frameRoute(echoSchema, async (frame, { caller }) => ({ type: 'pong', ...{ seen: [frame.n, caller] } }));
    expect(await reply(handler, '{"action":"echo","n":7,"requestId":"q"}')).toEqual({
      type: 'pong',
      seen: [7, { userId: 'alice', connectionId: 'conn-1' }],
      requestId: 'q',
    });
  });

  it('decodes a base64 (binary) frame', async () => {
    const handler = frameRoute(echoSchema, async () => ({ type: 'pong' }));
    const body = Buffer.from('{"action":"echo","n":1}').toString('base64');
    expect(await reply(handler, body, { isBase64Encoded: true })).toEqual({ type: 'pong' });
  });

  it('answers BAD_REQUEST for a frame that is not JSON, or not an object', async () => {
    const handler = frameRoute(echoSchema, async () => ({ type: 'pong' }));
    expect(await reply(handler, '{nope')).toMatchObject({ code: 'BAD_REQUEST', message: 'the frame is not valid JSON' });
    expect(await reply(handler, '[1,2]')).toMatchObject({ code: 'BAD_REQUEST', message: 'a frame must be a JSON object' });
    expect(await reply(handler, 'null')).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('names the wrong field, and still echoes the requestId', async () => {
    const handler = frameRoute(echoSchema, async () => ({ type: 'pong' }));
    expect(await reply(handler, '{"action":"echo","n":"seven","requestId":"q2"}')).toEqual({
      type: 'error',
      code: 'BAD_REQUEST',
      message: 'n Invalid input: expected number, received string',
      requestId: 'q2',
    });
  });

  it('maps a typed error to its code and message', async () => {
    const handler = frameRoute(echoSchema, async () => {
      throw new ForbiddenError('not a member of this group');
    });
    expect(await reply(handler, '{"action":"echo","n":1}')).toEqual({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'not a member of this group',
    });
  });

  it('says nothing internal when something unexpected fails', async () => {
    const handler = frameRoute(echoSchema, async () => {
      throw new Error('ResourceNotFoundException: Requested resource not found: Table: prod-Messages');
    });
    const frame = await reply(handler, '{"action":"echo","n":1,"requestId":"q3"}');
    expect(frame).toMatchObject({ type: 'error', code: 'INTERNAL', requestId: 'q3' });
    expect(JSON.stringify(frame)).not.toMatch(/Table|prod-Messages|Exception|at /);
  });

  it('fails loudly on an event that API Gateway would never send', async () => {
    const handler = frameRoute(echoSchema, async () => ({ type: 'pong' }));
    await expect(handler({ body: '{}' }, context)).rejects.toThrow(/unexpected WebSocket event shape/);
  });
});
