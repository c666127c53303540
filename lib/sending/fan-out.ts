/**
 * Fan-out: one message stored for many recipients (a group's members, a system message's list), each
 * copy with its recipient's own expiry, then pushed to those online. Writes go 25 to a request and
 * lookups 100; past what one invocation should do, the rest goes to a queue (SQS) for the fan-out
 * worker, rather than keeping one function running long.
 */
import type { Clock } from '../clock';
import type { Presence } from '../connecting/connections';
import { emitOfflineEvents, offlineEventsFor, type OfflineEventDeps } from '../events/offline-events';
import { type OfflineQueue } from '../delivery/offline-queue';
import { durationInForce, messageExpiry } from '../retention/expiry';
import type { AppSettings } from '../retention/settings';
import type { SettingsReader } from '../retention/settings-reader';
import type { StatsCounters } from '../admin/stats';
import { packFrames, toWireMessage, type MessageDraft, type QueuedMessage } from '../messages';
import { pushStored, type PushDeps } from '../delivery/ordering';

/** Recipients past this many go to the fan-out queue, in jobs of this many. */
export const inlineRecipients = 1000;

/**
 * Work too big for one invocation, done by the fan-out worker from the queue: storing a message for
 * recipients past the first 1,000, or removing a member's group messages from members' queues.
 * Both are idempotent, so SQS may deliver a job twice.
 */
export type FanOutJob =
  | { kind: 'store'; draft: MessageDraft; recipients: string[] }
  | { kind: 'deleteGroupMessages'; groupId: string; from: string; members: string[] };

export interface FanOutQueue {
  enqueue(jobs: readonly FanOutJob[]): Promise<void>;
}

/**
 * The fan-out queue's dead letters: jobs that failed five times (recipients past the first 1,000 who
 * never got a message its sender saw accepted). Redriving sends them back to be done again; their
 * writes are idempotent, so a job that half-succeeded before is simply finished.
 */
export interface FanOutDeadLetters {
  /** Starts moving every dead-lettered job back to the fan-out queue; resolves to the move's handle. */
  redrive(): Promise<{ taskHandle: string }>;
}

export interface FanOutDeps extends PushDeps, OfflineEventDeps {
  queue: OfflineQueue;
  settings: SettingsReader;
  clock: Clock;
  /** Counts the copies stored (GET /v1/stats); only the fan-out knows how many a group send stored. */
  stats?: Pick<StatsCounters, 'add'>;
}

/**
 * Stores a copy for every recipient, the first `inlineRecipients` here and the rest through the
 * fan-out queue, and pushes the copies stored here to recipients who are online (but `except`).
 */
export async function fanOut(
  deps: FanOutDeps & { jobs: FanOutQueue },
  draft: MessageDraft,
  recipients: readonly string[],
  options: { except?: string } = {},
): Promise<void> {
  const now = recipients.slice(0, inlineRecipients);
  const later: FanOutJob[] = [];
  for (let i = inlineRecipients; i < recipients.length; i += inlineRecipients) {
    later.push({ kind: 'store', draft, recipients: recipients.slice(i, i + inlineRecipients) });
  }
  // Queued first: once it is in SQS the rest will be stored, whatever happens to this invocation.
  if (later.length > 0) await deps.jobs.enqueue(later);
  await deliverCopies(deps, draft, now, options);
}

/**
 * Stores one copy per recipient (25 to a request), then pushes them to recipients who are online and,
 * meanwhile, announces them to those who are not (lib/events/offline-events). A failed lookup fails the whole
 * delivery, to be redone (a resend, the queue's retry): the copies are stored, but open connections
 * that missed one would see the sender's next message first.
 */
export async function deliverCopies(
  deps: FanOutDeps,
  draft: MessageDraft,
  recipients: readonly string[],
  options: { except?: string } = {},
): Promise<void> {
  if (recipients.length === 0) return;
  const app = await deps.settings.appSettings();
  const copies = await copiesFor(deps.settings, app, draft, recipients);
  await deps.queue.putMany([...copies].map(([recipientId, message]) => ({ recipientId, message })));
  deps.stats?.add('messagesStored', copies.size);
  // Strongly consistent, as for any stored message (see connectionsOf).
  const online = await deps.connections.lookup([...copies.keys()], deps.clock.now(), { consistent: true });
  const hasConnection = (userId: string) => (online.get(userId)?.connections.length ?? 0) > 0;
  await Promise.all([
    pushCopies(deps, copies, online, options),
    app.offlineEventsEnabled ? emitOfflineEvents(deps, offlineEventsFor(copies, hasConnection)) : undefined,
  ]);
}

/** Each recipient's copy, with the expiry the rule gives that recipient (their own duration, if enabled). */
export async function copiesFor(
  settings: SettingsReader,
  app: AppSettings,
  draft: MessageDraft,
  recipients: readonly string[],
): Promise<Map<string, QueuedMessage>> {
  // As they are now: a duration a member set a moment ago applies to this copy (SPEC §5).
  const users = app.userLevelSettingsEnabled ? await settings.userSettingsMany(recipients, { current: true }) : new Map();
  return new Map(
    recipients.map((recipientId) => {
      const days = durationInForce(draft.type, app, users.get(recipientId)).days;
      const { ttlSeconds: _ttl, ...base } = draft;
      return [
        recipientId,
        {
          ...base,
          to: draft.type === 'group' ? draft.to : recipientId,
          expiresAt: messageExpiry(draft.sentAt, draft.ttlSeconds, days),
          qos: 1 as const,
        },
      ];
    }),
  );
}

/** Pushes each online recipient their own copy; copies that read the same share their frame. */
async function pushCopies(
  deps: PushDeps,
  copies: Map<string, QueuedMessage>,
  online: ReadonlyMap<string, Presence>,
  options: { except?: string },
): Promise<void> {
  const frames = new Map<string, string[]>();
  await Promise.all(
    [...online.values()].map((presence) => {
      const copy = copies.get(presence.userId);
      // A recipient with no connection may still have acknowledged past this id (see pushStored).
      if (!copy || (presence.connections.length === 0 && !presence.ackedUpTo)) return undefined;
      const wire = JSON.stringify(toWireMessage(copy));
      const frame = frames.get(wire) ?? packFrames([wire]);
      frames.set(wire, frame);
      return pushStored(deps, presence, frame, copy.id, options);
    }),
  );
}
