/**
 * Stands in for `@smithy/core/checksum` in the Lambda bundles, where the SDK takes only `Sha256` from
 * it (to sign requests). The SDK's `Sha256` falls back to a SHA-256 written in JavaScript when
 * node:crypto has none, which on Lambda it always has; the fallback, with the rest of the module,
 * is some 4 KB of every bundle. This is the SDK's node:crypto class without it. Wired in by
 * cdk/bundling.ts; the local stack and the CLI use the real one.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** A SHA-256 hash, or an HMAC when given a secret: the SDK's `Checksum` interface. */
export class Sha256 {
  readonly digestLength = 32;
  private hash: Hash | Hmac;
  private finished = false;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.createHash();
  }

  update(data: string | Uint8Array): void {
    if (this.finished) throw new Error('Attempted to update an already finished hash.');
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    // An HMAC can be digested once; a plain hash is copied, so that it can go on being updated.
    const buffer = this.secret ? ((this.finished = true), this.hash.digest()) : (this.hash as Hash).copy().digest();
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  reset(): void {
    this.hash = this.createHash();
    this.finished = false;
  }

  private createHash(): Hash | Hmac {
    return this.secret ? createHmac('sha256', toBuffer(this.secret)) : createHash('sha256');
  }
}
