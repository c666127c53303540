import { describe, expect, it } from 'vitest';
import { BadRequestError, OutOfRangeError } from '../../lib/errors';
import { durationInForce, effectiveExpiry, messageExpiry } from '../../lib/retention/expiry';
import { defaultAppSettings, readAppSettings, validateAppSettingsChange, validateUserSettings, type AppSettings } from '../../lib/retention/settings';
import { SettingsReader, type SettingsStore } from '../../lib/retention/settings-reader';
import type { QueuedMessage } from '../../lib/messages';

function recordingLog() {
  const lines: Array<{ message: string; details: Record<string, unknown> }> = [];
  return { lines, warn: (message: string, details: Record<string, unknown>) => void lines.push({ message, details }) };
}

describe('validating a change to app settings', () => {
  it('accepts every key in range, null where allowed', () => {
    expect(
      validateAppSettingsChange({
        offlineMessageDurationDays: 1,
        groupOfflineMessageDurationDays: null,
        groupOfflineMaxMessages: 50,
        maxOfflineMessages: 100_000,
        userLevelSettingsEnabled: true,
        historyDays: 365,
        groupHistoryDays: 1,
        recentConversationsEnabled: false,
        sessionExpiryHours: 0,
        maxOfflineMessagesPerSender: null,
        sendRatePerSecond: 10_000,
        sendBurst: 1,
        maxConnectionsPerUser: 1000,
      }),
    ).toMatchObject({ maxOfflineMessages: 100_000, groupOfflineMessageDurationDays: null, maxOfflineMessagesPerSender: null });
  });

  it.each([
    [{ offlineMessageDurationDays: 0 }, OutOfRangeError, 'offlineMessageDurationDays must be a whole number 1 to 7 (got 0)'],
    [{ offlineMessageDurationDays: 8 }, OutOfRangeError, 'offlineMessageDurationDays must be a whole number 1 to 7 (got 8)'],
    [{ offlineMessageDurationDays: 'x' }, BadRequestError, 'offlineMessageDurationDays must be a whole number 1 to 7 (got "x")'],
    [{ offlineMessageDurationDays: 2.5 }, BadRequestError, '(got 2.5)'],
    [{ maxOfflineMessages: -5 }, OutOfRangeError, 'maxOfflineMessages must be a whole number 1 to 100000 (got -5)'],
    [{ groupOfflineMaxMessages: 0 }, OutOfRangeError, 'groupOfflineMaxMessages must be a whole number 1 or more, or null (got 0)'],
    [{ maxOfflineMessages: null }, BadRequestError, 'maxOfflineMessages must be a whole number 1 to 100000 (got null)'],
    [{ userLevelSettingsEnabled: 'yes' }, BadRequestError, 'userLevelSettingsEnabled must be true or false'],
    [{ sessionExpiryHours: 8761 }, OutOfRangeError, 'sessionExpiryHours must be a whole number 0 to 8760'],
    [{ maxOfflineMessagesPerSender: 0 }, OutOfRangeError, 'maxOfflineMessagesPerSender must be a whole number 1 to 100000, or null (got 0)'],
    [{ sendRatePerSecond: 0 }, OutOfRangeError, 'sendRatePerSecond must be a whole number 1 to 10000 (got 0)'],
    [{ sendRatePerSecond: 10_001 }, OutOfRangeError, 'sendRatePerSecond must be a whole number 1 to 10000 (got 10001)'],
    [{ sendRatePerSecond: null }, BadRequestError, 'sendRatePerSecond must be a whole number 1 to 10000 (got null)'],
    [{ sendBurst: 100_001 }, OutOfRangeError, 'sendBurst must be a whole number 1 to 100000 (got 100001)'],
    [{ sendBurst: 1.5 }, BadRequestError, 'sendBurst must be a whole number 1 to 100000 (got 1.5)'],
    [{ maxConnectionsPerUser: 1001 }, OutOfRangeError, 'maxConnectionsPerUser must be a whole number 1 to 1000 (got 1001)'],
    [{ maxConnectionsPerUser: '50' }, BadRequestError, 'maxConnectionsPerUser must be a whole number 1 to 1000 (got "50")'],
    [{ maxOfflineMessage: 5 }, BadRequestError, 'unknown app setting: maxOfflineMessage'],
    [{ __proto__: 5, constructor: 1 }, BadRequestError, 'unknown app setting'],
  ])('refuses %j, saying why', (change, kind, message) => {
    expect(() => validateAppSettingsChange(change)).toThrow(kind);
    expect(() => validateAppSettingsChange(change)).toThrow(message);
  });

  it('refuses the whole change when one key is bad, naming every problem', () => {
    expect(() => validateAppSettingsChange({ historyDays: 30, maxOfflineMessages: 0, colour: 'red' })).toThrow(
      /^unknown app setting: colour; maxOfflineMessages must be .*; nothing was changed$/,
    );
  });

  it('refuses an empty change, and one that is not an object', () => {
    expect(() => validateAppSettingsChange({})).toThrow('name at least one app setting');
    expect(() => validateAppSettingsChange([1])).toThrow('the body must be a JSON object');
    expect(() => validateAppSettingsChange(null)).toThrow('the body must be a JSON object');
  });

  it('checks a user’s duration the same way', () => {
    expect(validateUserSettings({ offlineMessageDurationDays: 3 })).toEqual({ offlineMessageDurationDays: 3 });
    expect(() => validateUserSettings({ offlineMessageDurationDays: 9 })).toThrow(OutOfRangeError);
    expect(() => validateUserSettings({})).toThrow('name at least one user setting');
    expect(() => validateUserSettings({ historyDays: 3 })).toThrow('unknown user setting: historyDays');
  });
});

describe('reading a hand-edited settings item', () => {
  it('uses the defaults when there is no item', () => {
    expect(readAppSettings(undefined, recordingLog())).toEqual(defaultAppSettings);
  });

  it('ignores invalid values and unknown keys, with a log line each, and keeps the valid ones', () => {
    const log = recordingLog();
    const settings = readAppSettings(
      { id: 'app', maxOfflineMessages: 'lots', offlineMessageDurationDays: 9, historyDays: 30, colour: 'red' },
      log,
    );
    expect(settings).toEqual({ ...defaultAppSettings, historyDays: 30 });
    expect(log.lines.map((line) => [line.message, line.details.key])).toEqual([
      ['ignoring an invalid value in the stored settings; using the default', 'maxOfflineMessages'],
      ['ignoring an invalid value in the stored settings; using the default', 'offlineMessageDurationDays'],
      ['ignoring an unknown key in the stored settings', 'colour'],
    ]);
  });
});

describe('the duration in force (SPEC §6)', () => {
  const app = (settings: Partial<AppSettings>) => ({ ...defaultAppSettings, ...settings });
  it.each([
    ['the app’s, by default', 'private', {}, undefined, { days: 7, source: 'app' }],
    ['the app’s, for a group without a group duration', 'group', { offlineMessageDurationDays: 5 }, undefined, { days: 5, source: 'app' }],
    ['the group’s, for a group message', 'group', { offlineMessageDurationDays: 5, groupOfflineMessageDurationDays: 2 }, undefined, { days: 2, source: 'group' }],
    ['not the group’s, for a private message', 'private', { offlineMessageDurationDays: 5, groupOfflineMessageDurationDays: 2 }, undefined, { days: 5, source: 'app' }],
    ['the user’s, when enabled, over the app’s', 'private', { userLevelSettingsEnabled: true, offlineMessageDurationDays: 2 }, { offlineMessageDurationDays: 6 }, { days: 6, source: 'user' }],
    ['the user’s, when enabled, over the group’s', 'group', { userLevelSettingsEnabled: true, groupOfflineMessageDurationDays: 2 }, { offlineMessageDurationDays: 4 }, { days: 4, source: 'user' }],
    ['not the user’s, when user-level settings are disabled', 'private', { userLevelSettingsEnabled: false, offlineMessageDurationDays: 3 }, { offlineMessageDurationDays: 6 }, { days: 3, source: 'app' }],
    ['the app’s, when enabled but the user has none', 'private', { userLevelSettingsEnabled: true, offlineMessageDurationDays: 3 }, {}, { days: 3, source: 'app' }],
  ] as const)('is %s', (_label, type, appSettings, user, expected) => {
    expect(durationInForce(type, app(appSettings), user)).toEqual(expected);
  });

  const sentAt = new Date('2030-01-15T10:00:00Z');
  it('is shortened further by the message’s own ttlSeconds', () => {
    expect(messageExpiry(sentAt, 3600, durationInForce('private', app({}), undefined).days)).toEqual(new Date('2030-01-15T11:00:00Z'));
    expect(messageExpiry(sentAt, 30 * 86400, 2)).toEqual(new Date('2030-01-17T10:00:00Z'));
  });

  it('applies a shortened duration to stored messages at once, and a lengthened one only to new ones', () => {
    const stored: QueuedMessage = {
      id: 'x', type: 'private', from: 'a', to: 'b', bodyJson: '1', qos: 1, sentAt,
      expiresAt: messageExpiry(sentAt, undefined, 3),
    };
    expect(effectiveExpiry(stored, app({ offlineMessageDurationDays: 1 }), undefined)).toEqual(new Date('2030-01-16T10:00:00Z'));
    expect(effectiveExpiry(stored, app({ offlineMessageDurationDays: 7 }), undefined)).toEqual(new Date('2030-01-18T10:00:00Z'));
  });
});

describe('the settings cache', () => {
  function countingStore(item: Record<string, unknown>) {
    const counts = { app: 0, user: 0 };
    const store: SettingsStore = {
      getApp: async () => (counts.app++, item),
      getUser: async () => (counts.user++, { id: 'user:x', offlineMessageDurationDays: 2 }),
      getUsers: async () => new Map(),
      updateApp: async () => undefined,
      putUser: async () => undefined,
      deleteUser: async () => false,
    };
    return { store, counts };
  }

  it('reads the app’s settings at most once a minute', async () => {
    let now = Date.parse('2030-01-15T10:00:00Z');
    const { store, counts } = countingStore({ id: 'app', historyDays: 30 });
    const reader = new SettingsReader(store, { now: () => new Date(now) }, recordingLog());
    expect((await reader.appSettings()).historyDays).toBe(30);
    now += 59_999;
    await reader.appSettings();
    expect(counts.app).toBe(1);
    now += 1;
    await reader.appSettings();
    expect(counts.app).toBe(2);
  });

  it('counts a read’s age from when it began: a change made during a slow read is not hidden for a minute', async () => {
    let now = Date.parse('2030-01-15T10:00:00Z');
    let item: Record<string, unknown> = { id: 'app', historyDays: 30 };
    const store: SettingsStore = {
      ...countingStore(item).store,
      // The read takes a minute, and meanwhile an admin changes the settings.
      getApp: async () => {
        const read = item;
        now += 60_000;
        item = { id: 'app', historyDays: 90 };
        return read;
      },
    };
    const reader = new SettingsReader(store, { now: () => new Date(now) }, recordingLog());
    expect((await reader.appSettings()).historyDays).toBe(30);
    expect((await reader.appSettings()).historyDays).toBe(90);
  });

  it('reads a user’s own settings only while user-level settings are enabled', async () => {
    const clock = { now: () => new Date('2030-01-15T10:00:00Z') };
    const off = countingStore({ id: 'app' });
    expect(await new SettingsReader(off.store, clock, recordingLog()).retentionFor('x')).toMatchObject({ user: undefined });
    expect(off.counts.user).toBe(0);
    const on = countingStore({ id: 'app', userLevelSettingsEnabled: true });
    expect(await new SettingsReader(on.store, clock, recordingLog()).retentionFor('x')).toMatchObject({ user: { offlineMessageDurationDays: 2 } });
  });
});
