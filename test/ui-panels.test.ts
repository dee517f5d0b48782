// The Overview's side panels and TrafficHistory: numbers right, lines within the width, hostile text escaped.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import blessed from 'blessed';
import type { ConnectionRow, Snapshot } from '../src/core/snapshot.js';
import { interfacesPanel, networkStatsPanel, statisticsPanel, trafficPanel, type StatusFacts } from '../src/ui/panels.js';
import { COLOR_TAG, cutTagged, paint, padTagged, stripTags, visibleWidth, wrapUntrusted } from '../src/ui/tags.js';
import { TrafficHistory } from '../src/ui/traffic-history.js';
import { replayWithSnapshots } from './support/corpus.js';
import { HOSTILE, assertFits, assertInert } from './support/lines.js';
import { githubRow, interfaceRow as iface, snapshotOf } from './support/rows.js';

const T0 = 1_700_000_000_000_000;
const SEC = 1_000_000;

const row = (over: Partial<ConnectionRow>): ConnectionRow => githubRow(T0, over);

const HTTPS = row({});
const HTTPS2 = row({ id: 2, remotePort: 8443, tcp: { retransmits: 4, outOfOrder: 0, fastRetransmits: 1, dupAcks: 0 }, sendRateBps: 100, receiveRateBps: 400 });
const DNS = row({
  id: 3, protocol: 'UDP', localPort: 53000, remoteAddr: '1.1.1.1', remotePort: 53, service: 'domain', state: 'UDP_ACTIVE',
  tcp: null, app: { protocol: 'DNS', domain: 'example.org', details: { dns_queries: ['example.org'] } },
  sendRateBps: 80, receiveRateBps: 120, processName: 'systemd-resolved', pid: 500,
});
const ICMP = row({
  id: 4, protocol: 'ICMP', localPort: 0, remotePort: 0, hasPorts: false, service: undefined, state: 'ECHO_REPLY',
  tcp: null, app: null, remoteAddr: '8.8.8.8', sendRateBps: 64, receiveRateBps: 64, processName: undefined, pid: undefined,
});

function snap(generation: number, over: Partial<Snapshot> = {}): Snapshot {
  return snapshotOf([HTTPS, HTTPS2, DNS, ICMP], {
    generation, nowMicros: T0 + 90 * SEC,
    tcp: { retransmits: 142, outOfOrder: 89, fastRetransmits: 23 },
    capture: { framesSeen: 12_345, framesDecoded: 12_000, framesMalformed: 45, framesSkipped: 345, skipped: { localhost_filtered: 300, bad_ip_header: 45 } },
    connectionsCreated: 1234, connectionsEvicted: 7,
    interfaces: [
      iface({ name: 'wlan0', rxRateBps: 50_000, txRateBps: 1000, rxErrors: 5, txErrors: 1, rxDropped: 20, txDropped: 2 }),
      iface({ name: 'eth0', captured: true, rxRateBps: 2458, txRateBps: 2007 }),
      iface({ name: 'docker0', rxRateBps: 10, txRateBps: 10 }),
      iface({ name: 'lo', rxRateBps: 900_000, txRateBps: 900_000 }),
      iface({ name: 'idle0', rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 }),
    ],
    ...over,
  });
}

const FACTS: StatusFacts = {
  processDetection: 'procfs (socket inodes)', privileges: 'root (sandbox off)', localhostHidden: true, kernelDrops: null, replay: null,
};

const WIDTHS = [30, 60, 120];

function history(snapshots: readonly Snapshot[], capacity?: number): TrafficHistory {
  const h = new TrafficHistory(capacity);
  for (const s of snapshots) h.push(s);
  return h;
}

/** A snapshot at second `i` whose only row moves `rx`/`tx` bytes per second. */
function rateSnap(i: number, rx: number, tx: number, over: Partial<ConnectionRow> = {}): Snapshot {
  return snap(i, { nowMicros: T0 + i * SEC, connections: [row({ receiveRateBps: rx, sendRateBps: tx, ...over })] });
}

// ---------------------------------------------------------------------------------------------- tags

test('tags: stripTags shows what blessed shows; cut and pad keep tags whole and count only visible columns', () => {
  assert.equal(stripTags('{bold}{cyan-fg}ab{/cyan-fg}{/bold} {open}x{close}{/}'), 'ab {x}');
  assert.equal(visibleWidth('{green-fg}▁▂▃{/green-fg}'), 3);
  assert.equal(visibleWidth('日本'), 4, 'wide characters take two columns');
  const cut = cutTagged('{bold}abcdef{/bold}gh', 5);
  assert.equal(stripTags(cut), 'abcd…');
  assert.ok(cut.endsWith('{/}'), 'a cut styled line closes its styles');
  assert.equal(cutTagged('plain text', 5), 'plai…');
  assert.equal(cutTagged('{bold}ok{/bold}', 5), '{bold}ok{/bold}', 'lines that fit are returned as they are');
  assert.equal(stripTags(cutTagged('{open}{open}{open}', 2)), '{…');
  assert.equal(visibleWidth(padTagged('{red-fg}ab{/red-fg}', 6)), 6);
  assert.equal(paint('x', ['bold', 'red'], true), '{bold}{red-fg}x{/red-fg}{/bold}');
  assert.equal(paint('x', ['bold', 'red'], false), '{bold}x{/bold}', 'no colour keeps bold');
  assert.equal(paint('x', 'gray', false), 'x');
  const wrapped = wrapUntrusted(`${'a'.repeat(25)}\x1b{bold}`, 10, 3);
  assert.deepEqual(wrapped.map(stripTags), ['aaaaaaaaaa', 'aaaaaaaaaa', 'aaaaa\\x1b…']);
});

test('tags: blessed itself paints our lines as stripTags says, escapes and all', () => {
  const output = new PassThrough();
  const input = new PassThrough();
  (output as unknown as { columns: number; rows: number }).columns = 60;
  (output as unknown as { columns: number; rows: number }).rows = 12;
  const screen = blessed.screen({ input, output, terminal: 'xterm-256color', fullUnicode: true, warnings: false } as blessed.Widgets.IScreenOptions);
  try {
    const hostile = snap(1, { source: { kind: 'live', name: HOSTILE, linkType: 1, description: 'TUN', filter: '' } });
    const lines = [...statisticsPanel(hostile, FACTS, 60, true).slice(0, 3), ...networkStatsPanel(hostile, 60, true)];
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 60, height: 12, tags: true, content: lines.join('\n') });
    screen.render();
    const painted = (screen as unknown as { lines: [unknown, string][][] }).lines.slice(0, lines.length)
      .map((cells) => cells.map((c) => c[1]).join('').trimEnd());
    assert.deepEqual(painted, lines.map((l) => stripTags(l).trimEnd()));
    assert.ok(painted[0]!.includes('{bold}x{/bold}'), 'the hostile name is shown as text, its tags inert');
    assert.ok(painted[0]!.includes('\\x1b]0;pwned\\x07'));
    box.destroy();
  } finally {
    screen.destroy();
  }
});

// ----------------------------------------------------------------------------------- TrafficHistory

test('TrafficHistory: one sample per generation, totals summed over rows, counts by protocol, capacity kept', () => {
  const h = new TrafficHistory(5);
  const s1 = snap(1);
  h.push(s1);
  h.push(s1);
  h.push(snap(1, { connections: [] }));
  assert.equal(h.size, 1, 'a generation already seen is ignored');
  const first = h.latest()!;
  assert.equal(first.rxBps, 153_600 + 400 + 120 + 64);
  assert.equal(first.txBps, 2048 + 100 + 80 + 64);
  assert.deepEqual([first.connections, first.tcp, first.udp, first.other], [4, 2, 1, 1]);
  assert.equal(first.nowMicros, s1.nowMicros);

  h.push(snap(0));
  assert.equal(h.size, 1, 'an older generation is ignored too');
  for (let g = 2; g <= 9; g++) h.push(rateSnap(90 + g, g * 100, g));
  assert.equal(h.size, 5, 'capacity');
  assert.deepEqual(h.samples().map((s) => s.generation), [95, 96, 97, 98, 99], 'oldest dropped first');
  assert.deepEqual(h.last(2).map((s) => s.rxBps), [800, 900]);
  assert.equal(h.spanMicros(), 4 * SEC);
  h.clear();
  assert.equal(h.size, 0);
  h.push(snap(1));
  assert.equal(h.size, 1, 'after clear() generations start over (a new session)');
});

test('TrafficHistory: a quiet spell between generations is filled at the tick interval; a late tick after traffic is not', () => {
  const h = new TrafficHistory(120, SEC);
  h.push(rateSnap(1, 0, 0));
  h.push(rateSnap(2, 0, 0));
  h.push(rateSnap(7, 500, 50)); // the session reused generation 2's snapshot for 5 quiet ticks
  assert.deepEqual(h.samples().map((s) => s.nowMicros - T0), [1, 2, 3, 4, 5, 6, 7].map((n) => n * SEC));
  assert.deepEqual(h.samples().map((s) => s.rxBps), [0, 0, 0, 0, 0, 0, 500]);
  assert.equal(h.samples()[4]!.connections, 1, 'filled samples keep the quiet snapshot\'s counts');
  h.push(rateSnap(10, 300, 30)); // traffic before: the gap means a late tick, not silence
  assert.equal(h.size, 8);
  h.push(rateSnap(11, 0, 0));
  h.push(rateSnap(10_000, 0, 0));
  assert.equal(h.size, 120, 'a long gap fills the history at most once over');
});

test('TrafficHistory: application mix and top processes come from the latest snapshot', () => {
  const h = history([snap(1, { connections: [HTTPS] }), snap(2)]);
  assert.deepEqual(h.appMix(), [{ name: 'HTTPS', count: 2 }, { name: 'DNS', count: 1 }, { name: 'unknown', count: 1 }]);
  const top = h.topProcesses(5);
  assert.deepEqual(top.map((p) => p.name), ['firefox', 'systemd-resolved', '(unknown)']);
  assert.equal(top[0]!.rxBps, 153_600 + 400);
  assert.equal(top[0]!.txBps, 2048 + 100);
  assert.equal(top[0]!.connections, 2);
  assert.equal(h.topProcesses(1).length, 1);
  assert.equal(h.snapshot()?.generation, 2);
});

// ------------------------------------------------------------------------------------------ Traffic

test('trafficPanel: current rates in text, a sparkline with the newest sample on the right, any box size', () => {
  const h = new TrafficHistory();
  for (let i = 1; i <= 90; i++) h.push(rateSnap(i, i === 90 ? 80_000 : 1000, i % 2 === 0 ? 500 : 0));
  const lines = trafficPanel(h, 40, 6, false);
  assert.equal(lines.length, 6);
  const text = lines.map(stripTags);
  assert.match(text[0]!, /↓ RX 78\.1 KB\/s peak 78\.1 KB\/s over 39s/);
  const tx = text.findIndex((l) => l.startsWith('↑ TX'));
  assert.match(text[tx]!, /↑ TX 500 B\/s peak 500 B\/s/);
  // rx: 2 chart rows; the newest (rightmost) column is the peak, full height; the rest barely above zero.
  const rxRows = text.slice(1, tx);
  assert.equal(rxRows.length, 2);
  for (const r of rxRows) assert.equal(r.length, 40);
  assert.equal(rxRows[0]!.at(-1), '█');
  assert.equal(rxRows[1]!.at(-1), '█');
  assert.equal(rxRows[1]![0], '▁', 'a small rate still shows');
  assert.equal(rxRows[0]![0], ' ');
  // tx alternates between 500 and 0: full blocks and gaps, the newest (second 90, even) a block.
  const txRow = text.at(-1)!;
  assert.equal(txRow.at(-1), '█');
  assert.equal(txRow.at(-2), ' ');

  for (const width of WIDTHS) {
    for (let height = 0; height <= 9; height++) {
      const out = trafficPanel(h, width, height, true);
      assert.ok(out.length <= height, `height ${height}: ${out.length} lines`);
      assertFits(out, width, `traffic ${height}`);
    }
  }
  assert.deepEqual(trafficPanel(h, 40, 1, false).map(stripTags), ['↓ 78.1 KB/s ↑ 500 B/s']);
  const compact = trafficPanel(h, 40, 2, false).map(stripTags);
  assert.match(compact[0]!, /^↓ 78\.1 KB\/s +[ ▁▂▃▄▅▆▇█]+$/);
  assert.equal(compact[0]!.at(-1), '█');
});

test('trafficPanel: before the first sample, and with fewer samples than columns (padded on the left)', () => {
  const empty = trafficPanel(new TrafficHistory(), 30, 5, false).map(stripTags);
  assert.match(empty[0]!, /0 B\/s/);
  assert.match(empty[1]!, /waiting/);
  const h = history([rateSnap(1, 100, 100), rateSnap(2, 200, 200)]);
  const chart = trafficPanel(h, 30, 4, false).map(stripTags);
  assert.equal(chart[1], `${' '.repeat(28)}▄█`);
});

// ------------------------------------------------------------------------------------ Network Stats

test('networkStatsPanel: active (summed over open TCP rows) / total (since start), and active TCP flows', () => {
  const text = networkStatsPanel(snap(1), 60, false).map(stripTags);
  assert.deepEqual(text, [
    'TCP Retransmits: 7 / 142 total',
    'Out-of-Order: 1 / 89 total',
    'Fast Retransmits: 3 / 23 total',
    'Active TCP Flows: 2',
  ]);
  const narrow = networkStatsPanel(snap(1), 22, false).map(stripTags);
  assert.deepEqual(narrow, ['Retrans: 7 / 142 total', 'OOO: 1 / 89 total', 'Fast rtx: 3 / 23 total', 'Active TCP Flows: 2']);
  const quiet = networkStatsPanel(snap(1, { connections: [DNS], tcp: { retransmits: 0, outOfOrder: 0, fastRetransmits: 0 } }), 60, true);
  assert.equal(stripTags(quiet[0]!), 'TCP Retransmits: 0 / 0 total');
  assert.equal(stripTags(quiet[3]!), 'Active TCP Flows: 0');
  for (const w of WIDTHS) assertFits(networkStatsPanel(snap(1), w, true), w, 'network stats');
  assert.match(networkStatsPanel(snap(1), 60, true)[0]!, /\{yellow-fg\}7\{\/yellow-fg\}/, 'active retransmits stand out');
});

// --------------------------------------------------------------------------------------- Interfaces

test('interfacesPanel: up to three interfaces with traffic, the captured one first, then by rate; errors and drops summed', () => {
  const text = interfacesPanel(snap(1), 60, false).map(stripTags);
  assert.deepEqual(text, [
    'eth0: 2.40 KB/s ↓ / 1.96 KB/s ↑',
    'Errors (Total): 0  Drops (Total): 0',
    'lo: 879 KB/s ↓ / 879 KB/s ↑',
    'Errors (Total): 0  Drops (Total): 0',
    'wlan0: 48.8 KB/s ↓ / 1000 B/s ↑',
    'Errors (Total): 6  Drops (Total): 22',
  ]);
  assert.match(interfacesPanel(snap(1), 60, true)[0]!, /\{cyan-fg\}eth0:/, 'the captured interface is highlighted');
  assert.match(interfacesPanel(snap(1), 60, true)[5]!, /\{red-fg\}6\{\/red-fg\}/, 'errors stand out');
  assert.deepEqual(interfacesPanel(snap(1), 30, false).map(stripTags).slice(4), ['wlan0: 48.8 KB/s ↓ 1000 B/s ↑', 'Err: 6 Drop: 22']);
  for (const w of WIDTHS) assertFits(interfacesPanel(snap(1), w, true), w, 'interfaces');
});

test('interfacesPanel: a replay says interface counters are live-only; live without counters says so; idle ones', () => {
  const replaySource = { kind: 'replay', name: 'x.pcap', linkType: 1, description: 'pcap', filter: '' } as const;
  assert.deepEqual(interfacesPanel(snap(1, { interfaces: [], source: replaySource }), 60, false), ['Interface counters are live-only (this is a replay).']);
  assert.deepEqual(interfacesPanel(snap(1, { interfaces: [] }), 60, false), ['No interface counters available.']);
  assert.deepEqual(interfacesPanel(snap(1, { interfaces: [iface({ rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 })] }), 60, false),
    ['No interface has traffic yet.']);
  const hostile = interfacesPanel(snap(1, { interfaces: [iface({ name: HOSTILE, captured: true })] }), 120, true);
  assertInert(hostile, 'interface name');
  assert.ok(stripTags(hostile[0]!).startsWith('evil\\x1b]0;pwned\\x07{bold}x{/bold}\\u202e:'));
});

// --------------------------------------------------------------------------------------- Statistics

test('statisticsPanel: source and type, packets, drops, connections, process detection, privileges, loopback hint', () => {
  const text = statisticsPanel(snap(1), FACTS, 70, false).map(stripTags);
  assert.deepEqual(text, [
    'Interface: eth0 (Ethernet)',
    'Packets: 12,345 seen, 12,000 decoded',
    'Kernel drops: not reported',
    'Connections: 4 now, 1,234 created, 7 evicted',
    'loopback hidden: 300 packets (--show-localhost to show)',
    'Process detection: procfs (socket inodes)',
    'Privileges: root (sandbox off)',
    'Skipped: 345 (malformed 45)',
  ]);
  const tun = snap(1, { source: { kind: 'live', name: 'tun0', linkType: 101, description: 'TUN', filter: 'tcp port 443' } });
  const shown = statisticsPanel(tun, { ...FACTS, kernelDrops: 12, localhostHidden: false }, 70, false).map(stripTags);
  assert.equal(shown[0], 'Interface: tun0 (TUN)');
  assert.equal(shown[1], 'BPF filter: tcp port 443');
  assert.ok(shown.includes('Kernel drops: 12'));
  assert.ok(!shown.some((l) => l.includes('--show-localhost')), 'no hint when loopback is shown');
  assert.match(statisticsPanel(tun, { ...FACTS, kernelDrops: 12 }, 70, true).join('\n'), /\{red-fg\}12\{\/red-fg\}/);
  assert.ok(statisticsPanel(snap(1, { capture: { ...snap(1).capture, skipped: {} } }), FACTS, 70, false)
    .map(stripTags).includes('loopback hidden (--show-localhost to show)'));
});

test('statisticsPanel: a replay names the file and its progress; hostile names and facts are escaped; widths', () => {
  const replay = snap(1, { source: { kind: 'replay', name: '/tmp/cap.pcapng', linkType: 1, description: 'pcapng', filter: '' } });
  const facts: StatusFacts = { ...FACTS, processDetection: 'none: replay', replay: { file: '/tmp/cap.pcapng', progress: '45% (12s of 27s)' } };
  const text = statisticsPanel(replay, facts, 60, false).map(stripTags);
  assert.equal(text[0], 'File: /tmp/cap.pcapng (pcapng)');
  assert.equal(text[1], 'Replay: 45% (12s of 27s)');
  assert.ok(text.includes('Process detection: none: replay'));

  const hostile = snap(1, { source: { kind: 'live', name: HOSTILE, linkType: 1, description: HOSTILE, filter: HOSTILE } });
  const hostileFacts: StatusFacts = { ...FACTS, processDetection: HOSTILE, privileges: HOSTILE, replay: { file: HOSTILE, progress: HOSTILE } };
  for (const w of WIDTHS) {
    const lines = statisticsPanel(hostile, hostileFacts, w, true);
    assertInert(lines, `statistics ${w}`);
    assertFits(lines, w, 'statistics');
    assertFits(statisticsPanel(snap(1), FACTS, w, true), w, 'statistics');
  }
  assert.ok(stripTags(statisticsPanel(hostile, hostileFacts, 120, false)[0]!).includes('evil\\x1b]0;pwned\\x07{bold}x{/bold}\\u202e'));
});

test('color: false leaves no colour tags in any panel', () => {
  const h = history([rateSnap(1, 10, 10), rateSnap(2, 1000, 0), snap(3)]);
  const all = [
    ...trafficPanel(h, 60, 7, false), ...trafficPanel(h, 60, 2, false), ...networkStatsPanel(snap(3), 60, false),
    ...interfacesPanel(snap(3), 60, false), ...statisticsPanel(snap(3), { ...FACTS, kernelDrops: 3 }, 60, false),
  ];
  for (const l of all) assert.doesNotMatch(l, COLOR_TAG, l);
  // …while with colour there are some, so the check above can fail.
  assert.match(trafficPanel(h, 60, 7, true).join(''), COLOR_TAG);
});

// ------------------------------------------------------------------------------------- real capture

test('a real replay (ndpi__iphone): panels agree with the snapshots they are built from', async () => {
  const { snaps } = await replayWithSnapshots('ndpi__iphone.pcap');
  const h = new TrafficHistory();
  for (const s of snaps) h.push(s);
  const busiest = snaps.reduce((a, b) => (b.connections.length > a.connections.length ? b : a));
  assert.ok(busiest.connections.length > 5, `${busiest.connections.length} connections`);
  assert.equal(h.latest()!.generation, snaps.at(-1)!.generation);
  // The samples are the snapshots' sums; the quiet seconds between them are filled in packet time.
  const rates = new Map(snaps.map((s) => [s.generation, s.connections.reduce((n, r) => n + r.receiveRateBps, 0)]));
  const own = h.samples().filter((s, i, all) => i === 0 || all[i - 1]!.generation !== s.generation);
  for (const s of own) assert.equal(s.rxBps, rates.get(s.generation));
  assert.ok(own.some((s) => s.rxBps > 10_000), 'the capture ends in a busy stretch');
  assert.ok(h.size > snaps.length, 'quiet seconds filled');
  assert.equal(h.spanMicros(), snaps.at(-1)!.nowMicros - snaps[0]!.nowMicros);

  const last = snaps.at(-1)!;
  const facts: StatusFacts = { ...FACTS, processDetection: 'none: replay', replay: { file: 'ndpi__iphone.pcap', progress: '100%' } };
  const stats = statisticsPanel(last, facts, 80, false).map(stripTags);
  assert.ok(stats[0]!.startsWith('File: ') && stats[0]!.includes('ndpi__iphone.pcap'), stats[0]);
  assert.ok(last.capture.framesSeen > 100);
  const n = (v: number): string => v.toLocaleString('en-US');
  assert.ok(stats.includes(`Packets: ${n(last.capture.framesSeen)} seen, ${n(last.capture.framesDecoded)} decoded`), stats.join('\n'));
  assert.ok(stats.includes(`Connections: 0 now, ${last.connectionsCreated} created, 0 evicted`), stats.join('\n'));

  const net = networkStatsPanel(busiest, 80, false).map(stripTags);
  const tcpRows = busiest.connections.filter((r) => r.tcp !== null);
  const active = tcpRows.reduce((n, r) => n + r.tcp!.retransmits, 0);
  assert.equal(net[0], `TCP Retransmits: ${active} / ${busiest.tcp.retransmits} total`);
  assert.equal(net[3], `Active TCP Flows: ${tcpRows.length}`);
  assert.deepEqual(interfacesPanel(last, 80, false), ['Interface counters are live-only (this is a replay).']);

  for (const w of WIDTHS) {
    assertFits(trafficPanel(h, w, 5, true), w, 'replay traffic');
    assertFits(statisticsPanel(busiest, facts, w, true), w, 'replay statistics');
    assertFits(networkStatsPanel(busiest, w, true), w, 'replay network stats');
  }
});
