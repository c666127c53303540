/**
 * Stands in for the AWS SDK's default credential chain in the Lambda bundles: on Lambda the function
 * role's credentials are always in the environment, so the chain's other providers (SSO, profiles,
 * web identity, instance metadata, with the STS and SSO clients they bring) are dead weight, some
 * 90 KB of every bundle. Wired in by cdk/bundling.ts; the local stack and the CLI use the real chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
