/**
 * The admin API (SPEC §7): its routes and its bodies, shared by the handlers, the local admin server,
 * the CDK stack and the `pigeonhole` CLI.
 */
import * as z from 'zod/mini';
import type { DurationSource } from '../retention/expiry';
import type { AppSettings } from '../retention/settings';
import { idSchema, type DroppedReason } from '../protocol';

export const adminBasePath = '/v1';

export const adminRoutes = {
  getConfig: { method: 'GET', path: '/v1/config' },
  patchConfig: { method: 'PATCH', path: '/v1/config' },
  getUserConfig: { method: 'GET', path: '/v1/users/{id}/config' },
  putUserConfig: { method: 'PUT', path: '/v1/users/{id}/config' },
  deleteUserConfig: { method: 'DELETE', path: '/v1/users/{id}/config' },
  getUserOffline: { method: 'GET', path: '/v1/users/{id}/offline' },
  createToken: { method: 'POST', path: '/v1/tokens' },
  putGroup: { method: 'PUT', path: '/v1/groups/{id}' },
  getGroup: { method: 'GET', path: '/v1/groups/{id}' },
  deleteGroup: { method: 'DELETE', path: '/v1/groups/{id}' },
  changeGroupMembers: { method: 'POST', path: '/v1/groups/{id}/members' },
  deleteGroupMessages: { method: 'DELETE', path: '/v1/groups/{id}/messages' },
  sendSystemMessage: { method: 'POST', path: '/v1/messages/system' },
  sendMessage: { method: 'POST', path: '/v1/messages' },
  listGroups: { method: 'GET', path: '/v1/groups' },
  getStats: { method: 'GET', path: '/v1/stats' },
  redriveFanOut: { method: 'POST', path: '/v1/fan-out/redrive' },
} as const;

export type AdminRouteName = keyof typeof adminRoutes;
export type AdminRoute = (typeof adminRoutes)[AdminRouteName];

export type ConfigResponse = AppSettings;

export interface UserConfigResponse {
  userId: string;
  /** The user's own setting; null when they have none. */
  offlineMessageDurationDays: number | null;
  /** The duration that applies to their private messages now. */
  inForce: { days: number; source: Exclude<DurationSource, 'group'> };
}

export interface OfflineSummaryResponse {
  userId: string;
  /** Messages the user would get if they connected now. */
  count: number;
  oldestSentAt: string | null;
  newestSentAt: string | null;
  byType: Record<'private' | 'group' | 'system', number>;
  /** Stored, but never to be delivered: announced and removed at the next drain. */
  pendingDrops: { overflow: number; expired: number };
}

/** Up to 30 days: long-lived tokens are a liability, and apps can fetch a fresh one at any time. */
export const maxTokenSeconds = 30 * 24 * 60 * 60;

export const tokenRequestSchema = z.object({
  userId: idSchema,
  ttlSeconds: z.optional(
    z.int({ error: 'must be a whole number of seconds' }).check(
      z.gte(60, { error: 'must be at least 60' }),
      z.lte(maxTokenSeconds, { error: `must be at most ${maxTokenSeconds} (30 days)` }),
    ),
  ),
});

export interface TokenResponse {
  token: string;
  userId: string;
  expiresAt: string;
}

/** `GET /v1/groups`: one page; `next` is the opaque cursor of the next page, absent on the last. */
export interface GroupListResponse {
  groups: Array<{ groupId: string; memberCount: number }>;
  next?: string;
}

/** Groups on a page, unless `?limit=` asks for fewer or more. */
export const groupPageSize = { default: 50, max: 100 } as const;

/**
 * `GET /v1/stats` (SPEC §7). Locally `source` is `local` and `since` when the stack started; on AWS
 * it is `cloudwatch`, the counters summed over the last day, `since` that window's start.
 */
export interface StatsResponse {
  source: 'local' | 'cloudwatch';
  since: string;
  connectionsOpen: number;
  messages: {
    accepted: number;
    /** Copies written to offline queues (one per recipient). */
    stored: number;
    /** Posts to open connections, one per connection (pushes are not deliveries; acks are). */
    pushed: number;
    /** Copies delivered by a drain or a sync. */
    delivered: number;
    acked: number;
    /** Resends answered `duplicate`. */
    duplicates: number;
    /** Sends refused with CONFLICT. */
    conflicts: number;
    /** Sends refused with RATE_LIMITED. */
    rateLimited: number;
    /** Copies a drain found expired and skipped: the part of `dropped.expired` that expired by time, not with a session. */
    expiredSkipped: number;
    dropped: Record<DroppedReason, number>;
  };
  /** Drains on connect: how many, the messages each delivered and how long each took, on average. */
  drains: { count: number; averageSize: number; averageMs: number };
  /** `OfflineMessageStored` events (SPEC §12): put on the bus, and dropped after failing. */
  offlineEvents: { emitted: number; failed: number };
  /** Fan-out jobs queued or being worked on now; null when it could not be read. */
  fanOut: { backlog: number | null };
}

export interface AdminErrorBody {
  error: { code: string; message: string };
}
