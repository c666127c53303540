import { describe, expect, it } from 'vitest';
import { packFrames } from '../../lib/messages';

const kb32 = 32 * 1024;
const message = (n: number, size: number) => JSON.stringify({ n, pad: 'x'.repeat(Math.max(0, size - 20 - String(n).length)) });

describe('packing messages into frames', () => {
  it('keeps every message, in order, in valid messages frames of at most 32 KB', () => {
    const messages = Array.from({ length: 500 }, (_, n) => message(n, 300 + (n % 7) * 50));
    const frames = packFrames(messages);
    for (const frame of frames) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(kb32);
    const unpacked = frames.flatMap((frame) => (JSON.parse(frame) as { type: string; messages: Array<{ n: number }> }).messages);
    expect(unpacked.map((m) => m.n)).toEqual(messages.map((_, n) => n));
    expect(frames.every((frame) => frame.startsWith('{"type":"messages","messages":['))).toBe(true);
  });

  it('fills each frame until the next message would not fit', () => {
    const messages = Array.from({ length: 1000 }, (_, n) => message(n, 300 + (n % 5) * 40));
    const frames = packFrames(messages);
    let next = 0;
    for (const [index, frame] of frames.entries()) {
      next += (JSON.parse(frame) as { messages: unknown[] }).messages.length;
      const following = messages[next];
      if (index < frames.length - 1 && following !== undefined) {
        // One more message, and its comma, would have overflowed this frame.
        expect(Buffer.byteLength(frame) + 1 + Buffer.byteLength(following)).toBeGreaterThan(kb32);
      }
    }
    expect(next).toBe(messages.length);
  });

  it('counts bytes, not characters, so multi-byte text cannot overflow a frame', () => {
    const wide = Array.from({ length: 200 }, (_, n) => JSON.stringify({ n, text: '字'.repeat(300) }));
    for (const frame of packFrames(wide)) expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(kb32);
  });

  it('sends a message larger than a frame on its own, between its neighbours', () => {
    const frames = packFrames([message(1, 100), message(2, 40 * 1024), message(3, 100)]);
    expect(frames.map((frame) => (JSON.parse(frame) as { messages: Array<{ n: number }> }).messages.map((m) => m.n))).toEqual([[1], [2], [3]]);
  });

  it('makes no frame for no messages', () => {
    expect(packFrames([])).toEqual([]);
  });
});
