/**
 * The fan-out worker: stores and pushes the copies a send handed to the queue, and removes a member's
 * group messages from the queues a deletion handed to it. A job that fails is
 * reported back alone, so SQS retries it and nothing else; its writes are idempotent (same keys).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { removeFromQueues } from '../lib/groups/admin-groups';
import { decodeFanOutJob } from '../lib/aws/fan-out-queue';
import { clock } from '../lib/clock';
import { deliverCopies, type FanOutDeps } from '../lib/sending/fan-out';
import { logger } from '../lib/lambda/logger';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, offlineEventBus, offlineQueue, settingsReader } from '../lib/lambda/stores';

const deps: FanOutDeps = {
  queue: offlineQueue(),
  settings: settingsReader(),
  connections: connectionStore(),
  poster: connectionPoster(),
  events: offlineEventBus(),
  clock,
  log: logger,
  stats: statsCounters(),
};

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const job = decodeFanOutJob(record.body);
        // How long it waited in the queue: the fan-out's backlog, in time.
        deps.stats?.add('fanOutJobWaitMs', Math.max(0, Date.now() - Number(record.attributes.SentTimestamp)));
        if (job.kind === 'store') {
          // Its copies are counted as stored there (a retried job is counted again: SQS redelivery).
          await deliverCopies(deps, job.draft, job.recipients);
          logger.info('fanned out', { messageId: job.draft.id, recipients: job.recipients.length });
        } else {
          const removed = await removeFromQueues(deps.queue, job.members, job.groupId, job.from);
          logger.info('removed group messages', { groupId: job.groupId, from: job.from, members: job.members.length, removed });
        }
      } catch (error) {
        logger.error('fan-out failed; SQS will retry it', error as Error);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  });
