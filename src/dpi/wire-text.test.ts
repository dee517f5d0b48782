import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WIRE_STRING } from '../core/app-info.js';
import { wireText, wireToken } from './wire-text.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('wireText: ASCII as is, UTF-8 decoded, invalid bytes as U+FFFD, cut to MAX_WIRE_STRING, any range of a buffer', () => {
  assert.equal(wireText(bytes('example.com'), 0, 11), 'example.com');
  assert.equal(wireText(bytes('xxbücher.dexx'), 2, 12), 'bücher.de');
  assert.equal(wireText(Uint8Array.from([0x61, 0xff, 0x62]), 0, 3), 'a\ufffdb');
  assert.equal(wireText(bytes('a'.repeat(300)), 0, 300), 'a'.repeat(MAX_WIRE_STRING));
  assert.equal(wireText(bytes('é'.repeat(300)), 0, 600), 'é'.repeat(MAX_WIRE_STRING));
  assert.equal(wireText(bytes('abc'), 2, 2), '');
});

test('wireToken: the same text as wireText, for common tokens, near misses and anything else', () => {
  for (const s of ['h2', 'http/1.1', 'h3', 'GET', 'CONNECT', 'h2x', 'http/1.2', 'GE', 'get', 'imap', 'bücher', '']) {
    const b = bytes(`[${s}]`);
    assert.equal(wireToken(b, 1, b.length - 1), wireText(b, 1, b.length - 1), JSON.stringify(s));
    assert.equal(wireToken(b, 1, b.length - 1), s);
  }
});
