/**
 * App and user settings (SPEC §6): every key with its range and default, declared once. The admin API
 * validates changes against these, the stores read hand-edited items through them, and the CLI and
 * the admin console show them.
 */
import { BadRequestError, OutOfRangeError } from '../errors';

export interface SettingSpec<T> {
  default: T;
  /** For people: the accepted values. */
  range: string;
  /** For people: what the setting does, in one line (the console and the CLI show it). */
  meaning: string;
  /** What kind of control edits it: the console builds its form from this. */
  control: { kind: 'wholeNumber'; min: number; max: number; nullable: boolean } | { kind: 'flag' };
  check(value: unknown): { ok: true; value: T } | { ok: false; outOfRange: boolean };
}

/** A whole number from min to max; with `nullable`, null too (meaning: fall back to the line above). */
function wholeNumber(meaning: string, min: number, max: number, fallback: number): SettingSpec<number>;
function wholeNumber(meaning: string, min: number, max: number, fallback: number | null, nullable: true): SettingSpec<number | null>;
function wholeNumber(meaning: string, min: number, max: number, fallback: number | null, nullable = false): SettingSpec<number | null> {
  const upper = max === Number.MAX_SAFE_INTEGER ? 'or more' : `to ${max}`;
  return {
    default: fallback,
    range: `a whole number ${min} ${upper}${nullable ? ', or null' : ''}`,
    meaning,
    control: { kind: 'wholeNumber', min, max, nullable },
    check(value) {
      if (value === null && nullable) return { ok: true, value: null };
      if (typeof value !== 'number' || !Number.isInteger(value)) return { ok: false, outOfRange: false };
      if (value < min || value > max) return { ok: false, outOfRange: true };
      return { ok: true, value };
    },
  };
}

function flag(meaning: string, fallback: boolean): SettingSpec<boolean> {
  return {
    default: fallback,
    range: 'true or false',
    meaning,
    control: { kind: 'flag' },
    check: (value) => (typeof value === 'boolean' ? { ok: true, value } : { ok: false, outOfRange: false }),
  };
}

export const appSettingSpecs = {
  offlineMessageDurationDays: wholeNumber('Days undelivered private, group and system messages are kept.', 1, 7, 7),
  groupOfflineMessageDurationDays: wholeNumber('Days undelivered group messages are kept; empty (null) uses the line above.', 1, 7, null, true),
  groupOfflineMaxMessages: wholeNumber(
    'Per user and group: keep only the newest N undelivered; empty (null) for no group cap.',
    1,
    Number.MAX_SAFE_INTEGER,
    null,
    true,
  ),
  maxOfflineMessages: wholeNumber('Per user: keep only the newest N undelivered; older ones are dropped.', 1, 100_000, 1000),
  maxOfflineMessagesPerSender: wholeNumber(
    'Per user and sender: keep only the newest N undelivered from one sender, applied before maxOfflineMessages, so no sender can push others’ messages out; system messages are exempt; empty (null) for no cap.',
    1,
    100_000,
    200,
    true,
  ),
  userLevelSettingsEnabled: flag('May users set their own offline-message duration.', false),
  historyEnabled: flag('Keep roaming history at all; off, `history` answers FORBIDDEN and each message costs a write less.', true),
  historyDays: wholeNumber('Days of roaming history kept for private conversations.', 1, 365, 7),
  groupHistoryDays: wholeNumber('Days of roaming history kept for groups.', 1, 365, 7),
  recentConversationsEnabled: flag('Keep each user’s list of recent conversations.', true),
  offlineEventsEnabled: flag('Emit an OfflineMessageStored event when a message is stored for a user with no open connection, to wake the device.', false),
  sessionExpiryHours: wholeNumber(
    '0: never; else a user away longer loses the queue and gets nothing stored until they connect again.',
    0,
    8760,
    0,
  ),
  sendRatePerSecond: wholeNumber('Per user, across devices: sends a second, on average; past it a send gets RATE_LIMITED.', 1, 10_000, 20),
  sendBurst: wholeNumber('Per user, across devices: sends at once above the rate, after a quiet spell.', 1, 100_000, 100),
  maxConnectionsPerUser: wholeNumber('Per user: open connections; a new one past this closes the oldest (reason replaced).', 1, 1000, 50),
} as const;

export type AppSettingKey = keyof typeof appSettingSpecs;
export type AppSettings = { [K in AppSettingKey]: (typeof appSettingSpecs)[K]['default'] };

export const defaultAppSettings = Object.fromEntries(
  Object.entries(appSettingSpecs).map(([key, spec]) => [key, spec.default]),
) as AppSettings;

export const userSettingSpecs = {
  offlineMessageDurationDays: appSettingSpecs.offlineMessageDurationDays,
} as const;

export interface UserSettings {
  offlineMessageDurationDays?: number;
}

/**
 * Checks a change to app settings. The whole change is refused if any key is unknown or any value
 * is wrong, with every problem named; nothing partial is ever applied.
 */
export function validateAppSettingsChange(change: unknown): Partial<AppSettings> {
  return validateChange(change, appSettingSpecs, 'app setting') as Partial<AppSettings>;
}

export function validateUserSettings(change: unknown): UserSettings {
  const valid = validateChange(change, userSettingSpecs, 'user setting');
  if (valid.offlineMessageDurationDays === undefined) throw new BadRequestError('offlineMessageDurationDays is required');
  return valid as UserSettings;
}

function validateChange(change: unknown, specs: Record<string, SettingSpec<unknown>>, what: string): Record<string, unknown> {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) {
    throw new BadRequestError(`the body must be a JSON object of ${what}s`);
  }
  const valid: Record<string, unknown> = {};
  const unknown: string[] = [];
  const wrong: string[] = [];
  let allOutOfRange = true;
  for (const [key, value] of Object.entries(change)) {
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) {
      unknown.push(key);
      continue;
    }
    const checked = spec.check(value);
    if (checked.ok) valid[key] = checked.value;
    else {
      wrong.push(`${key} must be ${spec.range} (got ${JSON.stringify(value) ?? 'nothing'})`);
      allOutOfRange &&= checked.outOfRange;
    }
  }
  if (unknown.length > 0 || wrong.length > 0) {
    const unknownNote = unknown.length ? [`unknown ${what}${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`] : [];
    const message = `${[...unknownNote, ...wrong].join('; ')}; nothing was changed`;
    // Values of the right kind outside their range are OUT_OF_RANGE; anything else is malformed.
    throw unknown.length === 0 && allOutOfRange ? new OutOfRangeError(message) : new BadRequestError(message);
  }
  if (Object.keys(valid).length === 0) throw new BadRequestError(`name at least one ${what}`);
  return valid;
}

export interface SettingsWarning {
  warn(message: string, details: Record<string, unknown>): void;
}

/**
 * Reads a stored app settings item, which an admin may have edited by hand in the DynamoDB console:
 * a key that is unknown or whose value is invalid is logged and ignored, and its default used.
 */
export function readAppSettings(item: Record<string, unknown> | undefined, log: SettingsWarning): AppSettings {
  return readStored(item, appSettingSpecs, defaultAppSettings, 'app', log) as AppSettings;
}

export function readUserSettings(item: Record<string, unknown> | undefined, log: SettingsWarning): UserSettings {
  return readStored(item, userSettingSpecs, {}, 'user', log) as UserSettings;
}

/** Attributes of a config item that are not settings: its key. */
const itemKeyAttributes = new Set(['id']);

function readStored(
  item: Record<string, unknown> | undefined,
  specs: Record<string, SettingSpec<unknown>>,
  defaults: Record<string, unknown>,
  scope: string,
  log: SettingsWarning,
): Record<string, unknown> {
  const settings: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(item ?? {})) {
    if (itemKeyAttributes.has(key)) continue;
    const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
    if (!spec) {
      log.warn('ignoring an unknown key in the stored settings', { scope, key });
      continue;
    }
    const checked = spec.check(value);
    if (checked.ok) settings[key] = checked.value;
    else log.warn('ignoring an invalid value in the stored settings; using the default', { scope, key, value, default: spec.default });
  }
  return settings;
}
