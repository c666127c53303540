/**
 * Generators of bad input for the fuzz tests: values of the wrong type, at and past their limits,
 * huge and deeply nested, odd Unicode, and keys that try to reach an object's prototype.
 */
import fc from 'fast-check';
import { limits } from '../../lib/protocol';

const ulidChars = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Message ids of the right shape (that name no stored message). */
export const ulid = fc.string({ unit: fc.constantFrom(...ulidChars), minLength: 26, maxLength: 26 });

const atLimits = [limits.clientMsgIdMaxChars, limits.requestIdMaxChars, limits.idMaxChars].flatMap((n) => ['a'.repeat(n), 'a'.repeat(n + 1)]);

export const edgeStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\ud800', // lone surrogates
  '\udfff',
  '\uffff',
  '\ufeff',
  '\u202e', // right-to-left override
  'e\u0301',
  '🕊️👨‍👩‍👧',
  '𝓅𝒾𝑔𝑒𝑜𝓃',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '$connect',
  '$disconnect',
  '$default',
  'null',
  'undefined',
  '{}',
  '<script>alert(1)</script>',
  "'; DROP TABLE users; --",
  '../../etc/passwd',
  '%00',
  '%2F..%2F',
  '01ARZ3NDEKTSV4RRFFQ69G5FA', // one short of a ULID
  '01ARZ3NDEKTSV4RRFFQ69G5FAVX', // one past
  '01arz3ndektsv4rrffq69g5fav', // lower case
  ...atLimits,
);

const numbers = fc.oneof(
  fc.integer(),
  fc.double(), // NaN and the infinities become null in JSON
  fc.constantFrom(0, -0, -1, 1, 7, 8, 100, 101, 0.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e-308),
);

/** A value nested this deep, alternating arrays and objects. */
export function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Just under, at, and past the body's 30 KB, and past the gateway's 32 KB frame. */
const hugeStrings = fc.constantFrom(limits.bodyMaxBytes - 2, limits.bodyMaxBytes + 1, 100 * 1024, limits.inboundFrameMaxBytes + 1).map((n) => 'x'.repeat(n));

/** Objects whose own keys are `__proto__`, `constructor`, `prototype`: harmless only if nobody merges them naively. */
export const pollution = fc.constantFrom<unknown>(
  JSON.parse('{"__proto__":{"polluted":true,"action":"send","isAdmin":true}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
  JSON.parse('[{"__proto__":{"length":1e9}}]'),
  JSON.parse('{"__proto__":null}'),
);

export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: edgeStrings },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 4, arbitrary: numbers },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(ulid, { minLength: 0, maxLength: limits.ackMaxIds + 2 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 3000 }).map(nested) },
  { weight: 2, arbitrary: pollution },
  { weight: 1, arbitrary: hugeStrings },
);
