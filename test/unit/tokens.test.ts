import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError, issueToken, verifyToken } from '../../lib/connecting/tokens';

const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const now = new Date('2026-11-21T12:00:00Z');
const key = new TextEncoder().encode(secret);

describe('client tokens', () => {
  it('verifies a token it issued and yields its user', async () => {
    const { token, expiresAt } = await issueToken(secret, { userId: 'alice', ttlSeconds: 3600, now });
    expect(expiresAt).toEqual(new Date('2026-11-21T13:00:00Z'));
    await expect(verifyToken(secret, token, now)).resolves.toEqual({ userId: 'alice' });
  });

  it('refuses an expired token', async () => {
    const { token } = await issueToken(secret, { userId: 'alice', ttlSeconds: 60, now });
    const later = new Date(now.getTime() + 61_000);
    await expect(verifyToken(secret, token, later)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a token signed with another secret', async () => {
    const { token } = await issueToken('another-secret-that-is-also-long-enough', { userId: 'alice', ttlSeconds: 60, now });
    await expect(verifyToken(secret, token, now)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const { token } = await issueToken(secret, { userId: 'alice', ttlSeconds: 60, now });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 9999999999 })).toString('base64url');
    await expect(verifyToken(secret, `${header}.${payload}.${signature}`, now)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it.each(['', 'garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..'])('refuses the malformed token %j', async (token) => {
    await expect(verifyToken(secret, token, now)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const token = new UnsecuredJWT({}).setSubject('alice').setExpirationTime('1h').encode();
    await expect(verifyToken(secret, token, now)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a token without exp, and one without sub', async () => {
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(key);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    await expect(verifyToken(secret, noExp, now)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(verifyToken(secret, noSub, now)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a token without iat', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(key);
    await expect(verifyToken(secret, token, now)).rejects.toThrow('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('takes a token of exactly 30 days, and refuses one a second longer, however it was signed', async () => {
    const iat = Math.floor(now.getTime() / 1000);
    const signed = (exp: number, issuedAt = iat) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(issuedAt).setExpirationTime(exp).sign(key);
    await expect(verifyToken(secret, await signed(iat + 30 * 86_400), now)).resolves.toEqual({ userId: 'alice' });
    await expect(verifyToken(secret, await signed(iat + 30 * 86_400 + 1), now)).rejects.toThrow('ERR_TOKEN_LIFETIME_OVER_30_DAYS');
    await expect(verifyToken(secret, await signed(iat + 10 * 365 * 86_400), now)).rejects.toThrow('ERR_TOKEN_LIFETIME_OVER_30_DAYS');
  });

  it('refuses a token issued in the future, which would outlive 30 days from now', async () => {
    const later = Math.floor(now.getTime() / 1000) + 20 * 86_400;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(later).setExpirationTime(later + 86_400).sign(key);
    await expect(verifyToken(secret, token, now)).rejects.toThrow('ERR_TOKEN_ISSUED_IN_THE_FUTURE');
    const skewed = Math.floor(now.getTime() / 1000) + 30;
    const fine = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(skewed).setExpirationTime(skewed + 60).sign(key);
    await expect(verifyToken(secret, fine, now)).resolves.toEqual({ userId: 'alice' });
  });

  it('refuses a validly signed token whose subject is not a user id', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('not a user/id')
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 60)
      .sign(key);
    await expect(verifyToken(secret, token, now)).rejects.toThrow('ERR_SUBJECT_NOT_A_USER_ID');
  });

  it('will not sign or verify with a short secret', async () => {
    await expect(issueToken('short', { userId: 'alice', ttlSeconds: 60, now })).rejects.toThrow(/at least 32/);
  });

  it('takes a secret of exactly 32 characters, and refuses one of 31 both ways: a misconfiguration, not a bad token', async () => {
    const [enough, short] = ['s'.repeat(32), 's'.repeat(31)];
    const { token } = await issueToken(enough, { userId: 'alice', ttlSeconds: 60, now });
    await expect(verifyToken(enough, token, now)).resolves.toEqual({ userId: 'alice' });
    await expect(issueToken(short, { userId: 'alice', ttlSeconds: 60, now })).rejects.toThrow('the token secret must be at least 32 characters');
    // Not an InvalidTokenError: the authorizer answers it as its own failure (500), not as the client's 401.
    const refused = verifyToken(short, token, now);
    await expect(refused).rejects.toThrow('the token secret must be at least 32 characters');
    await expect(refused).rejects.not.toBeInstanceOf(InvalidTokenError);
  });
});
