import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import { type Admission, type Connection, type ConnectionStore, type Discard, type Presence } from '../connecting/connections';
import { connectionKey, connectionsTable } from '../tables';
import { batchGetAll } from './batch';
import { idBefore } from '../sending/message-ids';
import { maxDrainSeconds, type DrainClaim, type DrainFinish, type DrainStates } from '../delivery/ordering';

/** One attribute per open connection on the user's item, e.g. `connection:L0SM9cOFvHcCIhw=`. */
const connectionPrefix = 'connection:';
/**
 * A connection replaced a moment ago, noted for a minute (the value is when the note lapses, epoch
 * seconds): one still opening when it was replaced cannot be told at once, and whoever closes it once
 * it opens reads this to tell it `replaced` (SPEC §4), so that its client does not reconnect.
 */
const replacedPrefix = 'replaced:';
const replacedNoteSeconds = 60;
/**
 * The newest notes kept: more than a user's connections at the default cap opening at once (connects
 * racing each other each prune the oldest), and a bound (about 4 KB) for a flood of connects.
 */
const replacedNotesKept = 100;
/** The presence item outlives the longest session expiry (8,760 h) after the user's last activity. */
const presenceLifetimeSeconds = 366 * 24 * 60 * 60;

interface ConnectionEntry {
  deviceId?: string;
  connectedAt: string;
  expiresAt: number;
  /** Epoch seconds until which the connection's drain may still be running (see Connection.draining). */
  drainingUntil?: number;
  /** The drain invocation that took the drain on: a late or repeated one finds it taken. */
  drainer?: string;
  /** The smallest id pushes left to the drain since it last looked, and how many they were in all. */
  leftFrom?: string;
  leftCount?: number;
  /** Set when the drain finishes: the greatest id it delivered (see Connection.drainedThrough). */
  drainedThrough?: string;
  /**
   * The connection has joined a chatroom: its close looks its rooms up (RoomMembers' byConnection
   * index) rather than keep them here, where a connection in many rooms would grow the user's item.
   */
  inRooms?: boolean;
}

type PresenceItem = Record<string, unknown> & {
  userId: string;
  lastSeenAt?: string;
  discardBefore?: string;
  discardReason?: Discard['reason'];
  /** Messages up to this id are acknowledged (see Presence.ackedUpTo). */
  ackedUpTo?: string;
  /** Connections added, ever: reopenAcks writes only if none came since it read. */
  connectionsVersion?: number;
};

/**
 * What a push needs of the Connections table: who is online, a dead connection removed, a message left
 * to a drain still running, acks reopened for a message that landed below the bound. Apart from the rest
 * of the store so that a function that only pushes (send, system messages) bundles only this much.
 */
export class DynamoConnectionPushes implements Pick<ConnectionStore, 'lookup' | 'remove'>, Pick<DrainStates, 'leaveToDrain' | 'reopenAcks'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
    /** The user's item is kept under this; tests make it small to meet it sooner. */
    protected readonly maxItemBytes = maxPresenceBytes,
  ) {}

  async lookup(userIds: readonly string[], now: Date, options: { consistent?: boolean } = {}): Promise<Map<string, Presence>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(userIds)].map(connectionKey), options);
    return new Map(items.map((item) => [item.userId as string, toPresence(item as PresenceItem, now)]));
  }

  async remove(userId: string, connectionId: string, now: Date): Promise<{ joinedRooms: boolean }> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(userId),
          UpdateExpression: 'REMOVE #connection SET #seen = :now, #expires = :itemExpires',
          // Without this, removing from a user who has no item would create one.
          ConditionExpression: 'attribute_exists(#user)',
          ExpressionAttributeNames: {
            '#connection': `${connectionPrefix}${connectionId}`,
            '#user': connectionsTable.partitionKey,
            '#seen': 'lastSeenAt',
            '#expires': connectionsTable.timeToLiveAttribute,
          },
          ExpressionAttributeValues: { ':now': now.toISOString(), ':itemExpires': epochSeconds(now) + presenceLifetimeSeconds },
          // The removed entry comes back with the write: whether its connection has rooms to leave.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const entry = result.Attributes?.[`${connectionPrefix}${connectionId}`] as ConnectionEntry | undefined;
      return { joinedRooms: entry?.inRooms === true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { joinedRooms: false };
    }
  }

  async leaveToDrain(userId: string, connectionId: string, messageId: string, now: Date): Promise<'left' | 'finished' | 'covered' | 'lapsed' | 'gone'> {
    const name = `${connectionPrefix}${connectionId}`;
    // Two scalars, not the set of ids, so a burst during a long drain cannot grow the user's item:
    // the drain reads again from the smallest id left, and the count tells it whether any came since
    // it looked. Serialized with finishDrain on the same item: either the drain sees this, or the push
    // goes out. The first form sets the smallest id; when a smaller one is already there, the second
    // only counts, and if the drain took that one away meanwhile, the first is tried again.
    const forms = [
      { update: 'ADD #connection.leftCount :one SET #connection.leftFrom = :id', condition: 'attribute_not_exists(#connection.leftFrom) OR #connection.leftFrom > :id' },
      { update: 'ADD #connection.leftCount :one', condition: '#connection.leftFrom <= :id' },
    ];
    for (let attempt = 0; ; attempt += 1) {
      const form = forms[attempt % 2] as (typeof forms)[number];
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: connectionKey(userId),
            UpdateExpression: form.update,
            ConditionExpression: `#connection.drainingUntil > :now AND (${form.condition})`,
            ExpressionAttributeNames: { '#connection': name },
            ExpressionAttributeValues: { ':one': 1, ':now': epochSeconds(now), ':id': messageId },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'left';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const entry = error.Item?.[name]?.M;
        // Removed since the lookup: it missed something, or closed. Its socket may yet open, but pushes must not reach it.
        if (entry === undefined) return 'gone';
        const until = entry.drainingUntil?.N;
        // Finishing removes the window; one still there but passed belongs to a drain that stalled or died.
        if (until === undefined) return (entry.drainedThrough?.S ?? '') >= messageId ? 'covered' : 'finished';
        if (Number(until) <= epochSeconds(now)) return 'lapsed';
      }
    }
  }

  async reopenAcks(userId: string, messageId: string, now: Date): Promise<Presence | undefined> {
    const below = idBefore(messageId);
    for (;;) {
      const read = await this.db.send(new GetCommand({ TableName: this.tableName, Key: connectionKey(userId), ConsistentRead: true }));
      const item = read.Item as PresenceItem | undefined;
      if (!item) return undefined;
      const lowered = entries(item).filter(([, entry]) => entry.drainedThrough !== undefined && entry.drainedThrough >= messageId);
      const ackedReaches = typeof item.ackedUpTo === 'string' && item.ackedUpTo >= messageId;
      if (lowered.length === 0 && !ackedReaches) return toPresence(item, now);
      const names = Object.fromEntries(lowered.map(([name], i) => [`#c${i}`, name]));
      const sets = [...(ackedReaches ? ['#acked = :below'] : []), ...lowered.map((_, i) => `#c${i}.drainedThrough = :below`)];
      const conditions = [
        // No connection added since the read: one whose drain read past the old bound would be missed.
        item.connectionsVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :version',
        ...(ackedReaches ? ['#acked = :acked'] : []),
        ...lowered.map((_, i) => `#c${i}.drainedThrough = :through${i}`),
      ];
      const lowering = await this.updateIf({
        Key: connectionKey(userId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: { ...names, '#version': 'connectionsVersion', ...(ackedReaches && { '#acked': 'ackedUpTo' }) },
        ExpressionAttributeValues: {
          ':below': below,
          ...(item.connectionsVersion !== undefined && { ':version': item.connectionsVersion }),
          ...(ackedReaches && { ':acked': item.ackedUpTo }),
          ...Object.fromEntries(lowered.map(([, entry], i) => [`:through${i}`, entry.drainedThrough])),
        },
      });
      if (!lowering) continue;
      if (ackedReaches) item.ackedUpTo = below;
      for (const [, entry] of lowered) entry.drainedThrough = below;
      return toPresence(item, now);
    }
  }

  /** An update made only if its condition holds; false when it does not. */
  protected async updateIf(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** The Connections table: what pushes need, and connections recorded and drains coordinated. */
export class DynamoConnectionStore extends DynamoConnectionPushes implements ConnectionStore, DrainStates {
  async add(connection: Connection, expiresAt: Date, now: Date, discard?: Discard, maxConnections = maxConnectionsPerItem): Promise<Admission> {
    const entry: ConnectionEntry = {
      ...(connection.deviceId === undefined ? {} : { deviceId: connection.deviceId }),
      connectedAt: connection.connectedAt.toISOString(),
      expiresAt: epochSeconds(expiresAt),
      drainingUntil: epochSeconds(now) + maxDrainSeconds,
    };
    const name = `${connectionPrefix}${connection.connectionId}`;
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: connectionKey(connection.userId),
        // Each connection starts with its own discard, or none: an earlier one no longer applies.
        // The version counts connections added, so that reopenAcks can tell none came since it read.
        UpdateExpression: discard
          ? 'SET #connection = :entry, #expires = :itemExpires, #discardBefore = :before, #discardReason = :reason ADD #version :one'
          : 'SET #connection = :entry, #expires = :itemExpires ADD #version :one REMOVE #discardBefore, #discardReason',
        ExpressionAttributeNames: {
          '#connection': name,
          '#version': 'connectionsVersion',
          '#expires': connectionsTable.timeToLiveAttribute,
          '#discardBefore': 'discardBefore',
          '#discardReason': 'discardReason',
        },
        ExpressionAttributeValues: {
          ':entry': entry,
          ':one': 1,
          ':itemExpires': epochSeconds(now) + presenceLifetimeSeconds,
          ...(discard && { ':before': discard.beforeId, ':reason': discard.reason }),
        },
        // The item as it was: with this entry added, it is the item as it is now.
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = result.Attributes as PresenceItem | undefined;
    if (!before) return { before: undefined, replaced: [] };
    const expired = entries(before).filter(([other, old]) => other !== name && old.expiresAt <= epochSeconds(now));
    const replaced = replacedBy(before, [name, entry], now, maxConnections, this.maxItemBytes);
    const notes = replacedNotes(before, replaced, now);
    await this.removeEntries(before.userId, [...expired.map(([other]) => other), ...replaced.map(([other]) => other), ...notes.lapsed], notes.added);
    return {
      before: toPresence(before, now),
      replaced: replaced.map(([other, old]) => toConnection(before.userId, other, old, epochSeconds(now))),
    };
  }

  async wasReplaced(userId: string, connectionId: string, now: Date): Promise<boolean> {
    const name = `${replacedPrefix}${connectionId}`;
    const result = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionKey(userId),
        // Strongly consistent: the note was written by a `$connect` a moment ago.
        ConsistentRead: true,
        ProjectionExpression: '#note',
        ExpressionAttributeNames: { '#note': name },
      }),
    );
    const lapsesAt = result.Item?.[name] as number | undefined;
    return lapsesAt !== undefined && lapsesAt > epochSeconds(now);
  }

  async claimDrain(userId: string, connectionId: string, drainer: string, now: Date): Promise<DrainClaim> {
    const name = `${connectionPrefix}${connectionId}`;
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(userId),
          UpdateExpression: 'SET #connection.drainer = :drainer, #connection.drainingUntil = :until',
          ConditionExpression: '#connection.drainingUntil > :now AND (attribute_not_exists(#connection.drainer) OR #connection.drainer = :drainer)',
          ExpressionAttributeNames: { '#connection': name },
          ExpressionAttributeValues: { ':drainer': drainer, ':now': epochSeconds(now), ':until': epochSeconds(now) + maxDrainSeconds },
          // The acknowledgement bound comes back with the claim: the drain reads the queue past it.
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const ackedUpTo = result.Attributes?.ackedUpTo as string | undefined;
      return { state: 'claimed', ...(ackedUpTo && { ackedUpTo }) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const entry = error.Item?.[name]?.M;
      if (!entry) return { state: 'gone' };
      return entry.drainer?.S !== undefined ? { state: 'taken' } : { state: 'missed' };
    }
  }

  async extendDrain(userId: string, connectionId: string, drainer: string, now: Date): Promise<boolean> {
    return this.updateIf({
      Key: connectionKey(userId),
      UpdateExpression: 'SET #connection.drainingUntil = :until',
      ConditionExpression: '#connection.drainer = :drainer AND #connection.drainingUntil > :now',
      ExpressionAttributeNames: { '#connection': `${connectionPrefix}${connectionId}` },
      ExpressionAttributeValues: { ':drainer': drainer, ':now': epochSeconds(now), ':until': epochSeconds(now) + maxDrainSeconds },
    });
  }

  async finishDrain(userId: string, connectionId: string, handled: number, drainedThrough?: string): Promise<DrainFinish> {
    const name = `${connectionPrefix}${connectionId}`;
    // The smallest id this call has tried to take away: a take that answered false may still have been
    // done (its answer lost, the SDK's retry then finding leftFrom gone), so it is read again all the same.
    let tried: string | undefined;
    for (;;) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: connectionKey(userId),
            UpdateExpression:
              'REMOVE #connection.drainingUntil, #connection.leftFrom, #connection.leftCount' +
              (drainedThrough === undefined ? '' : ' SET #connection.drainedThrough = :through'),
            // The count only ever grows, so it says whether anything was left since the drain looked.
            ConditionExpression: 'attribute_exists(#connection) AND (attribute_not_exists(#connection.leftCount) OR #connection.leftCount = :handled)',
            ExpressionAttributeNames: { '#connection': name },
            ExpressionAttributeValues: { ':handled': handled, ...(drainedThrough !== undefined && { ':through': drainedThrough }) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { done: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The item comes back unconverted: { "connection:…": { M: { leftFrom: { S }, leftCount: { N } } } }.
        const entry = error.Item?.[name]?.M;
        if (!entry) return { done: true, gone: true };
        const leftCount = Number(entry.leftCount?.N ?? 0);
        const leftFrom = entry.leftFrom?.S;
        const from = [tried, leftFrom].filter((id) => id !== undefined).sort()[0];
        // Only what arrived before the smallest id was taken away here: pushes from now on set their own.
        if (leftFrom === undefined || (await this.takeLeftFrom(name, userId, leftFrom))) {
          return { done: false, leftCount, ...(from !== undefined && { leftFrom: from }) };
        }
        // Another id was left meanwhile (or this take was done and its answer lost): look again.
        tried = from;
      }
    }
  }

  private async takeLeftFrom(name: string, userId: string, leftFrom: string): Promise<boolean> {
    return this.updateIf({
      Key: connectionKey(userId),
      UpdateExpression: 'REMOVE #connection.leftFrom',
      ConditionExpression: '#connection.leftFrom = :from',
      ExpressionAttributeNames: { '#connection': name },
      ExpressionAttributeValues: { ':from': leftFrom },
    });
  }

  async acknowledgeUpTo(userId: string, connectionId: string, upTo: string): Promise<string | undefined> {
    const name = `${connectionPrefix}${connectionId}`;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(userId),
          UpdateExpression: 'SET #acked = :upTo',
          // Only as far as this connection's drain delivered, and never lower than it is.
          ConditionExpression: '#connection.drainedThrough >= :upTo AND (attribute_not_exists(#acked) OR #acked < :upTo)',
          ExpressionAttributeNames: { '#connection': name, '#acked': 'ackedUpTo' },
          ExpressionAttributeValues: { ':upTo': upTo },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return upTo;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const through = error.Item?.[name]?.M?.drainedThrough?.S;
      const acked = error.Item?.ackedUpTo?.S;
      // Another device acknowledged as far already: this one may have, too.
      return through !== undefined && through >= upTo && acked !== undefined && acked >= upTo ? acked : undefined;
    }
  }

  async setDiscard(userId: string, discard: Discard): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: connectionKey(userId),
        UpdateExpression: 'SET discardBefore = :before, discardReason = :reason',
        ExpressionAttributeValues: { ':before': discard.beforeId, ':reason': discard.reason },
      }),
    );
  }

  async addRoom(userId: string, connectionId: string): Promise<boolean> {
    return this.updateIf({
      Key: connectionKey(userId),
      UpdateExpression: 'SET #connection.inRooms = :yes',
      ConditionExpression: 'attribute_exists(#connection)',
      ExpressionAttributeNames: { '#connection': `${connectionPrefix}${connectionId}` },
      ExpressionAttributeValues: { ':yes': true },
    });
  }

  /**
   * Removes entries by name, a bounded number to a request (an update expression may be at most 4 KB):
   * those whose `$disconnect` never came, and those a new connection replaced. Best effort: readers
   * already ignore expired entries, and a replaced connection is closed anyway, so a failed removal
   * costs nothing but a retry at the next connect, and can never refuse that connect.
   */
  private async removeEntries(userId: string, names: readonly string[], notes: ReadonlyArray<[string, number]> = []): Promise<void> {
    for (let i = 0; i < names.length; i += pruneBatch) {
      const batch = names.slice(i, i + pruneBatch);
      // The notes of connections replaced now go with the first removal (at most replacedNotesKept of them).
      const noting = i === 0 ? notes : [];
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: connectionKey(userId),
            UpdateExpression:
              `REMOVE ${batch.map((_, j) => `#c${j}`).join(', ')}` + (noting.length > 0 ? ` SET ${noting.map((_, j) => `#n${j} = :n${j}`).join(', ')}` : ''),
            ExpressionAttributeNames: {
              ...Object.fromEntries(batch.map((name, j) => [`#c${j}`, name])),
              ...Object.fromEntries(noting.map(([name], j) => [`#n${j}`, name])),
            },
            ...(noting.length > 0 && { ExpressionAttributeValues: Object.fromEntries(noting.map(([, until], j) => [`:n${j}`, until])) }),
          }),
        );
      } catch {
        return;
      }
    }
  }
}

/** Entries pruned per update: 100 names keep the expression well under DynamoDB's 4 KB. */
const pruneBatch = 100;

/**
 * The notes to add for the connections replaced now, and those to remove: lapsed ones, and the oldest
 * past the newest `replacedNotesKept`, so that a flood of connects cannot grow the item with them.
 */
function replacedNotes(
  before: PresenceItem,
  replaced: ReadonlyArray<[string, ConnectionEntry]>,
  now: Date,
): { added: Array<[string, number]>; lapsed: string[] } {
  const nowSeconds = epochSeconds(now);
  const until = nowSeconds + replacedNoteSeconds;
  // Newest first: `replaced` is oldest first.
  const added = replaced
    .slice(-replacedNotesKept)
    .reverse()
    .map(([name]): [string, number] => [`${replacedPrefix}${name.slice(connectionPrefix.length)}`, until]);
  const existing = Object.entries(before)
    .filter((pair): pair is [string, number] => pair[0].startsWith(replacedPrefix) && !added.some(([name]) => name === pair[0]))
    .sort(([, a], [, b]) => b - a);
  const room = Math.max(0, replacedNotesKept - added.length);
  const lapsed = existing.filter(([, lapsesAt], i) => lapsesAt <= nowSeconds || i >= room).map(([name]) => name);
  return { added, lapsed };
}

function entries(item: PresenceItem): Array<[string, ConnectionEntry]> {
  return Object.entries(item).filter((pair): pair is [string, ConnectionEntry] => pair[0].startsWith(connectionPrefix));
}

function toConnection(userId: string, name: string, entry: ConnectionEntry, nowSeconds: number): Connection {
  return {
    userId,
    connectionId: name.slice(connectionPrefix.length),
    ...(entry.deviceId === undefined ? {} : { deviceId: entry.deviceId }),
    connectedAt: new Date(entry.connectedAt),
    ...(entry.drainingUntil !== undefined && (entry.drainingUntil > nowSeconds ? { draining: true } : { drainLapsed: true })),
    ...(entry.drainedThrough !== undefined && { drainedThrough: entry.drainedThrough }),
  };
}

function toPresence(item: PresenceItem, now: Date): Presence {
  const nowSeconds = epochSeconds(now);
  const connections: Connection[] = [];
  // A connection that vanished without `$disconnect` was last seen, at the latest, when it expired.
  let lastSeen = item.lastSeenAt ? Date.parse(item.lastSeenAt) : undefined;
  for (const [name, entry] of entries(item)) {
    // TTL deletes lag behind expiry: never trust an expired entry.
    if (entry.expiresAt <= nowSeconds) {
      lastSeen = Math.max(lastSeen ?? 0, entry.expiresAt * 1000);
      continue;
    }
    connections.push(toConnection(item.userId, name, entry, nowSeconds));
  }
  connections.sort((a, b) => a.connectedAt.getTime() - b.connectedAt.getTime() || a.connectionId.localeCompare(b.connectionId));
  return {
    userId: item.userId,
    connections,
    ...(lastSeen === undefined ? {} : { lastSeenAt: new Date(lastSeen) }),
    ...(item.discardBefore && item.discardReason ? { discard: { beforeId: item.discardBefore, reason: item.discardReason } } : {}),
    ...(item.ackedUpTo ? { ackedUpTo: item.ackedUpTo } : {}),
  };
}

/**
 * The user's item is kept under this many bytes, whatever the ids (128-character device ids, a
 * thousand connections): half DynamoDB's 400 KB item limit, so that connects racing each other and the
 * drain's own fields can never reach it (an update past it would fail with 500). Every update of the
 * item costs a write unit per KB of it, so a small item is a cheap one too.
 */
export const maxPresenceBytes = 200 * 1024;
/** Without a setting: as many as the bytes allow. */
const maxConnectionsPerItem = Number.MAX_SAFE_INTEGER;

/**
 * The connections a new one replaces (SPEC §6 `maxConnectionsPerUser`), oldest first: once the new one
 * is counted, the newest are kept while both the count and the item's size allow, and all older ones
 * go. The new connection itself is never replaced: a connect is never refused for lack of room.
 */
function replacedBy(
  before: PresenceItem,
  [addedName, added]: [string, ConnectionEntry],
  now: Date,
  maxConnections: number,
  maxItemBytes: number,
): Array<[string, ConnectionEntry]> {
  const nowSeconds = epochSeconds(now);
  const others = entries(before)
    .filter(([name, entry]) => name !== addedName && entry.expiresAt > nowSeconds)
    // Newest first (ISO times sort as text), as toPresence orders them, reversed.
    .sort(([nameA, a], [nameB, b]) => b.connectedAt.localeCompare(a.connectedAt) || nameB.localeCompare(nameA));
  let bytes = Object.entries(before)
    .filter(([name]) => !name.startsWith(connectionPrefix))
    .reduce((sum, [name, value]) => sum + attributeBytes(name, value), attributeBytes(addedName, added));
  let kept = 1;
  const replaced: Array<[string, ConnectionEntry]> = [];
  for (const [name, entry] of others) {
    const size = attributeBytes(name, entry);
    if (replaced.length === 0 && kept < maxConnections && bytes + size <= maxItemBytes) {
      kept += 1;
      bytes += size;
    } else {
      replaced.push([name, entry]);
    }
  }
  return replaced.reverse();
}

/** An attribute's size as DynamoDB counts it (its name and value; a map's overhead of 3 bytes and 1 per element), a little over rather than under. */
export function attributeBytes(name: string, value: unknown): number {
  return Buffer.byteLength(name) + valueBytes(value);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).length / 2) + 1;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((sum, member) => sum + valueBytes(member), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((sum, member) => sum + valueBytes(member) + 1, 0);
  if (typeof value === 'object' && value !== null) {
    return 3 + Object.entries(value).reduce((sum, [key, member]) => sum + attributeBytes(key, member) + 1, 0);
  }
  return 1;
}
