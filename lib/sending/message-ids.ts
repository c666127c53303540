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

/** Crockford's base32, the alphabet of ULIDs, in the order ids sort in. */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The greatest id below `id`: an acknowledgement bound set here covers every message before `id` and
 * not `id` itself (lib/delivery/ordering.ts lowers bounds so). The smallest id has none below it: ''.
 */
export function idBefore(id: string): string {
  const digits = [...id];
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    const at = alphabet.indexOf(digits[i] as string);
    if (at > 0) {
      digits[i] = alphabet[at - 1] as string;
      return digits.join('');
    }
    digits[i] = alphabet.at(-1) as string;
  }
  return '';
}
