import { monotonicFactory } from 'ulid';

/**
 * Message ids are ULIDs: they sort by the time the server accepted the message, and, within one
 * process, strictly in acceptance order even inside one millisecond.
 */
export function messageIdFactory(): (acceptedAt: Date) => string {
  const next = monotonicFactory();
  return (acceptedAt) => next(acceptedAt.getTime());
}
