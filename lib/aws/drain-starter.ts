import type { DrainStarter } from '../connecting/open-connection';
import type { DrainRequest } from '../delivery/ordering';
import { AwsApi } from './aws-api';

/**
 * `$connect` cannot post to its own connection (API Gateway answers 410 until it returns), so it hands
 * the drain to an asynchronous invocation of the drain function (Lambda's Invoke, type `Event`), which runs after it.
 */
export class LambdaDrainStarter implements DrainStarter {
  private readonly api: AwsApi;

  /** `endpoint`: Lambda's regional endpoint unless given (the local stack's Lambda service). */
  constructor(
    private readonly functionName: string,
    endpoint?: string,
  ) {
    this.api = new AwsApi('LambdaClient', 'lambda', endpoint);
  }

  async start(request: DrainRequest): Promise<void> {
    const payload = JSON.stringify(request);
    await this.api.send({
      command: 'InvokeCommand',
      input: { FunctionName: this.functionName, InvocationType: 'Event', Payload: payload },
      method: 'POST',
      path: `/2015-03-31/functions/${encodeURIComponent(this.functionName)}/invocations`,
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'Event' },
      body: payload,
    });
  }
}
