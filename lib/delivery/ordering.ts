/**
 * Delivery in order (SPEC §5): whatever reaches a connection, pushed or drained, comes in id order
 * with nothing missing before it. Both sides of that promise live here; the tests are beside it
 * (ordering.test.ts), and the state it keeps is on the connection's record (DrainStates, implemented
 * by lib/dynamodb/connection-store.ts).
 *
 * 1. A new connection starts `draining`. Its drain (drainOnConnect) delivers the queue, then finishes
 *    (finishDrain), and pushes go straight to the connection from then on.
 * 2. A push of a stored message to a connection still draining is left to the drain (leaveToDrain);
 *    the drain finishes only once it has delivered every message left to it, reading the queue again
 *    from the smallest id left. The drain renews its window while it runs (maxDrainSeconds).
 * 3. A connection that misses a stored message (a push that failed, a drain that died or let its
 *    window lapse) is cut off: forgotten, then closed, so that it reconnects and drains again rather
 *    than get anything newer first.
 * 4. API Gateway answers 410 until `$connect` has returned: the drain and `sync` retry their first post
 *    while the connection is still recorded (whenOpen), up to openWaitMs; no drain finishes before the
 *    socket is open.
 * 5. What is not stored for a connection (qos 0, the copy for the sender's other devices) is pushed
 *    whatever its state, and may come before the queue.
 * 6. A finished drain of boundAckMinimum messages or more records the greatest id it delivered
 *    (`drainedThrough`) and says so in a `drained` frame after all its others; the client's `ack`
 *    with `upTo` then raises the user's acknowledgement bound, one write for the whole drain, and
 *    what is under it is never read again.
 *    A bound never hides a message the client did not get: ids are assigned before the write lands,
 *    so a message stored late can sort under a drain's or the user's bound, and then its writer,
 *    which looks the user up after the write, lowers every bound that reaches it to just below it
 *    before anything else can rely on them (pushStored, reopenAcks). An ack by a lowered bound is
 *    refused; a drain that read past the message either has it left to it or is on a connection the
 *    writer pushes it to; a connection opened later reads it.
 */
import type { Clock } from '../clock';
import { connectionsOf, replacedFrame, type Connection, type ConnectionStore, type Discard, type Presence } from '../connecting/connections';
import { countDelivery, type StatsCounters } from '../admin/stats';
import type { AckFrame, Reply, ServerFrame } from '../protocol';
import { acknowledge, type OfflineQueue } from './offline-queue';
import { queuePolicyFor, type QueuePolicy } from '../retention/queue-plan';
import type { SettingsReader } from '../retention/settings-reader';
import { deliverQueue, readAhead, type DeliverDeps, type DeliveryReport, type QueueSpan } from './deliver-queue';
import type { ConnectionPoster, DeliveryLog } from './poster';

/**
 * How long pushes wait for a drain that gives no sign of life: the drain extends it while it runs
 * (extendDrain), so a long drain keeps it, and a drain that died lets pushes go out again soon.
 */
export const maxDrainSeconds = 30;

/**
 * `done`: pushes go straight to the connection from now on; `gone` with it when its entry was removed
 * meanwhile (closed, cut off, or replaced while it was opening), so that no push will reach it. Not
 * done: how many messages were left to it in all (to hand back next time), and the smallest id among
 * those left since it last looked, to read again from.
 */
export type DrainFinish = { done: true; gone?: true } | { done: false; leftCount: number; leftFrom?: string };

/**
 * `claimed`: this drain is the connection's, with the user's acknowledgement bound as it stands (what
 * the drain need not read). `taken`: another invocation of it is (a repeated event). `missed`: the
 * window passed before any drain came (a late event): the connection never got its queue while pushes
 * went straight to it. `gone`: the connection is closed.
 */
export type DrainClaim = { state: 'claimed'; ackedUpTo?: string } | { state: 'taken' } | { state: 'missed' } | { state: 'gone' };

/** The drain's state on each connection's record, and the user's acknowledgement bound beside it. */
export interface DrainStates {
  /**
   * Leaves a stored message to the connection's drain rather than push it: `left`. `finished`: the
   * drain is done, and the message should be pushed after all; `covered` likewise, but the drain
   * delivered up to an id at or past this one, so that an `ack` with `upTo` could cover a message it
   * never delivered (see reopenAcks). `lapsed`: the drain's window passed before it finished (it
   * stalled or died), so the connection may not have its queue: not to be pushed to. `gone`: the
   * connection is no longer recorded (closed, or cut off while its socket may still be opening): not to
   * be pushed to either.
   */
  leaveToDrain(userId: string, connectionId: string, messageId: string, now: Date): Promise<'left' | 'finished' | 'covered' | 'lapsed' | 'gone'>;
  /** Takes the connection's drain on for one invocation (`drainer`), renewing its window. */
  claimDrain(userId: string, connectionId: string, drainer: string, now: Date): Promise<DrainClaim>;
  /** Renews the drain's window while it runs; false when it is no longer this drainer's. */
  extendDrain(userId: string, connectionId: string, drainer: string, now: Date): Promise<boolean>;
  /**
   * Ends the connection's drain, so that pushes go straight to it, unless more messages were left to it
   * than the `handled` the drain has delivered, or it is gone. `drainedThrough`: the greatest id it
   * delivered, recorded with the end as what an `ack` with `upTo` on this connection may cover.
   */
  finishDrain(userId: string, connectionId: string, handled: number, drainedThrough?: string): Promise<DrainFinish>;
  /** Whether a new connection replaced this one within the last minute (SPEC §6 `maxConnectionsPerUser`). */
  wasReplaced(userId: string, connectionId: string, now: Date): Promise<boolean>;
  /**
   * Raises the user's acknowledgement bound to `upTo`, if this connection's drain delivered that far;
   * resolves to the bound now in force at or past `upTo`, or undefined when refused.
   */
  acknowledgeUpTo(userId: string, connectionId: string, upTo: string): Promise<string | undefined>;
  /**
   * Makes `messageId` unacknowledged again, stored after an acknowledgement that could cover it was
   * given or could still be given: lowers the user's bound and every connection's drainedThrough that
   * reach it to just below it, in one write that holds only if no connection was added since the read.
   * Resolves to the presence as that write left it (undefined: the user has no record).
   */
  reopenAcks(userId: string, messageId: string, now: Date): Promise<Presence | undefined>;
}

// The push side: messages as they are sent.

export interface PushDeps {
  connections: Pick<ConnectionStore, 'lookup' | 'remove'> & Pick<DrainStates, 'leaveToDrain' | 'reopenAcks'>;
  poster: ConnectionPoster;
  clock: Clock;
  log: DeliveryLog;
  /** Counts the pushes that reached a connection (GET /v1/stats); only the push knows. */
  stats?: Pick<StatsCounters, 'add'>;
}

export interface PushOptions {
  /** The connection the message came in on: it gets a reply instead. */
  except?: string;
  /**
   * The message is stored, under this id, in these users' queues: their connections still draining
   * are left to the drain, which delivers it in order (see Connection.draining), and one whose push
   * fails is closed. Everyone else (the sender's other devices) just gets the push.
   */
  stored?: { messageId: string; recipients: readonly string[] };
}

export interface PushReport {
  /** Connections that received every frame. */
  delivered: number;
  /** Connections still draining, whose drain will deliver the message. */
  leftToDrain: number;
  /** Connections API Gateway no longer knew, now forgotten. */
  forgotten: number;
  /** Connections just recorded that API Gateway has not opened yet (410), left to their drain. */
  notOpenYet: number;
  /** Connections that missed a stored message and were closed, so that they reconnect and drain it in order. */
  closed: number;
  failed: number;
  /** Connections whose finished drain delivered past the stored message's id (see pushStored). */
  covered: number;
}

const noPushes = (): PushReport => ({ delivered: 0, leftToDrain: 0, forgotten: 0, notOpenYet: 0, closed: 0, failed: 0, covered: 0 });

/**
 * Posts the frames, in order, to every open connection of these users but `except`, for what is not
 * stored for them: a qos-0 message, or a copy for the sender's other devices. Never throws: such a
 * push is meant to be lost when nobody listens. (A stored message's recipients are looked up with a
 * strongly consistent read, and must be found, before it is accepted: see connectionsOf.)
 */
export async function pushToUsers(
  deps: PushDeps,
  userIds: readonly string[],
  frames: readonly string[],
  options: Pick<PushOptions, 'except'> = {},
): Promise<PushReport> {
  let connections: Connection[];
  try {
    connections = await connectionsOf(deps.connections, userIds, deps.clock.now());
  } catch (error) {
    deps.log.warn('could not look up connections to push to', { userIds, error });
    return { ...noPushes(), failed: 1 };
  }
  return pushFrames(deps, connections, frames, options);
}

/**
 * Posts the frames to each connection. A connection that misses a message stored for its user (the
 * post failed even after the SDK's retries) is forgotten and closed, as an MQTT broker closes a
 * connection it cannot write to: otherwise the next message would reach it first, out of order. The
 * client reconnects and its drain delivers both, in order.
 */
export async function pushFrames(
  deps: PushDeps,
  connections: readonly Connection[],
  frames: readonly string[],
  options: PushOptions = {},
): Promise<PushReport> {
  const report = noPushes();
  const { stored } = options;
  const storedFor = new Set(stored?.recipients);
  await Promise.all(
    connections
      .filter((connection) => connection.connectionId !== options.except)
      .map(async (connection) => {
        try {
          const isStoredFor = stored !== undefined && storedFor.has(connection.userId);
          const drain = !isStoredFor
            ? 'finished'
            : connection.drainLapsed
              ? 'lapsed'
              : connection.draining
                ? await deps.connections.leaveToDrain(connection.userId, connection.connectionId, stored.messageId, deps.clock.now())
                : (connection.drainedThrough ?? '') >= stored.messageId
                  ? 'covered'
                  : 'finished';
          if (drain === 'left') {
            report.leftToDrain += 1;
            return;
          }
          if (drain === 'gone') {
            report.forgotten += 1;
            return;
          }
          if (drain === 'lapsed') {
            // Its drain stalled or died before the queue was out: this message would overtake what it never got.
            await cutOff(deps, connection);
            report.closed += 1;
            return;
          }
          // Pushed all the same; pushStored then keeps an acknowledgement by bound from covering it.
          if (drain === 'covered') report.covered += 1;
          for (const frame of frames) {
            if ((await deps.poster.post(connection.connectionId, frame)) === 'gone') {
              // API Gateway answers 410 until `$connect` has returned, too: a connection that has only
              // just been recorded is left alone when what it missed is not stored for it (a qos-0
              // message, a copy for the sender's other devices). Any other is forgotten, so that nothing
              // later reaches it before what it missed; the message stays queued for the next connection.
              if (connection.draining && !storedFor.has(connection.userId)) {
                report.notOpenYet += 1;
                return;
              }
              await deps.connections.remove(connection.userId, connection.connectionId, deps.clock.now());
              report.forgotten += 1;
              return;
            }
          }
          report.delivered += 1;
          deps.stats?.add('messagesPushed', 1);
        } catch (error) {
          report.failed += 1;
          deps.log.warn('push failed', { connectionId: connection.connectionId, error });
          if (storedFor.has(connection.userId)) {
            await cutOff(deps, connection);
            report.closed += 1;
          }
        }
      }),
  );
  return report;
}

/**
 * `ack` (SPEC §4): by `ids`, removes those messages from the caller's queue (for all the caller's
 * devices); by `upTo`, after a drain's `drained` frame on this very connection, raises the caller's
 * acknowledgement bound: one write for the whole drain, the messages left to their TTL, never read
 * again. A bound past what this connection's drain delivered, or lowered since (pushStored), is
 * refused with `upTo: null`, and the client acknowledges by ids instead.
 */
export async function acknowledgeFrame(
  deps: { queue: OfflineQueue; connections: Pick<DrainStates, 'acknowledgeUpTo'> },
  caller: { userId: string; connectionId: string },
  frame: AckFrame,
): Promise<Reply> {
  if (frame.upTo !== undefined) {
    const upTo = await deps.connections.acknowledgeUpTo(caller.userId, caller.connectionId, frame.upTo);
    return { type: 'acked', ids: [], upTo: upTo ?? null };
  }
  return { type: 'acked', ids: await acknowledge(deps.queue, caller.userId, frame.ids ?? []) };
}

/** Rounds of reopening a user's acknowledgements for one message, past which the send fails (to be resent). */
const maxReopenRounds = 5;

/**
 * Pushes a message just stored for the user (`presence`, looked up strongly consistent after the
 * write) to the user's connections but `except`, and keeps an acknowledgement by bound from ever
 * covering it unseen (rule 6). Ids are assigned before the write lands, so a message may be stored
 * after the user acknowledged, or a finished drain delivered, past its id: then those bounds are
 * lowered to just below it (reopenAcks), and the connections recorded since the lookup, whose drains
 * may have read past it, are pushed to as well. Each connection then has it, has it left to its
 * drain, or is cut off; every connection opened later drains it.
 */
export async function pushStored(
  deps: PushDeps,
  presence: Presence,
  frames: readonly string[],
  messageId: string,
  options: Pick<PushOptions, 'except'> = {},
): Promise<PushReport> {
  const stored = { messageId, recipients: [presence.userId] };
  const report = await pushFrames(deps, presence.connections, frames, { ...options, stored });
  const reached = new Set(presence.connections.map((connection) => connection.connectionId));
  let covered = report.covered > 0 || (presence.ackedUpTo ?? '') >= messageId;
  for (let round = 0; covered; round += 1) {
    if (round === maxReopenRounds) throw new Error(`could not reopen the acknowledgements of ${presence.userId} for ${messageId}`);
    const reopened = await deps.connections.reopenAcks(presence.userId, messageId, deps.clock.now());
    const newcomers = (reopened?.connections ?? []).filter((connection) => !reached.has(connection.connectionId));
    for (const connection of newcomers) reached.add(connection.connectionId);
    const more = await pushFrames(deps, newcomers, frames, { ...options, stored });
    for (const key of Object.keys(report) as Array<keyof PushReport>) report[key] += more[key];
    covered = more.covered > 0;
  }
  return report;
}

/**
 * Forgets a connection that can no longer be delivered to in order, then closes it; best effort, as
 * each step alone keeps later messages from overtaking the one it missed.
 */
export async function cutOff(deps: PushDeps, connection: Pick<Connection, 'userId' | 'connectionId'>): Promise<'closed' | 'gone' | 'failed'> {
  const [removal, closing] = await Promise.allSettled([
    deps.connections.remove(connection.userId, connection.connectionId, deps.clock.now()),
    deps.poster.close(connection.connectionId),
  ]);
  for (const step of [removal, closing]) {
    if (step.status === 'rejected') deps.log.warn('could not cut off a connection', { connectionId: connection.connectionId, error: step.reason });
  }
  return closing.status === 'fulfilled' ? closing.value : 'failed';
}

// The drain side: the queue, on connect and on `sync`.

export interface DrainRequest {
  userId: string;
  connectionId: string;
  discard?: Discard;
  /** The user's acknowledgement bound as `$connect` found it: the drain reads past it at once. */
  ackedUpTo?: string;
}

export interface DrainDeps extends DeliverDeps {
  poster: ConnectionPoster;
  connections: ConnectionStore & DrainStates;
  sleep: (ms: number) => Promise<void>;
  log: DeliveryLog;
}

/**
 * The fewest messages a drain acknowledges by bound. Its `drained` frame is one more WebSocket message
 * (about $1 a million) and the ack by bound one write like a delete by ids (about $0.625 a million a
 * message), so a bound pays for itself from three messages; below that the client acks by ids.
 */
export const boundAckMinimum = 3;

/** How long a drain waits for API Gateway to open the connection: its first post waits this long at most. */
export const openWaitMs = 10_000;

/**
 * Delivers the queue to a connection that is still opening, as the one drain of that connection.
 *
 * - The drain first claims the connection's drain for this invocation: a repeated event finds it taken
 *   and exits; a late one that finds the window passed with no drain closes the connection, which
 *   has had pushes but never its queue, so that it reconnects and drains in order.
 * - API Gateway refuses posts with 410 until `$connect` has returned, and for a while after, so a 410
 *   means "not yet" as long as the connection is recorded: the first post (or, for an empty queue, a
 *   `GET @connections`) is tried again with backoff. No drain finishes before the socket is open:
 *   a push answered 410 after the drain would forget a live connection.
 * - Until the drain is done, pushes of stored messages leave them to it (see Connection.draining), so
 *   nothing newer overtakes what the drain has yet to send; the drain renews that window while it runs.
 *   When the queue has been sent it finishes, unless messages were left to it meanwhile: then it reads
 *   the queue again from the smallest id left, sends what it has not sent yet, and tries again.
 * - A drain that fails part way, or loses its window, cuts the connection off: the client reconnects
 *   and drains again, rather than carry on with a gap in its queue.
 */
export async function drainOnConnect(
  deps: DrainDeps,
  request: DrainRequest,
  policyOf: QueuePolicy | Promise<QueuePolicy>,
  drainer: string,
): Promise<DeliveryReport> {
  const sent = new Set<string>();
  const reports: DeliveryReport[] = [];
  const none = (connectionGone: boolean): DeliveryReport => ({ delivered: 0, frames: 0, dropped: [], expiredSkipped: 0, connectionGone });
  // Read while the claim and the settings are under way: the read is most of a drain's time. Past the
  // bound `$connect` saw; one lowered since is for a message stored late, which is left to this drain.
  const ahead = readAhead(deps.queue, request.userId, request.ackedUpTo);
  ahead.catch(() => undefined);
  try {
    const [policy, claim] = await Promise.all([policyOf, deps.connections.claimDrain(request.userId, request.connectionId, drainer, deps.clock.now())]);
    if (claim.state === 'taken') return none(false);
    if (claim.state === 'gone') {
      // Closed, or cut off (a push it missed) while its socket was still opening: then it must not open unnoticed.
      await cutOffOnceOpen(deps, request);
      return none(true);
    }
    if (claim.state === 'missed') {
      deps.log.warn('the drain came too late: closing the connection so that it drains again', { connectionId: request.connectionId });
      await cutOffOnceOpen(deps, request);
      return none(true);
    }
    const window = drainWindow(deps, request, drainer);
    const opening = whenOpen(deps, request);
    const post: ConnectionPoster['post'] = async (connectionId, data) => {
      await window.renew();
      return opening.post(connectionId, data);
    };
    const posting = { ...deps, poster: { post } };
    // What the user acknowledged by bound is not read at all: it waits for its TTL.
    let span: QueueSpan | undefined = { sent, ...(claim.ackedUpTo && { after: claim.ackedUpTo }) };
    let handled = 0;
    let openWait = openWaitMs;
    // Decided by the first pass, for the whole drain: whether it is acknowledged by bound.
    let byBound: boolean | undefined;
    const markDrain = (deliverable: number) => (byBound ??= deliverable >= boundAckMinimum);
    for (;;) {
      if (span) {
        const readAlready = span.from === undefined ? await ahead : undefined;
        const report = await deliverQueue(posting, request.userId, request.connectionId, policy, span, { markDrain, readAlready });
        reports.push(report);
        if (report.connectionGone) break;
      }
      if (!(await opening.confirm())) {
        reports.push(none(true));
        break;
      }
      await window.renew();
      const through = byBound ? [...sent].sort().at(-1) : undefined;
      const finish = await deps.connections.finishDrain(request.userId, request.connectionId, handled, through);
      if (finish.done && finish.gone) {
        // Forgotten while its drain ran: no push will ever reach it. Its socket was open a moment
        // ago (confirmed above), so a 410 to the close means it has closed: nothing to wait for.
        reports.push(none(true));
        openWait = 0;
        break;
      }
      if (finish.done) {
        // After every frame of the drain: the client acknowledges them all with one `ack` by bound.
        if (through !== undefined) await opening.post(request.connectionId, JSON.stringify({ type: 'drained', upTo: through } satisfies ServerFrame));
        break;
      }
      handled = finish.leftCount;
      span = finish.leftFrom === undefined ? undefined : { from: finish.leftFrom, sent };
    }
    // API Gateway said 410 (closed, or never opened in time), or it was forgotten meanwhile: its
    // drain is not done, so no push may reach it should its socket be open after all.
    if (reports.at(-1)?.connectionGone) await cutOffOnceOpen(deps, request, openWait);
  } catch (error) {
    deps.log.warn('drain failed; closing the connection so that it drains again', { connectionId: request.connectionId, error });
    await cutOffOnceOpen(deps, request);
    reports.push(none(true));
  }
  return {
    delivered: reports.reduce((sum, report) => sum + report.delivered, 0),
    frames: reports.reduce((sum, report) => sum + report.frames, 0),
    dropped: reports.flatMap((report) => report.dropped),
    expiredSkipped: reports.reduce((sum, report) => sum + report.expiredSkipped, 0),
    connectionGone: reports.at(-1)?.connectionGone ?? false,
  };
}

/**
 * Cuts the connection off, trying the close again while API Gateway answers 410, up to `openWaitMs`:
 * a connection cut off before its socket opened would otherwise open with no record, and get nothing
 * until its client reconnected. One that has really closed answers 410 all along. One that a newer
 * connection replaced while it was opening (`$connect` could not tell it then) is told `replaced`
 * first, so that its client does not reconnect and replace another in turn.
 */
async function cutOffOnceOpen(deps: DrainDeps, request: DrainRequest, openWait = openWaitMs): Promise<void> {
  const replaced = await deps.connections.wasReplaced(request.userId, request.connectionId, deps.clock.now()).catch(() => false);
  let told = !replaced;
  await whileOpening(
    deps,
    async (tries) => {
      told ||= (await deps.poster.post(request.connectionId, replacedFrame).catch(() => 'gone' as const)) === 'delivered';
      if (!told) return false;
      const closing = tries === 0 ? await cutOff(deps, request) : await deps.poster.close(request.connectionId).catch(() => 'failed' as const);
      return closing !== 'gone';
    },
    undefined,
    openWait,
  );
}

/**
 * Tries `attempt` until it succeeds, pausing longer each time, while the connection may still be
 * opening: up to `budgetMs` in all, and only as long as `worthWaiting` says so.
 */
async function whileOpening(
  deps: Pick<OpeningDeps, 'sleep'>,
  attempt: (tries: number) => Promise<boolean>,
  worthWaiting: () => Promise<boolean> = async () => true,
  budgetMs = openWaitMs,
): Promise<boolean> {
  let waited = 0;
  for (let tries = 0; ; tries += 1) {
    if (await attempt(tries)) return true;
    if (!(await worthWaiting()) || waited >= budgetMs) return false;
    const delay = Math.min(25 * 2 ** tries, 1000);
    await deps.sleep(delay);
    waited += delay;
  }
}

/** Renews the draining window when half of it is gone; throws when it is no longer this drain's. */
function drainWindow(deps: DrainDeps, request: DrainRequest, drainer: string): { renew(): Promise<void> } {
  let renewedAt = deps.clock.now().getTime();
  return {
    async renew() {
      const now = deps.clock.now();
      if (now.getTime() - renewedAt < (maxDrainSeconds * 1000) / 2) return;
      if (!(await deps.connections.extendDrain(request.userId, request.connectionId, drainer, now))) {
        throw new Error('the drain lost its window: pushes may have gone ahead of it');
      }
      renewedAt = now.getTime();
    },
  };
}

interface OpeningDeps {
  poster: Pick<ConnectionPoster, 'post' | 'isOpen'>;
  connections: Pick<ConnectionStore, 'lookup'>;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Waits for API Gateway to open the connection: posts retry while it answers 410 and the connection is
 * still recorded, up to `openWaitMs`. `confirm` waits the same way without posting, for a drain that
 * had nothing to send; once one call has got through, the connection is known to be open.
 */
function whenOpen(deps: OpeningDeps, request: Pick<DrainRequest, 'userId' | 'connectionId'>): { post: ConnectionPoster['post']; confirm(): Promise<boolean> } {
  let open = false;
  // Consistent: `$connect` wrote the record a moment ago; a stale read would end the drain unsent.
  const stillRecorded = async () =>
    (await connectionsOf(deps.connections, [request.userId], deps.clock.now(), { consistent: true })).some(
      (connection) => connection.connectionId === request.connectionId,
    );
  const retry = async (attempt: () => Promise<boolean>): Promise<boolean> => (open = await whileOpening(deps, attempt, stillRecorded));
  return {
    async post(connectionId, data) {
      if (open) return deps.poster.post(connectionId, data);
      return (await retry(async () => (await deps.poster.post(connectionId, data)) === 'delivered')) ? 'delivered' : 'gone';
    },
    confirm: async () => open || retry(() => deps.poster.isOpen(request.connectionId)),
  };
}

/**
 * `sync` (SPEC §4): the caller's queue again, on the connection that asked, then how many messages
 * that was. What the connection's start discarded (clean start, expired session) stays discarded. A
 * connection that went away part way is not told a count: `synced` with too small a count would read
 * as "nothing more is waiting".
 */
export async function syncQueue(
  deps: DeliverDeps & OpeningDeps & { settings: SettingsReader; stats?: StatsCounters },
  caller: { userId: string; connectionId: string },
): Promise<Reply> {
  // Consistent: the discard was recorded by this very connection's `$connect`, a moment ago.
  const presence = (await deps.connections.lookup([caller.userId], deps.clock.now(), { consistent: true })).get(caller.userId);
  const policy = await queuePolicyFor(deps.settings, caller.userId, presence?.discard);
  const span = presence?.ackedUpTo ? { after: presence.ackedUpTo } : {};
  // A sync sent the moment the socket opened may find API Gateway still refusing posts: it waits, as the drain does.
  const report = await deliverQueue({ ...deps, poster: { post: whenOpen(deps, caller).post } }, caller.userId, caller.connectionId, policy, span);
  if (report.connectionGone) throw new Error('the connection went away during sync');
  if (deps.stats) countDelivery(deps.stats, report);
  // The reply is the route's response, sent after the queue's posts have all been accepted.
  return { type: 'synced', count: report.delivered };
}
