/**
 * The stack's EventBridge bus as the offline events' bus: one PutEvents per batch of up to 10 (its
 * limit), each event `source: "pigeonhole"`, `detail-type: "OfflineMessageStored"`. PutEvents answers
 * 200 even when it refuses some entries: those have an `ErrorCode`, in the order they were sent.
 */
import { emitDeadlineMs, maxEventsPerPut, offlineEventDetailType, offlineEventSource, type OfflineEventBus, type OfflineMessageStored } from '../events/offline-events';
import { AwsApi, jsonCall } from './aws-api';

interface PutEventsOutput {
  FailedEntryCount?: number;
  Entries?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
}

export class EventBridgeOfflineEvents implements OfflineEventBus {
  private readonly api: AwsApi;

  /** `endpoint`: EventBridge's regional endpoint unless given (the local stack's bus). */
  constructor(
    private readonly busName: string,
    readonly roundDeadlineMs: number = emitDeadlineMs,
    endpoint?: string,
  ) {
    this.api = new AwsApi('EventBridgeClient', 'events', endpoint);
  }

  async put(events: readonly OfflineMessageStored[], signal: AbortSignal): Promise<readonly OfflineMessageStored[]> {
    if (events.length > maxEventsPerPut) throw new Error(`PutEvents takes at most ${maxEventsPerPut} entries`);
    const result = await jsonCall<PutEventsOutput>(this.api, {
      target: 'AWSEvents',
      version: '1.1',
      action: 'PutEvents',
      input: {
        Entries: events.map((event) => ({
          EventBusName: this.busName,
          Source: offlineEventSource,
          DetailType: offlineEventDetailType,
          Detail: JSON.stringify(event),
        })),
      },
      signal,
    });
    if (!result.FailedEntryCount) return [];
    return events.filter((_, i) => result.Entries?.[i]?.ErrorCode !== undefined || result.Entries?.[i] === undefined);
  }
}
