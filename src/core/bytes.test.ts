// Tests for the byte helpers: integer reads and the direct latin1 decoder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latin1String, u16, u32, u32le } from './bytes.js';

test('integer reads in both byte orders', () => {
  const b = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0xff]);
  assert.equal(u16(b, 0), 0x1234, 'u16 is big-endian');
  assert.equal(u32(b, 1), 0x345678ff, 'u32 is big-endian and unsigned');
  assert.equal(u32le(b, 1), 0xff785634, 'u32le is little-endian and unsigned');
});

test('latin1String decodes one character per byte, over exactly the range asked for', () => {
  const b = Buffer.from([0x61, 0x2e, 0x62, 0xe9, 0x00, 0xff, 0x7a]);
  assert.equal(latin1String(b, 0, 3), 'a.b', 'ASCII range');
  assert.equal(latin1String(b, 3, 6), '\u00e9\u0000\u00ff', 'bytes above 0x7f and NUL map to U+0000..U+00FF');
  assert.equal(latin1String(b, 2, 2), '', 'an empty range gives an empty string');
  assert.equal(latin1String(b, 0, b.length), b.toString('latin1'), 'agrees with Buffer#toString("latin1")');
  const sub = b.subarray(2, 6);
  assert.equal(latin1String(sub, 1, 3), '\u00e9\u0000', 'offsets are relative to a subarray, not its backing store');
});
