import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FanOutJob, FanOutQueue, MessageDraft } from '../fan-out';

/** A fan-out job as SQS carries it: JSON, dates as ISO strings. */
export interface FanOutJobBody {
  draft: Omit<MessageDraft, 'sentAt'> & { sentAt: string };
  recipients: string[];
}

export function encodeFanOutJob(job: FanOutJob): string {
  const body: FanOutJobBody = { draft: { ...job.draft, sentAt: job.draft.sentAt.toISOString() }, recipients: job.recipients };
  return JSON.stringify(body);
}

export function decodeFanOutJob(text: string): FanOutJob {
  const body = JSON.parse(text) as FanOutJobBody;
  return { draft: { ...body.draft, sentAt: new Date(body.draft.sentAt) }, recipients: body.recipients };
}

/**
 * One SQS message per job: a job carries up to 1,000 recipients and a body of up to 30 KB, so a
 * batch of ten could pass SQS's request limit.
 */
export class SqsFanOutQueue implements FanOutQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(jobs: readonly FanOutJob[]): Promise<void> {
    await Promise.all(jobs.map((job) => this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: encodeFanOutJob(job) }))));
  }
}
