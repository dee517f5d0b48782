// Row order: every column in both directions, the cycle back to chronological, groups, and column layout.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionRow } from '../src/core/snapshot.js';
import { COLUMN_ORDER, layoutColumns, type ColumnId, type DisplayOptions } from '../src/ui/columns.js';
import { groupRows, ipv4Value, ipv6Key, sortRows } from '../src/ui/sort.js';
import { nextSort, type SortState } from '../src/ui/view-state.js';
import { connectionRow as conn } from './support/rows.js';

const PLAIN: DisplayOptions = { showHostnames: false, showPortNumbers: false };

/** Ids in display order for `rows` sorted by `column`. */
function order(rows: readonly ConnectionRow[], column: ColumnId | null, descending = false, opts = PLAIN): number[] {
  const sort: SortState = { column, descending };
  return sortRows(rows, rows.map((_, i) => i), sort, opts).map((i) => rows[i]!.id);
}

test('ipv4Value and ipv6Key give numeric order keys', () => {
  assert.equal(ipv4Value('10.0.0.9'), 0x0a000009);
  assert.equal(ipv4Value('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.0', '10.0.0.256', 'a.b.c.d', '1.2.3.4.5', '', '::1', '01234.1.1.1']) assert.equal(ipv4Value(bad), -1, bad);
  assert.equal(ipv6Key('2001:db8::1'), '20010db8000000000000000000000001');
  assert.equal(ipv6Key('::1'), '00000000000000000000000000000001');
  assert.equal(ipv6Key('fe80::1%eth0'), 'fe800000000000000000000000000001');
  assert.equal(ipv6Key('::ffff:10.0.0.1'), '00000000000000000000ffff0a000001');
  assert.equal(ipv6Key('2001:DB8:0:0:0:0:0:A'), '20010db800000000000000000000000a');
  assert.equal(ipv6Key('not:an::address::x'), 'not:an::address::x');
});

test('chronological order: first seen then id, whatever the input order; S flips it to newest first', () => {
  const rows = [
    conn({ id: 5, firstSeenMicros: 300 }), conn({ id: 2, firstSeenMicros: 100 }),
    conn({ id: 9, firstSeenMicros: 200 }), conn({ id: 3, firstSeenMicros: 100 }),
  ];
  assert.deepEqual(order(rows, null), [2, 3, 9, 5]);
  assert.deepEqual(order(rows, null, true), [5, 9, 3, 2]);
});

test('protocol and state sort as text, case-insensitively, ties chronological', () => {
  const rows = [
    conn({ id: 1, protocol: 'UDP', state: 'UDP_ACTIVE' }), conn({ id: 2, protocol: 'TCP', state: 'TIME_WAIT' }),
    conn({ id: 3, protocol: 'ICMP', state: 'ECHO_REQUEST' }), conn({ id: 4, protocol: 'TCP', state: 'established' }),
    conn({ id: 5, protocol: 'ARP', state: 'ARP_REPLY' }),
  ];
  assert.deepEqual(order(rows, 'protocol'), [5, 3, 2, 4, 1]);
  assert.deepEqual(order(rows, 'protocol', true), [1, 2, 4, 3, 5]); // ties stay chronological when flipped
  assert.deepEqual(order(rows, 'state'), [5, 3, 4, 2, 1]);
  assert.deepEqual(order(rows, 'state', true), [1, 2, 4, 3, 5]);
});

test('addresses sort numerically, IPv4 before IPv6, then by port; hostnames when shown', () => {
  const rows = [
    conn({ id: 1, remoteAddr: '10.0.0.10', remotePort: 80 }),
    conn({ id: 2, remoteAddr: '10.0.0.9', remotePort: 443 }),
    conn({ id: 3, family: 6, remoteAddr: '2001:db8::1', remotePort: 443 }),
    conn({ id: 4, remoteAddr: '10.0.0.10', remotePort: 22, remoteHostname: 'Alpha.example' }),
    conn({ id: 5, family: 6, remoteAddr: '::1', remotePort: 443, remoteHostname: 'zulu.example' }),
    conn({ id: 6, remoteAddr: '9.255.255.255', remotePort: 1 }),
  ];
  assert.deepEqual(order(rows, 'remote'), [6, 2, 4, 1, 5, 3]);
  assert.deepEqual(order(rows, 'remote', true), [3, 5, 1, 4, 2, 6]);
  // Hostnames shown: rows without one keep their IP order, named ones follow, A→Z.
  const names = { showHostnames: true, showPortNumbers: false };
  assert.deepEqual(order(rows, 'remote', false, names), [6, 2, 1, 3, 4, 5]);
  const local = [
    conn({ id: 1, localAddr: '192.168.1.2', localPort: 2000 }), conn({ id: 2, localAddr: '192.168.1.2', localPort: 1000 }),
    conn({ id: 3, localAddr: '172.16.0.1', localPort: 9 }),
  ];
  assert.deepEqual(order(local, 'local'), [3, 2, 1]);
});

test('service sorts by name (missing last both ways), or by service port under p', () => {
  const rows = [
    conn({ id: 1, service: 'ssh', remotePort: 22 }), conn({ id: 2, service: undefined, remotePort: 9999 }),
    conn({ id: 3, service: 'HTTPS', remotePort: 443 }), conn({ id: 4, service: 'domain', remotePort: 53 }),
    conn({ id: 5, protocol: 'ICMP', hasPorts: false, service: undefined, remotePort: 0 }),
  ];
  assert.deepEqual(order(rows, 'service'), [4, 3, 1, 2, 5]);
  assert.deepEqual(order(rows, 'service', true), [1, 3, 4, 2, 5]);
  const ports = { showHostnames: false, showPortNumbers: true };
  assert.deepEqual(order(rows, 'service', false, ports), [1, 4, 3, 2, 5]);
  assert.deepEqual(order(rows, 'service', true, ports), [2, 3, 4, 1, 5]);
});

test('application sorts by protocol then domain (none first), rows without DPI last both ways', () => {
  const app = (protocol: 'HTTPS' | 'DNS' | 'QUIC', domain?: string): ConnectionRow['app'] => ({ protocol, domain, details: {} });
  const rows = [
    conn({ id: 1, app: app('HTTPS', 'zeta.com') }), conn({ id: 2, app: null }), conn({ id: 3, app: app('DNS', 'b.org') }),
    conn({ id: 4, app: app('HTTPS', 'Alpha.com') }), conn({ id: 5, app: app('HTTPS') }), conn({ id: 6, app: app('QUIC', 'a.io') }),
  ];
  assert.deepEqual(order(rows, 'application'), [3, 5, 4, 1, 6, 2]);
  assert.deepEqual(order(rows, 'application', true), [6, 1, 4, 5, 3, 2]);
});

test('Down/Up sorts by combined rate, highest first by default; process by name, unknown last', () => {
  const rows = [
    conn({ id: 1, receiveRateBps: 100, sendRateBps: 900, processName: 'curl' }),
    conn({ id: 2, receiveRateBps: 5000, sendRateBps: 0, processName: undefined, pid: 42 }),
    conn({ id: 3, receiveRateBps: 0, sendRateBps: 0, processName: 'Firefox' }),
    conn({ id: 4, receiveRateBps: 999.5, sendRateBps: 0.25, processName: 'chrome' }),
    conn({ id: 5, receiveRateBps: 0, sendRateBps: 0, processName: 'firefox' }),
  ];
  assert.deepEqual(order(rows, 'bandwidth', true), [2, 1, 4, 3, 5]); // 5000 > 1000 > 999.75 > 0 = 0
  assert.deepEqual(order(rows, 'bandwidth', false), [3, 5, 4, 1, 2]);
  assert.deepEqual(order(rows, 'process'), [4, 1, 3, 5, 2]);
  assert.deepEqual(order(rows, 'process', true), [3, 5, 1, 4, 2]);
});

test('sorting only orders the rows it is given (the filtered ones)', () => {
  const rows = [conn({ id: 1, receiveRateBps: 3 }), conn({ id: 2, receiveRateBps: 9 }), conn({ id: 3, receiveRateBps: 5 })];
  const sorted = sortRows(rows, [0, 2], { column: 'bandwidth', descending: true }, PLAIN);
  assert.deepEqual(sorted, [2, 0]);
});

test('s cycles columns left to right with their default direction, then back to chronological', () => {
  let sort: SortState = { column: null, descending: false };
  const seen: string[] = [];
  for (let i = 0; i < COLUMN_ORDER.length + 1; i++) {
    sort = nextSort(sort);
    seen.push(sort.column === null ? 'chronological' : `${sort.column}${sort.descending ? '↓' : '↑'}`);
  }
  assert.deepEqual(seen, [
    'protocol↑', 'local↑', 'remote↑', 'state↑', 'service↑', 'application↑', 'bandwidth↓', 'process↑', 'chronological',
  ]);
  // A flipped column moving on resets to the next column's default.
  assert.deepEqual(nextSort({ column: 'application', descending: true }), { column: 'bandwidth', descending: true });
  assert.deepEqual(nextSort({ column: 'bandwidth', descending: false }), { column: 'process', descending: false });
});

test('groups: one per process (unknown together), counts and summed rates, ordered by the sort', () => {
  const rows = [
    conn({ id: 1, processName: 'firefox', receiveRateBps: 100, sendRateBps: 10 }),
    conn({ id: 2, processName: undefined, receiveRateBps: 5000, sendRateBps: 0 }),
    conn({ id: 3, processName: 'sshd', receiveRateBps: 300, sendRateBps: 30 }),
    conn({ id: 4, processName: 'firefox', receiveRateBps: 1000, sendRateBps: 100 }),
    conn({ id: 5, processName: undefined, receiveRateBps: 1, sendRateBps: 1 }),
  ];
  const all = rows.map((_, i) => i);
  const chrono = sortRows(rows, all, { column: null, descending: false }, PLAIN);
  const groups = groupRows(rows, chrono, 'process', { column: null, descending: false });
  assert.deepEqual(groups.map((g) => [g.value, g.members.map((i) => rows[i]!.id), g.receiveBps, g.sendBps]), [
    ['firefox', [1, 4], 1100, 110], [undefined, [2, 5], 5001, 1], ['sshd', [3], 300, 30],
  ]);
  // Down/Up: groups by their summed rates, members by theirs.
  const bw = { column: 'bandwidth', descending: true } as const;
  const byRate = groupRows(rows, sortRows(rows, all, bw, PLAIN), 'process', bw);
  assert.deepEqual(byRate.map((g) => [g.value, g.members.map((i) => rows[i]!.id)]), [
    [undefined, [2, 5]], ['firefox', [4, 1]], ['sshd', [3]],
  ]);
  const up = { column: 'bandwidth', descending: false } as const;
  assert.deepEqual(groupRows(rows, sortRows(rows, all, up, PLAIN), 'process', up).map((g) => g.value), ['sshd', 'firefox', undefined]);
  // Process column: by name, the unknown group last.
  const byName = { column: 'process', descending: false } as const;
  assert.deepEqual(groupRows(rows, sortRows(rows, all, byName, PLAIN), 'process', byName).map((g) => g.value), ['firefox', 'sshd', undefined]);
});

test('groups by systemd unit and by container (name, else id)', () => {
  const rows = [
    conn({ id: 1, processUnit: 'nginx.service', containerName: 'web' }),
    conn({ id: 2, processUnit: 'ssh.service', containerId: 'abc123' }),
    conn({ id: 3, processUnit: 'nginx.service', containerName: 'web' }),
    conn({ id: 4 }),
  ];
  const all = [0, 1, 2, 3];
  const chrono = { column: null, descending: false } as const;
  assert.deepEqual(groupRows(rows, all, 'unit', chrono).map((g) => [g.value, g.members.length]), [
    ['nginx.service', 2], ['ssh.service', 1], [undefined, 1],
  ]);
  assert.deepEqual(groupRows(rows, all, 'container', chrono).map((g) => [g.value, g.members.length]), [
    ['web', 2], ['abc123', 1], [undefined, 1],
  ]);
});

test('layout: widths plus gaps are exactly the terminal width, least useful columns dropped first', () => {
  for (let width = 1; width <= 260; width++) {
    const cols = layoutColumns(width);
    const total = cols.reduce((s, c) => s + c.width, 0) + Math.max(0, cols.length - 1);
    assert.equal(total, width, `width ${width}`);
    assert.ok(cols.some((c) => c.def.id === 'remote'), `remote kept at ${width}`);
    assert.ok(cols.every((c) => c.width >= 1));
  }
  const ids = (w: number): string[] => layoutColumns(w).map((c) => c.def.id);
  assert.deepEqual(ids(160), ['protocol', 'local', 'remote', 'state', 'service', 'application', 'bandwidth', 'process']);
  assert.deepEqual(ids(100), ['protocol', 'remote', 'state', 'service', 'application', 'bandwidth', 'process']);
  assert.deepEqual(ids(80), ['protocol', 'remote', 'application', 'bandwidth', 'process']);
  assert.deepEqual(ids(40), ['protocol', 'remote', 'bandwidth', 'process']);
  assert.deepEqual(ids(20), ['remote']);
  assert.deepEqual(layoutColumns(0), []);
});
