export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

let current: Clock = systemClock;

/**
 * The clock every handler reads. Lambda always runs on the system clock; the local stack may swap in
 * a controllable one so that tests can move time forward instead of waiting for it.
 */
export const clock: Clock = { now: () => current.now() };

export function useClock(replacement: Clock): void {
  current = replacement;
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Waits on the system's timers: backoff is real time, whichever clock the handlers read. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
