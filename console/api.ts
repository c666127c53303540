/**
 * The console's client for the admin API (SPEC §7), typed by the same response types the handlers
 * return (`lib/admin/admin-api.ts`), so a renamed field fails to compile here too. Calls go to `/v1` on
 * the page's own origin: the local admin server, or `pigeonhole console`'s signing proxy.
 */
import type {
  ConfigResponse,
  GroupListResponse,
  OfflineSummaryResponse,
  StatsResponse,
  TokenResponse,
  UserConfigResponse,
} from '../lib/admin/admin-api';
import type { GroupResponse } from '../lib/groups/admin-groups';
import type { SystemMessageResponse } from '../lib/sending/system-messages';

/** What the API answered instead of success: its code and its reason, for the person at the console. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export class AdminApi {
  constructor(private readonly key: string) {}

  getConfig = () => this.call<ConfigResponse>('GET', '/config');
  patchConfig = (change: Record<string, unknown>) => this.call<ConfigResponse>('PATCH', '/config', change);
  getUser = (id: string) => this.call<UserConfigResponse>('GET', `/users/${encodeURIComponent(id)}/config`);
  setUser = (id: string, days: unknown) =>
    this.call<UserConfigResponse>('PUT', `/users/${encodeURIComponent(id)}/config`, { offlineMessageDurationDays: days });
  clearUser = (id: string) => this.call<UserConfigResponse>('DELETE', `/users/${encodeURIComponent(id)}/config`);
  getQueue = (id: string) => this.call<OfflineSummaryResponse>('GET', `/users/${encodeURIComponent(id)}/offline`);
  listGroups = (cursor?: string) =>
    this.call<GroupListResponse>('GET', `/groups${cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`}`);
  getGroup = (id: string) => this.call<GroupResponse>('GET', `/groups/${encodeURIComponent(id)}`);
  putGroup = (id: string, members: string[]) => this.call<GroupResponse>('PUT', `/groups/${encodeURIComponent(id)}`, { members });
  changeMembers = (id: string, change: { add?: string[]; remove?: string[] }) =>
    this.call<GroupResponse>('POST', `/groups/${encodeURIComponent(id)}/members`, change);
  deleteGroup = (id: string) => this.call<{ groupId: string }>('DELETE', `/groups/${encodeURIComponent(id)}`);
  deleteGroupMessages = (id: string, from: string) =>
    this.call<{ removed: { history: number; queued: number } }>(
      'DELETE',
      `/groups/${encodeURIComponent(id)}/messages?from=${encodeURIComponent(from)}`,
    );
  sendSystemMessage = (request: { to: string[]; body: unknown; ttlSeconds?: number; clientMsgId?: string }) =>
    this.call<SystemMessageResponse>('POST', '/messages/system', request);
  createToken = (request: { userId: string; ttlSeconds?: number }) => this.call<TokenResponse>('POST', '/tokens', request);
  getStats = () => this.call<StatsResponse>('GET', '/stats');

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError('the admin API could not be reached', 0, 'UNREACHABLE');
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string }; message?: string } | undefined) ?? {};
      throw new ApiError(error.error?.message ?? error.message ?? response.statusText, response.status, error.error?.code ?? String(response.status));
    }
    return json as T;
  }
}

/** A list of ids as people type them: separated by commas, spaces or new lines. */
export function parseIds(text: string): string[] {
  return text.split(/[\s,]+/).filter((id) => id !== '');
}
