// Hostnames on the tick: names from DNS flows' answers label new connections; the resolver is asked only
// for what the wire did not say; our own PTR lookups are recognised.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AppDetails } from '../core/app-info.js';
import type { ConnectionKey } from '../core/side-tables.js';
import { SideTables } from '../core/side-tables.js';
import { Hostnames } from './hostnames.js';
import { PassiveDns } from './passive-dns.js';
import type { ReverseDns } from './reverse-dns.js';

let nextId = 1;
function conn(remoteAddr: string, remotePort: number, details?: AppDetails): ConnectionKey {
  return {
    id: nextId++, protocol: 17, family: 4, localAddr: '10.0.0.5', localPort: 40_000 + nextId, remoteAddr, remotePort,
    dpi: details === undefined ? null : { app: { protocol: 'DNS', domain: undefined, details, state: undefined, confidence: 'content' }, done: false },
  };
}

/** A stand-in resolver: records what it is asked, answers nothing. */
function fakeReverse(asked: string[]): ReverseDns {
  return {
    want: (a: string) => { asked.push(a); },
    apply: () => false,
    asked: (a: string) => asked.includes(a),
    close: () => {},
  } as unknown as ReverseDns;
}

test('a DNS answer seen on the wire names the connection to that address in the same tick', () => {
  const asked: string[] = [];
  const h = new Hostnames(new PassiveDns(), fakeReverse(asked));
  const side = new SideTables();
  const details: AppDetails = { dns_queries: ['shop.example'] };
  const dns = conn('192.0.2.53', 53, details);
  h.created(dns);
  assert.equal(h.apply(1_000_000, side), false);
  // The answer arrives; then a connection to the answered address, within the same tick.
  details.dns_answers = ['198.51.100.7'];
  h.created(conn('198.51.100.7', 443));
  h.created(conn('203.0.113.9', 443));
  assert.equal(h.apply(2_000_000, side), true);
  assert.equal(side.hostnames.get('198.51.100.7'), 'shop.example');
  assert.equal(side.hostnames.has('203.0.113.9'), false);
  // The resolver is asked only about what the wire did not name (the DNS server itself and 203.0.113.9).
  assert.deepEqual(asked, ['192.0.2.53', '203.0.113.9']);
});

test('without --resolve-dns nothing is asked; our own PTR lookups are recognised only with it', () => {
  const passiveOnly = new Hostnames(new PassiveDns(), null);
  assert.equal(passiveOnly.isOwnLookup(['7.100.51.198.in-addr.arpa']), false);
  const asked = ['198.51.100.7'];
  const h = new Hostnames(new PassiveDns(), fakeReverse(asked));
  assert.equal(h.isOwnLookup(['7.100.51.198.in-addr.arpa']), true);
  assert.equal(h.isOwnLookup(['8.100.51.198.in-addr.arpa']), false, 'a PTR query someone else sent');
  assert.equal(h.isOwnLookup(['7.100.51.198.in-addr.arpa', 'example.com']), false);
  assert.equal(h.isOwnLookup(undefined), false);
});
