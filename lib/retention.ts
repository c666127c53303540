/**
 * How long a stored message lives (SPEC §6): `sentAt` plus the shortest of its own `ttlSeconds` and
 * the duration in force. Until settings land, the duration in force is the app default.
 */
export const defaultOfflineMessageDurationDays = 7;

const daySeconds = 24 * 60 * 60;

/**
 * In whole seconds, rounded up: DynamoDB TTL counts in seconds, so a message pushed live and the same
 * message drained later report the same expiry, and none lives shorter than it was promised.
 */
export function messageExpiry(sentAt: Date, ttlSeconds: number | undefined, durationDays: number): Date {
  const seconds = Math.min(ttlSeconds ?? Number.POSITIVE_INFINITY, durationDays * daySeconds);
  return new Date(Math.ceil((sentAt.getTime() + seconds * 1000) / 1000) * 1000);
}
