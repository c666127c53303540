import type { ConnectionPoster } from '../delivery/poster';
import { AwsApi, AwsError } from './aws-api';

/**
 * Posts through API Gateway's `@connections` API, at the stage's callback URL
 * (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). A closed connection answers 410, GoneException.
 */
export class ApiGatewayConnectionPoster implements ConnectionPoster {
  private readonly api: AwsApi;

  constructor(callbackUrl: string) {
    this.api = new AwsApi('ApiGatewayManagementApiClient', 'execute-api', callbackUrl);
  }

  async post(connectionId: string, data: string): Promise<'delivered' | 'gone'> {
    return (await this.call('PostToConnection', 'POST', connectionId, data)) ? 'delivered' : 'gone';
  }

  async isOpen(connectionId: string): Promise<boolean> {
    return this.call('GetConnection', 'GET', connectionId);
  }

  async close(connectionId: string): Promise<'closed' | 'gone'> {
    return (await this.call('DeleteConnection', 'DELETE', connectionId)) ? 'closed' : 'gone';
  }

  /** False when the connection is gone. */
  private async call(action: string, method: 'POST' | 'GET' | 'DELETE', connectionId: string, data?: string): Promise<boolean> {
    try {
      await this.api.send({
        command: `${action}Command`,
        input: { ConnectionId: connectionId, ...(data !== undefined && { Data: data }) },
        method,
        path: `/@connections/${encodeURIComponent(connectionId)}`,
        // A blob, as the SDK sends it: what API Gateway passes on to the client unchanged.
        ...(data !== undefined && { body: data, headers: { 'content-type': 'application/octet-stream' } }),
      });
      return true;
    } catch (error) {
      if (error instanceof AwsError && error.name === 'GoneException') return false;
      throw error;
    }
  }
}
