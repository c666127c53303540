/**
 * The local stack's admin key and token-signing secret. Generated when not given; with a data
 * directory they are kept in it, so that a restart on the same data keeps the key that scripts use and
 * every token issued before it (SPEC §1). Given ones (PIGEONHOLE_ADMIN_KEY, PIGEONHOLE_TOKEN_SECRET)
 * win, and are never written.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSecrets {
  adminKey: string;
  tokenSecret: string;
}

export const secretsFileName = 'pigeonhole-secrets.json';

export function generateSecrets(): LocalSecrets {
  return { adminKey: `ph_${randomBytes(24).toString('base64url')}`, tokenSecret: randomBytes(32).toString('base64url') };
}

/** The secrets kept in `dataDir`, written there (readable by this user only) the first time. */
export function persistentSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, secretsFileName);
  if (existsSync(file)) {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>;
    if (typeof kept.adminKey === 'string' && typeof kept.tokenSecret === 'string') return { adminKey: kept.adminKey, tokenSecret: kept.tokenSecret };
    throw new Error(`${file} is not a Pigeonhole secrets file: move it away to start with new secrets`);
  }
  const secrets = generateSecrets();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
