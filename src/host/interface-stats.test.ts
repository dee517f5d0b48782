// Interface counters: parsing sysfs texts, reading a temp /sys tree, rates between samples, row order.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { InterfaceRow } from '../core/snapshot.js';
import { InterfaceStats, parseInterfaceCounters, readInterfaceCounters } from './interface-stats.js';

interface FakeIface {
  rxBytes?: number | string;
  txBytes?: number | string;
  operstate?: string;
  flags?: string;
}

/** Writes /sys/class/net-shaped directories; every counter not given is 7 so misreads show. */
function writeTree(root: string, ifaces: Record<string, FakeIface>): void {
  fs.rmSync(root, { recursive: true, force: true });
  for (const [name, f] of Object.entries(ifaces)) {
    const stats = path.join(root, name, 'statistics');
    fs.mkdirSync(stats, { recursive: true });
    for (const c of ['rx_packets', 'tx_packets', 'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped', 'collisions']) {
      fs.writeFileSync(path.join(stats, c), '7\n');
    }
    fs.writeFileSync(path.join(stats, 'rx_bytes'), `${f.rxBytes ?? 0}\n`);
    fs.writeFileSync(path.join(stats, 'tx_bytes'), `${f.txBytes ?? 0}\n`);
    fs.writeFileSync(path.join(root, name, 'operstate'), `${f.operstate ?? 'up'}\n`);
    fs.writeFileSync(path.join(root, name, 'flags'), `${f.flags ?? '0x1003'}\n`);
  }
}

function withTempRoot(fn: (root: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-ifstats-'));
  try {
    fn(path.join(dir, 'net'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SEC = 1_000_000;

test('parseInterfaceCounters reads numbers, operstate and IFF_UP', () => {
  const c = parseInterfaceCounters({
    'statistics/rx_bytes': '123456789012\n',
    'statistics/tx_bytes': '42\n',
    'statistics/rx_packets': '10\n',
    'statistics/tx_packets': '11\n',
    'statistics/rx_errors': '1\n',
    'statistics/tx_errors': '2\n',
    'statistics/rx_dropped': '3\n',
    'statistics/tx_dropped': '4\n',
    'statistics/collisions': '5\n',
    operstate: 'unknown\n',
    flags: '0x9\n',
  });
  assert.deepEqual(c, {
    rxBytes: 123456789012, txBytes: 42, rxPackets: 10, txPackets: 11, rxErrors: 1, txErrors: 2,
    rxDropped: 3, txDropped: 4, collisions: 5, operState: 'unknown', up: true,
  });
  // Administratively down (flags without IFF_UP) even if operstate text says otherwise.
  assert.equal(parseInterfaceCounters({ operstate: 'up', flags: '0x1002' }).up, false);
  // Without flags, operstate decides.
  assert.equal(parseInterfaceCounters({ operstate: 'up\n' }).up, true);
  assert.equal(parseInterfaceCounters({ operstate: 'down\n' }).up, false);
});

test('parseInterfaceCounters turns missing and garbage texts into 0 without throwing', () => {
  const c = parseInterfaceCounters({
    'statistics/rx_bytes': 'cat: read error: Invalid argument',
    'statistics/tx_bytes': '-5',
    'statistics/rx_packets': '',
    'statistics/tx_packets': '1e9',
    'statistics/rx_errors': '0x10',
    operstate: '\u0000\u0001',
    flags: 'zz',
  });
  assert.deepEqual(c, {
    rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, rxErrors: 0, txErrors: 0,
    rxDropped: 0, txDropped: 0, collisions: 0, operState: 'unknown', up: false,
  });
  assert.equal(parseInterfaceCounters({}).rxBytes, 0);
});

test('readInterfaceCounters reads a temp tree, skips non-interfaces and survives a missing root', () => {
  withTempRoot((root) => {
    writeTree(root, { eth0: { rxBytes: 100, txBytes: 200 }, lo: { rxBytes: 5, operstate: 'unknown', flags: '0x9' } });
    fs.writeFileSync(path.join(root, 'bonding_masters'), '\n');
    fs.mkdirSync(path.join(root, 'no-stats'));
    fs.writeFileSync(path.join(root, 'eth0', 'statistics', 'collisions'), 'garbage');
    const m = readInterfaceCounters(root);
    assert.deepEqual([...m.keys()], ['eth0', 'lo']);
    assert.equal(m.get('eth0')?.rxBytes, 100);
    assert.equal(m.get('eth0')?.txBytes, 200);
    assert.equal(m.get('eth0')?.rxPackets, 7);
    assert.equal(m.get('eth0')?.collisions, 0);
    assert.equal(m.get('lo')?.operState, 'unknown');
    assert.equal(m.get('lo')?.up, true);
    assert.equal(readInterfaceCounters(path.join(root, 'absent')).size, 0);
  });
});

test('rates come from the byte deltas of two samples', () => {
  withTempRoot((root) => {
    const stats = new InterfaceStats();
    writeTree(root, { eth0: { rxBytes: 1000, txBytes: 500 } });
    stats.update(readInterfaceCounters(root), 10 * SEC);
    assert.equal(stats.rows('eth0')[0]?.rxRateBps, 0, 'first sample has no rate');
    writeTree(root, { eth0: { rxBytes: 3000, txBytes: 1500 } });
    stats.update(readInterfaceCounters(root), 12 * SEC);
    const row = stats.rows('eth0')[0];
    assert.equal(row?.rxRateBps, 1000);
    assert.equal(row?.txRateBps, 500);
    assert.equal(row?.rxBytes, 3000);
  });
});

test('a counter reset or wrap gives rate 0, never negative, and the next delta counts again', () => {
  withTempRoot((root) => {
    const stats = new InterfaceStats();
    writeTree(root, { eth0: { rxBytes: 4294967000, txBytes: 9000 } });
    stats.update(readInterfaceCounters(root), 1 * SEC);
    writeTree(root, { eth0: { rxBytes: 100, txBytes: 10000 } });
    stats.update(readInterfaceCounters(root), 2 * SEC);
    let row = stats.rows(null)[0];
    assert.equal(row?.rxRateBps, 0);
    assert.equal(row?.txRateBps, 1000);
    writeTree(root, { eth0: { rxBytes: 600, txBytes: 10000 } });
    stats.update(readInterfaceCounters(root), 3 * SEC);
    row = stats.rows(null)[0];
    assert.equal(row?.rxRateBps, 500);
    assert.equal(row?.txRateBps, 0);
  });
});

test('a sample at the same or an earlier time gives rate 0 rather than Infinity or a negative', () => {
  const stats = new InterfaceStats();
  const at = (rx: number) => new Map([['eth0', parseInterfaceCounters({ 'statistics/rx_bytes': String(rx) })]]);
  stats.update(at(0), 5 * SEC);
  stats.update(at(100), 5 * SEC);
  assert.equal(stats.rows(null)[0]?.rxRateBps, 0);
  stats.update(at(200), 4 * SEC);
  assert.equal(stats.rows(null)[0]?.rxRateBps, 0);
});

test('an interface that disappears is dropped; a new one has rate 0 until its second sample', () => {
  withTempRoot((root) => {
    const stats = new InterfaceStats();
    writeTree(root, { eth0: { rxBytes: 0 }, tun0: { rxBytes: 0 } });
    stats.update(readInterfaceCounters(root), 0);
    writeTree(root, { eth0: { rxBytes: 1000 }, wg0: { rxBytes: 50_000 } });
    stats.update(readInterfaceCounters(root), 1 * SEC);
    assert.deepEqual(stats.rows(null).map((r) => [r.name, r.rxRateBps]), [['eth0', 1000], ['wg0', 0]]);
    writeTree(root, { eth0: { rxBytes: 1000 }, wg0: { rxBytes: 52_000 } });
    stats.update(readInterfaceCounters(root), 2 * SEC);
    assert.deepEqual(stats.rows(null).map((r) => [r.name, r.rxRateBps]), [['eth0', 0], ['wg0', 2000]]);
    // tun0 coming back is new again, not a resumed interface with a huge delta.
    writeTree(root, { tun0: { rxBytes: 9_000_000 } });
    stats.update(readInterfaceCounters(root), 3 * SEC);
    assert.deepEqual(stats.rows(null).map((r) => [r.name, r.rxRateBps]), [['tun0', 0]]);
  });
});

test('rows put the captured interface first, then the rest by name, in exactly the InterfaceRow shape', () => {
  withTempRoot((root) => {
    writeTree(root, { wlan0: {}, eth1: {}, lo: { operstate: 'unknown', flags: '0x9' }, eth0: { flags: '0x1002', operstate: 'down' } });
    const stats = new InterfaceStats();
    stats.update(readInterfaceCounters(root), 0);
    assert.deepEqual(stats.rows('wlan0').map((r) => r.name), ['wlan0', 'eth0', 'eth1', 'lo']);
    assert.deepEqual(stats.rows('wlan0').map((r) => r.captured), [true, false, false, false]);
    assert.deepEqual(stats.rows(null).map((r) => r.name), ['eth0', 'eth1', 'lo', 'wlan0']);
    assert.ok(stats.rows('any').every((r) => !r.captured), 'a name that is not an interface captures none');
    const expected: InterfaceRow = {
      name: 'eth0', captured: true, up: false, rxBytes: 0, txBytes: 0, rxPackets: 7, txPackets: 7,
      rxErrors: 7, txErrors: 7, rxDropped: 7, txDropped: 7, rxRateBps: 0, txRateBps: 0, collisions: 7, operState: 'down',
    };
    assert.deepEqual(stats.rows('eth0')[0], expected);
  });
});

test('live: the real /sys/class/net lists lo with readable counters', (t) => {
  if (!fs.existsSync('/sys/class/net/lo')) {
    t.skip('no /sys/class/net/lo on this machine');
    return;
  }
  const m = readInterfaceCounters();
  const lo = m.get('lo');
  assert.ok(lo !== undefined, `lo missing from ${[...m.keys()].join(', ')}`);
  assert.ok(lo.rxBytes >= 0);
  assert.ok(lo.up, 'loopback is administratively up');
  const stats = new InterfaceStats();
  stats.update(m, 0);
  assert.ok(stats.rows('lo')[0]?.captured);
});
