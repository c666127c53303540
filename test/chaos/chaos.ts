/**
 * The chaos suite (SPEC §5, at least once): users send qos-1 messages one after another to random
 * others, while their sockets drop at random without a close frame and they sometimes forget to ack;
 * then, with the drops stopped, every user syncs until their queue is empty. The tally says whether
 * every accepted message reached its recipient, and in each sender's order once duplicates are dropped
 * by id. `npm run test:chaos` runs it in full, test/chaos/chaos.test.ts a smaller one in `npm test`.
 *
 * Each user holds one connection, for sending and receiving, as a phone does.
 */
import { TestClient } from '../support/client';

export interface ChaosOptions {
  wsUrl: string;
  token(userId: string): Promise<string>;
  /** Prefix of the users' ids, so that runs never meet. */
  runId: string;
  users: number;
  /** qos-1 messages in all, shared among the users. */
  messages: number;
  /** Each user's socket drops on average this often (ms), without a close frame. */
  meanMsBetweenDrops: number;
  /** The share of `messages` frames a user does not ack. */
  skipAckShare: number;
  /** The share of messages sent to a group the sender is in, rather than to one user. */
  groupShare: number;
  /** Creates a group with these members (through the admin API); needed when `groupShare` > 0. */
  createGroup?: (groupId: string, members: string[]) => Promise<void>;
  /**
   * Gives up when nothing has moved for this long (no send accepted, no copy received): the service has
   * stalled. A busy machine only slows a run down, so the run has no deadline of its own.
   */
  stallMs: number;
  /** The ids of the messages stored in the service, read once the run is over. */
  storedIds?: () => Promise<ReadonlySet<string>>;
  onProgress?: (accepted: number) => void;
  /** Every choice the run makes at random (targets, drops, forgotten acks) comes from here. */
  random: () => number;
  /** Lines that say what happened to a copy that was lost, step by step. */
  explainLoss?: (recipient: string, id: string) => Promise<string[]>;
}

export interface ChaosReport {
  users: number;
  accepted: number;
  /** Of which to groups. */
  acceptedToGroups: number;
  /** Copies to deliver: one per private message, one per other member for a group message. */
  copies: number;
  /** Resends answered `duplicate`: the first try was stored, and its answer lost. */
  acceptedAsDuplicate: number;
  /** Sends tried again: after `INTERNAL` or `RATE_LIMITED`, a lost socket, or no answer. */
  resends: number;
  refusedWith: Record<string, number>;
  drops: number;
  connects: number;
  /** Messages received, counting each copy. */
  deliveries: number;
  /** Copies of a message already received, dropped by id. */
  duplicates: number;
  /** Copies of accepted messages that never reached their recipient. */
  lost: number;
  /** Messages that arrived after a later message from the same sender. */
  outOfOrder: number;
  /** Accepted messages missing from storage once the run was over. */
  acceptedNotStored: number | undefined;
  /**
   * Copies received under an id no sender was told: one message under a second id (SPEC §5 forbids
   * it), or a message nobody was told was accepted.
   */
  unacceptedDeliveries: number;
  droppedFrames: number;
  elapsedMs: number;
  lostIds: string[];
  lostCopies: Array<{ id: string; from: string; n: number; type: Target['type']; recipient: string }>;
  /** Messages that arrived after a later one from the same sender, and that later one. */
  lateCopies: Array<{ recipient: string; id: string; after: string }>;
  /** What went wrong, message by message, for a failed run. */
  details: string[];
}

interface Sent {
  id: string;
  type: Target['type'];
  from: string;
  /** Every user it is for: one, or the group's other members. */
  to: string[];
  n: number;
}

interface Target {
  type: 'private' | 'group';
  target: string;
  recipients: string[];
}

/** Groups of the run: four of five users (by i mod 4), and one of everyone. */
function chaosGroups(runId: string, userIds: readonly string[]): Array<{ id: string; members: string[] }> {
  const quarters = [0, 1, 2, 3].map((k) => ({ id: `${runId}-g${k}`, members: userIds.filter((_, i) => i % 4 === k) }));
  return [...quarters, { id: `${runId}-all`, members: [...userIds] }].filter((group) => group.members.length > 1);
}

type Frame = Record<string, unknown>;

const requestTimeoutMs = 15_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When the run last moved: a send accepted, or a copy received for the first time. */
class Progress {
  private last = Date.now();

  constructor(private readonly stallMs: number) {}

  moved(): void {
    this.last = Date.now();
  }

  check(who: string, doing: string): void {
    const still = Date.now() - this.last;
    if (still > this.stallMs) throw new Error(`${who} stalled ${doing}: no send accepted and no copy received for ${Math.round(still / 1000)} s`);
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const progress = new Progress(options.stallMs);
  const users = Array.from({ length: options.users }, (_, i) => new ChaosUser(`${options.runId}-u${i}`, options, progress));
  const accepted = new Map<string, Sent>();
  const onAccepted = (sent: Sent) => {
    progress.moved();
    accepted.set(sent.id, sent);
    options.onProgress?.(accepted.size);
  };

  const groups = options.groupShare > 0 ? chaosGroups(options.runId, users.map((user) => user.id)) : [];
  for (const group of groups) await options.createGroup?.(group.id, group.members);
  const pickTarget = (me: ChaosUser): Target => {
    const mine = groups.filter((group) => group.members.includes(me.id));
    if (mine.length > 0 && options.random() < options.groupShare) {
      const group = mine[Math.floor(options.random() * mine.length)] as (typeof groups)[number];
      return { type: 'group', target: group.id, recipients: group.members.filter((member) => member !== me.id) };
    }
    const other = pickOther(users, me, options.random).id;
    return { type: 'private', target: other, recipients: [other] };
  };

  try {
    await Promise.all(users.map((user) => user.connection()));
    const churn = users.map((user) => user.churn());
    await Promise.all(
      users.map((user, i) => {
        const quota = Math.floor(options.messages / users.length) + (i < options.messages % users.length ? 1 : 0);
        return user.sendAll(quota, () => pickTarget(user), onAccepted);
      }),
    );
    for (const user of users) user.stopChurning();
    await Promise.all(churn);
    await Promise.all(users.map((user) => user.settle()));
  } finally {
    for (const user of users) user.stopChurning();
    await Promise.all(users.map((user) => user.close()));
  }

  const stored = await options.storedIds?.();
  const report = tally(users, accepted, stored, Date.now() - started);
  for (const copy of report.lostCopies) {
    const steps = (await options.explainLoss?.(copy.recipient, copy.id)) ?? [];
    report.details.push(`lost: ${copy.from}'s message ${copy.n} (${copy.id}, ${copy.type}) to ${copy.recipient}`, ...steps);
  }
  for (const late of report.lateCopies) {
    for (const [what, id] of [['the late one', late.id], ['the one before it', late.after]] as const) {
      report.details.push(`  ${what}, ${id}:`, ...((await options.explainLoss?.(late.recipient, id)) ?? []));
    }
  }
  return report;
}

function pickOther(users: readonly ChaosUser[], me: ChaosUser, random: () => number): ChaosUser {
  for (;;) {
    const other = users[Math.floor(random() * users.length)] as ChaosUser;
    if (other !== me) return other;
  }
}

function tally(users: readonly ChaosUser[], accepted: Map<string, Sent>, stored: ReadonlySet<string> | undefined, elapsedMs: number): ChaosReport {
  const byId = new Map(users.map((user) => [user.id, user]));
  const lostCopies = [...accepted.values()].flatMap((sent) =>
    sent.to.filter((recipient) => !byId.get(recipient)?.hasReceived(sent.id)).map((recipient) => ({ ...sent, to: [recipient] })),
  );
  const lostIds = lostCopies.map((copy) => copy.id);
  const details: string[] = [];
  let outOfOrder = 0;
  let unacceptedDeliveries = 0;
  const lateCopies: ChaosReport['lateCopies'] = [];
  for (const user of users) {
    const lastFrom = new Map<string, number>();
    const lastIdFrom = new Map<string, string>();
    for (const arrival of user.firstArrivals) {
      const sent = accepted.get(arrival.id);
      if (!sent) {
        unacceptedDeliveries += 1;
        details.push(`under an id no sender was told: ${user.id} got ${arrival.from}'s message ${arrival.n} as ${arrival.id}`);
        continue;
      }
      const last = lastFrom.get(sent.from) ?? 0;
      if (sent.n < last) {
        outOfOrder += 1;
        details.push(`out of order: ${user.id} got ${sent.from}'s message ${sent.n} (${sent.id}, ${sent.type}) after its message ${last}`);
        lateCopies.push({ recipient: user.id, id: sent.id, after: lastIdFrom.get(sent.from) ?? '' });
      } else {
        lastFrom.set(sent.from, sent.n);
        lastIdFrom.set(sent.from, sent.id);
      }
    }
  }

  const sum = (pick: (user: ChaosUser) => number) => users.reduce((total, user) => total + pick(user), 0);
  const refusedWith: Record<string, number> = {};
  for (const user of users) for (const [code, count] of user.refusedWith) refusedWith[code] = (refusedWith[code] ?? 0) + count;
  const deliveries = sum((user) => user.deliveries);
  const notStored = stored && [...accepted.values()].filter((sent) => !stored.has(sent.id));
  for (const sent of notStored ?? []) details.push(`accepted, not stored: ${JSON.stringify(sent)}`);
  return {
    users: users.length,
    accepted: accepted.size,
    acceptedToGroups: [...accepted.values()].filter((sent) => sent.type === 'group').length,
    copies: [...accepted.values()].reduce((total, sent) => total + sent.to.length, 0),
    acceptedAsDuplicate: sum((user) => user.acceptedAsDuplicate),
    resends: sum((user) => user.resends),
    refusedWith,
    drops: sum((user) => user.drops),
    connects: sum((user) => user.connects),
    deliveries,
    duplicates: deliveries - sum((user) => user.firstArrivals.length),
    lost: lostIds.length,
    outOfOrder,
    acceptedNotStored: notStored?.length,
    unacceptedDeliveries,
    droppedFrames: sum((user) => user.droppedFrames),
    elapsedMs,
    lostIds,
    lateCopies,
    lostCopies: lostCopies.map(({ id, from, n, type, to }) => ({ id, from, n, type, recipient: to[0] as string })),
    details,
  };
}

class ChaosUser {
  /** Messages in the order they first arrived. */
  readonly firstArrivals: Array<{ id: string; from: string; n: number }> = [];
  deliveries = 0;
  /** Its own messages pushed back to it (as to a sender's other devices), left out of the tally. */
  echoes = 0;
  acceptedAsDuplicate = 0;
  resends = 0;
  drops = 0;
  connects = 0;
  droppedFrames = 0;
  readonly refusedWith = new Map<string, number>();
  private readonly seen = new Set<string>();
  private client: TestClient | undefined;
  private opening: Promise<TestClient> | undefined;
  private churning = true;
  private wakeChurn: (() => void) | undefined;
  private ackEverything = false;

  constructor(
    readonly id: string,
    private readonly options: ChaosOptions,
    private readonly progress: Progress,
  ) {}

  hasReceived(id: string): boolean {
    return this.seen.has(id);
  }

  /** The open connection, or a new one once the service lets it in. */
  connection(): Promise<TestClient> {
    if (this.client) return Promise.resolve(this.client);
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Sends `count` messages, each one until it is accepted, the next only after that: per-sender order is then the order of `n`. */
  async sendAll(count: number, pickTarget: () => Target, onAccepted: (sent: Sent) => void): Promise<void> {
    for (let n = 1; n <= count; n++) {
      const { type, target, recipients } = pickTarget();
      const frame = { action: 'send', type, target, clientMsgId: `${this.id}/${n}`, body: { n } };
      for (let attempt = 0; ; attempt++) {
        this.checkProgress(`sending message ${n}`);
        if (attempt > 0) this.resends += 1;
        let reply: Frame;
        try {
          reply = await (await this.connection()).request(frame, requestTimeoutMs);
        } catch {
          continue; // the socket went, or no answer came: the same clientMsgId again, on the next socket
        }
        if (reply.type === 'sent') {
          if (reply.status === 'duplicate') this.acceptedAsDuplicate += 1;
          onAccepted({ id: reply.id as string, type, from: this.id, to: recipients, n });
          break;
        }
        const code = String(reply.code);
        if (reply.type !== 'error' || !['INTERNAL', 'RATE_LIMITED'].includes(code)) {
          throw new Error(`${this.id} got an unexpected reply to a send: ${JSON.stringify(reply)}`);
        }
        this.refusedWith.set(code, (this.refusedWith.get(code) ?? 0) + 1);
        await sleep(10 * Math.min(attempt + 1, 20));
      }
    }
  }

  /** Drops the socket, without a close frame, at random moments, until told to stop. */
  async churn(): Promise<void> {
    while (this.churning) {
      const wait = -Math.log(1 - this.options.random()) * this.options.meanMsBetweenDrops;
      await new Promise<void>((resolve) => {
        this.wakeChurn = resolve;
        setTimeout(resolve, wait);
      });
      if (!this.churning || !this.client) continue;
      this.client.terminate();
      this.client = undefined;
      this.drops += 1;
      await sleep(this.options.random() * 300);
      if (this.churning) await this.connection().catch(() => undefined);
    }
  }

  stopChurning(): void {
    this.churning = false;
    this.wakeChurn?.();
  }

  /** Acks everything from now on, and asks for the queue again until it is empty. */
  async settle(): Promise<void> {
    this.ackEverything = true;
    for (;;) {
      this.checkProgress('settling its queue');
      try {
        const reply = await (await this.connection()).request({ action: 'sync' }, requestTimeoutMs);
        if (reply.type === 'synced' && reply.count === 0) return;
      } catch {
        // the connection was cut off, or the sync failed: again
      }
      await sleep(100); // the acks just sent land meanwhile
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  private async open(): Promise<TestClient> {
    const url = `${this.options.wsUrl}/?${new URLSearchParams({ token: await this.options.token(this.id) })}`;
    for (let attempt = 1; ; attempt++) {
      this.checkProgress('connecting');
      try {
        const client = await TestClient.connect(url, { onFrame: (frame, from) => this.receive(frame, from) });
        this.connects += 1;
        // Closed by the server (a connection that missed a push is cut off): open another.
        void client.closed.then(() => {
          if (this.client !== client) return;
          this.client = undefined;
          if (this.churning) void this.connection().catch(() => undefined);
        });
        this.client = client;
        return client;
      } catch {
        // Refused (the drain could not be started) or reset: try again shortly.
        await sleep(20 * Math.min(attempt, 10));
      }
    }
  }

  private receive(frame: Frame, client: TestClient): 'handled' | undefined {
    switch (frame.type) {
      case 'messages': {
        const messages = frame.messages as Array<{ id: string; from: string; body: { n: number } }>;
        const ids = messages.map((message) => message.id);
        for (const { id, from, body } of messages) {
          // The sender's own messages, pushed to it as to any of its other devices: a courtesy copy,
          // never stored for the sender (SPEC §5), so neither a delivery nor bound by its order.
          if (from === this.id) {
            this.echoes += 1;
            continue;
          }
          this.deliveries += 1;
          if (this.seen.has(id)) continue;
          this.seen.add(id);
          this.firstArrivals.push({ id, from, n: body.n });
          this.progress.moved();
        }
        if (this.ackEverything || this.options.random() >= this.options.skipAckShare) {
          for (let i = 0; i < ids.length; i += 100) client.send({ action: 'ack', ids: ids.slice(i, i + 100) });
        }
        return 'handled';
      }
      case 'dropped':
        this.droppedFrames += 1;
        return 'handled';
      case 'acked':
        return 'handled';
      default:
        // An ack that failed is answered with an error without a requestId; the message comes again.
        return frame.type === 'error' && frame.requestId === undefined ? 'handled' : undefined;
    }
  }

  private checkProgress(doing: string): void {
    this.progress.check(this.id, doing);
  }
}

/** The report as a two-column table. */
export function formatChaosReport(report: ChaosReport, faults: Map<string, number>, requests: Map<string, number>): string {
  const refused = Object.entries(report.refusedWith).map(([code, count]) => `${count} ${code}`).join(', ') || 'none';
  const injected = [...faults.entries()].sort().map(([kind, count]) => [`  injected: ${kind}`, String(count)] as const);
  const rows: Array<readonly [string, string]> = [
    ['users', String(report.users)],
    ['accepted (qos 1)', `${report.accepted} (${report.acceptedToGroups} to groups; ${report.copies} copies to deliver)`],
    ['  of which resends answered duplicate', String(report.acceptedAsDuplicate)],
    ['resends (same clientMsgId)', `${report.resends} (errors: ${refused})`],
    ['socket drops without close', String(report.drops)],
    ['connections opened', String(report.connects)],
    ['deliveries (every copy)', String(report.deliveries)],
    ['duplicates (dropped by id)', String(report.duplicates)],
    ['lost (copies)', String(report.lost)],
    ['out of order', String(report.outOfOrder)],
    ['accepted but not stored', report.acceptedNotStored === undefined ? 'not checked' : String(report.acceptedNotStored)],
    ['copies under an id no sender was told', String(report.unacceptedDeliveries)],
    ['dropped frames', String(report.droppedFrames)],
    ...[...requests.entries()].sort().map(([client, count]) => [`AWS requests: ${client}`, String(count)] as const),
    ...injected,
    ['time', `${(report.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
