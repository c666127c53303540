/** cdk/bundling.ts's stand-ins for parts of the SDK core: each answers as the part it replaces, or refuses plainly. */
import { Sha256 as SdkSha256 } from '@smithy/core/checksum';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../cdk/lambda-checksum';
import { EventStreamSerde, eventStreamSerdeProvider } from '../../cdk/lambda-event-streams';

const hex = (data: Uint8Array) => Buffer.from(data).toString('hex');
const bytes = (text: string) => new TextEncoder().encode(text);

describe('the SHA-256 of the Lambda bundles', () => {
  it('hashes and signs as the SDK’s does, from strings and byte views alike, with a secret of either', async () => {
    const inputs = ['', 'AWS4-HMAC-SHA256', new TextEncoder().encode('payload ✓'), new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4)];
    for (const secret of [undefined, 'key', new TextEncoder().encode('key bytes')]) {
      const [sdk, standIn] = [new SdkSha256(secret), new Sha256(secret)];
      for (const input of inputs) {
        sdk.update(input as Uint8Array); // typed for bytes, and signing gives it strings too
        standIn.update(input);
      }
      expect(hex(await standIn.digest())).toBe(hex(await sdk.digest()));
    }
  });

  it('goes on after a digest when it is a plain hash, refuses more of an HMAC, and starts again on reset', async () => {
    const [sdk, standIn] = [new SdkSha256(), new Sha256()];
    for (const hash of [sdk, standIn]) {
      hash.update(bytes('a'));
      await hash.digest();
      hash.update(bytes('b'));
    }
    expect(hex(await standIn.digest())).toBe(hex(await sdk.digest()));

    const hmac = new Sha256('key');
    hmac.update('a');
    await hmac.digest();
    expect(() => hmac.update('b')).toThrow(/finished/);
    hmac.reset();
    hmac.update('a');
    const fresh = new SdkSha256('key');
    fresh.update(bytes('a'));
    expect(hex(await hmac.digest())).toBe(hex(await fresh.digest()));
  });
});

describe('the event streams of the Lambda bundles', () => {
  it('are left out, and say so if a call ever needs one', () => {
    expect(() => new EventStreamSerde()).toThrow(/event streams are left out of the Lambda bundles/);
    expect(() => eventStreamSerdeProvider()).toThrow(/cdk\/lambda-event-streams\.ts/);
  });
});
