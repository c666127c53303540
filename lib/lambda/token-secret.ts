import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { requiredEnv } from './env';

/** Secrets Manager is asked at most every five minutes per container, so a rotation lands without a redeploy. */
const secretCacheSeconds = 300;

/**
 * The token-signing secret: from Secrets Manager on AWS (`TOKEN_SECRET_ARN`); the local stack, which has
 * no Secrets Manager, hands it over directly in `TOKEN_SECRET`.
 */
export async function tokenSecret(): Promise<string> {
  const local = process.env.TOKEN_SECRET;
  if (local) return local;
  const secret = await getSecret(requiredEnv('TOKEN_SECRET_ARN'), { maxAge: secretCacheSeconds });
  if (typeof secret !== 'string') throw new Error('the token secret is not a string secret');
  return secret;
}
