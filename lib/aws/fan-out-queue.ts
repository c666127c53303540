import type { FanOutDeadLetters, FanOutJob, FanOutQueue } from '../sending/fan-out';
import type { MessageDraft } from '../messages';
import { AwsApi, jsonCall } from './aws-api';

/** A fan-out job as SQS carries it: JSON, dates as ISO strings. */
export type FanOutJobBody =
  | { kind?: 'store'; draft: Omit<MessageDraft, 'sentAt'> & { sentAt: string }; recipients: string[] }
  | Extract<FanOutJob, { kind: 'deleteGroupMessages' }>;

export function encodeFanOutJob(job: FanOutJob): string {
  if (job.kind !== 'store') return JSON.stringify(job satisfies FanOutJobBody);
  const body: FanOutJobBody = { kind: 'store', draft: { ...job.draft, sentAt: job.draft.sentAt.toISOString() }, recipients: job.recipients };
  return JSON.stringify(body);
}

export function decodeFanOutJob(text: string): FanOutJob {
  const body = JSON.parse(text) as FanOutJobBody;
  // Jobs queued before jobs had kinds are all stores.
  if (body.kind === 'deleteGroupMessages') return body;
  return { kind: 'store', draft: { ...body.draft, sentAt: new Date(body.draft.sentAt) }, recipients: body.recipients };
}

/** SQS takes messages of up to 256 KiB; a job is kept under this, with room for attributes. */
export const maxJobBytes = 240 * 1024;

/**
 * Splits a job whose message would not fit SQS's limit (1,000 ids of 128 characters and a body
 * escaped inside the JSON can pass it) into halves, each of the same kind, until each fits.
 */
export function fitToMessages(job: FanOutJob): FanOutJob[] {
  if (Buffer.byteLength(encodeFanOutJob(job)) <= maxJobBytes) return [job];
  const ids = job.kind === 'store' ? job.recipients : job.members;
  if (ids.length <= 1) throw new Error('a fan-out job for one recipient does not fit in an SQS message');
  const halves = [ids.slice(0, Math.ceil(ids.length / 2)), ids.slice(Math.ceil(ids.length / 2))];
  return halves.flatMap((half) => fitToMessages(job.kind === 'store' ? { ...job, recipients: half } : { ...job, members: half }));
}

/** SQS over its JSON protocol, at `endpoint` or the region's. */
const sqsApi = (endpoint?: string) => new AwsApi('SQSClient', 'sqs', endpoint);

const sqsCall = (api: AwsApi, action: string, input: Record<string, unknown>) => jsonCall<Record<string, unknown>>(api, { target: 'AmazonSQS', version: '1.0', action, input });

/** One SQS message per job, each within SQS's size limit. */
export class SqsFanOutQueue implements FanOutQueue {
  private readonly api: AwsApi;

  /** `endpoint`: the queue URL's own host unless given, as the SDK's SQS client does. */
  constructor(
    private readonly queueUrl: string,
    endpoint: string = new URL(queueUrl).origin,
  ) {
    this.api = sqsApi(endpoint);
  }

  async enqueue(jobs: readonly FanOutJob[]): Promise<void> {
    await Promise.all(jobs.flatMap(fitToMessages).map((job) => sqsCall(this.api, 'SendMessage', { QueueUrl: this.queueUrl, MessageBody: encodeFanOutJob(job) })));
  }
}

/** SQS's own redrive: a message move task from the dead-letter queue back to the queue it came from. */
export class SqsFanOutDeadLetters implements FanOutDeadLetters {
  private readonly api: AwsApi;

  /** `endpoint`: SQS's regional endpoint unless given. */
  constructor(
    private readonly deadLetterQueueArn: string,
    endpoint?: string,
  ) {
    this.api = sqsApi(endpoint);
  }

  async redrive(): Promise<{ taskHandle: string }> {
    // Without a destination, SQS moves each message back to the queue it was dead-lettered from.
    const result = await sqsCall(this.api, 'StartMessageMoveTask', { SourceArn: this.deadLetterQueueArn });
    if (typeof result.TaskHandle !== 'string' || !result.TaskHandle) throw new Error('SQS started no message move task');
    return { taskHandle: result.TaskHandle };
  }
}
