/**
 * AWS's timing, which the emulator otherwise spares the handlers (SPEC §1): posts get 410 for up to
 * 300 ms after `$connect`, a tenth of eventually consistent reads see up to a second back, and a tenth
 * of `Event` invocations arrive late, a twentieth twice. The tests' stacks (PIGEONHOLE_TEST_AWS_TIMING=1)
 * and `npm run test:chaos -- --aws-timing` turn it on with these figures.
 */
import type { LocalStackOptions } from './stack';
import { StaleReads } from './stale-reads';

export type AwsTiming = Required<Pick<LocalStackOptions, 'openingDelay' | 'staleReads' | 'asyncInvocations'>>;

export function awsTiming(): AwsTiming {
  return {
    openingDelay: { minMs: 0, maxMs: 300 },
    staleReads: new StaleReads({ rate: 0.1, windowMs: 1000 }),
    asyncInvocations: { late: 0.1, twice: 0.05, delayMs: { minMs: 100, maxMs: 1000 } },
  };
}

export function describeAwsTiming({ openingDelay, staleReads, asyncInvocations }: AwsTiming): string {
  const percent = (share = 0) => `${+(share * 100).toFixed(2)} %`;
  return (
    `posts get 410 for ${openingDelay.minMs}-${openingDelay.maxMs} ms after $connect, ${percent(staleReads.rate)} of eventually consistent reads are stale, ` +
    `${percent(asyncInvocations.late)} of drain events come late and ${percent(asyncInvocations.twice)} twice`
  );
}
