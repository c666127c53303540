/**
 * A flight recorder for the chaos suite: every write the handlers make to the offline queue, every
 * `@connections` post, and every change to a connection's record (added, drain claimed, message left
 * to its drain, drain finished, removed), each with its outcome after the SDK's retries. When a copy
 * is lost or late, its lines say which step did it: never written, written then deleted, never posted
 * to the recipient's connection, or posted after what came later, and what each connection of the
 * recipient's was doing meanwhile.
 */
import { hookPlugin, type AwsCall, type ClientPlugin } from '../../lib/aws/client-plugins';
import type { LocalStack } from '../../local/stack';
import { connectionsTable, offlineMessagesTable } from '../../lib/tables';

/** A key, as the document client gives it or already marshalled (`{ S: … }`). */
type Key = { userId?: unknown; id?: unknown };
const text = (value: unknown) => (typeof value === 'object' && value !== null && 'S' in value ? String((value as { S: unknown }).S) : String(value));
interface Event {
  at: number;
  what: string;
  /** The connection a post went to. */
  connectionId?: string;
}

export class ChaosTrace {
  private readonly started = Date.now();
  private readonly byCopy = new Map<string, Event[]>();
  private readonly posts = new Map<string, Event[]>();

  /** Each connection's user, and what happened to its record. */
  private readonly connectionOwners = new Map<string, string>();
  private readonly connectionEvents = new Map<string, Event[]>();

  /** Knows the tables by their names' ends: the trace is made before the stack, and its prefix. */
  constructor(
    private readonly queueTableSuffix: string = offlineMessagesTable.name,
    private readonly connectionsTableSuffix: string = connectionsTable.name,
  ) {}

  readonly plugin: ClientPlugin = hookPlugin((call, next) => this.note(call, next), { step: 'initialize', name: 'pigeonholeChaosTrace', priority: 'low' });

  /** Also notes when API Gateway opened and closed each connection (the emulator's events). */
  watch(gateway: LocalStack['gateway']): void {
    gateway.events.on('connected', ({ connectionId, principalId }) => {
      if (principalId) this.connectionOwners.set(connectionId, principalId);
      this.record(this.connectionEvents, connectionId, `connection ${connectionId} open`);
    });
    gateway.events.on('disconnected', ({ connectionId, code }) => this.record(this.connectionEvents, connectionId, `connection ${connectionId} closed (${code})`));
  }

  /**
   * What happened to one recipient's copy, oldest first, as lines: its writes, its posts to the
   * recipient's connections, and those connections' records from a second before to a second after.
   */
  explain(recipient: string, id: string): string[] {
    const mine = (event: Event & { connectionId?: string }) => event.connectionId === undefined || this.connectionOwners.get(event.connectionId) === recipient;
    const copy = [...(this.byCopy.get(`${recipient} ${id}`) ?? []), ...(this.posts.get(id) ?? []).filter(mine)];
    if (copy.length === 0) return ['  never written to the queue, never posted to the recipient'];
    const from = Math.min(...copy.map((event) => event.at)) - 1000;
    const to = Math.max(...copy.map((event) => event.at)) + 1000;
    const around = [...this.connectionEvents.entries()]
      .filter(([connectionId]) => this.connectionOwners.get(connectionId) === recipient)
      .flatMap(([, events]) => events.filter((event) => event.at >= from && event.at <= to));
    return [...copy, ...around.map((event) => ({ ...event, what: `· ${event.what}` }))]
      .sort((a, b) => a.at - b.at)
      .map((event) => `  +${((event.at - this.started) / 1000).toFixed(3)} s ${event.what}`);
  }

  private record(map: Map<string, Event[]>, key: string, what: string, connectionId?: string): void {
    const events = map.get(key) ?? [];
    events.push({ at: Date.now(), what, ...(connectionId !== undefined && { connectionId }) });
    map.set(key, events);
  }

  private async note({ client, command, input }: AwsCall, next: () => Promise<unknown>): Promise<unknown> {
    const notes = this.notesFor(client, command, input);
    if (notes.length === 0) return next();
    try {
      const result = await next();
      for (const [map, key, what, connectionId] of notes) this.record(map, key, `${what}: ok`, connectionId);
      return result;
    } catch (error) {
      for (const [map, key, what, connectionId] of notes) this.record(map, key, `${what}: failed (${(error as Error).name})`, connectionId);
      throw error;
    }
  }

  private notesFor(client: string, command: string, input: Record<string, unknown>): Array<[Map<string, Event[]>, string, string, string?]> {
    const copy = (key: Key | undefined) => `${text(key?.userId)} ${text(key?.id)}`;
    if (client === 'ApiGatewayManagementApiClient' && command === 'PostToConnectionCommand') {
      const data = typeof input.Data === 'string' ? input.Data : Buffer.from(input.Data as Uint8Array).toString('utf8');
      const ids = [...data.matchAll(/"id":"([0-9A-HJKMNP-TV-Z]{26})"/g)].map((match) => match[1] as string);
      const connectionId = String(input.ConnectionId);
      return ids.map((id) => [this.posts, id, `posted to connection ${connectionId}`, connectionId]);
    }
    if (client === 'ApiGatewayManagementApiClient' && command === 'DeleteConnectionCommand') {
      const connectionId = String(input.ConnectionId);
      return [[this.connectionEvents, connectionId, `connection ${connectionId} closed by a handler`]];
    }
    if (client !== 'DynamoDBClient') return [];
    if (typeof input.TableName === 'string' && input.TableName.endsWith(this.connectionsTableSuffix) && command.startsWith('Update')) {
      return this.connectionNotes(input);
    }
    if (typeof input.TableName === 'string' && input.TableName.endsWith(this.queueTableSuffix)) {
      if (command === 'PutCommand' || command === 'PutItemCommand') return [[this.byCopy, copy(input.Item as Key), 'put in the queue']];
      if (command === 'DeleteCommand' || command === 'DeleteItemCommand') return [[this.byCopy, copy(input.Key as Key), 'deleted (ack)']];
      return [];
    }
    const items = (input.RequestItems ?? {}) as Record<string, Array<{ PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }>>;
    const requests = Object.entries(items).find(([table]) => table.endsWith(this.queueTableSuffix))?.[1];
    if (command.startsWith('BatchWrite') && requests) {
      return requests.map((request) =>
        request.PutRequest
          ? [this.byCopy, copy(request.PutRequest.Item), 'put in the queue (batch)']
          : [this.byCopy, copy(request.DeleteRequest?.Key), 'deleted (batch: drain removal or group deletion)'],
      );
    }
    return [];
  }

  /** A change to one connection's entry in its user's item: which one, named by what the update does. */
  private connectionNotes(input: Record<string, unknown>): Array<[Map<string, Event[]>, string, string]> {
    const names = Object.values((input.ExpressionAttributeNames ?? {}) as Record<string, string>).filter((name) => name.startsWith('connection:'));
    if (names.length !== 1) return []; // a prune of expired entries, or nothing about connections
    const connectionId = (names[0] as string).slice('connection:'.length);
    this.connectionOwners.set(connectionId, text((input.Key as Key | undefined)?.userId));
    const expression = String(input.UpdateExpression);
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const step = [
      ['SET #connection = :entry', 'recorded (draining)'],
      ['REMOVE #connection SET', 'removed'],
      ['SET #connection.drainer', 'drain claimed'],
      ['SET #connection.drainingUntil', 'drain window renewed'],
      ['ADD #connection.leftCount :one SET', `${text(values[':id'])} left to its drain (as the smallest)`],
      ['ADD #connection.leftCount', `${text(values[':id'])} left to its drain`],
      ['REMOVE #connection.drainingUntil', `drain finishing after ${text(values[':handled'])} left`],
      ['REMOVE #connection.leftFrom', `drain takes leftFrom ${text(values[':from'])}`],
    ].find(([prefix]) => expression.startsWith(prefix as string))?.[1] ?? expression.slice(0, 40);
    return [[this.connectionEvents, connectionId, `connection ${connectionId}: ${step}`]];
  }
}
