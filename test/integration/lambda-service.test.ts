import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaService, deliveryDelays, parseAsyncInvocationFaults } from '../../local/lambda-service';

const service = new LocalLambdaService('127.0.0.1');
let lambda: LambdaClient;
const received: unknown[] = [];

beforeAll(async () => {
  await service.listen();
  service.configure([
    { name: 'echo', timeoutSeconds: 5, handler: async (event) => ({ echoed: event }) },
    { name: 'record', timeoutSeconds: 5, handler: async (event) => void received.push(event) },
    {
      name: 'broken',
      timeoutSeconds: 5,
      handler: async () => {
        throw new TypeError('no good');
      },
    },
  ]);
  lambda = new LambdaClient({ endpoint: service.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
});
afterAll(() => service.stop());

const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('the local Lambda Invoke API', () => {
  it('answers an Event invocation with 202, then runs the function', async () => {
    const done = new Promise((resolve) => service.events.once('invoked', resolve));
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'record', InvocationType: 'Event', Payload: payload({ n: 1 }) }));
    expect(result.StatusCode).toBe(202);
    expect(await done).toMatchObject({ functionName: 'record', payload: { n: 1 } });
    expect(received).toEqual([{ n: 1 }]);
  });

  it('runs a RequestResponse invocation and returns what the function returned', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: payload({ n: 2 }) }));
    expect(result.StatusCode).toBe(200);
    expect(decode(result.Payload)).toEqual({ echoed: { n: 2 } });
  });

  it('reports a function that throws as Lambda does', async () => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: 'broken', Payload: payload({}) }));
    expect(result.FunctionError).toBe('Unhandled');
    expect(decode(result.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'no good' });
  });

  it('answers ResourceNotFoundException for a function it does not know', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'Event' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('with asyncFaults, delivers an Event invocation late, or twice', async () => {
    received.length = 0;
    const runs: Array<{ delivery: number; delayedMs: number }> = [];
    const listener = (run: { delivery: number; delayedMs: number }) => runs.push(run);
    service.events.on('invoked', listener);
    service.asyncFaults = { late: 1, twice: 1, delayMs: { minMs: 150, maxMs: 200 } };
    try {
      const accepted = Date.now();
      const result = await lambda.send(new InvokeCommand({ FunctionName: 'record', InvocationType: 'Event', Payload: payload({ n: 3 }) }));
      // Accepted at once, as on AWS; the runs come later.
      expect(result.StatusCode).toBe(202);
      expect(received).toEqual([]);
      while (runs.length < 2) await new Promise((resolve) => service.events.once('invoked', resolve));
      expect(Date.now() - accepted).toBeGreaterThanOrEqual(145);
      expect(received).toEqual([{ n: 3 }, { n: 3 }]);
      expect(runs.map((run) => run.delivery).sort()).toEqual([1, 2]);
      expect(runs.every((run) => run.delayedMs >= 150 && run.delayedMs <= 200)).toBe(true);
    } finally {
      service.asyncFaults = undefined;
      service.events.off('invoked', listener);
    }
  });
});

describe('asynchronous invocation faults', () => {
  it('draws late and repeated deliveries at the shares asked for', () => {
    expect(deliveryDelays(undefined)).toEqual([0]);
    expect(deliveryDelays({ late: 0, twice: 0 })).toEqual([0]);
    const always = deliveryDelays({ late: 1, twice: 1, delayMs: { minMs: 10, maxMs: 10 } });
    expect(always).toEqual([10, 10]);
    const sample = Array.from({ length: 2000 }, () => deliveryDelays({ late: 0.25, twice: 0.1 }));
    const late = sample.filter((delays) => (delays[0] ?? 0) > 0).length / sample.length;
    const doubled = sample.filter((delays) => delays.length === 2).length / sample.length;
    expect(late).toBeGreaterThan(0.18);
    expect(late).toBeLessThan(0.32);
    expect(doubled).toBeGreaterThan(0.05);
    expect(doubled).toBeLessThan(0.15);
  });

  it('reads late=0.1,twice=5%,delay=100-1000ms and refuses anything else', () => {
    expect(parseAsyncInvocationFaults('late=0.1, twice=5%, delay=100-1000ms')).toEqual({ late: 0.1, twice: 0.05, delayMs: { minMs: 100, maxMs: 1000 } });
    for (const spec of ['late', 'late=2', 'twice=101%', 'delay=5-1', 'early=0.1']) {
      expect(() => parseAsyncInvocationFaults(spec)).toThrow(/not an asynchronous invocation fault/);
    }
  });
});
