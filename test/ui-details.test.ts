// Details and Interfaces screens: every field shown and right, lines within the width, hostile text escaped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionRow, InterfaceRow, Snapshot } from '../src/core/snapshot.js';
import { detailsLines, formatTimestamp, stalenessStyle, type DetailsOptions } from '../src/ui/details-view.js';
import { interfacesTable } from '../src/ui/interfaces-view.js';
import { COLOR_TAG, stripTags } from '../src/ui/tags.js';
import { replayWithSnapshots } from './support/corpus.js';
import { HOSTILE, assertFits, assertInert } from './support/lines.js';
import { githubRow, interfaceRow, snapshotOf } from './support/rows.js';

const T0 = Date.UTC(2024, 4, 1, 13, 4, 5, 123) * 1000;
const SEC = 1_000_000;
const OPTS: DetailsOptions = { showHostnames: true, color: false, timeZone: 'utc' };

/** Row 17, with every optional field set: unit, container, remote hostname, three TLS details. */
function row(over: Partial<ConnectionRow>): ConnectionRow {
  return githubRow(T0, {
    id: 17, packetsReceived: 9_500,
    app: { protocol: 'HTTPS', domain: 'github.com', details: { tls_version: 'TLS 1.3', sni: 'github.com', alpn: ['h2', 'http/1.1'] } },
    processUnit: 'user@1000.service', containerId: '0123456789abcdef0123', containerName: 'web',
    remoteHostname: 'lb-140-82-112-3-iad.github.com',
    ...over,
  });
}

const NOW = T0 + 90 * SEC;
const text = (r: ConnectionRow | null, width = 100, opts: DetailsOptions = OPTS, now = NOW): string[] =>
  detailsLines(r, now, width, opts).map(stripTags);
/** The value on the line of `label` (two-column layout). */
function field(lines: readonly string[], label: string): string {
  const l = lines.find((x) => x.startsWith(`${label} `));
  assert.ok(l !== undefined, `no ${label} line in\n${lines.join('\n')}`);
  return l.slice(label.length).trim();
}

// ------------------------------------------------------------------------------------------ Details

test('details: no row → "No connection selected"', () => {
  assert.deepEqual(text(null), ['No connection selected.']);
});

test('details: a TCP HTTPS row shows every field with the right numbers', () => {
  const lines = text(row({}));
  assert.equal(lines[0], 'Connection #17');
  assert.equal(field(lines, 'Protocol'), 'TCP (IPv4)');
  assert.equal(field(lines, 'Local'), '192.168.1.10:51234');
  assert.equal(field(lines, 'Remote'), 'lb-140-82-112-3-iad.github.com:443 (140.82.112.3:443)');
  assert.equal(field(lines, 'Service'), 'https');
  assert.equal(field(lines, 'State'), 'ESTABLISHED');
  assert.equal(field(lines, 'Direction'), 'outgoing');
  assert.equal(field(lines, 'Name'), 'firefox');
  assert.equal(field(lines, 'PID'), '4242');
  assert.equal(field(lines, 'Unit'), 'user@1000.service');
  assert.equal(field(lines, 'Container'), 'web (0123456789ab)');
  // The application: protocol, domain, then every detail key sorted, lists joined.
  const app = lines.slice(lines.indexOf('Application'));
  assert.equal(field(app, 'Protocol'), 'HTTPS');
  assert.equal(field(app, 'Domain'), 'github.com');
  const keys = app.slice(3, 6).map((l) => l.split(' ')[0]);
  assert.deepEqual(keys, ['alpn', 'sni', 'tls_version']);
  assert.equal(field(app, 'alpn'), 'h2, http/1.1');
  assert.equal(field(app, 'tls_version'), 'TLS 1.3');
  assert.equal(field(lines, 'Bytes ↓ / ↑'), '1.18 MB / 12.1 KB');
  assert.equal(field(lines, 'Packets ↓ / ↑'), '9,500 / 120');
  assert.equal(field(lines, 'Rate ↓ / ↑'), '150 KB/s / 2.00 KB/s');
  assert.equal(field(lines, 'Retransmits'), '3');
  assert.equal(field(lines, 'Out-of-order'), '1');
  assert.equal(field(lines, 'Fast retransmits'), '2');
  assert.equal(field(lines, 'Duplicate ACKs'), '7');
  assert.equal(field(lines, 'First seen'), '2024-05-01 13:04:05.123 UTC');
  assert.equal(field(lines, 'Last seen'), '2024-05-01 13:05:05.123 UTC');
  assert.equal(field(lines, 'Age'), '1m 30s');
  assert.equal(field(lines, 'Idle'), '30s of 10m 00s timeout (5%)');
  assert.ok(!lines.some((l) => l.startsWith('Closed')), 'an open connection has no closing time');
});

test('details: the hostname toggle decides which form leads; both stay visible', () => {
  assert.equal(field(text(row({}), 100, { ...OPTS, showHostnames: false }), 'Remote'), '140.82.112.3:443 (lb-140-82-112-3-iad.github.com)');
  const v6 = row({ family: 6, remoteAddr: '2001:db8::1', remoteHostname: undefined });
  assert.equal(field(text(v6), 'Remote'), '[2001:db8::1]:443');
  assert.equal(field(text(v6), 'Protocol'), 'TCP (IPv6)');
});

test('details: UDP DNS, ICMP and a closed connection', () => {
  const dns = text(row({
    protocol: 'UDP', remoteAddr: '1.1.1.1', remotePort: 53, service: 'domain', state: 'UDP_ACTIVE', tcp: null,
    app: { protocol: 'DNS', domain: 'example.org', details: { dns_queries: ['example.org', 'example.net'], dns_rcode: 'NOERROR', dns_answers: [] } },
    remoteHostname: undefined, processName: undefined, pid: undefined, processUnit: undefined, containerId: undefined, containerName: undefined,
  }));
  assert.equal(field(dns, 'dns_queries'), 'example.org, example.net');
  assert.equal(field(dns, 'dns_rcode'), 'NOERROR');
  assert.ok(dns.some((l) => l.trim() === 'dns_answers'), 'an empty list still shows its key');
  assert.ok(!dns.includes('TCP analytics'), 'UDP has no TCP analytics');
  assert.equal(field(dns, 'Name'), '— (not attributed)');

  const icmp = text(row({ protocol: 'ICMP', localPort: 0, remotePort: 0, hasPorts: false, service: undefined, state: 'ECHO_REPLY', tcp: null, app: null, remoteHostname: undefined, direction: undefined }));
  assert.equal(field(icmp, 'Remote'), '140.82.112.3');
  assert.ok(!icmp.some((l) => l.startsWith('Service')), 'no service without ports');
  assert.equal(field(icmp, 'Direction'), 'unknown');
  assert.equal(field(icmp.slice(icmp.indexOf('Application')), 'Protocol'), '— (not identified)');

  // Closed 20 s after its last packet; shown a while later, its age and idle time stop at the close.
  const closed = text(row({ closedAtMicros: T0 + 80 * SEC, closeReason: 'timeout', state: 'CLOSED' }), 100, OPTS, T0 + 500 * SEC);
  assert.equal(field(closed, 'Closed'), '2024-05-01 13:05:25.123 UTC');
  assert.equal(field(closed, 'Close reason'), 'timeout');
  assert.equal(field(closed, 'Age'), '1m 20s');
  assert.equal(field(closed, 'Idle'), '20s of 10m 00s timeout (3%)');
});

test('details: idle time is coloured by staleness (yellow from 75 %, red over 90 %), not without colour', () => {
  assert.equal(stalenessStyle(0.5), null);
  assert.equal(stalenessStyle(0.75), 'yellow');
  assert.equal(stalenessStyle(0.9), 'yellow');
  assert.equal(stalenessStyle(0.91), 'red');
  const idleLine = (idleSec: number, color: boolean): string =>
    detailsLines(row({ lastSeenMicros: NOW - idleSec * SEC }), NOW, 100, { ...OPTS, color }).find((l) => stripTags(l).startsWith('Idle'))!;
  assert.match(idleLine(480, true), /\{yellow-fg\}8m 00s of 10m 00s timeout \(80%\)\{\/yellow-fg\}/);
  assert.match(idleLine(570, true), /\{red-fg\}9m 30s of 10m 00s timeout \(95%\)\{\/red-fg\}/);
  assert.doesNotMatch(idleLine(60, true), /\{(?:yellow|red)-fg\}/);
  for (const l of detailsLines(row({ lastSeenMicros: NOW - 570 * SEC }), NOW, 100, OPTS)) assert.doesNotMatch(l, COLOR_TAG, l);
});

test('details: hostile strings from the wire and the host are shown escaped, at every width', () => {
  const evil = row({
    state: HOSTILE, service: HOSTILE, processName: HOSTILE, processUnit: HOSTILE, containerName: HOSTILE, containerId: HOSTILE,
    remoteHostname: HOSTILE, localHostname: HOSTILE, closedAtMicros: NOW, closeReason: HOSTILE,
    app: { protocol: 'HTTP', domain: HOSTILE, details: { http_host: HOSTILE, http_path: `/${HOSTILE}`, dns_answers: [HOSTILE, HOSTILE], [HOSTILE]: HOSTILE } },
  });
  for (const width of [30, 60, 120]) {
    for (const color of [true, false]) {
      const lines = detailsLines(evil, NOW, width, { ...OPTS, color });
      assertInert(lines, `details ${width}`);
      assertFits(lines, width, 'hostile details');
    }
  }
  const shown = text(evil, 120);
  assert.equal(field(shown, 'Name'), 'evil\\x1b]0;pwned\\x07{bold}x{/bold}\\u202e');
  assert.equal(field(shown, 'http_path'), '/evil\\x1b]0;pwned\\x07{bold}x{/bold}\\u202e');
});

test('details: long values wrap under their column and stop after a few lines; narrow screens stack label and value', () => {
  const path = `/${'a'.repeat(2000)}`;
  const lines = text(row({ app: { protocol: 'HTTP', domain: 'x', details: { http_path: path } } }), 60);
  const at = lines.findIndex((l) => l.startsWith('http_path'));
  const continuation = lines.slice(at + 1).filter((l) => l.startsWith(' '.repeat(10)) && l.trim() !== '');
  assert.ok(continuation.length >= 3 && continuation.length <= 5, `${continuation.length} continuation lines`);
  const block = lines.slice(at, at + 1 + continuation.length).join('');
  assert.ok(block.endsWith('…'), 'a value cut short says so');
  for (const width of [30, 60, 120]) {
    for (const r of [row({}), row({ protocol: 'UDP', tcp: null, app: null }), row({ closedAtMicros: NOW, closeReason: 'closed' })]) {
      assertFits(detailsLines(r, NOW, width, { ...OPTS, color: true }), width, 'details');
    }
  }
  const narrow = text(row({}), 30);
  const i = narrow.indexOf('Duplicate ACKs');
  assert.ok(i > 0, 'a long label on a narrow screen gets its own line');
  assert.equal(narrow[i + 1], '  7');
  assert.deepEqual(text(row({}), 0), []);
});

test('formatTimestamp: UTC and local forms', () => {
  assert.equal(formatTimestamp(T0, 'utc'), '2024-05-01 13:04:05.123 UTC');
  assert.match(formatTimestamp(T0), /^2024-05-0[12] \d\d:\d\d:05\.123$/);
});

test('details of real rows from a replay (zeek__wikipedia): HTTP Host and counts as the row has them', async () => {
  const { snaps } = await replayWithSnapshots('zeek__wikipedia.pcap');
  const closed = snaps.at(-1)!.recentlyClosed;
  const http = closed.find((r) => r.app?.protocol === 'HTTP' && r.app.details.http_host !== undefined);
  assert.ok(http !== undefined, 'the capture has an HTTP connection with a Host');
  const lines = text(http, 120, OPTS, http.closedAtMicros!);
  assert.equal(field(lines, 'http_host'), http.app!.details.http_host);
  assert.equal(field(lines, 'Packets ↓ / ↑'), `${http.packetsReceived.toLocaleString('en-US')} / ${http.packetsSent.toLocaleString('en-US')}`);
  assert.equal(field(lines, 'Close reason'), http.closeReason);
  for (const r of closed) for (const w of [30, 60, 120]) assertFits(detailsLines(r, r.closedAtMicros!, w, { ...OPTS, color: true }), w, `row ${r.id}`);
});

// --------------------------------------------------------------------------------------- Interfaces

/** Interfaces here have packet counts large enough to need thousands separators. */
const iface = (over: Partial<InterfaceRow>): InterfaceRow => interfaceRow({ rxPackets: 1_234_567, txPackets: 765_432, ...over });

function ifSnap(interfaces: InterfaceRow[], kind: 'live' | 'replay' = 'live'): Snapshot {
  return snapshotOf([], { nowMicros: NOW, source: { kind, name: 'eth0', linkType: 1, description: 'Ethernet', filter: '' }, interfaces });
}

const IFACES = [
  iface({ name: 'wlan0', rxRateBps: 153_600, txRateBps: 46_080, rxErrors: 1089, txErrors: 3, rxDropped: 2178, txDropped: 4, collisions: 9 }),
  iface({ name: 'lo', operState: 'unknown' }),
  iface({ name: 'eth0', captured: true, rxRateBps: 2458, txRateBps: 2007 }),
  iface({ name: 'docker0', up: false, operState: 'down', rxPackets: 0, txPackets: 0 }),
];

test('interfaces view: every column at full width, the captured interface first (marked), the rest by name', () => {
  const lines = interfacesTable(ifSnap(IFACES), 120, 20, false).map(stripTags);
  assert.match(lines[0]!, /^ {2}Interface +State +RX Rate +TX Rate +RX Pkts +TX Pkts +RX Err +TX Err +RX Drop +TX Drop +Coll$/);
  assert.deepEqual(lines.slice(1, 5).map((l) => l.slice(0, 10).trim()), ['* eth0', 'docker0', 'lo', 'wlan0']);
  assert.deepEqual(lines[4]!.trim().split(/ +/), ['wlan0', 'up', '150', 'KB/s', '45.0', 'KB/s', '1,234,567', '765,432', '1,089', '3', '2,178', '4', '9']);
  assert.deepEqual(lines[1]!.trim().split(/ +/).slice(0, 7), ['*', 'eth0', 'up', '2.40', 'KB/s', '1.96', 'KB/s']);
  assert.match(lines.at(-1)!, /totals since the interface came up/);
  const colored = interfacesTable(ifSnap(IFACES), 120, 20, true);
  assert.match(colored[1]!, /^\{bold\}\{cyan-fg\}eth0/, 'with colour the captured interface is bold cyan, no mark');
  assert.match(colored[2]!, /^\{gray-fg\}docker0/, 'a down interface is grey');
  assert.match(colored[4]!, /^\{yellow-fg\}wlan0/, 'one with errors or drops is yellow');
  for (const l of interfacesTable(ifSnap(IFACES), 120, 20, false)) assert.doesNotMatch(l, COLOR_TAG);
});

test('interfaces view: narrow screens drop the least useful columns first; tall lists end in "… N more"', () => {
  const at60 = interfacesTable(ifSnap(IFACES), 60, 20, false).map(stripTags);
  assert.ok(at60[0]!.includes('RX Rate') && at60[0]!.includes('TX Rate') && at60[0]!.includes('RX Err'), at60[0]);
  assert.ok(!at60[0]!.includes('Coll') && !at60[0]!.includes('Pkts'), 'collisions and packet counts go first');
  const at30 = interfacesTable(ifSnap(IFACES), 30, 20, false).map(stripTags);
  assert.match(at30[0]!, /^ {2}Name +RX Rate +TX Rate$/);
  assert.deepEqual(at30[4]!.trim().split(/ +/), ['wlan0', '150', 'KB/s', '45.0', 'KB/s']);
  for (const w of [20, 30, 60, 120]) {
    for (const color of [true, false]) assertFits(interfacesTable(ifSnap(IFACES), w, 20, color), w, 'interfaces');
  }
  const many = Array.from({ length: 30 }, (_, i) => iface({ name: `veth${String(i).padStart(2, '0')}` }));
  const short = interfacesTable(ifSnap(many), 80, 6, false).map(stripTags);
  assert.equal(short.length, 6);
  assert.equal(short.at(-1), '… 26 more');
  assert.deepEqual(interfacesTable(ifSnap(many), 80, 0, false), []);
});

test('interfaces view: a replay has no interface counters and says so; hostile names are escaped', () => {
  assert.deepEqual(interfacesTable(ifSnap([], 'replay'), 80, 10, false), ['Interface counters are live-only: a replay has none.']);
  assert.deepEqual(interfacesTable(ifSnap([]), 80, 10, false), ['No interface counters available.']);
  const lines = interfacesTable(ifSnap([iface({ name: HOSTILE, captured: true, operState: HOSTILE })]), 120, 10, true);
  assertInert(lines, 'interfaces');
  assert.ok(stripTags(lines[1]!).startsWith('evil\\x1b]0;'));
});
