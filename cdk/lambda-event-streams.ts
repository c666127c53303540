/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles. The SDK's protocol code imports it
 * for operations that stream events, and no call the functions make does (DynamoDB, CloudWatch and
 * Secrets Manager have none), yet it and the pure-JavaScript hashes it brings are some 19 KB of every
 * bundle. A call that did need it fails with this error instead. Wired in by cdk/bundling.ts; the
 * local stack and the CLI use the real one.
 */
const unused = 'event streams are left out of the Lambda bundles (cdk/lambda-event-streams.ts): no call the functions make has one';

export class EventStreamSerde {
  constructor() {
    throw new Error(unused);
  }
}

export function eventStreamSerdeProvider(): never {
  throw new Error(unused);
}
