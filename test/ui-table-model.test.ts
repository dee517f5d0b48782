// The connection table as text: widths, cells, colours, hostile strings, selection, grouping, history, speed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionRow, Snapshot } from '../src/core/snapshot.js';
import { buildTable, staleness, type TableContext, type TableModel } from '../src/ui/table-model.js';
import { groupKey, initialViewState, reduce, type ViewState } from '../src/ui/view-state.js';
import { keyToAction } from '../src/ui/keys.js';
import { connectionRow, snapshotOf } from './support/rows.js';

const NOW = 1_700_000_000_000_000;

/** Each row on a local port of its own, all seen just now. */
function conn(over: Partial<ConnectionRow> & { id: number }): ConnectionRow {
  return connectionRow({ localPort: 50000 + over.id, lastSeenMicros: NOW, ...over });
}

function snap(connections: readonly ConnectionRow[]): Snapshot {
  return snapshotOf(connections, {
    nowMicros: NOW, source: { kind: 'replay', name: 'test.pcap', linkType: 1, description: 'Ethernet', filter: '' },
  });
}

const CTX: TableContext = { nowMicros: NOW, history: [], color: true };
const S0 = initialViewState();

/** What the terminal shows for a tagged line: tags removed, escaped braces back to braces. */
function strip(tagged: string): string {
  return tagged.replace(/\{(open|close|\/?[a-z-]*)\}/g, (m) => (m === '{open}' ? '{' : m === '{close}' ? '}' : ''));
}

/** Every `{…}` in `tagged` is a known blessed tag or an escaped brace (no stray text a parser could misread). */
function assertOnlyKnownTags(tagged: string): void {
  const known = /^\{(open|close|\/|\/?(bold|underline|inverse|cyan-fg|yellow-fg|red-fg|gray-fg))\}$/;
  for (const m of tagged.matchAll(/\{[^{}]*\}/g)) assert.match(m[0], known, `unexpected tag ${m[0]} in ${tagged}`);
}

const HOSTILE_SNI = 'evil\x1b[2J\x1b]0;pwned\x07{bold}{red-fg}.example';
const REALISTIC: ConnectionRow[] = [
  conn({
    id: 1, processName: 'firefox', pid: 4242, receiveRateBps: 1536, sendRateBps: 512, remoteHostname: 'www.example.com',
    app: { protocol: 'HTTPS', domain: 'www.example.com', details: { sni: 'www.example.com' } },
  }),
  conn({
    id: 2, protocol: 'UDP', family: 6, localAddr: '2001:db8::7334', remoteAddr: '2606:4700:4700::1111',
    remotePort: 53, service: 'domain', state: 'UDP_ACTIVE', processName: 'systemd-resolved', pid: 300,
    app: { protocol: 'DNS', domain: 'example.org', details: {} },
  }),
  conn({ id: 3, protocol: 'ICMP', hasPorts: false, localPort: 0, remotePort: 0, remoteAddr: '8.8.8.8', state: 'ECHO_REQUEST', service: undefined }),
  conn({
    id: 4, processName: 'evil\x1b[31m{bold}\x07', pid: 66, receiveRateBps: 12_900_000, sendRateBps: 3,
    app: { protocol: 'HTTPS', domain: HOSTILE_SNI, details: { sni: HOSTILE_SNI } },
    remoteHostname: 'host\x1b[1A{/}.test',
  }),
  conn({ id: 5, direction: 'incoming', localPort: 22, remoteAddr: '203.0.113.9', remotePort: 61000, service: 'ssh', processName: 'sshd', pid: 1 }),
];

function allText(m: TableModel): string[] {
  return [m.title, m.header, ...m.lines, ...(m.filterLine === null ? [] : [m.filterLine])];
}

test('every line and the header are exactly the terminal width at 160, 100, 80 and 40 columns', () => {
  const states: ViewState[] = [
    S0,
    { ...S0, sort: { column: 'bandwidth', descending: true }, selectedKey: '4', selectedIndex: 3 },
    { ...S0, showHostnames: true, showPortNumbers: true, sort: { column: 'remote', descending: false } },
    { ...S0, grouping: 'process', expanded: new Set([groupKey('process', 'firefox')]) },
    { ...S0, showHistory: true, grouping: 'unit', expanded: new Set([groupKey('unit', undefined)]), selectedKey: '9', selectedIndex: 2 },
  ];
  const ctxHistory = [conn({ id: 9, closedAtMicros: NOW, closeReason: 'timeout', processName: 'curl\x1b' })];
  for (const width of [160, 100, 80, 40]) {
    for (const color of [true, false]) {
      for (const state of states) {
        const m = buildTable(snap(REALISTIC), state, width, 20, { ...CTX, color, history: ctxHistory });
        assert.equal(strip(m.header).length, width, `header at ${width}`);
        assert.ok(m.lines.length > 0);
        for (const line of m.lines) {
          assert.equal(strip(line).length, width, `line at ${width}: ${JSON.stringify(strip(line))}`);
          assertOnlyKnownTags(line);
        }
        assertOnlyKnownTags(m.header);
      }
    }
  }
});

test('narrow terminals keep Pro, Remote, Down/Up and Process', () => {
  const m = buildTable(snap(REALISTIC), S0, 40, 10, CTX);
  assert.deepEqual(m.columns.map((c) => c.def.id), ['protocol', 'remote', 'bandwidth', 'process']);
  assert.match(strip(m.header), /^Pro\s+Remote Address\s+Down\/Up\s+Proc\s*$/);
  const wide = buildTable(snap(REALISTIC), S0, 160, 10, CTX);
  assert.match(strip(wide.header), /^Pro\s+Local Address\s+Remote Address\s+State\s+Service\s+Application \/ Host\s+Down\/Up\s+Process\s*$/);
});

test('cells: endpoints, service, application / host, compact rates, process', () => {
  const m = buildTable(snap(REALISTIC), S0, 160, 10, CTX);
  const [firefox, dns, ping, , sshd] = m.lines.map(strip);
  assert.match(firefox!, /^TCP\s+192\.168\.1\.10:50001\s+93\.184\.216\.34:443\s+ESTABLISHED\s+https\s+HTTPS \(www\.example\.com\)\s+1\.50 KB\/s \/ 512 B\/s\s+firefox \(4242\)\s*$/);
  assert.match(dns!, /^UDP\s+\[2001:db8::7334\]:50002\s+\[2606:4700:4700::1111\]:53\s+UDP_ACTIVE\s+domain\s+DNS \(example\.org\)/);
  assert.match(ping!, /^ICMP\s+192\.168\.1\.10\s+8\.8\.8\.8\s+ECHO_REQUEST\s+—\s+—\s+0 B\/s \/ 0 B\/s\s+—\s*$/);
  assert.match(sshd!, /sshd \(1\)\s*$/);
  // p: the Service column shows the service's port (remote for outgoing, local for incoming).
  const ports = buildTable(snap(REALISTIC), { ...S0, showPortNumbers: true }, 160, 10, CTX).lines.map(strip);
  assert.match(ports[0]!, /ESTABLISHED\s+443\s+HTTPS/);
  assert.match(ports[4]!, /ESTABLISHED\s+22\s+—/);
  // d: hostnames replace IPs where known.
  const names = buildTable(snap(REALISTIC), { ...S0, showHostnames: true }, 160, 10, CTX).lines.map(strip);
  assert.match(names[0]!, /www\.example\.com:443/);
  assert.match(names[2]!, /8\.8\.8\.8/);
  // A narrow Down/Up column switches to the compact form.
  const narrow = buildTable(snap(REALISTIC), S0, 40, 10, CTX).lines.map(strip);
  assert.match(narrow[0]!, /1\.50K\/512B/);
  assert.match(narrow[3]!, /12\.3M\/3B/);
});

test('hostile strings (ESC, BEL, braces) never reach the output raw', () => {
  for (const state of [S0, { ...S0, showHostnames: true }, { ...S0, grouping: 'process' as const }]) {
    const m = buildTable(snap(REALISTIC), { ...state, filterText: 'evil\x1b{bold}', filterEditing: true }, 160, 10, CTX);
    for (const text of allText(m)) {
      assert.doesNotMatch(text, /[\x00-\x1f\x7f]/, `control character in ${JSON.stringify(text)}`);
      assertOnlyKnownTags(text);
    }
  }
  const m = buildTable(snap(REALISTIC), S0, 250, 10, CTX);
  const evil = m.lines[3]!;
  assert.ok(evil.includes('{open}bold{close}'), 'braces from the wire are escaped for blessed');
  assert.ok(strip(evil).includes('evil\\x1b[31m{bold}\\x07'), 'process name shown with visible escapes');
  assert.ok(strip(evil).includes('HTTPS (evil\\x1b[2J\\x1b]0;pwned\\x07'), 'SNI shown with visible escapes');
  const filtered = buildTable(snap(REALISTIC), { ...S0, filterText: '{red-fg}\x07', filterEditing: true }, 160, 10, CTX);
  assert.equal(strip(filtered.filterLine!), '/{red-fg}\\x07█');
});

test('staleness: white below 75 %, yellow from 75 %, red above 90 % of the timeout', () => {
  const timeout = 100_000_000;
  const idle = (pct: number): ConnectionRow => conn({ id: pct, timeoutMicros: timeout, lastSeenMicros: NOW - (timeout * pct) / 100 });
  assert.equal(staleness(idle(74), NOW), 'fresh');
  assert.equal(staleness(idle(75), NOW), 'stale');
  assert.equal(staleness(idle(76), NOW), 'stale');
  assert.equal(staleness(idle(90), NOW), 'stale');
  assert.equal(staleness(idle(91), NOW), 'critical');
  assert.equal(staleness(conn({ id: 1, timeoutMicros: 0 }), NOW), 'fresh');
  const rows = [idle(74), idle(76), idle(91)];
  // Select nothing visible in colour terms: put the selection on a fourth row.
  const state = { ...S0, selectedKey: '99', selectedIndex: 3 };
  const m = buildTable(snap([...rows, conn({ id: 99 })]), state, 120, 10, CTX);
  assert.doesNotMatch(m.lines[0]!, /-fg\}/);
  assert.match(m.lines[1]!, /^\{yellow-fg\}.*\{\/yellow-fg\}$/);
  assert.match(m.lines[2]!, /^\{red-fg\}.*\{\/red-fg\}$/);
  assert.match(m.lines[3]!, /^\{inverse\}.*\{\/inverse\}$/);
  // No colour: no colour tags at all, the selection still inverse, the sort header still underlined.
  const plain = buildTable(snap([...rows, conn({ id: 99 })]), { ...state, sort: { column: 'state', descending: false } }, 120, 10, { ...CTX, color: false });
  for (const line of [...plain.lines, plain.header]) assert.doesNotMatch(line, /-fg\}/);
  assert.ok(plain.lines.some((l) => l.startsWith('{inverse}')));
  assert.match(plain.header, /\{underline\}State ↑\s*\{\/underline\}/);
});

test('the active sort column is cyan, underlined, with an arrow; the title names the sort', () => {
  const m = buildTable(snap(REALISTIC), { ...S0, sort: { column: 'bandwidth', descending: true } }, 160, 10, CTX);
  assert.match(m.header, /\{cyan-fg\}\{underline\}Down\/Up ↓\s*\{\/underline\}\{\/cyan-fg\}/);
  assert.equal(m.title, 'Active Connections (Sort: Down/Up ↓) 5');
  assert.equal(strip(m.header).match(/[↑↓]/g)?.length, 1);
  const chrono = buildTable(snap(REALISTIC), S0, 160, 10, CTX);
  assert.equal(chrono.title, 'Active Connections 5');
  assert.doesNotMatch(chrono.header, /[↑↓]|cyan|underline/);
  const newest = buildTable(snap(REALISTIC), { ...S0, sort: { column: null, descending: true } }, 160, 10, CTX);
  assert.equal(newest.title, 'Active Connections (Sort: newest first) 5');
  // Even a narrow column shows its arrow (Process is 6 wide at 40 columns).
  const narrow = buildTable(snap(REALISTIC), { ...S0, sort: { column: 'process', descending: false } }, 40, 10, CTX);
  assert.match(strip(narrow.header), /Proc ↑$/);
  assert.equal(strip(narrow.header).length, 40);
  const filtered = buildTable(snap(REALISTIC), { ...S0, filterText: 'proto:tcp', sort: { column: 'process', descending: false } }, 160, 10, CTX);
  assert.equal(filtered.title, 'Active Connections (Sort: Process ↑) 3 of 5');
  assert.deepEqual(filtered.keys, ['4', '1', '5']); // "evil…", firefox, sshd
});

test('selection stays on its connection across re-sorts and new rows, else the same index clamped', () => {
  const rows = Array.from({ length: 8 }, (_, i) => conn({ id: i + 1, receiveRateBps: (i * 37) % 11 }));
  let state: ViewState = { ...S0, selectedKey: '3', selectedIndex: 2 };
  let m = buildTable(snap(rows), state, 100, 5, CTX);
  assert.equal(m.selected?.id, 3);
  state = reduce(m.state, keyToAction({ ch: 's' }, m.state)!, m.frame).state; // sort by protocol
  for (let i = 0; i < 6; i++) state = reduce(state, { kind: 'sortNext' }, m.frame).state; // … Down/Up ↓
  assert.equal(state.sort.column, 'bandwidth');
  m = buildTable(snap(rows), state, 100, 5, CTX);
  assert.equal(m.selected?.id, 3);
  assert.equal(m.keys[m.selectedIndex], '3');
  assert.notEqual(m.selectedIndex, 2, 'the row moved');
  // New rows arrive, some above it.
  const more = [...rows, conn({ id: 20, receiveRateBps: 1000 }), conn({ id: 21, receiveRateBps: 999 })];
  const m2 = buildTable(snap(more), m.state, 100, 5, CTX);
  assert.equal(m2.selected?.id, 3);
  assert.equal(m2.selectedIndex, m.selectedIndex + 2);
  // The selected row goes away: the same index, clamped.
  const gone = more.filter((r) => r.id !== 3);
  const m3 = buildTable(snap(gone), m2.state, 100, 5, CTX);
  assert.equal(m3.selectedIndex, m2.selectedIndex);
  assert.equal(m3.state.selectedKey, m3.keys[m3.selectedIndex]);
  const few = buildTable(snap(gone.slice(0, 2)), { ...m2.state, selectedIndex: 9 }, 100, 5, CTX);
  assert.equal(few.selectedIndex, 1);
  // A filter that hides everything: nothing selected, the key kept for when rows come back.
  const none = buildTable(snap(rows), { ...state, filterText: 'nothing-matches' }, 100, 5, CTX);
  assert.equal(none.selectedIndex, -1);
  assert.equal(none.selected, null);
  assert.equal(none.lines.length, 0);
  assert.equal(none.emptyMessage, 'No connections match the filter');
  assert.equal(none.state.selectedKey, '3');
  assert.equal(buildTable(snap(rows), { ...none.state, filterText: '' }, 100, 5, CTX).selected?.id, 3);
  assert.equal(buildTable(snap([]), S0, 100, 5, CTX).emptyMessage, 'No connections yet');
});

test('only visible rows are built and the view scrolls to keep the selection visible', () => {
  const rows = Array.from({ length: 100 }, (_, i) => conn({ id: i + 1 }));
  const m = buildTable(snap(rows), { ...S0, selectedKey: '51', selectedIndex: 50 }, 160, 10, CTX);
  assert.equal(m.scrollTop, 41);
  assert.equal(m.lines.length, 10);
  assert.equal(m.keys.length, 100);
  assert.match(m.lines[9]!, /^\{inverse\}/);
  assert.match(strip(m.lines[0]!), /:50042 /);
  // Unchanged state comes back as the same object (the app can compare).
  const again = buildTable(snap(rows), m.state, 160, 10, CTX);
  assert.equal(again.state, m.state);
  // Fewer rows than before: the view does not hang past the end.
  const short = buildTable(snap(rows.slice(0, 45)), m.state, 100, 10, CTX);
  assert.equal(short.scrollTop, 35);
  assert.equal(short.lines.length, 10);
});

test('grouping: collapsed group rows with counts and summed rates; Enter expands; copy needs a connection', () => {
  const rows = [
    conn({ id: 1, processName: 'firefox', receiveRateBps: 1024, sendRateBps: 100 }),
    conn({ id: 2, processName: undefined, receiveRateBps: 10, sendRateBps: 0 }),
    conn({ id: 3, processName: 'firefox', receiveRateBps: 512, sendRateBps: 28 }),
    conn({ id: 4, processName: 'sshd', receiveRateBps: 0, sendRateBps: 0 }),
  ];
  const grouped: ViewState = { ...S0, grouping: 'process' };
  const m = buildTable(snap(rows), grouped, 120, 10, CTX);
  const gf = groupKey('process', 'firefox');
  assert.deepEqual(m.keys, [gf, groupKey('process', undefined), groupKey('process', 'sshd')]);
  assert.match(m.title, /3 groups by process/);
  const lines = m.lines.map(strip);
  assert.match(lines[0]!, /^▸ firefox {2}2 connections\s+1\.50K\/128B\s*$/);
  assert.match(lines[1]!, /^▸ — {2}1 connection\s+10B\/0B\s*$/); // one form for the whole column
  const wide = buildTable(snap(rows), grouped, 200, 10, CTX).lines.map(strip);
  assert.match(wide[0]!, /^▸ firefox {2}2 connections\s+1\.50 KB\/s \/ 128 B\/s\s*$/);
  assert.equal(m.selected, null);
  assert.match(m.lines[0]!, /^\{inverse\}\{bold\}/);
  const copy = reduce(m.state, { kind: 'copy' }, m.frame);
  assert.deepEqual(copy.effects, []);
  assert.match(copy.status!, /no connection selected/);
  // Enter on the group expands it: members follow their group row.
  const opened = reduce(m.state, keyToAction({ name: 'enter' }, m.state)!, m.frame).state;
  const m2 = buildTable(snap(rows), opened, 120, 10, CTX);
  assert.deepEqual(m2.keys, [gf, '1', '3', groupKey('process', undefined), groupKey('process', 'sshd')]);
  assert.match(strip(m2.lines[0]!), /^▾ firefox/);
  const onMember = reduce(m2.state, { kind: 'move', delta: 1 }, m2.frame).state;
  const m3 = buildTable(snap(rows), onMember, 120, 10, CTX);
  assert.equal(m3.selected?.id, 1);
  assert.deepEqual(reduce(m3.state, { kind: 'copy' }, m3.frame).effects, [{ kind: 'copy', text: '93.184.216.34' }]);
  // Down/Up ↓: groups by summed rate.
  const byRate = buildTable(snap(rows), { ...grouped, sort: { column: 'bandwidth', descending: true } }, 120, 10, CTX);
  assert.deepEqual(byRate.keys, [gf, groupKey('process', undefined), groupKey('process', 'sshd')]);
  const byRateUp = buildTable(snap(rows), { ...grouped, sort: { column: 'bandwidth', descending: false } }, 120, 10, CTX);
  assert.deepEqual(byRateUp.keys, [groupKey('process', 'sshd'), groupKey('process', undefined), gf]);
});

test('history (t): closed connections greyed, not doubled, counted in the title', () => {
  const active = [conn({ id: 10 }), conn({ id: 11 })];
  const history = [
    conn({ id: 3, closedAtMicros: NOW - 5, closeReason: 'closed', state: 'CLOSED' }),
    conn({ id: 11, closedAtMicros: NOW - 1, closeReason: 'timeout' }), // also active: the active row wins
  ];
  const ctx = { ...CTX, history };
  const hidden = buildTable(snap(active), S0, 100, 10, ctx);
  assert.deepEqual(hidden.keys, ['10', '11']);
  const shown = buildTable(snap(active), { ...S0, showHistory: true, selectedKey: '10', selectedIndex: 1 }, 100, 10, ctx);
  assert.deepEqual(shown.keys, ['3', '10', '11']); // chronological: the closed one was first seen earlier
  assert.match(shown.lines[0]!, /^\{gray-fg\}.*CLOSED.*\{\/gray-fg\}$/);
  assert.doesNotMatch(shown.lines[2]!, /gray/);
  assert.equal(shown.title, 'Connections (active + closed) 3');
  // The app appending to the same array is noticed on the next build.
  const growing = [...history];
  const connections = snap(active);
  assert.equal(buildTable(connections, { ...S0, showHistory: true }, 100, 10, { ...CTX, history: growing }).keys.length, 3);
  growing.push(conn({ id: 12, closedAtMicros: NOW }));
  assert.deepEqual(buildTable(connections, { ...S0, showHistory: true }, 100, 10, { ...CTX, history: growing }).keys, ['3', '10', '11', '12']);
  const plain = buildTable(snap(active), { ...S0, showHistory: true }, 100, 10, { ...ctx, color: false });
  assert.doesNotMatch(plain.lines.join(''), /gray/);
});

test('filter line: the prompt while editing, the kept filter, an invalid-regex hint', () => {
  assert.equal(buildTable(snap(REALISTIC), S0, 100, 10, CTX).filterLine, null);
  const editing = buildTable(snap(REALISTIC), { ...S0, filterEditing: true, filterText: 'sni:goo' }, 100, 10, CTX);
  assert.equal(editing.filterLine, '/sni:goo█');
  assert.equal(buildTable(snap(REALISTIC), { ...S0, filterEditing: true }, 100, 10, CTX).filterLine, '/█');
  const kept = buildTable(snap(REALISTIC), { ...S0, filterText: 'sni:goo' }, 100, 10, CTX);
  assert.match(strip(kept.filterLine!), /^Filter: sni:goo/);
  const bad = buildTable(snap(REALISTIC), { ...S0, filterEditing: true, filterText: 'sni:/[/ proto:udp' }, 100, 10, CTX);
  assert.match(bad.filterLine!, /\{red-fg\}.*invalid regex \/\[\/.*\{\/red-fg\}$/);
  assert.deepEqual(bad.keys, ['2']); // the valid term still filters
  const badPlain = buildTable(snap(REALISTIC), { ...S0, filterText: 'sni:/[/' }, 100, 10, { ...CTX, color: false });
  assert.doesNotMatch(badPlain.filterLine!, /-fg/);
  // A long filter shows its tail within the width.
  const long = buildTable(snap(REALISTIC), { ...S0, filterEditing: true, filterText: 'x'.repeat(200) + 'END' }, 60, 10, CTX);
  assert.equal(strip(long.filterLine!).length, 60);
  assert.match(long.filterLine!, /END█$/);
});

test('live filter: typing narrows the table at once and keeps the sort', () => {
  let state: ViewState = { ...S0, sort: { column: 'bandwidth', descending: true } };
  let m = buildTable(snap(REALISTIC), state, 120, 10, CTX);
  assert.deepEqual(m.keys, ['4', '1', '2', '3', '5']);
  for (const key of [{ ch: '/' }, { ch: 'p' }, { ch: 'r' }, { ch: 'o' }, { ch: 't' }, { ch: 'o' }, { ch: ':' }, { ch: 't' }]) {
    state = reduce(m.state, keyToAction(key, m.state)!, m.frame).state;
    m = buildTable(snap(REALISTIC), state, 120, 10, CTX);
  }
  assert.equal(state.filterText, 'proto:t');
  assert.deepEqual(m.keys, ['4', '1', '5']);
  assert.equal(m.title, 'Active Connections (Sort: Down/Up ↓) 3 of 5');
});

test('copy: the remote address as shown (hostname with d)', () => {
  const m = buildTable(snap(REALISTIC), S0, 120, 10, CTX);
  assert.deepEqual(reduce(m.state, { kind: 'copy' }, m.frame).effects, [{ kind: 'copy', text: '93.184.216.34' }]);
  const named = buildTable(snap(REALISTIC), { ...S0, showHostnames: true }, 120, 10, CTX);
  assert.deepEqual(reduce(named.state, { kind: 'copy' }, named.frame).effects, [{ kind: 'copy', text: 'www.example.com' }]);
});

test('100,000 connections: filter, sort and the visible cells stay fast', (t) => {
  const procs = ['firefox', 'chrome', 'sshd', 'nginx', undefined, 'curl', 'systemd-resolved'];
  const rows: ConnectionRow[] = [];
  for (let i = 0; i < 100_000; i++) {
    const v6 = i % 10 === 0;
    rows.push(conn({
      id: i + 1, protocol: i % 3 === 0 ? 'UDP' : 'TCP', family: v6 ? 6 : 4,
      localAddr: v6 ? `2001:db8::${(i % 4096).toString(16)}` : `192.168.${(i >> 8) & 255}.${i & 255}`,
      localPort: 1024 + (i % 60000),
      remoteAddr: v6 ? `2606:4700::${((i * 7) % 4096).toString(16)}` : `${((i * 7) % 223) + 1}.${(i * 13) & 255}.${(i * 17) & 255}.${(i * 31) & 255}`,
      remotePort: [443, 80, 53, 22][i % 4]!, service: ['https', 'http', 'domain', 'ssh'][i % 4],
      state: i % 3 === 0 ? 'UDP_ACTIVE' : 'ESTABLISHED',
      app: i % 2 === 0 ? { protocol: 'HTTPS', domain: `host${i % 1000}.example.com`, details: { sni: `host${i % 1000}.example.com` } } : null,
      receiveRateBps: (i * 104_729) % 1_000_000, sendRateBps: (i * 7919) % 100_000,
      pid: 1000 + (i % 50), processName: procs[i % procs.length], remoteHostname: i % 5 === 0 ? `h${i}.example.net` : undefined,
      lastSeenMicros: NOW - (i % 1000) * 1_000_000,
    }));
  }
  const cases: [string, ViewState][] = [
    ['chronological', S0],
    ['Down/Up ↓', { ...S0, sort: { column: 'bandwidth', descending: true }, selectedKey: '99999', selectedIndex: 0 }],
    ['Remote ↑', { ...S0, sort: { column: 'remote', descending: false } }],
    ['Application ↑', { ...S0, sort: { column: 'application', descending: false } }],
    ['free text + Process ↑', { ...S0, filterText: 'example', sort: { column: 'process', descending: false } }],
    ['keywords', { ...S0, filterText: 'sni:host1 dport:443 proto:tcp' }],
    ['grouped by process, Down/Up ↓', { ...S0, grouping: 'process', sort: { column: 'bandwidth', descending: true } }],
  ];
  for (const [label, state] of cases) {
    // A fresh connections array per run, as every tick with traffic brings (no reuse of the previous order).
    // Two warm-up builds first: the running UI is past the JIT's first compilations after a tick or two.
    buildTable(snap(rows.slice()), state, 160, 40, CTX);
    buildTable(snap(rows.slice()), state, 160, 40, CTX);
    let worst = 0;
    let m: TableModel | undefined;
    for (let run = 0; run < 3; run++) {
      const s = snap(rows.slice());
      const start = performance.now();
      m = buildTable(s, state, 160, 40, CTX);
      worst = Math.max(worst, performance.now() - start);
    }
    t.diagnostic(`${label}: ${worst.toFixed(1)} ms (worst of 3)`);
    assert.ok(m!.lines.length > 0 && m!.lines.length <= 40);
    assert.ok(worst < 200, `${label} took ${worst.toFixed(1)} ms`);
  }
  // The selection was found deep in the table.
  const deep = buildTable(snap(rows), cases[1]![1], 160, 40, CTX);
  assert.equal(deep.selected?.id, 99_999);
});
