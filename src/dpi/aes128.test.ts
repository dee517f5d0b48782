import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { encryptBlock128, expandKey128, expandKey128Words } from './aes128.js';
import { prng } from '../../test/support/prng.js';

function encrypt(key: Uint8Array, block: Uint8Array): Buffer {
  const rk = new Int32Array(44);
  expandKey128(key, 0, rk);
  const out = Buffer.alloc(16);
  encryptBlock128(rk, block, 0, out, 0);
  return out;
}

describe('AES-128 single-block encryption', () => {
  test('FIPS 197 Appendix C.1 example vector', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const pt = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    assert.equal(encrypt(key, pt).toString('hex'), '69c4e0d86a7b0430d8cdb78070b4c55a');
  });

  test('FIPS 197 Appendix A.1 key expansion: the last round key', () => {
    const rk = new Int32Array(44);
    expandKey128(Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'), 0, rk);
    const last = [...rk.subarray(40)].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
    assert.equal(last, 'd014f9a8c9ee2589e13f0cc8b6630ca6');
  });

  test('agrees with node:crypto AES-128-ECB on random keys and blocks, also in place and at offsets', () => {
    const rnd = prng(197);
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.from(Array.from({ length: 40 }, () => Math.floor(rnd() * 256)));
      const key = buf.subarray(3, 19);
      const block = buf.subarray(21, 37);
      const ecb = createCipheriv('aes-128-ecb', key, null);
      ecb.setAutoPadding(false);
      const want = ecb.update(block).toString('hex');
      const rk = new Int32Array(44);
      expandKey128(buf, 3, rk);
      const copy = Buffer.from(buf);
      encryptBlock128(rk, copy, 21, copy, 21);
      assert.equal(copy.subarray(21, 37).toString('hex'), want, `case ${i}`);
    }
  });
});

test('a key given as four big-endian words expands like the same key given as bytes', () => {
  const rnd = prng(4);
  for (let i = 0; i < 50; i++) {
    const key = Buffer.from(Array.from({ length: 16 }, () => Math.floor(rnd() * 256)));
    const words = Int32Array.from([0, 1, 2, 3], (k) => key.readInt32BE(4 * k));
    const a = new Int32Array(44);
    const b = new Int32Array(44);
    expandKey128(key, 0, a);
    expandKey128Words(Int32Array.from([7, ...words]), 1, b);
    assert.deepEqual([...b], [...a], `key ${key.toString('hex')}`);
  }
});
