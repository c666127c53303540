import type { Clock } from '../../lib/clock';

/**
 * A clock that tests move forward. It starts at the real now: DynamoDB Local runs TTL deletion, so
 * items dated in the real past would vanish under a test.
 */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
