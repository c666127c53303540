import { encodeTime, monotonicFactory, TIME_LEN } from 'ulid';

/**
 * Message ids are ULIDs: they sort by the time the server accepted the message, and, within one
 * process, strictly in acceptance order even inside one millisecond.
 */
export function messageIdFactory(): (acceptedAt: Date) => string {
  const next = monotonicFactory();
  return (acceptedAt) => next(acceptedAt.getTime());
}

/** The smallest id a message accepted at this instant can have: every earlier message sorts below it. */
export function firstIdAt(time: Date): string {
  return `${encodeTime(time.getTime(), TIME_LEN)}${'0'.repeat(16)}`;
}
