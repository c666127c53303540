/**
 * A flight recorder for the chaos suite: every write the handlers make to the offline queue, and every
 * `@connections` post, with its outcome after the SDK's retries. When a copy is lost, its lines say
 * which step lost it: never written, written then deleted (by whom), or written and never posted.
 */
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import type { ClientPlugin } from '../../lib/aws/client-plugins';
import { offlineMessagesTable } from '../../lib/tables';

/** A key, as the document client gives it or already marshalled (`{ S: … }`). */
type Key = { userId?: unknown; id?: unknown };
const text = (value: unknown) => (typeof value === 'object' && value !== null && 'S' in value ? String((value as { S: unknown }).S) : String(value));
interface Event {
  at: number;
  what: string;
}

export class ChaosTrace {
  private readonly started = Date.now();
  private readonly byCopy = new Map<string, Event[]>();
  private readonly posts = new Map<string, Event[]>();

  /** Knows the queue table by its name's end: the trace is made before the stack, and its prefix. */
  constructor(private readonly queueTableSuffix: string = offlineMessagesTable.name) {}

  readonly plugin: ClientPlugin = {
    applyToStack: (stack: MiddlewareStack<object, object>) => {
      stack.add(this.middleware, { step: 'initialize', name: 'pigeonholeChaosTrace', priority: 'low' });
    },
  };

  /** What happened to one recipient's copy, oldest first, as lines. */
  explain(recipient: string, id: string): string[] {
    const events = [...(this.byCopy.get(`${recipient} ${id}`) ?? []), ...(this.posts.get(id) ?? [])].sort((a, b) => a.at - b.at);
    if (events.length === 0) return ['  never written to the queue, never posted'];
    return events.map((event) => `  +${((event.at - this.started) / 1000).toFixed(3)} s ${event.what}`);
  }

  private record(map: Map<string, Event[]>, key: string, what: string): void {
    const events = map.get(key) ?? [];
    events.push({ at: Date.now(), what });
    map.set(key, events);
  }

  private readonly middleware: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    const command = context.commandName ?? '';
    const notes = this.notesFor(context.clientName ?? '', command, args.input as Record<string, unknown>);
    if (notes.length === 0) return next(args);
    try {
      const result = await next(args);
      for (const [map, key, what] of notes) this.record(map, key, `${what}: ok`);
      return result;
    } catch (error) {
      for (const [map, key, what] of notes) this.record(map, key, `${what}: failed (${(error as Error).name})`);
      throw error;
    }
  };

  private notesFor(client: string, command: string, input: Record<string, unknown>): Array<[Map<string, Event[]>, string, string]> {
    const copy = (key: Key | undefined) => `${text(key?.userId)} ${text(key?.id)}`;
    if (client === 'ApiGatewayManagementApiClient' && command === 'PostToConnectionCommand') {
      const data = typeof input.Data === 'string' ? input.Data : Buffer.from(input.Data as Uint8Array).toString('utf8');
      const ids = [...data.matchAll(/"id":"([0-9A-HJKMNP-TV-Z]{26})"/g)].map((match) => match[1] as string);
      return ids.map((id) => [this.posts, id, `posted to connection ${String(input.ConnectionId)}`]);
    }
    if (client !== 'DynamoDBClient') return [];
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
}
