import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { HmacKey, MAX_SHORT_MESSAGE, hmacShort, sha256Short, wordsToBytes } from './sha256.js';
import { prng } from '../../test/support/prng.js';

function hex(words: Int32Array, len = 32): string {
  const b = Buffer.alloc(len);
  wordsToBytes(words, b, 0, len);
  return b.toString('hex');
}

function hmacHex(key: Uint8Array, msg: Uint8Array): string {
  const out = new Int32Array(8);
  hmacShort(HmacKey.fromBytes(key), msg, 0, msg.length, out);
  return hex(out);
}

describe('SHA-256 and HMAC-SHA256 for short messages', () => {
  test('FIPS 180-4 examples: "abc" and the empty message', () => {
    assert.equal(hex(sha256Short(Buffer.from('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(hex(sha256Short(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  test('RFC 4231 test case 2 (key "Jefe")', () => {
    assert.equal(
      hmacHex(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  test('agrees with node:crypto for every key length 0..64 and message length 0..55', () => {
    const rnd = prng(9001);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    for (let k = 0; k <= 64; k++) {
      const key = bytes(k);
      for (let m = 0; m <= MAX_SHORT_MESSAGE; m += 5) {
        const msg = bytes(m);
        assert.equal(hmacHex(key, msg), createHmac('sha256', key).update(msg).digest('hex'), `key ${k} B, message ${m} B`);
      }
    }
    for (let m = 0; m <= MAX_SHORT_MESSAGE; m++) {
      const msg = bytes(m);
      assert.equal(hex(sha256Short(msg)), createHash('sha256').update(msg).digest('hex'), `message ${m} B`);
    }
  });

  test('a key made from an HMAC output equals the same key given as bytes; a message inside a larger buffer', () => {
    const out = new Int32Array(8);
    hmacShort(HmacKey.fromBytes(Buffer.from('salt')), Buffer.from('ikm'), 0, 3, out);
    const asBytes = Buffer.alloc(32);
    wordsToBytes(out, asBytes);
    const framed = Buffer.concat([Buffer.from('xx'), Buffer.from('label'), Buffer.from('yy')]);
    const a = new Int32Array(8);
    const b = new Int32Array(8);
    hmacShort(new HmacKey().setWords(out), framed, 2, 5, a);
    hmacShort(HmacKey.fromBytes(asBytes), Buffer.from('label'), 0, 5, b);
    assert.equal(hex(a), hex(b));
    assert.equal(hex(a), createHmac('sha256', asBytes).update('label').digest('hex'));
  });

  test('refuses what it cannot do in one block, rather than answering wrongly', () => {
    assert.throws(() => HmacKey.fromBytes(new Uint8Array(65)), RangeError);
    assert.throws(() => hmacShort(HmacKey.fromBytes(new Uint8Array(4)), new Uint8Array(56), 0, 56, new Int32Array(8)), RangeError);
  });
});
