// Graph and Help screens: charts drawn right, everything fits any box, hostile names escaped, every key listed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionRow, Snapshot } from '../src/core/snapshot.js';
import { blockChart, graphLines, hbar, sparkline } from '../src/ui/graph-view.js';
import { helpLines } from '../src/ui/help-view.js';
import { COLOR_TAG, stripTags, visibleWidth } from '../src/ui/tags.js';
import { TrafficHistory } from '../src/ui/traffic-history.js';
import { HOSTILE } from './support/lines.js';
import { connectionRow, snapshotOf } from './support/rows.js';

const T0 = 1_700_000_000_000_000;
const SEC = 1_000_000;

/** firefox on HTTPS to example.com: 1000 bytes and 10 packets each way, no rate, seen at T0. */
function row(over: Partial<ConnectionRow>): ConnectionRow {
  return connectionRow({
    id: 1, localAddr: '10.0.0.2', localPort: 40000,
    app: { protocol: 'HTTPS', domain: 'example.com', details: { sni: 'example.com' } },
    bytesSent: 1000, bytesReceived: 1000, packetsSent: 10, packetsReceived: 10,
    tcp: { retransmits: 0, outOfOrder: 0, fastRetransmits: 0, dupAcks: 0 },
    firstSeenMicros: T0, lastSeenMicros: T0, pid: 100, processName: 'firefox', ...over,
  });
}

const snap = (generation: number, connections: ConnectionRow[]): Snapshot =>
  snapshotOf(connections, { generation, nowMicros: T0 + generation * SEC });

/** 100 seconds: rx ramps up to 100 KB/s at the end, tx steady at 1 KB/s; connections grow from 1 to 10. */
function busyHistory(): TrafficHistory {
  const h = new TrafficHistory();
  for (let g = 1; g <= 100; g++) {
    const n = Math.ceil(g / 10);
    const rows: ConnectionRow[] = [];
    for (let i = 0; i < n; i++) {
      rows.push(row({ id: i, receiveRateBps: (g * 1024) / n, sendRateBps: 1024 / n }));
    }
    if (g === 100) {
      // The final mix: 6 HTTPS (firefox), 2 DNS (resolved), 1 QUIC (curl), 1 unknown ICMP (no process).
      rows.splice(6, 4,
        row({ id: 6, protocol: 'UDP', app: { protocol: 'DNS', domain: 'a', details: {} }, processName: 'systemd-resolved', receiveRateBps: 10, sendRateBps: 10, tcp: null }),
        row({ id: 7, protocol: 'UDP', app: { protocol: 'DNS', domain: 'b', details: {} }, processName: 'systemd-resolved', receiveRateBps: 10, sendRateBps: 10, tcp: null }),
        row({ id: 8, protocol: 'UDP', app: { protocol: 'QUIC', domain: 'c', details: {} }, processName: 'curl', receiveRateBps: 40_000, sendRateBps: 500, tcp: null }),
        row({ id: 9, protocol: 'ICMP', hasPorts: false, app: null, processName: undefined, receiveRateBps: 0, sendRateBps: 0, tcp: null }),
      );
    }
    h.push(snap(g, rows));
  }
  return h;
}

function assertFits(lines: readonly string[], width: number, height: number, what: string): void {
  assert.ok(lines.length <= height, `${what}: ${lines.length} lines for a height of ${height}`);
  for (const l of lines) assert.ok(visibleWidth(l) <= width, `${what}: ${JSON.stringify(stripTags(l))} is ${visibleWidth(l)} wide`);
}

// ------------------------------------------------------------------------------------------- charts

test('sparkline and blockChart: one column per value, newest right, eight levels per row, 0 blank', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8], 9), ' ▁▂▃▄▅▆▇█');
  assert.equal(sparkline([8, 4], 5), '   █▄', 'fewer values than columns: padded on the left');
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 3), '▆▇█', 'more values than columns: the newest kept');
  assert.equal(sparkline([1, 1000], 2), '▁█', 'a tiny value still leaves a mark');
  assert.equal(sparkline([5, 5], 2, 10), '▄▄', 'an explicit scale');
  assert.equal(sparkline([0, 0], 2), '  ');
  assert.deepEqual(blockChart([16, 8, 4, 1], 4, 2), ['█   ', '██▄▁']);
  assert.deepEqual(blockChart([12], 1, 3, 24), [' ', '▄', '█']);
  assert.deepEqual(blockChart([1], 0, 3), []);
  assert.equal(hbar(5, 10, 4), '██  ');
  assert.equal(hbar(1, 16, 2), '▏ ');
  assert.equal(hbar(0, 10, 3), '   ');
});

// -------------------------------------------------------------------------------------------- graph

test('graph: traffic with its scale, connections over time, application mix with counts and percent, top processes', () => {
  const h = busyHistory();
  const lines = graphLines(h, 90, 40, false).map(stripTags);
  const at = (prefix: string): number => {
    const i = lines.findIndex((l) => l.startsWith(prefix));
    assert.ok(i >= 0, `no "${prefix}" in\n${lines.join('\n')}`);
    return i;
  };
  // Traffic: the latest rates in the title, the peak on the axis, the newest (highest) column at the right.
  const traffic = at('Traffic');
  // Second 100: six HTTPS rows at 10 KB/s each + QUIC 40,000 B/s + DNS 20 B/s down; 614 + 500 + 20 B/s up.
  assert.match(lines[traffic]!, /^Traffic ↓ 99\.1 KB\/s ↑ 1\.11 KB\/s · last 1m 18s$/);
  assert.match(lines[traffic + 1]!, /^↓99\.1 KB\/s┤/, 'the rx scale is the peak in view');
  const rxTop = lines[traffic + 1]!;
  assert.equal(rxTop.length, 90);
  assert.equal(rxTop.at(-1), '█', 'the newest column is the peak and reaches the top row');
  assert.notEqual(rxTop.at(-30), '█', 'older, lower columns do not');
  const txAxis = lines.findIndex((l, i) => i > traffic && /^ *↑\d/.test(l));
  assert.match(lines[txAxis]!, /^↑1\.11 KB\/s┤/);

  const conns = at('Connections');
  assert.equal(lines[conns], 'Connections 10 (TCP 6 · UDP 3 · other 1)');
  assert.match(lines[conns + 1]!, /^ +10┤/);

  const apps = at('Applications');
  assert.equal(lines[apps], 'Applications (10 connections)');
  const mix = lines.slice(apps + 1, apps + 5).map((l) => l.split(/ +/).filter((w) => !/^[█▏▎▍▌▋▊▉]+$/.test(w)));
  assert.deepEqual(mix, [['HTTPS', '6', '60%'], ['DNS', '2', '20%'], ['QUIC', '1', '10%'], ['unknown', '1', '10%']]);
  assert.ok(lines[apps + 1]!.includes('█'.repeat(20)), 'the largest share has the longest bar');

  const procs = at('Top processes');
  const names = lines.slice(procs + 1, procs + 5).map((l) => l.split(' ')[0]);
  assert.deepEqual(names, ['firefox', 'curl', 'systemd-resolved', '(unknown)']);
  assert.match(lines[procs + 1]!, /↓ 60\.0 KB\/s ↑ 614 B\/s 6 conn$/);
  assert.match(lines[procs + 2]!, /↓ 39\.1 KB\/s ↑ 500 B\/s 1 conn$/);
});

test('graph: fits every box from 1×1 to 200×60, with and without colour; wide screens use two columns', () => {
  const h = busyHistory();
  for (const width of [1, 10, 20, 30, 45, 60, 80, 99, 100, 120, 200]) {
    for (const height of [1, 2, 3, 4, 5, 7, 10, 20, 40, 60]) {
      for (const color of [true, false]) {
        assertFits(graphLines(h, width, height, color), width, height, `graph ${width}×${height}`);
      }
    }
  }
  const wide = graphLines(h, 120, 30, false).map(stripTags);
  assert.ok(wide[0]!.startsWith('Traffic') && wide[0]!.includes('│ Applications'), wide[0]);
  assert.ok(wide.some((l) => l.includes('│ Top processes')));
  // Small boxes keep the most useful parts: traffic first, then the application mix.
  const small = graphLines(h, 60, 6, false).map(stripTags);
  assert.ok(small[0]!.startsWith('Traffic'));
  const appsAt = small.findIndex((l) => l.startsWith('Applications'));
  assert.ok(appsAt > 0);
  assert.equal(small[appsAt + 1], 'HTTPS 6 · DNS 2 · QUIC 1 · unknown 1', 'one line left for the mix: the counts alone');
  assert.ok(!small.some((l) => l.startsWith('Top processes')));
  assert.deepEqual(graphLines(h, 60, 2, false).map(stripTags), ['↓ 99.1 KB/s ↑ 1.11 KB/s · 10 connections', 'HTTPS 6 · DNS 2 · QUIC 1 · unknown 1']);
  assert.deepEqual(graphLines(h, 0, 10, false), []);
  assert.deepEqual(graphLines(h, 10, 0, false), []);
});

test('graph: an empty history says so; color:false has no colour tags; hostile process names are escaped', () => {
  const empty = graphLines(new TrafficHistory(), 80, 20, false).map(stripTags);
  assert.ok(empty.includes('no samples yet'));
  assert.ok(empty.includes('no connections'));

  const h = busyHistory();
  for (const l of graphLines(h, 120, 40, false)) assert.doesNotMatch(l, COLOR_TAG, l);
  assert.match(graphLines(h, 120, 40, true).join(''), COLOR_TAG);

  const evil = new TrafficHistory();
  evil.push(snap(1, [row({ processName: HOSTILE, receiveRateBps: 100 })]));
  for (const width of [30, 60, 120, 200]) {
    const lines = graphLines(evil, width, 30, true);
    for (const l of lines) {
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(l, /[\u0000-\u001f\u007f-\u009f\u202e]/);
      assert.ok(!l.includes('{bold}x'), l);
    }
  }
  assert.ok(graphLines(evil, 200, 30, false).map(stripTags).some((l) => l.includes('evil\\x1b]0;pwned\\x07{bold}x{/bold}\\u202e')));
});

// --------------------------------------------------------------------------------------------- help

test('help: every key, every filter keyword, the regex and AND rules, and the staleness colours', () => {
  const text = helpLines(120, false).map(stripTags).join('\n');
  for (const key of ['↑ / k', '↓ / j', 'g / G', 'PgUp / PgDn', 'Tab / Shift+Tab', '1 – 5', 'Enter', 'Esc', 'q q', 'Ctrl+C']) {
    assert.ok(text.includes(key), `key ${key}`);
  }
  for (const key of ['/', 'a', 'i', 'h', 't', 'x', 'r', 'c', 'p', 'd', 's', 'S']) {
    assert.match(text, new RegExp(`^${key.replace('/', '\\/')} +\\S`, 'm'), `key ${key}`);
  }
  assert.match(text, /^a +group rows by process, then systemd unit, then container/m);
  assert.match(text, /^x +clear .*twice/m);
  for (const kw of ['port:', 'sport:', 'dport:', 'src:', 'dst:', 'process:', 'sni:', 'ssh:', 'state:', 'proto:', 'service:', 'app:', 'unit:', 'container:']) {
    assert.match(text, new RegExp(`^${kw} +\\S`, 'm'), `keyword ${kw}`);
  }
  assert.match(text, /regular expression: sni:\/\^api\\\.\//);
  assert.match(text, /must all match \(AND\)/);
  assert.match(text, /^white +active: idle under 75 %/m);
  assert.match(text, /^yellow +stale: 75–90 %/m);
  assert.match(text, /^red +about to be removed: over 90 %/m);
});

test('help: fits 30/60/120 columns; colour only when asked, the staleness names in their colours', () => {
  for (const width of [20, 30, 60, 120]) {
    for (const color of [true, false]) {
      for (const l of helpLines(width, color)) assert.ok(visibleWidth(l) <= width, `${width}: ${JSON.stringify(stripTags(l))}`);
    }
  }
  // Narrow: long keys get their own line, descriptions wrap, nothing is lost.
  const narrow = helpLines(30, false).map(stripTags);
  const i = narrow.indexOf('Tab / Shift+Tab');
  assert.ok(i > 0);
  assert.match(narrow[i + 1]!, /^ +next \/ previous tab$/);
  const words = (lines: string[]): string => lines.map((l) => l.trim()).join(' ').replace(/\s+/g, ' ');
  assert.ok(words(narrow).includes('copy the remote address (clipboard tool, else the terminal via OSC 52)'));
  for (const l of helpLines(80, false)) assert.doesNotMatch(l, COLOR_TAG);
  const colored = helpLines(80, true).join('\n');
  assert.match(colored, /\{yellow-fg\}yellow\{\/yellow-fg\}/);
  assert.match(colored, /\{red-fg\}red\{\/red-fg\}/);
});
