/**
 * How long a stored message lives (SPEC §6): `sentAt` plus the shortest of its own `ttlSeconds` and
 * the duration in force. Until settings land, the duration in force is the app default.
 */
export const defaultOfflineMessageDurationDays = 7;

const daySeconds = 24 * 60 * 60;

export function messageExpiry(sentAt: Date, ttlSeconds: number | undefined, durationDays: number): Date {
  const seconds = Math.min(ttlSeconds ?? Number.POSITIVE_INFINITY, durationDays * daySeconds);
  return new Date(sentAt.getTime() + seconds * 1000);
}
