import { describe, expect, it } from 'vitest';
import { encodeFanOutJob } from '../../lib/aws/fan-out-queue';
import { inlineRecipients } from '../../lib/sending/fan-out';
import { anyClientFrameSchema, connectQuerySchema, describeIssues, idSchema, limits, pingFrameSchema } from '../../lib/protocol';
import { apiGatewayLimits } from '../../local/gateway/websocket-gateway';

describe('ids', () => {
  it.each(['alice', 'a', 'user@example.com', 'team:42', 'a_b.c-d', 'x'.repeat(128)])('accepts %j', (id) => {
    expect(idSchema.safeParse(id).success).toBe(true);
  });

  it.each([
    ['', 'must not be empty'],
    ['x'.repeat(129), 'must be at most 128 characters'],
    ['has space', 'may only contain'],
    ['slash/no', 'may only contain'],
    ['ünïcode', 'may only contain'],
    [42, 'must be a string'],
  ])('refuses %j, saying why', (id, why) => {
    const result = idSchema.safeParse(id);
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!)).toContain(why);
  });
});

describe('client frames', () => {
  it('needs a string action', () => {
    const result = anyClientFrameSchema.safeParse({ requestId: '1' });
    expect(describeIssues(result.error!)).toBe('action is required and must be a string');
  });

  it('limits requestId to 64 characters', () => {
    expect(pingFrameSchema.safeParse({ action: 'ping', requestId: 'r'.repeat(64) }).success).toBe(true);
    const result = pingFrameSchema.safeParse({ action: 'ping', requestId: 'r'.repeat(65) });
    expect(describeIssues(result.error!)).toBe('requestId must be at most 64 characters');
  });

  it('ignores fields it does not know, __proto__ included', () => {
    const frame = JSON.parse('{"action":"ping","__proto__":{"polluted":true},"extra":1}') as unknown;
    const result = pingFrameSchema.safeParse(frame);
    expect(result.success).toBe(true);
    expect(result.data).toEqual({ action: 'ping' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('the connect query', () => {
  it('takes an optional deviceId and cleanStart', () => {
    expect(connectQuerySchema.safeParse({ token: 't', deviceId: 'phone', cleanStart: 'true' }).success).toBe(true);
    expect(connectQuerySchema.safeParse({ token: 't' }).success).toBe(true);
  });

  it('explains a bad deviceId or cleanStart', () => {
    const result = connectQuerySchema.safeParse({ deviceId: 'my phone', cleanStart: 'yes' });
    expect(describeIssues(result.error!)).toBe(
      "deviceId may only contain letters, digits and _ . @ : -; cleanStart must be 'true' or 'false'",
    );
  });
});

describe('sizes (SPEC §9)', () => {
  it("fits the largest valid send frame, longest ids included, in API Gateway's 32 KB frame", () => {
    // A string of backslashes serializes to twice its length, plus the quotes.
    const body = '\\'.repeat((limits.bodyMaxBytes - 2) / 2);
    expect(Buffer.byteLength(JSON.stringify(body))).toBe(limits.bodyMaxBytes);
    const frame = {
      action: 'send',
      type: 'private',
      target: 'x'.repeat(limits.idMaxChars),
      clientMsgId: 'c'.repeat(limits.clientMsgIdMaxChars),
      requestId: 'r'.repeat(limits.requestIdMaxChars),
      qos: 1,
      ttlSeconds: 604_800,
      body,
    };
    expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(apiGatewayLimits.maxFrameBytes);
    expect(limits.inboundFrameMaxBytes).toBe(apiGatewayLimits.maxFrameBytes);
  });

  it("keeps the worst fan-out job (1,000 longest ids, the largest body) within SQS's 256 KiB message", () => {
    // Backslashes double once in bodyJson, and again when the job is serialized: the worst case.
    const bodyJson = JSON.stringify('\\'.repeat((limits.bodyMaxBytes - 2) / 2));
    const id = (n: number) => `${n}`.padStart(limits.idMaxChars, 'u');
    const job = encodeFanOutJob({
      kind: 'store',
      draft: { id: '01J0000000000000000000000', type: 'group', from: id(-1), to: id(-2), bodyJson, sentAt: new Date(), ttlSeconds: 604_800 },
      recipients: Array.from({ length: inlineRecipients }, (_, n) => id(n)),
    });
    expect(Buffer.byteLength(job)).toBeLessThan(256 * 1024);
  });
});
