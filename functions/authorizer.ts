/**
 * `$connect` authorizer: admits a WebSocket upgrade only with a valid token in `?token=`.
 * A missing token never reaches here: API Gateway refuses it (401) by the identity source.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { clock } from '../lib/clock';
import { logger } from '../lib/lambda/logger';
import { tokenSecret } from '../lib/lambda/token-secret';
import { InvalidTokenError, verifyToken } from '../lib/connecting/tokens';

export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const token = event.queryStringParameters?.token ?? '';
    try {
      const { userId } = await verifyToken(await tokenSecret(), token, clock.now());
      return allow(userId, event.methodArn);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      logger.info('token refused', { reason: error.message });
      // API Gateway answers 401 to exactly this error message, and 500 to any other.
      throw new Error('Unauthorized');
    }
  });

function allow(userId: string, methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
    },
  };
}
