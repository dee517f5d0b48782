// PassiveDns: names from DNS answers as the DNS classifier lists them, freshness by packet time, bounds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PassiveDns } from './passive-dns.js';

const HOUR = 3600 * 1_000_000;

test('learn/nameOf: every address answer maps to the query name', () => {
  const p = new PassiveDns();
  p.learn('example.com', ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'], 1_000);
  assert.equal(p.nameOf('93.184.215.14', 2_000), 'example.com');
  assert.equal(p.nameOf('2606:2800:21f:cb07:6820:80da:af6b:8b2c', 2_000), 'example.com');
  assert.equal(p.nameOf('192.0.2.1', 2_000), undefined);
  assert.equal(p.size, 2);
});

test('a CNAME chain: addresses keep the name the client asked for, targets are not keys', () => {
  const p = new PassiveDns();
  // As dns.ts lists them: CNAME targets as names, A/AAAA as text, all in one distinct list.
  p.learn('www.example.org.', ['www.example.org.cdn.example.net', 'edge.cdn.example.net', '198.51.100.7', '2001:db8::7'], 0);
  assert.equal(p.nameOf('198.51.100.7', 1), 'www.example.org');
  assert.equal(p.nameOf('2001:db8::7', 1), 'www.example.org');
  assert.equal(p.nameOf('edge.cdn.example.net', 1), undefined);
  assert.equal(p.size, 2);
});

test('addresses are keyed as rows print them: RFC 5952, IPv4-mapped as IPv4', () => {
  const p = new PassiveDns();
  p.learn('mapped.example', ['::ffff:192.0.2.9', '2001:DB8:0:0:0:0:0:9'], 0);
  assert.equal(p.nameOf('192.0.2.9', 1), 'mapped.example');
  assert.equal(p.nameOf('2001:db8::9', 1), 'mapped.example');
  assert.equal(p.nameOf('2001:0db8::9', 1), 'mapped.example');
});

test('a PTR answer seen on the wire names the address asked about', () => {
  const p = new PassiveDns();
  p.learn('7.2.0.192.in-addr.arpa', ['host.example.net'], 0);
  assert.equal(p.nameOf('192.0.2.7', 1), 'host.example.net');
  // RFC 2317: the CNAME into .arpa comes first and is not the name.
  p.learn('8.2.0.192.in-addr.arpa', ['8.0/25.2.0.192.in-addr.arpa', 'eight.example.net'], 0);
  assert.equal(p.nameOf('192.0.2.8', 1), 'eight.example.net');
  p.learn('9.2.0.192.in-addr.arpa', [], 0);
  assert.equal(p.nameOf('192.0.2.9', 1), undefined);
});

test('learnDetails takes DPI details, and only when one query name makes them unambiguous', () => {
  const p = new PassiveDns();
  p.learnDetails({ dns_queries: ['one.example'], dns_answers: ['192.0.2.1'] }, 0);
  p.learnDetails({ dns_queries: ['a.example', 'b.example'], dns_answers: ['192.0.2.2'] }, 0);
  p.learnDetails({ dns_queries: ['c.example'] }, 0);
  assert.equal(p.nameOf('192.0.2.1', 1), 'one.example');
  assert.equal(p.nameOf('192.0.2.2', 1), undefined);
  assert.equal(p.size, 1);
});

test('freshness: an entry older than the TTL at nowMicros is not used; the latest answer wins', () => {
  const p = new PassiveDns({ ttlMicros: HOUR });
  p.learn('old.example', ['192.0.2.3'], 10 * HOUR);
  assert.equal(p.nameOf('192.0.2.3', 11 * HOUR), 'old.example');
  assert.equal(p.nameOf('192.0.2.3', 11 * HOUR + 1), undefined);
  p.learn('a.example', ['192.0.2.4'], 0);
  p.learn('b.example', ['192.0.2.4'], 5);
  assert.equal(p.nameOf('192.0.2.4', 6), 'b.example');
});

test('bounded: the addresses learned longest ago go first (reading does not keep one alive)', () => {
  const p = new PassiveDns({ maxEntries: 4 });
  p.learn('n.example', ['192.0.2.1', '192.0.2.2', '192.0.2.3'], 0);
  assert.equal(p.nameOf('192.0.2.1', 0), 'n.example');
  p.learn('n.example', ['192.0.2.2'], 0); // learned again: now the youngest
  p.learn('m.example', ['192.0.2.4'], 0);
  assert.equal(p.size, 3);
  assert.equal(p.nameOf('192.0.2.1', 0), undefined, 'read, but learned first: evicted');
  assert.equal(p.nameOf('192.0.2.2', 0), 'n.example');
  assert.equal(p.nameOf('192.0.2.3', 0), 'n.example');
  assert.equal(p.nameOf('192.0.2.4', 0), 'm.example');
});

test('learnDetails reads the classifier\'s address text: canonical IPv6 as is, mapped IPv4 as dotted IPv4', () => {
  const p = new PassiveDns();
  p.learnDetails({ dns_queries: ['dual.example'], dns_answers: ['2001:db8::7', '::ffff:192.0.2.9', 'cdn.example.net', '192.0.2.10'] }, 0);
  assert.equal(p.nameOf('2001:db8::7', 0), 'dual.example');
  assert.equal(p.nameOf('192.0.2.9', 0), 'dual.example');
  assert.equal(p.nameOf('192.0.2.10', 0), 'dual.example');
  assert.equal(p.size, 3, 'the CNAME target is no key');
});
