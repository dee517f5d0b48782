// ReverseDns against a DNS server of the test's own on 127.0.0.1 (never the system resolver), plus its pure helpers.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { SideTables } from '../core/side-tables.js';
import { DnsServer, arpaName } from '../../test/support/dns-server.js';
import { ReverseDns, addressOfPtrName, parseDnsServer, ptrName, type ReverseDnsOptions } from './reverse-dns.js';

/** Waits for network I/O the test caused; fails after `limitMs`. */
async function until(what: string, cond: () => boolean, limitMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setUp(t: TestContext, server: DnsServer, options: ReverseDnsOptions = {}): Promise<ReverseDns> {
  const rd = new ReverseDns({ server: server.server, timeoutMs: 2000, tries: 1, ...options });
  t.after(async () => {
    rd.close();
    await server.close();
  });
  return rd;
}

test('addressOfPtrName: in-addr.arpa and ip6.arpa names give the address, anything else undefined', () => {
  assert.equal(addressOfPtrName('4.3.2.1.in-addr.arpa'), '1.2.3.4');
  assert.equal(addressOfPtrName('4.3.2.1.IN-ADDR.ARPA.'), '1.2.3.4');
  assert.equal(addressOfPtrName('0.0.0.10.in-addr.arpa'), '10.0.0.0');
  const v6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
  assert.equal(addressOfPtrName(v6), '2001:db8::1');
  assert.equal(addressOfPtrName(v6.toUpperCase() + '.'), '2001:db8::1');
  // IPv4-mapped prints as rows print it.
  assert.equal(addressOfPtrName(arpaName('::ffff:c000:207')), '192.0.2.7');
  for (const name of [
    '3.2.1.in-addr.arpa', // a zone (RFC 2317), not an address
    '5.4.3.2.1.in-addr.arpa',
    '256.3.2.1.in-addr.arpa',
    '04.3.2.1.in-addr.arpa',
    'a.3.2.1.in-addr.arpa',
    v6.slice(2), // 31 nibbles
    v6.replace('8.b.d', '8.bd'),
    v6.replace('8.b.d', '8.g.d'),
    'example.com',
    'in-addr.arpa',
    '',
  ]) {
    assert.equal(addressOfPtrName(name), undefined, name);
  }
});

test('ptrName is the inverse of addressOfPtrName and matches an independent encoder', () => {
  for (const address of ['1.2.3.4', '192.0.2.255', '2001:db8::1', 'fe80::1:2:3:4', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']) {
    const name = ptrName(address);
    assert.equal(name, arpaName(address));
    assert.equal(addressOfPtrName(name!), address);
  }
  assert.equal(ptrName('::ffff:1.2.3.4'), '4.3.2.1.in-addr.arpa');
  assert.equal(ptrName('nope'), undefined);
});

test('parseDnsServer: ADDR[:PORT], IPv6 in brackets with a port', () => {
  assert.equal(parseDnsServer('192.0.2.1'), '192.0.2.1:53');
  assert.equal(parseDnsServer('127.0.0.1:5353'), '127.0.0.1:5353');
  assert.equal(parseDnsServer('[::1]:5353'), '[::1]:5353');
  assert.equal(parseDnsServer('[2001:db8::1]'), '[2001:db8::1]:53');
  assert.equal(parseDnsServer('2001:db8::1'), '[2001:db8::1]:53');
  for (const bad of ['', 'dns.example', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65536', '[1.2.3.4]:53', '[::1]:x', '::1:53:', '1.2.3.4:53:53']) {
    assert.throws(() => parseDnsServer(bad), { code: 'USAGE' }, bad);
  }
});

test('addresses that never resolve usefully are skipped without a query', async (t) => {
  const server = await DnsServer.start({ silent: true });
  const rd = await setUp(t, server);
  const skipped = [
    '127.0.0.1', '127.1.2.3', '::1', '0.0.0.0', '::', '169.254.10.1', 'fe80::1', 'febf::1',
    '224.0.0.251', '239.255.255.250', '255.255.255.255', 'ff02::fb', '::ffff:127.0.0.1', 'not-an-address',
  ];
  for (const a of skipped) rd.want(a);
  assert.equal(rd.stats().skipped, skipped.length);
  assert.equal(rd.stats().sent, 0);
  // Private and ULA addresses are asked: local resolvers answer for them.
  rd.want('10.1.2.3');
  rd.want('fd00::1');
  assert.equal(rd.stats().sent, 2);
});

test('a name arrives on a later apply(), never synchronously; the side tables change only in apply()', async (t) => {
  const server = await DnsServer.start({ names: { '192.0.2.10': 'ten.example.test' } });
  const rd = await setUp(t, server);
  const side = new SideTables();
  rd.want('192.0.2.10');
  assert.equal(rd.apply(1_000_000, side), false);
  assert.equal(side.hostnames.size, 0);
  await until('the answer', () => rd.stats().answered === 1);
  // The callback ran, yet nothing reached the side tables before the tick.
  assert.equal(side.hostnames.size, 0);
  assert.equal(side.version, 0);
  assert.equal(rd.apply(2_000_000, side), true);
  assert.equal(side.hostnames.get('192.0.2.10'), 'ten.example.test');
  assert.equal(rd.apply(3_000_000, side), false);
  assert.deepEqual(server.questions, ['10.2.0.192.in-addr.arpa']);
});

test('duplicate wants are coalesced: one query per address, later wants served from the cache', async (t) => {
  const server = await DnsServer.start({ names: { '192.0.2.20': 'twenty.example.test' }, delayMs: 50 });
  const rd = await setUp(t, server);
  const side = new SideTables();
  for (let i = 0; i < 5; i++) rd.want('192.0.2.20');
  rd.want('::ffff:192.0.2.20'); // the same address as rows print it
  assert.equal(rd.stats().inFlight, 1);
  await until('the answer', () => rd.stats().answered === 1);
  rd.want('192.0.2.20'); // came back, not yet applied: still pending
  assert.equal(rd.apply(1_000_000, side), true);
  rd.want('192.0.2.20');
  // A session with fresh side tables still gets the cached name, without asking again.
  const other = new SideTables();
  assert.equal(rd.apply(2_000_000, other), true);
  assert.equal(other.hostnames.get('192.0.2.20'), 'twenty.example.test');
  assert.equal(server.received, 1);
  assert.equal(rd.stats().sent, 1);
});

test('more than 32 wants: at most 32 queries outstanding, the rest queued, all answered in the end', async (t) => {
  const names: Record<string, string> = {};
  const addresses: string[] = [];
  for (let i = 1; i <= 40; i++) {
    addresses.push(`198.51.100.${i}`);
    names[`198.51.100.${i}`] = `host${i}.example.test`;
  }
  const server = await DnsServer.start({ names, delayMs: 100 });
  const rd = await setUp(t, server);
  for (const a of addresses) rd.want(a);
  assert.equal(rd.stats().inFlight, 32);
  assert.equal(rd.stats().queued, 8);
  await until('every answer', () => rd.stats().answered === 40);
  assert.equal(server.maxOutstanding, 32);
  assert.equal(server.received, 40);
  const side = new SideTables();
  assert.equal(rd.apply(1_000_000, side), true);
  assert.equal(side.hostnames.size, 40);
  assert.equal(side.hostnames.get('198.51.100.40'), 'host40.example.test');
});

test('the queue is bounded: the oldest wants are dropped', async (t) => {
  const server = await DnsServer.start({ silent: true });
  const rd = await setUp(t, server, { maxInFlight: 2, maxQueued: 3 });
  for (let i = 1; i <= 7; i++) rd.want(`198.51.100.${i}`);
  const s = rd.stats();
  assert.equal(s.inFlight, 2);
  assert.equal(s.queued, 3);
  assert.equal(s.dropped, 2);
  // 198.51.100.3 and .4 gave way; wanting one again queues it anew.
  rd.want('198.51.100.3');
  assert.equal(rd.stats().dropped, 3);
});

test('NXDOMAIN is cached as a failure and not asked again within the failure TTL', async (t) => {
  const server = await DnsServer.start({ names: {} });
  const rd = await setUp(t, server, { failureTtlMicros: 60_000_000 });
  const side = new SideTables();
  const t0 = 1_000_000_000;
  rd.apply(t0, side);
  rd.want('192.0.2.99');
  await until('the failure', () => rd.stats().failed === 1);
  assert.equal(rd.apply(t0, side), false);
  rd.want('192.0.2.99');
  rd.apply(t0 + 59_000_000, side);
  rd.want('192.0.2.99');
  assert.equal(server.received, 1);
  rd.apply(t0 + 61_000_000, side);
  rd.want('192.0.2.99');
  assert.equal(rd.stats().sent, 2);
  await until('the second failure', () => rd.stats().failed === 2);
  assert.equal(server.received, 2);
  assert.equal(side.hostnames.size, 0);
});

test('an injected clock drives the cache instead of apply()', async (t) => {
  const server = await DnsServer.start({ names: {} });
  let now = 5_000_000;
  const rd = await setUp(t, server, { failureTtlMicros: 1_000_000, now: () => now });
  const side = new SideTables();
  rd.want('192.0.2.98');
  await until('the failure', () => rd.stats().failed === 1);
  rd.apply(0, side); // apply's time is ignored: cached until 6 s on the injected clock
  rd.want('192.0.2.98');
  assert.equal(rd.stats().sent, 1);
  now = 6_000_001;
  rd.want('192.0.2.98');
  assert.equal(rd.stats().sent, 2);
});

test('a silent server: the query times out within its budget, and no tick waits for it', async (t) => {
  const server = await DnsServer.start({ silent: true });
  const timeoutMs = 100;
  const rd = await setUp(t, server, { timeoutMs, tries: 1 });
  const side = new SideTables();
  const started = Date.now();
  rd.want('192.0.2.50');
  const tickStart = performance.now();
  assert.equal(rd.apply(1_000_000, side), false);
  assert.ok(performance.now() - tickStart < 20, 'apply() returned at once');
  // c-ares 1.34 may stretch a try to twice its timeout; the budget allows for that and for a slow machine.
  await until('the timeout', () => rd.stats().timedOut === 1, 4 * timeoutMs + 1000);
  assert.ok(Date.now() - started >= timeoutMs, 'not before the timeout');
  assert.equal(rd.stats().inFlight, 0);
  assert.equal(rd.stats().failed, 0);
  rd.apply(2_000_000, side);
  rd.want('192.0.2.50');
  assert.equal(rd.stats().sent, 1, 'a timeout is cached like a failure');
  assert.equal(server.received, 1);
});

test('IPv6 addresses are asked about in ip6.arpa', async (t) => {
  const server = await DnsServer.start({ names: { '2001:db8::1:2': 'six.example.test.' } });
  const rd = await setUp(t, server);
  const side = new SideTables();
  rd.want('2001:DB8:0:0:0:0:1:2');
  rd.want('2001:db8::1:2');
  await until('the answer', () => rd.stats().answered === 1);
  assert.equal(rd.apply(1_000_000, side), true);
  assert.equal(side.hostnames.get('2001:db8::1:2'), 'six.example.test');
  assert.deepEqual(server.questions, [arpaName('2001:db8::1:2')]);
});

test('close() ends outstanding queries: nothing lands afterwards and later wants are ignored', async (t) => {
  const server = await DnsServer.start({ silent: true });
  const rd = await setUp(t, server, { timeoutMs: 5000 });
  const side = new SideTables();
  for (const a of ['192.0.2.61', '192.0.2.62', '192.0.2.63']) rd.want(a);
  await until('the queries', () => server.received === 3);
  rd.close();
  let s = rd.stats();
  assert.equal(s.inFlight, 0);
  assert.equal(s.cancelled, 3);
  rd.want('192.0.2.64');
  // Let the ECANCELLED callbacks run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  s = rd.stats();
  assert.equal(s.sent, 3);
  assert.equal(s.failed + s.timedOut + s.answered, 0);
  assert.equal(rd.apply(1_000_000, side), false);
  assert.equal(server.received, 3);
});
