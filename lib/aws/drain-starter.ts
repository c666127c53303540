import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DrainStarter } from '../connecting/open-connection';
import type { DrainRequest } from '../delivery/ordering';

/**
 * `$connect` cannot post to its own connection (API Gateway answers 410 until it returns), so it hands
 * the drain to an asynchronous invocation of the drain function, which runs after it.
 */
export class LambdaDrainStarter implements DrainStarter {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async start(request: DrainRequest): Promise<void> {
    await this.lambda.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: JSON.stringify(request) }),
    );
  }
}
