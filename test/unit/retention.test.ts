import { describe, expect, it } from 'vitest';
import { messageExpiry } from '../../lib/retention/expiry';

const sentAt = new Date('2030-01-15T10:00:00.250Z');

describe('message expiry', () => {
  it('is sentAt plus the app duration when the message has no ttlSeconds', () => {
    expect(messageExpiry(sentAt, undefined, 7)).toEqual(new Date('2030-01-22T10:00:01Z'));
  });

  it('is sentAt plus ttlSeconds when that is shorter', () => {
    expect(messageExpiry(sentAt, 60, 7)).toEqual(new Date('2030-01-15T10:01:01Z'));
  });

  it('is capped by the duration when ttlSeconds is longer', () => {
    expect(messageExpiry(sentAt, 30 * 24 * 3600, 1)).toEqual(new Date('2030-01-16T10:00:01Z'));
  });

  it('falls on a whole second, rounded up, so the message never lives shorter than promised', () => {
    expect(messageExpiry(new Date('2030-01-15T10:00:00.000Z'), 1, 7)).toEqual(new Date('2030-01-15T10:00:01Z'));
    expect(messageExpiry(new Date('2030-01-15T10:00:00.001Z'), 1, 7)).toEqual(new Date('2030-01-15T10:00:02Z'));
  });
});
