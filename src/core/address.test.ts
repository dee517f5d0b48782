// Tests for address formatting (RFC 5952 text for IPv6, dotted quads for IPv4 and mapped addresses).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, formatIpv4, parseAddressWords } from './address.js';

function words(text: string): [number, number, number, number] {
  const w = parseAddressWords(text);
  assert.ok(w !== null, `test address ${text} should parse`);
  return w;
}

test('IPv4 and IPv4-mapped words print as dotted quads', () => {
  assert.equal(formatIpv4(0xc0a80001), '192.168.0.1');
  assert.equal(formatIpv4(0), '0.0.0.0');
  assert.equal(formatAddress(...words('198.19.107.92')), '198.19.107.92');
});

test('IPv6 follows RFC 5952: lowercase, no leading zeros, longest zero run compressed, first on a tie', () => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (§4.2.2)
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longer run wins (§4.2.3)
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // on a tie the first run (§4.2.3)
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['2001:db8:6994:4071:db2b:c7e5:52c1:733e', '2001:db8:6994:4071:db2b:c7e5:52c1:733e'],
    ['2001:db8:a:b0:c00:d000:0:f', '2001:db8:a:b0:c00:d000:0:f'],
  ];
  for (const [input, want] of cases) assert.equal(formatAddress(...words(input)), want, input);
});
