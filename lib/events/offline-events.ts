/**
 * `OfflineMessageStored` events (SPEC §12, §6 `offlineEventsEnabled`): the app's signal to wake a
 * device (APNs, FCM, SMS) when a message waits for a user who is away.
 *
 * The contract, for every path that stores a message (private sends, `POST /v1/messages`, group
 * fan-out in the send and in the fan-out worker, system messages):
 *
 * - **Who.** Each recipient a qos-1 copy was stored for whom the send's strongly consistent connection
 *   lookup (the one the push makes anyway: no extra read) found with no open connection. A recipient
 *   with a connection is pushed to, or has the message left to that connection's drain; nothing is
 *   stored, so nothing is emitted, for qos 0, chatrooms, the sender's own devices, or a recipient
 *   whose session has expired.
 * - **When.** Alongside the push, before the send's reply, so that on Lambda nothing runs after the
 *   function has returned (it may be frozen there). Batches of 10 (PutEvents' limit), 25 at a time.
 * - **Failure.** Never fails the send: the message is stored either way, and the recipient gets it on
 *   connecting. Whatever the bus refuses (after the SDK's own retries) is put once more; whatever is
 *   still not accepted within the deadline is dropped, counted as `OfflineEventsFailed` (which
 *   alarms) and logged with its message ids. The deadline is `emitDeadlineMs` for each round of 25
 *   requests (1 s for up to 250 events: any private message; 4 s for a group of 1,000 all away), so a
 *   failed or stalled bus holds a reply back that long at most, and a bus that answers holds it back
 *   by nothing, as the push runs meanwhile. Events are not kept for a later retry: a wake-up that
 *   arrives minutes late is no better than the user's next connect.
 * - **At least once per try.** A resend that completes a send, or a fan-out job SQS delivers again,
 *   emits again for the recipients still offline: consumers drop duplicates by (userId, messageId).
 */
import { setMaxListeners } from 'node:events';
import { forEachLimited } from '../concurrency';
import type { StatsCounters } from '../admin/stats';
import type { QueuedMessage } from '../messages';
import type { DeliveryLog } from '../delivery/poster';

export const offlineEventSource = 'pigeonhole';
export const offlineEventDetailType = 'OfflineMessageStored';

/** The event's detail, exactly as SPEC §12 lists it; the webhook's body locally. */
export interface OfflineMessageStored {
  userId: string;
  messageId: string;
  type: QueuedMessage['type'];
  from: string;
  /** The message's `to`: the recipient (private, system) or the group. */
  target: string;
  sentAt: string;
  expiresAt: string;
}

/** PutEvents takes at most 10 entries a request. */
export const maxEventsPerPut = 10;
/** Requests in flight at once, within the SDK's 50 sockets a client. */
export const concurrentPuts = 25;
/** The most an emit may add to a send when the bus does not answer, for each round of `concurrentPuts` requests. */
export const emitDeadlineMs = 1000;

export interface OfflineEventBus {
  /** Puts up to `maxEventsPerPut` events in one request; resolves to those the bus did not accept. */
  put(events: readonly OfflineMessageStored[], signal: AbortSignal): Promise<readonly OfflineMessageStored[]>;
  /** How long each round of requests may take: `emitDeadlineMs` on AWS (the local stack may allow more). */
  readonly roundDeadlineMs: number;
}

export interface OfflineEventDeps {
  events: OfflineEventBus;
  log: DeliveryLog;
  stats?: Pick<StatsCounters, 'add'>;
}

export function offlineEventOf(userId: string, message: QueuedMessage): OfflineMessageStored {
  return {
    userId,
    messageId: message.id,
    type: message.type,
    from: message.from,
    target: message.to,
    sentAt: message.sentAt.toISOString(),
    expiresAt: message.expiresAt.toISOString(),
  };
}

/** The events for the copies stored for users the lookup found without an open connection. */
export function offlineEventsFor(copies: ReadonlyMap<string, QueuedMessage>, online: (userId: string) => boolean): OfflineMessageStored[] {
  return [...copies].filter(([userId]) => !online(userId)).map(([userId, message]) => offlineEventOf(userId, message));
}

/** Puts the events on the bus, as the contract above says; never throws. */
export async function emitOfflineEvents(deps: OfflineEventDeps, events: readonly OfflineMessageStored[]): Promise<void> {
  if (events.length === 0) return;
  const rounds = Math.ceil(events.length / (maxEventsPerPut * concurrentPuts));
  const deadlineMs = deps.events.roundDeadlineMs * rounds;
  const signal = AbortSignal.timeout(deadlineMs);
  // Every request in flight listens to it (the SDK aborts on it), more than Node's default 10 warns of.
  setMaxListeners(concurrentPuts + 1, signal);
  let pending = events;
  let lastError: unknown;
  for (let attempt = 0; attempt < 2 && pending.length > 0 && !signal.aborted; attempt += 1) {
    const refused: OfflineMessageStored[] = [];
    await forEachLimited(batches(pending), concurrentPuts, async (batch) => {
      try {
        refused.push(...(await deps.events.put(batch, signal)));
      } catch (error) {
        lastError = error;
        refused.push(...batch);
      }
    });
    pending = refused;
  }
  deps.stats?.add('offlineEventsEmitted', events.length - pending.length);
  if (pending.length === 0) return;
  deps.stats?.add('offlineEventsFailed', pending.length);
  deps.log.warn('offline events dropped: the bus did not take them in time', {
    count: pending.length,
    messageIds: [...new Set(pending.map((event) => event.messageId))].slice(0, 20),
    ...(signal.aborted && { deadlineMs }),
    ...(lastError !== undefined && { error: lastError }),
  });
}

function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += maxEventsPerPut) result.push(items.slice(i, i + maxEventsPerPut));
  return result;
}
