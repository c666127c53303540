/**
 * The stack's EventBridge bus as the offline events' bus: one PutEvents per batch of up to 10 (its
 * limit), each event `source: "pigeonhole"`, `detail-type: "OfflineMessageStored"`. PutEvents answers
 * 200 even when it refuses some entries: those have an `ErrorCode`, in the order they were sent.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { emitDeadlineMs, maxEventsPerPut, offlineEventDetailType, offlineEventSource, type OfflineEventBus, type OfflineMessageStored } from '../events/offline-events';

export class EventBridgeOfflineEvents implements OfflineEventBus {
  constructor(
    private readonly eventBridge: EventBridgeClient,
    private readonly busName: string,
    readonly roundDeadlineMs: number = emitDeadlineMs,
  ) {}

  async put(events: readonly OfflineMessageStored[], signal: AbortSignal): Promise<readonly OfflineMessageStored[]> {
    if (events.length > maxEventsPerPut) throw new Error(`PutEvents takes at most ${maxEventsPerPut} entries`);
    const result = await this.eventBridge.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: this.busName,
          Source: offlineEventSource,
          DetailType: offlineEventDetailType,
          Detail: JSON.stringify(event),
        })),
      }),
      { abortSignal: signal },
    );
    if (!result.FailedEntryCount) return [];
    return events.filter((_, i) => result.Entries?.[i]?.ErrorCode !== undefined || result.Entries?.[i] === undefined);
  }
}
