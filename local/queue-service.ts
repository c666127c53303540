/**
 * A local stand-in for an SQS queue and its Lambda event source mapping, for the fan-out queue:
 * `SendMessage` over SQS's JSON protocol (the SDK checks the body's MD5, so it is computed), then
 * each message delivered to the consumer function in an SQS event. A message the function reports
 * as failed (thrown, or in `batchItemFailures`) comes back after the visibility timeout, up to
 * `maxReceiveCount` times, and then goes to the dead-letter list, as a redrive policy would send it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invoke, localAccountId, localRegion, type LocalFunction } from './lambda-runtime';
import { listenOn, readBody, replyJson, stopServer } from './http-server';

export interface QueueServiceEvents {
  /** A message was handled: by the function, or given up on into the dead-letter list. */
  settled: [{ messageId: string; outcome: 'processed' | 'dead-lettered' }];
}

interface QueuedMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
}

export class LocalQueueService {
  readonly events = new EventEmitter<QueueServiceEvents>();
  readonly deadLetters: QueuedMessage[] = [];
  private readonly server: Server;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private consumer: LocalFunction | undefined;
  private address: AddressInfo | undefined;
  private stopping = false;
  /** Jobs sent and not yet settled (processed, or dead-lettered): waiting, retrying, or being worked on. */
  private unsettled = 0;

  constructor(
    private readonly host: string,
    private readonly queueName: string,
    private readonly options: { visibilityTimeoutMs: number; maxReceiveCount: number; log?: (line: string) => void } = {
      visibilityTimeoutMs: 500,
      maxReceiveCount: 5,
    },
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** The fan-out backlog: what SQS's ApproximateNumberOfMessagesVisible and NotVisible add up to. */
  get backlog(): number {
    return this.unsettled;
  }

  consumeWith(fn: LocalFunction): void {
    this.consumer = fn;
  }

  async listen(): Promise<void> {
    this.address = await listenOn(this.server, this.host);
  }

  get queueUrl(): string {
    if (!this.address) throw new Error('the queue service is not listening');
    return `http://${this.host}:${this.address.port}/${localAccountId}/${this.queueName}`;
  }

  /** The dead-letter queue's ARN, as the redrive names it. */
  get deadLetterQueueArn(): string {
    return `arn:aws:sqs:${localRegion}:${localAccountId}:${this.queueName}-dead-letters`;
  }

  /** Lets messages under way finish, then stops; retries not yet due are dropped with the process. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled([...this.inFlight]);
    await stopServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse((await readBody(req))?.toString('utf8') || '{}') as { QueueUrl?: string; MessageBody?: string };
    const reply = (status: number, body: unknown): void => {
      replyJson(res, status, body, { 'content-type': 'application/x-amz-json-1.0' });
    };

    if (target === 'AmazonSQS.StartMessageMoveTask') return this.moveDeadLetters((input as { SourceArn?: string }).SourceArn, reply);
    if (target !== 'AmazonSQS.SendMessage') {
      return reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${target} is not served locally` });
    }
    if (!input.QueueUrl?.endsWith(`/${this.queueName}`)) {
      return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
    }
    const body = input.MessageBody ?? '';
    const message: QueuedMessage = { messageId: randomUUID(), body, receiveCount: 0, sentAt: Date.now() };
    reply(200, { MessageId: message.messageId, MD5OfMessageBody: createHash('md5').update(body).digest('hex') });
    this.unsettled += 1;
    this.deliver(message, 0);
  }

  /** SQS's redrive: every dead letter back to the queue, received afresh. */
  private moveDeadLetters(sourceArn: string | undefined, reply: (status: number, body: unknown) => void): void {
    if (sourceArn !== this.deadLetterQueueArn) {
      return reply(400, { __type: 'com.amazonaws.sqs#ResourceNotFoundException', message: 'The resource that you specified for the SourceArn parameter doesn\'t exist.' });
    }
    const moving = this.deadLetters.splice(0);
    reply(200, { TaskHandle: randomUUID() });
    this.options.log?.(`redriving ${moving.length} dead-lettered fan-out job(s)`);
    this.unsettled += moving.length;
    for (const message of moving) this.deliver({ ...message, receiveCount: 0 }, 0);
  }

  private deliver(message: QueuedMessage, afterMs: number): void {
    if (this.stopping) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const work = this.receive(message);
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    }, afterMs);
    this.timers.add(timer);
  }

  private async receive(message: QueuedMessage): Promise<void> {
    if (!this.consumer) throw new Error('the queue has no consumer');
    message.receiveCount += 1;
    let failed: boolean;
    try {
      const result = (await invoke(this.consumer, this.event(message))) as { batchItemFailures?: Array<{ itemIdentifier: string }> } | undefined;
      failed = (result?.batchItemFailures ?? []).some((failure) => failure.itemIdentifier === message.messageId);
    } catch {
      failed = true;
    }
    if (!failed) {
      this.unsettled -= 1;
      return void this.events.emit('settled', { messageId: message.messageId, outcome: 'processed' });
    }
    if (message.receiveCount >= this.options.maxReceiveCount) {
      this.unsettled -= 1;
      this.deadLetters.push(message);
      this.options.log?.(`fan-out job ${message.messageId} failed ${message.receiveCount} times: dead-lettered`);
      return void this.events.emit('settled', { messageId: message.messageId, outcome: 'dead-lettered' });
    }
    this.deliver(message, this.options.visibilityTimeoutMs);
  }

  private event(message: QueuedMessage) {
    return {
      Records: [
        {
          messageId: message.messageId,
          receiptHandle: randomUUID(),
          body: message.body,
          attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentAt),
            SenderId: localAccountId,
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: createHash('md5').update(message.body).digest('hex'),
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${localRegion}:${localAccountId}:${this.queueName}`,
          awsRegion: localRegion,
        },
      ],
    };
  }
}
