/** The queue plan (lib/retention/queue-plan.ts): what the client gets of its queue, and what is dropped and why. */
import { describe, expect, it } from 'vitest';
import type { QueuedMessage } from '../../lib/messages';
import { QueuePlan, type QueuePolicy } from '../../lib/retention/queue-plan';
import { message, now, policy } from '../support/queue-fixtures';

describe('the queue plan', () => {
  function judge(messages: QueuedMessage[], queuePolicy: QueuePolicy) {
    const plan = new QueuePlan(queuePolicy, now);
    for (const m of messages) plan.observe(m);
    plan.finish();
    return { verdicts: messages.map((m) => plan.judge(m)), dropped: plan.dropped() };
  }

  it('delivers everything when nothing is expired or over a cap', () => {
    expect(judge([message(1), message(2)], policy())).toEqual({ verdicts: ['deliver', 'deliver'], dropped: [] });
  });

  it('keeps only the newest maxOfflineMessages, dropping the oldest', () => {
    const messages = Array.from({ length: 8 }, (_, i) => message(i));
    const { verdicts, dropped } = judge(messages, policy({ maxOfflineMessages: 5 }));
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'deliver', 'deliver', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'overflow', count: 3 }]);
  });

  it('does not count expired messages against the cap', () => {
    const stale = message('old', { expiresAt: new Date('2030-01-15T09:30:00Z') });
    const { verdicts, dropped } = judge([stale, message(1), message(2)], policy({ maxOfflineMessages: 2 }));
    expect(verdicts).toEqual(['expired', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'expired', count: 1 }]);
  });

  it('hides at once what a shortened duration has expired', () => {
    const dayOld = message('a day old', { sentAt: new Date('2030-01-14T09:00:00Z') });
    expect(judge([dayOld], policy({ offlineMessageDurationDays: 1 })).verdicts).toEqual(['expired']);
    expect(judge([dayOld], policy({ offlineMessageDurationDays: 2 })).verdicts).toEqual(['deliver']);
  });

  it('applies the group cap per group first, then the user cap to what is left', () => {
    const g1 = (n: number) => message(`g1-${n}`, { type: 'group', to: 'g1' });
    const g2 = (n: number) => message(`g2-${n}`, { type: 'group', to: 'g2' });
    const messages = [g1(1), g1(2), g1(3), message('p1'), g2(1), g2(2), message('p2')];
    const { verdicts, dropped } = judge(messages, policy({ groupOfflineMaxMessages: 1, maxOfflineMessages: 3 }));
    // Groups keep their newest one each (g1-3, g2-2); then g1-3, p1, g2-2, p2 remain for a cap of 3,
    // and the oldest of those, g1-3, goes too.
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'overflow', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'overflow', count: 4 }]);
  });

  it('caps each sender before the whole queue: a flood from one sender pushes out only its own older messages', () => {
    const alice = Array.from({ length: 5 }, (_, i) => message(`alice-${i}`, { from: 'alice' }));
    const flood = Array.from({ length: 30 }, (_, i) => message(`mallory-${i}`, { from: 'mallory' }));
    const messages = [...alice, ...flood];
    const { verdicts, dropped } = judge(messages, policy({ maxOfflineMessagesPerSender: 10, maxOfflineMessages: 20 }));
    // Mallory keeps her newest 10; alice's 5 and those 10 fit the queue's 20.
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill('deliver'));
    expect(verdicts.slice(5)).toEqual([...Array(20).fill('overflow'), ...Array(10).fill('deliver')]);
    expect(dropped).toEqual([{ reason: 'overflow', count: 20 }]);
  });

  it('counts a sender’s group copies against the same sender cap, and applies the user cap to what the caps leave', () => {
    const messages = [
      message('p1', { from: 'mallory' }),
      message('g1', { from: 'mallory', type: 'group', to: 'team' }),
      message('a1', { from: 'alice' }),
      message('p2', { from: 'mallory' }),
      message('g2', { from: 'mallory', type: 'group', to: 'team' }),
      message('a2', { from: 'alice' }),
    ];
    const { verdicts } = judge(messages, policy({ maxOfflineMessagesPerSender: 2, maxOfflineMessages: 3 }));
    // Mallory's newest two are p2 and g2; of p2, g2, a1 and a2 the user cap keeps the newest three.
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'deliver', 'deliver']);
  });

  it('does not count what the group cap dropped against the sender cap', () => {
    const messages = [
      message('p1', { from: 'mallory' }),
      message('g1', { from: 'mallory', type: 'group', to: 'team' }),
      message('g2', { from: 'mallory', type: 'group', to: 'team' }),
    ];
    const { verdicts } = judge(messages, policy({ groupOfflineMaxMessages: 1, maxOfflineMessagesPerSender: 2 }));
    // The group keeps g2; g1 is the group's overflow, so mallory's two are g2 and p1.
    expect(verdicts).toEqual(['deliver', 'overflow', 'deliver']);
  });

  it('exempts system messages from the sender cap, and has no sender cap when it is null', () => {
    const system = Array.from({ length: 4 }, (_, i) => message(`notice-${i}`, { type: 'system', from: 'system' }));
    expect(judge(system, policy({ maxOfflineMessagesPerSender: 1 })).verdicts).toEqual(Array(4).fill('deliver'));
    const many = Array.from({ length: 300 }, (_, i) => message(i, { from: 'mallory' }));
    expect(judge(many, policy({ maxOfflineMessagesPerSender: null })).dropped).toEqual([]);
    expect(judge(many, policy()).dropped).toEqual([{ reason: 'overflow', count: 100 }]);
  });

  it('judges by id, so a message that came after the plan is delivered and one gone meanwhile shifts nothing', () => {
    const messages = Array.from({ length: 4 }, (_, i) => message(i, { from: 'mallory' }));
    const plan = new QueuePlan(policy({ maxOfflineMessagesPerSender: 2 }), now);
    for (const m of messages) plan.observe(m);
    plan.finish();
    const later = message('later', { from: 'mallory' });
    expect([messages[1], messages[2], messages[3], later].map((m) => plan.judge(m as QueuedMessage))).toEqual([
      'overflow',
      'deliver',
      'deliver',
      'deliver',
    ]);
  });

  it('discards what came before a clean start, and announces it as such', () => {
    const before = message('before');
    const after = message('after');
    const { verdicts, dropped } = judge([before, after], policy({}, { discard: { beforeId: after.id, reason: 'cleanStart' } }));
    expect(verdicts).toEqual(['discard', 'deliver']);
    expect(dropped).toEqual([{ reason: 'cleanStart', count: 1 }]);
  });

  it('announces what an expired session discarded as expired', () => {
    const before = message('before');
    const stale = message('stale', { expiresAt: new Date('2030-01-15T09:30:00Z') });
    const after = message('after');
    const { dropped } = judge([before, stale, after], policy({}, { discard: { beforeId: stale.id, reason: 'expired' } }));
    expect(dropped).toEqual([{ reason: 'expired', count: 2 }]);
  });
});
