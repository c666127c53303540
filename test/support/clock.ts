import type { Clock } from '../../lib/clock';

/**
 * A clock that tests move forward. It starts at the real now: DynamoDB Local runs TTL deletion, so
 * items dated in the real past would vanish under a test. It runs with real time unless frozen.
 */
export class TestClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    if (this.frozenAt === undefined) this.offsetMs += ms;
    else this.frozenAt += ms;
  }

  /** Stops the clock where it is, so that a test can count what happens "at once" (a rate, a burst). */
  freeze(): void {
    this.frozenAt ??= Date.now() + this.offsetMs;
  }

  /** Back to the real now, running: what a test that moved or froze it leaves for the next one. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }

  /** Lets it run again from where it stood. */
  thaw(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }
}
