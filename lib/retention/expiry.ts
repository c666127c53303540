/**
 * How long a stored message lives (SPEC §6): `sentAt` plus the shortest of its own `ttlSeconds` and
 * the duration in force: the user's, if set and user-level settings are enabled; else the group
 * duration, for group messages, if set; else the app's. A shortened duration hides stored messages at
 * once; a lengthened one applies to new messages, whose stored expiry it sets.
 */
import type { AppSettings, UserSettings } from './settings';
import type { QueuedMessage } from '../messages';

const daySeconds = 24 * 60 * 60;

export type DurationSource = 'user' | 'group' | 'app';

export function durationInForce(
  type: QueuedMessage['type'],
  app: AppSettings,
  user: UserSettings | undefined,
): { days: number; source: DurationSource } {
  if (app.userLevelSettingsEnabled && user?.offlineMessageDurationDays !== undefined) {
    return { days: user.offlineMessageDurationDays, source: 'user' };
  }
  if (type === 'group' && app.groupOfflineMessageDurationDays !== null) {
    return { days: app.groupOfflineMessageDurationDays, source: 'group' };
  }
  return { days: app.offlineMessageDurationDays, source: 'app' };
}

/**
 * In whole seconds, rounded up: DynamoDB TTL counts in seconds, so a message pushed live and the same
 * message drained later report the same expiry, and none lives shorter than it was promised.
 */
export function messageExpiry(sentAt: Date, ttlSeconds: number | undefined, durationDays: number): Date {
  const seconds = Math.min(ttlSeconds ?? Number.POSITIVE_INFINITY, durationDays * daySeconds);
  return new Date(Math.ceil((sentAt.getTime() + seconds * 1000) / 1000) * 1000);
}

/** A stored message's expiry under the settings in force now: never later than the one it was stored with. */
export function effectiveExpiry(message: QueuedMessage, app: AppSettings, user: UserSettings | undefined): Date {
  const now = messageExpiry(message.sentAt, undefined, durationInForce(message.type, app, user).days);
  return now < message.expiresAt ? now : message.expiresAt;
}

/** How long a message stays in its conversation's history: `historyDays` or `groupHistoryDays`, whatever the queue does. */
export function historyExpiry(sentAt: Date, type: 'private' | 'group', app: AppSettings): Date {
  return messageExpiry(sentAt, undefined, type === 'group' ? app.groupHistoryDays : app.historyDays);
}
