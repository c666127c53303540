/**
 * AWS list prices for what the cost benchmark (bench/cost.ts) counts, in one place: each with its
 * unit, region, where it comes from and when it was taken.
 *
 * These were NOT fetched by the machine that runs the benchmark (it has no internet access). They are
 * the list prices of AWS's public pricing pages as known in June 2025, written down by hand, for
 * us-east-1, on-demand, without the free tier or any discount. AWS changes prices: check each against
 * its page before relying on a figure, and change it here (the README's Cost section and the
 * operations guide's scale plan follow on the next `npm run bench -- cost`).
 */

export interface Tier {
  /** From this many units a month on… */
  above: number;
  /** …this many dollars per `per` units. */
  usd: number;
}

export interface Price {
  /** Dollars per `per` units, in the first tier. */
  usd: number;
  per: number;
  /** What is counted, and how it is metered. */
  unit: string;
  /** Cheaper tiers by monthly volume, past the first. */
  tiers?: readonly Tier[];
  region: 'us-east-1';
  /** The page it comes from, by name (this machine cannot link to what it cannot read). */
  source: string;
  /** When the page said so, as far as the author knew (year and month). */
  takenOn: string;
  /** Anything uncertain about it. */
  note?: string;
}

const taken = '2025-06';
const million = 1_000_000;
const billion = 1_000_000_000;

export const prices = {
  apiGatewayMessages: {
    usd: 1.0,
    per: million,
    unit: 'WebSocket messages, sent and received, metered in 32 KB increments',
    tiers: [{ above: billion, usd: 0.8 }],
    region: 'us-east-1',
    source: 'Amazon API Gateway pricing page, WebSocket APIs',
    takenOn: taken,
    note: 'the upgrade (`$connect`) and `@connections` GET and DELETE are taken as not billed as messages; the page prices messages and connection minutes only',
  },
  apiGatewayConnectionMinutes: {
    usd: 0.25,
    per: million,
    unit: 'WebSocket connection minutes',
    region: 'us-east-1',
    source: 'Amazon API Gateway pricing page, WebSocket APIs',
    takenOn: taken,
  },
  lambdaRequests: {
    usd: 0.2,
    per: million,
    unit: 'Lambda requests (invocations)',
    region: 'us-east-1',
    source: 'AWS Lambda pricing page',
    takenOn: taken,
  },
  lambdaArmGbSeconds: {
    usd: 0.0000133334,
    per: 1,
    unit: 'Lambda GB-seconds on arm64, billed per 1 ms of duration',
    tiers: [
      { above: 7.5 * billion, usd: 0.0000120001 },
      { above: 18.75 * billion, usd: 0.0000106667 },
    ],
    region: 'us-east-1',
    source: 'AWS Lambda pricing page, duration (Arm)',
    takenOn: taken,
    note: 'the stack deploys arm64 (x86 is $0.0000166667); the INIT phase of a cold start is left out (AWS announced billing it from August 2025)',
  },
  dynamoDbWriteUnits: {
    usd: 0.625,
    per: million,
    unit: 'DynamoDB on-demand write request units (1 KB each)',
    region: 'us-east-1',
    source: 'Amazon DynamoDB pricing page, on-demand capacity (Standard table class)',
    takenOn: taken,
    note: 'halved on 1 November 2024, from $1.25',
  },
  dynamoDbReadUnits: {
    usd: 0.125,
    per: million,
    unit: 'DynamoDB on-demand read request units (4 KB strongly consistent, 8 KB eventually consistent)',
    region: 'us-east-1',
    source: 'Amazon DynamoDB pricing page, on-demand capacity (Standard table class)',
    takenOn: taken,
    note: 'halved on 1 November 2024, from $0.25',
  },
  eventBridgeEvents: {
    usd: 1.0,
    per: million,
    unit: 'EventBridge custom events put on an event bus, each 64 KB chunk of an entry one event',
    region: 'us-east-1',
    source: 'Amazon EventBridge pricing page, event bus, custom events',
    takenOn: taken,
  },
  sqsRequests: {
    usd: 0.4,
    per: million,
    unit: 'SQS standard queue requests, each 64 KB chunk of a payload one request',
    region: 'us-east-1',
    source: 'Amazon SQS pricing page, standard queues',
    takenOn: taken,
    note: 'the first million requests a month are free (left out here)',
  },
  iotCoreConnectionMinutes: {
    usd: 0.08,
    per: million,
    unit: 'AWS IoT Core connection minutes',
    region: 'us-east-1',
    source: 'AWS IoT Core pricing page, connectivity',
    takenOn: taken,
  },
  iotCoreMessages: {
    usd: 1.0,
    per: million,
    unit: 'AWS IoT Core messages, published and delivered, metered in 5 KB increments',
    tiers: [
      { above: billion, usd: 0.8 },
      { above: 5 * billion, usd: 0.7 },
    ],
    region: 'us-east-1',
    source: 'AWS IoT Core pricing page, messaging',
    takenOn: taken,
    note: 'messages kept for a persistent session are taken as billed once, as the message delivered when the device reconnects; PUBACK, PINGREQ, SUBSCRIBE and CONNECT are taken as not billed',
  },
  appSyncEventsOperations: {
    usd: 1.0,
    per: million,
    unit: 'AWS AppSync Events API operations: connects, subscribes, publishes and deliveries, each 5 KB one operation',
    region: 'us-east-1',
    source: 'AWS AppSync pricing page, AppSync Events',
    takenOn: taken,
    note: 'which requests count as operations is taken from the page as known; keep-alive messages are taken as not billed',
  },
  appSyncEventsConnectionMinutes: {
    usd: 0.08,
    per: million,
    unit: 'AWS AppSync Events connection minutes',
    region: 'us-east-1',
    source: 'AWS AppSync pricing page, AppSync Events',
    takenOn: taken,
  },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof prices;

/** Dollars for `quantity` units in a month at the first tier: the price of one more unit at small volume. */
export function listCost(price: Price, quantity: number): number {
  return (quantity * price.usd) / price.per;
}

/** Dollars for `quantity` units in one month, each tier at its own price. */
export function monthlyCost(price: Price, quantity: number): number {
  const bands = [{ above: 0, usd: price.usd }, ...(price.tiers ?? [])];
  let total = 0;
  bands.forEach((band, i) => {
    const upTo = bands[i + 1]?.above ?? Infinity;
    const inBand = Math.max(0, Math.min(quantity, upTo) - band.above);
    total += (inBand * band.usd) / price.per;
  });
  return total;
}

/** `$1.00 per million WebSocket messages…; $0.80 past 1 billion a month` */
export function describePrice(price: Price): string {
  const per = price.per === million ? 'per million' : price.per === 1 ? 'per' : `per ${price.per.toLocaleString('en-US')}`;
  const usd = (value: number) => `$${value < 0.01 ? value.toPrecision(6).replace(/0+$/, '') : value.toFixed(value < 1 ? 3 : 2).replace(/(\.\d\d)0$/, '$1')}`;
  const tiers = (price.tiers ?? []).map((tier) => `; ${usd(tier.usd)} past ${shortCount(tier.above)} a month`).join('');
  return `${usd(price.usd)} ${per} ${price.unit}${tiers}`;
}

function shortCount(value: number): string {
  return value >= billion ? `${value / billion} billion` : `${value / million} million`;
}
