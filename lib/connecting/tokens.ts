/**
 * Client tokens (SPEC §3): HS256 JWTs whose `sub` is the user id, with `exp` and `iat` required and at
 * most 30 days between them, so that no token, however it was signed, lets its holder in for longer.
 */
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { maxTokenSeconds } from '../admin/admin-api';
import { epochSeconds } from '../clock';
import { userIdSchema } from '../protocol';

/** A token issued this far ahead of the verifier's clock is still taken: clocks differ a little. */
const clockSkewSeconds = 60;

/** HS256 wants a key at least as long as its 256-bit hash. */
export const minSecretLength = 32;

export class InvalidTokenError extends Error {}

export interface IssuedToken {
  token: string;
  userId: string;
  expiresAt: Date;
}

export async function issueToken(
  secret: string,
  { userId, ttlSeconds, now }: { userId: string; ttlSeconds: number; now: Date },
): Promise<IssuedToken> {
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userIdSchema.parse(userId))
    .setIssuedAt(epochSeconds(now))
    .setExpirationTime(epochSeconds(expiresAt))
    .sign(secretKey(secret));
  return { token, userId, expiresAt };
}

/** Resolves to the token's user, or rejects with InvalidTokenError saying why. */
export async function verifyToken(secret: string, token: string, now: Date): Promise<{ userId: string }> {
  let subject: unknown;
  let lifetime: { iat: number; exp: number };
  try {
    const { payload } = await jwtVerify(token, secretKey(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: now,
    });
    subject = payload.sub;
    lifetime = { iat: payload.iat as number, exp: payload.exp as number };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw new InvalidTokenError(error.code);
    throw error;
  }
  if (lifetime.exp - lifetime.iat > maxTokenSeconds) throw new InvalidTokenError('ERR_TOKEN_LIFETIME_OVER_30_DAYS');
  if (lifetime.iat > epochSeconds(now) + clockSkewSeconds) throw new InvalidTokenError('ERR_TOKEN_ISSUED_IN_THE_FUTURE');
  const userId = userIdSchema.safeParse(subject);
  if (!userId.success) throw new InvalidTokenError('ERR_SUBJECT_NOT_A_USER_ID');
  return { userId: userId.data };
}

function secretKey(secret: string): Uint8Array {
  if (secret.length < minSecretLength) {
    throw new Error(`the token secret must be at least ${minSecretLength} characters`);
  }
  return new TextEncoder().encode(secret);
}
