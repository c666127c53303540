/**
 * What a user's queue holds for the client (SPEC §5, §6): before anything is sent, the whole queue is
 * planned. What the client will never see (discarded by a clean start or an expired session, expired,
 * or over a cap) is counted for the `dropped` frames; the rest, only ever the newest N, is delivered.
 */
import type { Discard } from '../connecting/connections';
import type { QueuedMessage } from '../messages';
import type { DroppedReason } from '../protocol';
import { effectiveExpiry } from './expiry';
import type { AppSettings, UserSettings } from './settings';
import type { SettingsReader } from './settings-reader';

export interface QueuePolicy {
  app: AppSettings;
  user: UserSettings | undefined;
  discard?: Discard;
}

/** The settings that decide a user's queue: the app's through the cache, the user's own as they are now (SPEC §5). */
export async function queuePolicyFor(settings: SettingsReader, userId: string, discard?: Discard): Promise<QueuePolicy> {
  return { ...(await settings.retentionFor(userId, { current: true })), ...(discard && { discard }) };
}

type Verdict = 'deliver' | 'overflow' | 'expired' | 'discard';

/**
 * The sender whose cap (`maxOfflineMessagesPerSender`) a message counts against; none for system
 * messages and what the app's backend sent (`POST /v1/messages`), which come from the app itself and
 * are exempt (SPEC §6). A group message counts against its sender too, so a flood through a group
 * pushes out only that sender's own messages.
 */
function cappedSender(message: QueuedMessage): string | undefined {
  return message.type === 'system' || message.byBackend ? undefined : message.from;
}

/**
 * Decides, message by message, what the client gets. It first observes the whole queue, oldest first,
 * noting each deliverable message's id, group and sender; then, newest first, each cap keeps the
 * newest of what the caps before it left: per group (`groupOfflineMaxMessages`), per sender
 * (`maxOfflineMessagesPerSender`, so no sender can push another's messages out), then over the user's
 * whole queue (`maxOfflineMessages`). Judging then looks each message up by id, so a queue read again
 * for delivery may have gained or lost messages meanwhile.
 */
export class QueuePlan {
  private observed: Array<{ id: string; group: string | undefined; sender: string | undefined }> = [];
  private readonly overflowIds = new Set<string>();
  private deliverable = 0;
  private readonly counts: Record<Exclude<Verdict, 'deliver'>, number> = { overflow: 0, expired: 0, discard: 0 };
  private finished = false;

  constructor(
    private readonly policy: QueuePolicy,
    private readonly now: Date,
  ) {}

  observe(message: QueuedMessage): void {
    const kind = this.kindOf(message);
    if (kind !== 'deliver') {
      this.counts[kind] += 1;
      return;
    }
    this.observed.push({ id: message.id, group: message.type === 'group' ? message.to : undefined, sender: cappedSender(message) });
  }

  /** Call once every message has been observed. */
  finish(): void {
    const { groupOfflineMaxMessages: groupCap, maxOfflineMessagesPerSender: senderCap, maxOfflineMessages: userCap } = this.policy.app;
    const keptPerGroup = new Map<string, number>();
    const keptPerSender = new Map<string, number>();
    let kept = 0;
    for (let i = this.observed.length - 1; i >= 0; i -= 1) {
      const { id, group, sender } = this.observed[i] as (typeof this.observed)[number];
      if (!keep(keptPerGroup, group, groupCap) || !keep(keptPerSender, sender, senderCap) || kept >= userCap) {
        this.overflowIds.add(id);
        continue;
      }
      kept += 1;
    }
    this.deliverable = this.observed.length;
    this.counts.overflow = this.overflowIds.size;
    this.observed = [];
    this.finished = true;
  }

  /** What the client will never see, by the reason the `dropped` frame gives. */
  dropped(): Array<{ reason: DroppedReason; count: number }> {
    const expired = this.counts.expired + (this.policy.discard?.reason === 'expired' ? this.counts.discard : 0);
    const cleanStart = this.policy.discard?.reason === 'cleanStart' ? this.counts.discard : 0;
    return (
      [
        { reason: 'cleanStart', count: cleanStart },
        { reason: 'expired', count: expired },
        { reason: 'overflow', count: this.counts.overflow },
      ] as const
    ).filter((entry) => entry.count > 0);
  }

  /** Messages past their expiry (not yet removed by TTL), as opposed to discarded with a session. */
  get expiredCount(): number {
    return this.counts.expired;
  }

  /** The messages it would deliver, should the drain run now. */
  get deliverableCount(): number {
    return this.deliverable - this.counts.overflow;
  }

  /** Judges a message, oldest first, as observed. */
  judge(message: QueuedMessage): Verdict {
    if (!this.finished) throw new Error('judge() before finish()');
    const kind = this.kindOf(message);
    if (kind !== 'deliver') return kind;
    return this.overflowIds.has(message.id) ? 'overflow' : 'deliver';
  }

  private kindOf(message: QueuedMessage): Verdict {
    if (this.policy.discard && message.id < this.policy.discard.beforeId) return 'discard';
    if (effectiveExpiry(message, this.policy.app, this.policy.user) <= this.now) return 'expired';
    return 'deliver';
  }
}

/** Counts a message against its group's or sender's cap: false when that cap is already full (null: no cap). */
function keep(kept: Map<string, number>, key: string | undefined, cap: number | null): boolean {
  if (key === undefined || cap === null) return true;
  const count = kept.get(key) ?? 0;
  if (count >= cap) return false;
  kept.set(key, count + 1);
  return true;
}
