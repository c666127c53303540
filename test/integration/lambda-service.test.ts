import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambdaService } from '../../local/lambda-service';

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
});
