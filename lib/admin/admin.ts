/** What the admin API does (SPEC §7), behind the same ports as the rest of the service. */
import { tokenRequestSchema, type OfflineSummaryResponse, type TokenResponse, type UserConfigResponse } from './admin-api';
import type { Clock } from '../clock';
import type { ConnectionStore } from '../connecting/connections';
import { BadRequestError } from '../errors';
import { describeIssues, idSchema } from '../protocol';
import { durationInForce } from '../retention/expiry';
import {
  readAppSettings,
  readUserSettings,
  validateAppSettingsChange,
  validateUserSettings,
  type AppSettings,
  type SettingsWarning,
} from '../retention/settings';
import type { SettingsStore } from '../retention/settings-reader';
import { issueToken } from '../connecting/tokens';
import { planQueue, type QueueReader } from '../delivery/deliver-queue';

export interface AdminDeps {
  settings: SettingsStore;
  log: SettingsWarning;
}

/** Admins see what is stored, not a cached copy. */
const consistent = { consistent: true };

export async function getConfig(deps: AdminDeps): Promise<AppSettings> {
  return readAppSettings(await deps.settings.getApp(consistent), deps.log);
}

export async function changeConfig(deps: AdminDeps, change: unknown): Promise<AppSettings> {
  await deps.settings.updateApp(validateAppSettingsChange(change));
  return getConfig(deps);
}

export function checkUserId(id: string | undefined): string {
  const parsed = idSchema.safeParse(id);
  if (!parsed.success) throw new BadRequestError(`'${id ?? ''}' is not a user id: 1–128 characters of letters, digits and _ . @ : -`);
  return parsed.data;
}

export async function getUserConfig(deps: AdminDeps, userId: string): Promise<UserConfigResponse> {
  const [app, user] = await Promise.all([getConfig(deps), deps.settings.getUser(userId, consistent)]);
  const own = readUserSettings(user, deps.log);
  const inForce = durationInForce('private', app, own);
  return {
    userId,
    offlineMessageDurationDays: own.offlineMessageDurationDays ?? null,
    inForce: { days: inForce.days, source: inForce.source === 'user' ? 'user' : 'app' },
  };
}

/** Admins may set a user's duration whether or not users may set their own. */
export async function setUserConfig(deps: AdminDeps, userId: string, body: unknown): Promise<UserConfigResponse> {
  await deps.settings.putUser(userId, validateUserSettings(body));
  return getUserConfig(deps, userId);
}

export async function clearUserConfig(deps: AdminDeps, userId: string): Promise<UserConfigResponse> {
  await deps.settings.deleteUser(userId);
  return getUserConfig(deps, userId);
}

/** The user's queue as the next drain would see it; nothing is removed by looking. */
export async function offlineSummary(
  deps: AdminDeps & QueueReader & { connections: Pick<ConnectionStore, 'lookup'> },
  userId: string,
): Promise<OfflineSummaryResponse> {
  const app = await getConfig(deps);
  const user = app.userLevelSettingsEnabled ? readUserSettings(await deps.settings.getUser(userId), deps.log) : undefined;
  // What the user acknowledged by bound waits for its TTL: not part of the queue.
  const ackedUpTo = (await deps.connections.lookup([userId], deps.clock.now(), consistent)).get(userId)?.ackedUpTo;
  const { plan, messages } = await planQueue(deps, userId, { app, user }, ackedUpTo ? { after: ackedUpTo } : {});
  const summary: OfflineSummaryResponse = {
    userId,
    count: 0,
    oldestSentAt: null,
    newestSentAt: null,
    byType: { private: 0, group: 0, system: 0 },
    pendingDrops: { overflow: 0, expired: 0 },
  };
  for await (const message of messages) {
    const verdict = plan.judge(message);
    if (verdict === 'overflow' || verdict === 'expired') summary.pendingDrops[verdict] += 1;
    if (verdict !== 'deliver' || message.type === 'chatroom') continue;
    summary.count += 1;
    summary.byType[message.type] += 1;
    summary.oldestSentAt ??= message.sentAt.toISOString();
    summary.newestSentAt = message.sentAt.toISOString();
  }
  return summary;
}

/** `POST /v1/tokens`: a client token for the user the body names, for the app's backend to hand out. */
export async function createToken(secret: string, clock: Clock, body: unknown): Promise<TokenResponse> {
  const request = tokenRequestSchema.safeParse(body ?? {});
  if (!request.success) throw new BadRequestError(describeIssues(request.error));
  const { userId, ttlSeconds = 24 * 60 * 60 } = request.data;
  const issued = await issueToken(secret, { userId, ttlSeconds, now: clock.now() });
  return { token: issued.token, userId: issued.userId, expiresAt: issued.expiresAt.toISOString() };
}
