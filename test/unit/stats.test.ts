/** The stats counters: what handlers count from replies and reports, and how they become CloudWatch metrics. */
import type { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudWatchStatsReader, statsWindowMs } from '../../lib/aws/cloudwatch-stats-reader';
import { EmbeddedMetricStats } from '../../lib/aws/embedded-metric-stats';
import { allStatNames, countDelivery, countSend, InMemoryStats, metricOf } from '../../lib/stats';

describe('counting from what the domain returns', () => {
  it('counts an accepted send once, and its stored copy when it is a qos-1 private message', async () => {
    const stats = new InMemoryStats();
    const sent = { type: 'sent', clientMsgId: 'c', id: 'm', status: 'accepted' } as const;
    countSend(stats, { type: 'private', qos: undefined }, sent);
    countSend(stats, { type: 'private', qos: 0 }, sent);
    countSend(stats, { type: 'group', qos: 1 }, sent);
    countSend(stats, { type: 'private', qos: 1 }, { ...sent, status: 'duplicate' });
    const read = await stats.read();
    expect(read.messages).toMatchObject({ accepted: 3, stored: 1 });
  });

  it('counts what a drain delivered and dropped, by reason', async () => {
    const stats = new InMemoryStats();
    countDelivery(stats, { delivered: 4, dropped: [{ reason: 'overflow', count: 2 }, { reason: 'expired', count: 1 }] });
    const read = await stats.read();
    expect(read.messages).toMatchObject({ delivered: 4, dropped: { overflow: 2, expired: 1, cleanStart: 0 } });
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
  it('names one metric per counter in the Pigeonhole namespace, drops by a Reason dimension', () => {
    expect(metricOf('messagesAccepted')).toEqual({ metricName: 'MessagesAccepted', dimensions: {} });
    expect(metricOf('messagesDropped.cleanStart')).toEqual({ metricName: 'MessagesDropped', dimensions: { Reason: 'cleanStart' } });
  });

  it('emits each count as one Embedded Metric Format line', () => {
    const lines: string[] = [];
    const stats = new EmbeddedMetricStats((line) => lines.push(line));
    stats.add('messagesDropped.overflow', 2);
    stats.add('messagesAcked', 0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [{ Namespace: 'Pigeonhole', Dimensions: [['Reason']], Metrics: [{ Name: 'MessagesDropped', Unit: 'Count' }] }],
      },
      Reason: 'overflow',
      MessagesDropped: 2,
    });
  });

  it('sums each metric over the last day, following pages', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const calls: GetMetricDataCommand['input'][] = [];
    const fake = {
      send: async (command: GetMetricDataCommand) => {
        calls.push(command.input);
        const ids = (command.input.MetricDataQueries ?? []).map((query) => query.Id ?? '');
        const value = (name: string) => [calls.length === 1 ? 1 : 2, ...(name === 'connectionsOpened' ? [10] : [])];
        return {
          MetricDataResults: ids.map((id) => ({ Id: id, Values: value(allStatNames[Number(id.slice(1))] ?? '') })),
          ...(calls.length === 1 && { NextToken: 'more' }),
        };
      },
    } as unknown as CloudWatchClient;
    const read = await new CloudWatchStatsReader(fake, { now: () => now }).read();
    expect(calls).toHaveLength(2);
    expect(calls[1]?.NextToken).toBe('more');
    expect(calls[0]).toMatchObject({ StartTime: new Date(now.getTime() - statsWindowMs), EndTime: now });
    expect(calls[0]?.MetricDataQueries?.[0]).toMatchObject({
      MetricStat: { Metric: { Namespace: 'Pigeonhole', MetricName: 'ConnectionsOpened', Dimensions: [] }, Stat: 'Sum' },
    });
    expect(read).toMatchObject({
      source: 'cloudwatch',
      since: '2026-11-30T12:00:00.000Z',
      connectionsOpen: 20, // (1 + 10) + (2 + 10) opened, 3 closed
      messages: { accepted: 3, stored: 3, delivered: 3, acked: 3, dropped: { overflow: 3, expired: 3, cleanStart: 3 } },
    });
  });
});
