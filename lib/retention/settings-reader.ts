/**
 * Settings as functions read them: from the config table, cached for at most a minute per container,
 * so that a change is in force everywhere within 60 s without a read per request.
 */
import type { Clock } from '../clock';
import { readAppSettings, readUserSettings, type AppSettings, type SettingsWarning, type UserSettings } from './settings';

export interface SettingsStore {
  getApp(options?: { consistent?: boolean }): Promise<Record<string, unknown> | undefined>;
  updateApp(change: Partial<AppSettings>): Promise<void>;
  getUser(userId: string, options?: { consistent?: boolean }): Promise<Record<string, unknown> | undefined>;
  /** Many users' items at once (100 to a request); users without one are absent. */
  getUsers(userIds: readonly string[], options?: { consistent?: boolean }): Promise<Map<string, Record<string, unknown>>>;
  putUser(userId: string, settings: UserSettings): Promise<void>;
  /** True when there was a setting to delete. */
  deleteUser(userId: string): Promise<boolean>;
}

export const maxSettingsAgeMs = 60_000;
/** Users whose settings a warm container remembers; the least recently read go first. */
const maxCachedUsers = 10_000;

interface Cached<T> {
  value: T;
  readAt: number;
}

export class SettingsReader {
  private app: Cached<AppSettings> | undefined;
  private readonly users = new Map<string, Cached<UserSettings>>();

  constructor(
    private readonly store: SettingsStore,
    private readonly clock: Clock,
    private readonly log: SettingsWarning,
    private readonly maxAgeMs = maxSettingsAgeMs,
  ) {}

  async appSettings(): Promise<AppSettings> {
    if (this.fresh(this.app)) return this.app.value;
    // Stamped with when the read began: a change made while it was under way may not be in it.
    const readAt = this.clock.now().getTime();
    const value = readAppSettings(await this.store.getApp(), this.log);
    this.app = { value, readAt };
    return value;
  }

  /**
   * A user's own settings: cached, or, with `current`, read strongly consistent, so that a change the
   * user or an admin has just made applies to what that user is delivered next (SPEC §5, read your
   * own writes). A user's setting is one item: the read costs one unit, and only while enabled.
   */
  async userSettings(userId: string, options: { current?: boolean } = {}): Promise<UserSettings> {
    const cached = this.users.get(userId);
    if (!options.current && this.fresh(cached)) return cached.value;
    const readAt = this.clock.now().getTime();
    const value = readUserSettings(await this.store.getUser(userId, { consistent: options.current ?? false }), this.log);
    this.remember(userId, { value, readAt });
    return value;
  }

  private remember(userId: string, cached: Cached<UserSettings>): void {
    this.users.delete(userId);
    this.users.set(userId, cached);
    if (this.users.size > maxCachedUsers) this.users.delete(this.users.keys().next().value as string);
  }

  /** Many users' own settings, reading at once those not cached (all of them, strongly consistent, with `current`). */
  async userSettingsMany(userIds: readonly string[], options: { current?: boolean } = {}): Promise<Map<string, UserSettings>> {
    const result = new Map<string, UserSettings>();
    const missing: string[] = [];
    for (const userId of new Set(userIds)) {
      const cached = this.users.get(userId);
      if (!options.current && this.fresh(cached)) result.set(userId, cached.value);
      else missing.push(userId);
    }
    if (missing.length > 0) {
      const readAt = this.clock.now().getTime();
      const items = await this.store.getUsers(missing, { consistent: options.current ?? false });
      for (const userId of missing) {
        const value = readUserSettings(items.get(userId), this.log);
        this.remember(userId, { value, readAt });
        result.set(userId, value);
      }
    }
    return result;
  }

  /** The app's settings, and the user's when they can matter: a user's own are read only while enabled. */
  async retentionFor(userId: string, options: { current?: boolean } = {}): Promise<{ app: AppSettings; user: UserSettings | undefined }> {
    const app = await this.appSettings();
    return { app, user: app.userLevelSettingsEnabled ? await this.userSettings(userId, options) : undefined };
  }

  private fresh<T>(cached: Cached<T> | undefined): cached is Cached<T> {
    return cached !== undefined && this.clock.now().getTime() - cached.readAt < this.maxAgeMs;
  }
}
