// GTP-U: the inner IP packet of a G-PDU is found; anything else is refused without throwing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from '../../test/support/prng.js';
import { gtpInnerOffset } from './gtp.js';

const IPV4_START = [0x45, 0x00, 0x00, 0x14];

test('a plain G-PDU: the inner packet starts after the 8-byte header', () => {
  const b = Uint8Array.from([0x30, 0xff, 0, 4, 1, 2, 3, 4, ...IPV4_START]);
  assert.equal(gtpInnerOffset(b, 0, b.length), 8);
});

test('sequence number flag and an extension header chain (PDU session container) are skipped', () => {
  // S flag: 4 more bytes whose last is the next extension type (0x85); the extension is 4 bytes long.
  const b = Uint8Array.from([0x36, 0xff, 0, 12, 1, 2, 3, 4, 0, 7, 0, 0x85, 1, 0x10, 0x01, 0x00, 0x60, 0, 0, 0]);
  assert.equal(gtpInnerOffset(b, 0, b.length), 16);
  assert.equal(b[16]! >> 4, 6);
});

test('not a G-PDU carrying IP: echo request, GTP prime, wrong version, non-IP inner, truncation', () => {
  assert.equal(gtpInnerOffset(Uint8Array.from([0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]), 0, 12), -1);
  assert.equal(gtpInnerOffset(Uint8Array.from([0x20, 0xff, 0, 4, 0, 0, 0, 0, ...IPV4_START]), 0, 12), -1);
  assert.equal(gtpInnerOffset(Uint8Array.from([0x50, 0xff, 0, 4, 0, 0, 0, 0, ...IPV4_START]), 0, 12), -1);
  assert.equal(gtpInnerOffset(Uint8Array.from([0x30, 0xff, 0, 4, 0, 0, 0, 0, 0x12, 0, 0, 0]), 0, 12), -1);
  const full = Uint8Array.from([0x36, 0xff, 0, 12, 1, 2, 3, 4, 0, 7, 0, 0x85, 1, 0x10, 0x01, 0x00, 0x45, 0, 0, 0]);
  for (let n = 0; n < 17; n++) assert.equal(gtpInnerOffset(full, 0, n), -1, `cut at ${n}`);
});

test('extension headers of length 0 or chains that never end are refused', () => {
  assert.equal(gtpInnerOffset(Uint8Array.from([0x34, 0xff, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0x85, 0, 0, 0, 0x85]), 0, 16), -1);
  const loop = new Uint8Array(8 + 4 + 4 * 20 + 4);
  loop.set([0x34, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x85]);
  for (let i = 0; i < 20; i++) loop.set([1, 0, 0, 0x85], 12 + 4 * i);
  assert.equal(gtpInnerOffset(loop, 0, loop.length), -1);
});

test('random bytes never throw and never point outside the buffer', () => {
  const rand = prng(2152);
  for (let i = 0; i < 20000; i++) {
    const b = new Uint8Array(Math.floor(rand() * 64));
    for (let k = 0; k < b.length; k++) b[k] = Math.floor(rand() * 256);
    if (b.length > 1 && rand() < 0.5) { b[0] = 0x30 | (b[0]! & 0x07); b[1] = 0xff; }
    const r = gtpInnerOffset(b, 0, b.length);
    assert.ok(r === -1 || (r >= 8 && r < b.length), `offset ${r} for length ${b.length}`);
  }
});
