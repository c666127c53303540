/**
 * Users' own offline-message duration (SPEC §4, §6), as RongCloud's `setOfflineMessageDuration` and
 * `getOfflineMessageDuration`: only while the app allows user-level settings.
 */
import { ForbiddenError, OutOfRangeError } from '../errors';
import type { Reply } from '../protocol';
import { durationInForce } from './expiry';
import { userSettingSpecs } from './settings';
import type { SettingsReader, SettingsStore } from './settings-reader';

const notEnabled = 'users may not choose their own offline message duration in this app (userLevelSettingsEnabled is off)';

export async function getOfflineMessageDuration(settings: SettingsReader, userId: string): Promise<Reply> {
  const app = await settings.appSettings();
  if (!app.userLevelSettingsEnabled) throw new ForbiddenError(notEnabled);
  const { days, source } = durationInForce('private', app, await settings.userSettings(userId, { current: true }));
  return { type: 'offlineMessageDuration', days, source: source === 'user' ? 'user' : 'app' };
}

export async function setOfflineMessageDuration(
  deps: { settings: SettingsReader; store: SettingsStore },
  userId: string,
  days: number,
): Promise<Reply> {
  const app = await deps.settings.appSettings();
  if (!app.userLevelSettingsEnabled) throw new ForbiddenError(notEnabled);
  const spec = userSettingSpecs.offlineMessageDurationDays;
  if (!spec.check(days).ok) throw new OutOfRangeError(`days must be ${spec.range}, not ${days}`);
  await deps.store.putUser(userId, { offlineMessageDurationDays: days });
  return { type: 'offlineMessageDuration', days, source: 'user' };
}
