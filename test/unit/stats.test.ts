/** The stats counters: what handlers count from replies and reports, and how they become CloudWatch metrics. */
import type { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloudWatchStatsReader, statsWindowMs } from '../../lib/aws/cloudwatch-stats-reader';
import { PowertoolsStats } from '../../lib/aws/powertools-stats';
import { ConflictError, RateLimitedError } from '../../lib/errors';
import { allStatNames, countDelivery, countDrain, countedOutcome, countedSend, InMemoryStats, metricOf } from '../../lib/admin/stats';

describe('counting from what the domain returns', () => {
  it('counts an accepted send once, and its stored copy when it is a qos-1 private message; a duplicate as a duplicate', async () => {
    const stats = new InMemoryStats();
    const sent = { type: 'sent', clientMsgId: 'c', id: 'm', status: 'accepted' } as const;
    await countedSend(stats, { type: 'private', qos: undefined }, async () => sent);
    await countedSend(stats, { type: 'private', qos: 0 }, async () => sent);
    await countedSend(stats, { type: 'group', qos: 1 }, async () => sent);
    await countedSend(stats, { type: 'private', qos: 1 }, async () => ({ ...sent, status: 'duplicate' }));
    const read = await stats.read();
    expect(read.messages).toMatchObject({ accepted: 3, stored: 1, duplicates: 1 });
  });

  it('counts a send refused with CONFLICT or RATE_LIMITED, and throws it on; other errors are not counted', async () => {
    const stats = new InMemoryStats();
    const refused = (error: Error) => countedOutcome(stats, () => Promise.reject(error), () => 'accepted');
    await expect(refused(new ConflictError('reused'))).rejects.toBeInstanceOf(ConflictError);
    await expect(refused(new RateLimitedError('slow down', 100))).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused(new Error('boom'))).rejects.toThrow('boom');
    const read = await stats.read();
    expect(read.messages).toMatchObject({ accepted: 0, conflicts: 1, rateLimited: 1 });
  });

  it('counts what a drain delivered and dropped, by reason', async () => {
    const stats = new InMemoryStats();
    countDelivery(stats, { delivered: 4, expiredSkipped: 1, dropped: [{ reason: 'overflow', count: 2 }, { reason: 'expired', count: 1 }] });
    const read = await stats.read();
    expect(read.messages).toMatchObject({ delivered: 4, expiredSkipped: 1, dropped: { overflow: 2, expired: 1, cleanStart: 0 } });
  });

  it('averages the drains: their size and duration, an empty drain included', async () => {
    const stats = new InMemoryStats();
    countDrain(stats, { delivered: 6 }, 30);
    countDrain(stats, { delivered: 0 }, 10);
    expect((await stats.read()).drains).toEqual({ count: 2, averageSize: 3, averageMs: 20 });
  });

  it('reports connections open as opened minus closed, never below zero', async () => {
    const stats = new InMemoryStats();
    stats.add('connectionsOpened', 3);
    stats.add('connectionsClosed', 1);
    expect((await stats.read()).connectionsOpen).toBe(2);
    stats.add('connectionsClosed', 5);
    expect((await stats.read()).connectionsOpen).toBe(0);
  });
});

describe('on AWS', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names one metric per counter in the Pigeonhole namespace, drops by a Reason dimension', () => {
    expect(metricOf('messagesAccepted')).toEqual({ metricName: 'MessagesAccepted', unit: 'Count', dimensions: {}, sample: false });
    expect(metricOf('messagesDropped.cleanStart')).toMatchObject({ metricName: 'MessagesDropped', dimensions: { Reason: 'cleanStart' } });
    expect(metricOf('drainDurationMs')).toMatchObject({ metricName: 'DrainDuration', unit: 'Milliseconds', sample: true });
    expect(new Set(allStatNames.map((name) => metricOf(name).metricName))).toEqual(
      new Set([
        'ConnectionsOpened',
        'ConnectionsClosed',
        'MessagesAccepted',
        'MessagesStored',
        'MessagesPushed',
        'MessagesDelivered',
        'MessagesAcked',
        'MessagesDuplicate',
        'MessagesConflict',
        'MessagesRateLimited',
        'MessagesExpiredSkipped',
        'MessagesDropped',
        'Drains',
        'DrainSize',
        'DrainDuration',
        'FanOutJobWait',
        'OfflineEventsEmitted',
        'OfflineEventsFailed',
      ]),
    );
  });

  it('emits each count through Powertools Metrics as one Embedded Metric Format line, in the Pigeonhole namespace', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    // As on Lambda: the test run's POWERTOOLS_DEV would send the lines through the console, pretty-printed.
    vi.stubEnv('POWERTOOLS_DEV', 'false');
    const stats = new PowertoolsStats();
    vi.unstubAllEnvs();
    stats.add('messagesDropped.overflow', 2);
    stats.add('messagesAcked', 0);
    stats.add('drainSize', 0);
    stats.add('drainDurationMs', 12);
    stats.add('messagesPushed', 3);
    vi.restoreAllMocks();
    const emitted = lines.map((line) => JSON.parse(line) as Record<string, any>);
    expect(emitted).toHaveLength(4);
    expect(emitted[0]).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [{ Namespace: 'Pigeonhole', Dimensions: [['service', 'Reason']], Metrics: [{ Name: 'MessagesDropped', Unit: 'Count' }] }],
      },
      service: 'pigeonhole',
      Reason: 'overflow',
      MessagesDropped: 2,
    });
    // A counter of 0 is left out; a sample of 0 (an empty drain) is not.
    expect(emitted.slice(1).map((line) => [line._aws.CloudWatchMetrics[0].Metrics, line._aws.CloudWatchMetrics[0].Dimensions])).toEqual([
      [[{ Name: 'DrainSize', Unit: 'Count' }], [['service']]],
      [[{ Name: 'DrainDuration', Unit: 'Milliseconds' }], [['service']]],
      [[{ Name: 'MessagesPushed', Unit: 'Count' }], [['service']]],
    ]);
    expect(emitted.slice(1).map((line) => [line.DrainSize, line.DrainDuration, line.MessagesPushed])).toEqual([
      [0, undefined, undefined],
      [undefined, 12, undefined],
      [undefined, undefined, 3],
    ]);
    // The dimension was the drop's alone.
    expect(emitted.slice(1).every((line) => !('Reason' in line))).toBe(true);
  });

  it('sums each metric over the last day, following pages, and reads the fan-out queue depth SQS last reported', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const ago = (ms: number) => new Date(now.getTime() - ms);
    const calls: GetMetricDataCommand['input'][] = [];
    const fake = {
      send: async (command: GetMetricDataCommand) => {
        calls.push(command.input);
        const ids = (command.input.MetricDataQueries ?? []).map((query) => query.Id ?? '');
        const value = (name: string) => [calls.length === 1 ? 1 : 2, ...(name === 'connectionsOpened' ? [10] : [])];
        const depth = (id: string) =>
          // Visible: 4 a minute ago (newest first). Not visible: last reported two hours ago, so none now.
          id === 'q0' ? { Values: [4, 9], Timestamps: [ago(60_000), ago(120_000)] } : { Values: [2], Timestamps: [ago(7_200_000)] };
        return {
          MetricDataResults: ids.map((id) =>
            id.startsWith('q') ? { Id: id, ...(calls.length === 1 ? depth(id) : {}) } : { Id: id, Values: value(allStatNames[Number(id.slice(1))] ?? '') },
          ),
          ...(calls.length === 1 && { NextToken: 'more' }),
        };
      },
    } as unknown as CloudWatchClient;
    const read = await new CloudWatchStatsReader(fake, { now: () => now }, 'fan-out-jobs').read();
    expect(calls).toHaveLength(2);
    expect(calls[1]?.NextToken).toBe('more');
    expect(calls[0]).toMatchObject({ StartTime: new Date(now.getTime() - statsWindowMs), EndTime: now, ScanBy: 'TimestampDescending' });
    expect(calls[0]?.MetricDataQueries?.[0]).toMatchObject({
      MetricStat: { Metric: { Namespace: 'Pigeonhole', MetricName: 'ConnectionsOpened', Dimensions: [{ Name: 'service', Value: 'pigeonhole' }] }, Stat: 'Sum' },
    });
    expect(calls[0]?.MetricDataQueries).toContainEqual({
      Id: 'q0',
      MetricStat: {
        Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: 'fan-out-jobs' }] },
        Period: 60,
        Stat: 'Maximum',
      },
    });
    expect(read).toMatchObject({
      source: 'cloudwatch',
      since: '2026-11-30T12:00:00.000Z',
      connectionsOpen: 20, // (1 + 10) + (2 + 10) opened, 3 closed
      messages: { accepted: 3, stored: 3, pushed: 3, delivered: 3, acked: 3, conflicts: 3, dropped: { overflow: 3, expired: 3, cleanStart: 3 } },
      drains: { count: 3, averageSize: 1, averageMs: 1 },
      offlineEvents: { emitted: 3, failed: 3 },
      fanOut: { backlog: 4 },
    });
  });

  it('says the backlog is unknown when it does not know the queue', async () => {
    const fake = { send: async () => ({ MetricDataResults: [] }) } as unknown as CloudWatchClient;
    expect((await new CloudWatchStatsReader(fake, { now: () => new Date() }).read()).fanOut).toEqual({ backlog: null });
  });
});
