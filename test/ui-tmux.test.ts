// End to end: the built monitor's terminal UI in a real terminal (tmux), driven by keys and read back as text.
//
// Corpus replays at --replay-speed 0 hold their final state, so every screen is deterministic:
// - ndpi__iphone.pcap: 54 connections (TLS SNIs such as gateway.icloud.com ×3 and sync.itunes.apple.com, DNS,
//   mDNS, DHCP, ARP);
// - zeek__http__bro.org.pcap: HTTP to bro.org, 7 connections left at the end and 6 closed ones in the history;
// plus a live capture on lo with this test's own TCP connection. Needs `npm run build`, tmux, and root (the live
// part); as root the monitor re-executes itself as nobody, which is part of what runs here.
// The table is read by its header (which columns a width keeps is the layout's business, checked only where it
// is the point), so cells are compared by column name. Every wait is bounded; every tmux session is killed in
// `after` or `finally`.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_PATH, readJsonl } from './support/cli.js';
import { childPids, hasText, shellQuote, startTmux, type TmuxSession } from './support/tmux.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pcap = (name: string): string => path.join(here, 'corpus', 'pcap', name);
const IPHONE = pcap('ndpi__iphone.pcap');
const BRO = pcap('zeek__http__bro.org.pcap');
const FINAL = 'finished, holding the final state';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-ui-tmux-'));
// The monitor runs as nobody after the privilege drop: it must reach files in here.
fs.chmodSync(TMP, 0o755);
const sessions: TmuxSession[] = [];
after(() => {
  for (const s of sessions) s.kill();
  fs.rmSync(TMP, { recursive: true, force: true });
});

/** The monitor's command line. */
function monitor(args: string[]): string {
  return [process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ');
}

/**
 * The monitor wrapped so that what surrounds it stays on the terminal: `BEFORE` printed first, `EXIT=<status>`
 * after. Both visible once it has ended means the normal screen came back, with the cursor where it was.
 */
function wrapped(args: string[]): string {
  return `sh -c ${shellQuote(`printf BEFORE; ${monitor(args)}; echo EXIT=$?`)}`;
}

function start(command: string, width: number, height: number): TmuxSession {
  const s = startTmux(command, { width, height });
  sessions.push(s);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the screen

type Column = 'protocol' | 'local' | 'remote' | 'state' | 'service' | 'application' | 'bandwidth' | 'process';

/** Header labels, long and short, longest first so that "Process" is not read as "Pro". */
const LABELS: readonly [RegExp, Column][] = [
  [/^Local Address/, 'local'], [/^Remote Address/, 'remote'], [/^Application \/ Host/, 'application'],
  [/^App \/ Host/, 'application'], [/^Down\/Up/, 'bandwidth'], [/^Process/, 'process'], [/^Service/, 'service'],
  [/^Remote/, 'remote'], [/^Local/, 'local'], [/^State/, 'state'], [/^Proc/, 'process'], [/^Svc/, 'service'],
  [/^Pro/, 'protocol'],
];

interface Table {
  /** From the top border: `Active Connections 54`, `Connections (active + closed) 13`, … */
  readonly title: string;
  /** The header row, inside the borders. */
  readonly header: string;
  /** Columns shown, left to right. */
  readonly columns: Column[];
  /** Connection rows in display order, each cell trimmed; `text` is the whole row. */
  readonly rows: (Partial<Record<Column, string>> & { text: string })[];
  /** Group rows (`▸ — 54 connections …`). */
  readonly groups: string[];
}

/** The Overview's table: the box starting on screen row 1, up to its right border. */
function table(lines: string[]): Table {
  const top = lines[1] ?? '';
  const title = /^┌─ (.*?) ─/.exec(top)?.[1] ?? '';
  const right = top.indexOf('┐');
  const inner = (l: string): string => (right > 0 ? l.slice(1, right) : l.slice(1));
  const header = inner(lines[2] ?? '');
  const starts: { at: number; column: Column }[] = [];
  for (let i = 0; i < header.length; i++) {
    if (header[i] === ' ' || (i > 0 && header[i - 1] !== ' ')) continue;
    const found = LABELS.find(([re]) => re.test(header.slice(i)));
    if (found !== undefined) starts.push({ at: i, column: found[1] });
  }
  const rows: Table['rows'] = [];
  const groups: string[] = [];
  for (const l of lines.slice(3)) {
    if (!l.startsWith('│')) break;
    const text = inner(l);
    if (/^[▸▾] /.test(text)) {
      groups.push(text.trimEnd());
      continue;
    }
    if (text.trim() === '') continue;
    const row: Table['rows'][number] = { text };
    starts.forEach((c, i) => { row[c.column] = text.slice(c.at, starts[i + 1]?.at ?? text.length).trim(); });
    rows.push(row);
  }
  return { title, header, columns: starts.map((c) => c.column), rows, groups };
}

const title = (lines: string[]): string => table(lines).title;
const statusLine = (lines: string[]): string => lines[lines.length - 1] ?? '';

/** Index of the first row whose `column` is `value` (-1 if none shown). */
function indexOf(t: Table, column: Column, value: string): number {
  return t.rows.findIndex((r) => r[column] === value);
}

/** Down/Up cell ("4.61K/33.1K", "0B/0B", "2.40 KB/s / 1.00 KB/s") → receive + send in bytes per second. */
function rateSum(cell: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?) ?([KMGT]?)B?(?:\/s)? ?\/ ?(\d+(?:\.\d+)?) ?([KMGT]?)B?(?:\/s)?$/.exec(cell ?? '');
  assert.ok(m !== null, `a Down/Up cell: ${cell}`);
  const unit = (u: string): number => 1024 ** (u === '' ? 0 : 'KMGT'.indexOf(u) + 1);
  return Number(m[1]) * unit(m[2]!) + Number(m[3]) * unit(m[4]!);
}

/** Rows sorted by Down/Up in `direction`; the shown values are rounded to three digits, hence the 1 %. */
function assertRateOrder(t: Table, direction: 'down' | 'up'): void {
  const sums = t.rows.map((r) => rateSum(r.bandwidth));
  for (let i = 1; i < sums.length; i++) {
    const ok = direction === 'down' ? sums[i]! <= sums[i - 1]! * 1.01 : sums[i]! * 1.01 >= sums[i - 1]!;
    assert.ok(ok, `rows sorted ${direction === 'down' ? 'highest' : 'lowest'} rate first: ${sums.join(', ')}`);
  }
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[\d;]*m/g;

/** Position among the table's connection rows of the selected one (drawn inverse), from a styled capture; -1 if none. */
function selectedRow(styled: string[]): number {
  const rows = styled.slice(3).filter((l) => /^│\s*(TCP|UDP|ICMP|ICMPv6|ARP|IGMP)\s/.test(l.replace(SGR, '')));
  // The inverse attribute is switched on between the left border and the row's first character.
  return rows.findIndex((l) => /^(\x1b\[[\d;]*m)*│(\x1b\[[\d;]*m)*\x1b\[7m/.test(l));
}

/** Exit checks shared by every way out: status 0, the normal screen back with what was around it, no UI left. */
async function assertRestored(s: TmuxSession, what: string): Promise<void> {
  const all = await s.waitFor((l) => hasText(l, 'EXIT='), `${what}: the monitor to exit`, 8000, s.captureAll);
  assert.ok(hasText(all, 'EXIT=0'), `${what}: exit status 0:\n${all.join('\n')}`);
  assert.ok(all.some((l) => l.startsWith('BEFORE')), `${what}: what was printed before is still there`);
  assert.equal(s.alternateScreen(), false, `${what}: back on the normal screen`);
  for (const ui of ['Active Connections', '│Pro', '┌─', '└─', 'h help ·']) {
    assert.ok(!hasText(all, ui), `${what}: no "${ui}" left on the terminal:\n${all.join('\n')}`);
  }
  // The summary the monitor writes once the terminal is restored lands on the normal screen.
  assert.ok(hasText(all, 'rustnet-ts: '), `${what}: the summary line is printed`);
}

/** For a failure message: what the pid in a Process cell ("node (123)") is, if it still runs. */
function describePid(cell: string): string {
  const pid = /\((\d+)/.exec(cell)?.[1];
  if (pid === undefined) return 'no pid';
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    const ppid = /PPid:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return `pid ${pid} (parent ${ppid}): ${cmdline}`;
  } catch {
    return `pid ${pid} has ended`;
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('replay of ndpi__iphone.pcap at 160×45', () => {
  let s: TmuxSession;
  let initial: string[] = [];
  let pageRows = 0;

  before(async () => {
    s = start(wrapped(['--read', IPHONE, '--replay-speed', '0']), 160, 45);
    initial = await s.waitFor((l) => hasText(l, FINAL) && title(l) === 'Active Connections 54', 'the replay to finish');
    pageRows = table(initial).rows.length;
  });

  /** Back to the Overview with the default view (r keeps the tab, so 1 first), even after a failed test. */
  async function home(): Promise<string[]> {
    if (statusLine(s.capture()).startsWith('/')) {
      // A filter prompt left open: Esc closes it. Wait for that before the next key, or the terminal may deliver
      // Esc and the key together, which reads as Alt+key.
      s.keys('Escape');
      await s.waitFor((l) => !statusLine(l).startsWith('/'), 'the prompt closed');
    }
    s.keys('1');
    await s.waitFor((l) => table(l).columns.length > 0, 'the Overview');
    s.keys('r');
    return s.waitFor((l) => title(l) === 'Active Connections 54' && hasText(l, 'View reset'), 'the reset view');
  }

  test('the Overview: every connection, known addresses and hosts, the four right panels', () => {
    const l = initial;
    const t = table(l);
    assert.match(l[0]!, /^rustnet-ts +1 Overview │ 2 Details │ 3 Interfaces │ 4 Graph │ 5 Help/);
    for (const c of ['protocol', 'remote', 'state', 'service', 'application', 'bandwidth', 'process'] as const) {
      assert.ok(t.columns.includes(c), `column ${c} at 160 columns: ${t.header}`);
    }
    // 45 rows: tab bar, border, header, the rows, border, status line.
    assert.equal(t.rows.length, 40, 'the table fills its box');
    assert.equal(t.rows[0]!.remote, '192.168.2.255:17500', 'chronological: the first connection seen on top');
    assert.equal(t.rows[0]!.protocol, 'UDP');
    const gateway = t.rows.filter((r) => r.remote === '17.248.176.75:443');
    assert.ok(gateway.length >= 1, 'a connection to gateway.icloud.com');
    for (const r of gateway) {
      assert.equal(r.protocol, 'TCP');
      assert.equal(r.state, 'ESTABLISHED');
      assert.equal(r.service, 'https');
      assert.match(r.application!, /^HTTPS \(gateway\.icl/, 'the TLS SNI');
      assert.equal(r.process, '—', 'a replay knows no processes');
    }
    const dns = t.rows.find((r) => r.remote === '192.168.2.1:53' && /^DNS \(p26-keyv/.test(r.application ?? ''));
    assert.ok(dns !== undefined, 'a DNS row with its query name');
    assert.equal(dns.service, 'domain');
    for (const panel of ['┌─ Traffic ', '┌─ Network Stats ', '┌─ Interfaces ', '┌─ Statistics ']) {
      assert.ok(hasText(l, panel), `panel ${panel}`);
    }
    assert.ok(hasText(l, 'Packets: 500 seen, 496 decoded'));
    assert.ok(l.some((x) => /Conn\w*: 54 now, 54 created, 0 evic/.test(x)));
    assert.ok(hasText(l, 'Active TCP Flows: 15'));
    assert.ok(hasText(l, 'Interface counters are live-only'));
    assert.match(statusLine(l), /^h help · \/ filter · s sort .*replay ndpi__iphone\.pcap: finished, holding the final state/);
  });

  test('/ sni:… filters while typing, Enter keeps the filter, Esc clears it', async () => {
    await home();
    s.keys('/');
    await s.waitFor((l) => statusLine(l).startsWith('/'), 'the filter prompt');
    s.type('sni:gateway');
    let l = await s.waitFor((l) => title(l) === 'Active Connections 3 of 54', 'the filtered title');
    assert.match(statusLine(l), /^\/sni:gateway/);
    let t = table(l);
    assert.equal(t.rows.length, 3);
    for (const r of t.rows) {
      assert.equal(r.remote, '17.248.176.75:443');
      assert.match(r.application!, /^HTTPS \(gateway\.icl/);
    }

    s.keys('Enter');
    l = await s.waitFor((l) => statusLine(l).startsWith('Filter: sni:gateway'), 'the kept filter');
    assert.equal(title(l), 'Active Connections 3 of 54');
    assert.equal(table(l).rows.length, 3);

    s.keys('Escape');
    l = await s.waitFor((l) => title(l) === 'Active Connections 54', 'the cleared filter');
    assert.equal(table(l).rows.length, pageRows);
    assert.ok(!statusLine(l).startsWith('Filter'));

    // Keywords are case-insensitive, and the table follows each key typed: one more word and nothing matches.
    s.keys('/');
    s.type('SNI:SYNC.itunes');
    l = await s.waitFor((l) => title(l) === 'Active Connections 1 of 54', 'one match');
    assert.equal(table(l).rows[0]!.remote, '95.101.24.53:443');
    s.type('-nothing');
    l = await s.waitFor((l) => title(l) === 'Active Connections 0 of 54', 'no match');
    t = table(l);
    assert.deepEqual(t.rows.map((r) => r.text.trim()), ['No connections match the filter'], 'an empty result says so');
    s.keys('Escape');
    await s.waitFor((l) => title(l) === 'Active Connections 54', 'the cleared filter');
  });

  test('s cycles the sort columns left to right and back, S flips, the order follows', async () => {
    await home();
    const expected = [
      ['Pro', '↑'], ['Local Address', '↑'], ['Remote Address', '↑'], ['State', '↑'], ['Service', '↑'],
      ['Application / Host', '↑'], ['Down/Up', '↓'],
    ] as const;
    let l: string[] = [];
    for (const [column, arrow] of expected) {
      s.keys('s');
      l = await s.waitFor((l) => title(l) === `Active Connections (Sort: ${column} ${arrow}) 54`, `sort by ${column}`);
      // The header marks the sorted column, when it is shown (Local Address may not be at this width).
      const marked = (table(l).header.match(/[↑↓]/g) ?? []).length;
      assert.ok(marked <= 1, `one arrow at most: ${table(l).header}`);
      if (column !== 'Local Address') assert.match(table(l).header, new RegExp(` ${arrow}`), `${column} marked`);
      if (column === 'Remote Address') {
        s.keys('g');
        l = await s.waitFor((l) => selectedRow(l) === 0, 'the selection on the first row', 10_000, s.captureStyled);
        l = s.capture();
        // Numeric order: 17.130.2.46 is the lowest remote address of the capture.
        assert.equal(table(l).rows[0]!.remote, '17.130.2.46:443');
      }
    }
    s.keys('g');
    await s.waitFor((l) => selectedRow(l) === 0, 'the selection on the first row', 10_000, s.captureStyled);
    let t = table(s.capture());
    assert.match(t.header, /Down\/Up ↓/);
    assertRateOrder(t, 'down');
    assert.ok(rateSum(t.rows[0]!.bandwidth) > rateSum(t.rows.at(-1)!.bandwidth), 'rates differ, so the order means something');
    // Chronologically p26-fmfmobile (17.248.185.140) comes long before sync.itunes (95.101.24.53), which is the
    // busiest connection: by rate it leads.
    assert.ok(indexOf(table(initial), 'remote', '17.248.185.140:443') >= 0);
    assert.equal(indexOf(table(initial), 'remote', '95.101.24.53:443'), -1, 'not on the first page chronologically');
    assert.equal(t.rows[0]!.remote, '95.101.24.53:443');
    assert.ok(indexOf(t, 'remote', '95.101.24.53:443') < indexOf(t, 'remote', '17.248.185.140:443'));

    // The sort persists while a filter is typed; S flips it.
    s.keys('/');
    s.type('sni:icloud');
    s.keys('Enter');
    l = await s.waitFor((l) => title(l) === 'Active Connections (Sort: Down/Up ↓) 5 of 54', 'sorted and filtered');
    const down = table(l);
    assertRateOrder(down, 'down');
    s.keys('S');
    l = await s.waitFor((l) => title(l) === 'Active Connections (Sort: Down/Up ↑) 5 of 54', 'flipped');
    const up = table(l);
    assert.match(up.header, /Down\/Up ↑/);
    assertRateOrder(up, 'up');
    assert.deepEqual(up.rows.map((r) => r.text), down.rows.map((r) => r.text).reverse(), 'the same rows, reversed');
    s.keys('Escape');
    await s.waitFor((l) => title(l) === 'Active Connections (Sort: Down/Up ↑) 54', 'filter cleared, sort kept');
    s.keys('G');
    await s.waitFor((l) => selectedRow(l) === pageRows - 1, 'the selection on the last row', 10_000, s.captureStyled);
    t = table(s.capture());
    assertRateOrder(t, 'up');
    assert.equal(t.rows.at(-1)!.remote, '95.101.24.53:443', 'the busiest last');

    // Process ↑, then back to the chronological order (no sort in the title, no arrow in the header).
    s.keys('s');
    await s.waitFor((l) => title(l) === 'Active Connections (Sort: Process ↑) 54', 'sort by process');
    s.keys('s');
    l = await s.waitFor((l) => title(l) === 'Active Connections 54', 'chronological again');
    assert.doesNotMatch(table(l).header, /[↑↓]/, 'no sort arrow in the header');
    s.keys('G');
    await s.waitFor((l) => selectedRow(l) === pageRows - 1, 'the selection on the last row', 10_000, s.captureStyled);
    t = table(s.capture());
    assert.equal(t.rows.at(-1)!.remote, '95.101.24.53:443', 'the last connection seen last');
    assert.ok(indexOf(t, 'remote', '17.248.185.140:443') >= 0);
    assert.ok(indexOf(t, 'remote', '17.248.185.140:443') < indexOf(t, 'remote', '95.101.24.53:443'), 'first seen first');
  });

  test('Enter opens the selected connection\'s details, Esc goes back to the Overview', async () => {
    await home();
    s.keys('/');
    s.type('sni:sync.itunes');
    s.keys('Enter');
    await s.waitFor((l) => title(l) === 'Active Connections 1 of 54' && statusLine(l).startsWith('Filter:'), 'one row');
    s.keys('Enter');
    const l = await s.waitFor((l) => l.some((x) => x.startsWith('┌─ Details')), 'the Details tab');
    const field = (name: string): string => {
      const line = l.find((x) => x.startsWith(`│${name} `));
      assert.ok(line !== undefined, `field ${name} on:\n${l.join('\n')}`);
      return line.slice(1 + name.length).replace(/│$/, '').trim();
    };
    assert.equal(field('Protocol'), 'TCP (IPv4)');
    assert.equal(field('Local'), '192.168.2.17:50588');
    assert.equal(field('Remote'), 'sync.itunes.apple.com:443 (95.101.24.53:443)');
    assert.equal(field('State'), 'ESTABLISHED');
    assert.equal(field('Direction'), 'outgoing');
    assert.ok(l.some((x) => /^│\s*sni +sync\.itunes\.apple\.com +│$/i.test(x)), 'the SNI');
    assert.ok(l.some((x) => /TLS 1\.3/.test(x)), 'the TLS version');
    assert.equal(field('Bytes ↓ / ↑'), '7.53 KB / 3.67 KB');
    assert.equal(field('Packets ↓ / ↑'), '12 / 16');
    assert.match(field('Rate ↓ / ↑'), /^\d[\d.]* KB\/s \/ \d[\d.]* KB\/s$/);
    assert.ok(!hasText(l, '┌─ Traffic '), 'a full-width page, no side panels');

    s.keys('Escape');
    await s.waitFor((l) => title(l) === 'Active Connections 1 of 54', 'back on the Overview, filter kept');
    s.keys('Escape');
    await s.waitFor((l) => title(l) === 'Active Connections 54', 'filter cleared');
  });

  test('i, h, 4 and Tab / Shift+Tab switch screens', async () => {
    await home();
    const page = (l: string[], name: string): boolean => (l[1] ?? '').startsWith(`┌─ ${name}`);
    s.keys('i');
    let l = await s.waitFor((l) => page(l, 'Interfaces') && !hasText(l, '┌─ Traffic '), 'the Interfaces tab');
    assert.ok(hasText(l, 'Interface counters are live-only'), 'a replay has no interface counters, and says so');
    s.keys('i');
    await s.waitFor((l) => title(l) === 'Active Connections 54', 'i again: back');

    s.keys('h');
    l = await s.waitFor((l) => page(l, 'Help'), 'the Help tab');
    // The help may be taller than the screen: read it to its end (G) as well.
    s.keys('G');
    const end = await s.waitFor((x) => x.join('\n') !== l.join('\n') || !/ of \d+/.test(x[1] ?? ''), 'the end of the help');
    const help = [...l, ...end];
    for (const line of [/^│\/ +filter/, /^│s +next sort column/, /^│S +flip the sort direction/, /^│a +group rows/,
      /^│t +show closed connections/, /^│q q +quit/, /^│Ctrl\+C +quit at once/, /^│Tab \/ Shift\+Tab +next \/ previous tab/]) {
      assert.ok(help.some((x) => line.test(x)), `help lists ${line}:\n${help.join('\n')}`);
    }

    s.keys('4');
    l = await s.waitFor((l) => page(l, 'Graph'), 'the Graph tab');
    assert.ok(l.some((x) => /^│Traffic ↓ .* ↑ /.test(x)), 'traffic heading');
    assert.ok(hasText(l, 'Applications (54 connections)'));
    assert.ok(l.some((x) => /│ DNS +█+ +19 +35%│/.test(x)), 'the application mix: 19 DNS connections');
    assert.ok(hasText(l, 'Top processes'));
    assert.ok(hasText(l, 'Connections 54 (TCP 15 · UDP 31 · other 8)'));

    // Graph → Help → Overview (wraps) → Details → Overview → Help (wraps back) → Graph.
    s.keys('Tab');
    await s.waitFor((l) => page(l, 'Help'), 'Tab: Help');
    s.keys('Tab');
    await s.waitFor((l) => title(l) === 'Active Connections 54', 'Tab: the Overview');
    s.keys('Tab');
    l = await s.waitFor((l) => page(l, 'Details'), 'Tab: Details');
    assert.ok(l.some((x) => /^│Remote +192\.168\.2\.255:17500/.test(x)), 'details of the selected (first) connection');
    s.keys('BTab');
    await s.waitFor((l) => title(l) === 'Active Connections 54', 'Shift+Tab: the Overview');
    s.keys('BTab');
    await s.waitFor((l) => page(l, 'Help'), 'Shift+Tab: Help (wraps)');
    s.keys('BTab');
    await s.waitFor((l) => page(l, 'Graph'), 'Shift+Tab: Graph');
  });

  test('a groups by process: a replay has none, so one "—" group holds every connection', async () => {
    await home();
    s.keys('a');
    let l = await s.waitFor((l) => title(l) === 'Active Connections 54 · 1 group by process', 'grouped');
    assert.ok(statusLine(l).startsWith('Grouped by process'), statusLine(l));
    let t = table(l);
    assert.equal(t.rows.length, 0, 'collapsed: no connection rows');
    assert.equal(t.groups.length, 1);
    const group = /^▸ — +54 connections +(.+?)$/.exec(t.groups[0]!);
    assert.ok(group !== null, `count: ${t.groups[0]}`);
    // The summed rates: the Traffic panel's totals for the one group.
    assert.ok(rateSum(group[1]) > 0, `summed rates: ${group[1]}`);
    s.keys('Enter');
    l = await s.waitFor((l) => hasText(l, '▾ —'), 'expanded');
    t = table(l);
    assert.equal(t.rows.length, pageRows - 1, 'the group row, then its members');
    assert.equal(t.rows[0]!.remote, '192.168.2.255:17500');
    s.keys('a');
    l = await s.waitFor((l) => title(l) === 'Active Connections 54 · 1 group by systemd unit', 'grouped by unit');
    assert.ok(statusLine(l).startsWith('Grouped by systemd unit'), statusLine(l));
    s.keys('a');
    await s.waitFor((l) => title(l) === 'Active Connections 54 · 1 group by container', 'grouped by container');
    s.keys('a');
    l = await s.waitFor((l) => title(l) === 'Active Connections 54', 'grouping off');
    assert.equal(table(l).rows.length, pageRows);
  });

  test('q asks for a second q, which quits with status 0 and restores the terminal', async () => {
    await home();
    s.keys('q');
    await s.waitFor((l) => statusLine(l).startsWith('Press q again to quit'), 'the confirmation');
    // Any other key cancels the pending quit: q j q leaves it running, as the next key's effect shows.
    s.keys('j');
    s.keys('q');
    s.keys('s');
    await s.waitFor((l) => title(l) === 'Active Connections (Sort: Pro ↑) 54', 'a key after q j q');
    assert.ok(s.alive(), 'q j q does not quit');
    s.keys('q');
    s.keys('q');
    await assertRestored(s, 'q q');
  });
});

test('80×24: the least useful columns go first, no side panels; SIGTERM restores the terminal and closes the log', async () => {
  const log = path.join(TMP, 'sigterm.jsonl');
  const s = start(wrapped(['--read', IPHONE, '--replay-speed', '0', '--json-log', log]), 80, 24);
  try {
    let l = await s.waitFor((l) => title(l) === 'Active Connections 54', 'all 54 connections');
    assert.match(l[0]!, /^rustnet-ts +1 Overview │ 2 Details │ 3 Interfaces │ 4 Graph │ 5 Help$/);
    let t = table(l);
    for (const c of ['protocol', 'remote', 'bandwidth', 'process'] as const) assert.ok(t.columns.includes(c), `core column ${c}: ${t.header}`);
    // Optional columns leave in this order (least useful first): what is kept is a tail of it.
    const optional = ['local', 'service', 'state', 'application'] as const;
    const kept = optional.map((c) => t.columns.includes(c));
    assert.ok(!kept[0], `Local Address dropped first: ${t.header}`);
    assert.ok(kept.every((k, i) => !k || kept.slice(i).every(Boolean)), `dropped in order: ${t.header}`);
    assert.ok(l.every((x) => x.length <= 80), 'nothing wider than the terminal');
    assert.equal(t.rows.length, 19, '24 rows: tab bar, border, header, 19 rows, border, status');
    assert.ok(!hasText(l, 'Traffic') && !hasText(l, 'Statistics'), 'no room for the side panels');
    assert.match(statusLine(l), /^h help · \/ filter .* replay ndpi__iph/);

    s.keys('/');
    s.type('sni:gateway');
    s.keys('Enter');
    l = await s.waitFor((l) => title(l) === 'Active Connections 3 of 54', 'filtered');
    t = table(l);
    assert.equal(t.rows.length, 3);
    for (const r of t.rows) assert.equal(r.remote, '17.248.176.75:443');

    // SIGTERM to the monitor as started (the root parent, which hands it on to the reduced child drawing the screen).
    const [parent] = childPids(s.panePid());
    assert.ok(parent !== undefined, 'the monitor runs under sh');
    assert.ok(s.alive());
    process.kill(parent, 'SIGTERM');
    await assertRestored(s, 'SIGTERM');

    const events = readJsonl(log);
    const open = new Map<string, number>();
    for (const e of events) {
      const k = `${e.protocol} ${e.source_ip} ${e.source_port} ${e.destination_ip} ${e.destination_port}`;
      open.set(k, (open.get(k) ?? 0) + (e.event === 'new_connection' ? 1 : -1));
    }
    assert.equal(events.filter((e) => e.event === 'new_connection').length, 54);
    assert.equal(events.filter((e) => e.event === 'connection_closed').length, 54);
    assert.deepEqual([...open].filter(([, n]) => n !== 0), [], 'every new_connection has its connection_closed');
  } finally {
    s.kill();
  }
});

test('t shows closed connections (greyed) beside the active ones; Ctrl+C quits at once and restores', async () => {
  const s = start(wrapped(['--read', BRO, '--replay-speed', '0']), 160, 45);
  try {
    let l = await s.waitFor((l) => hasText(l, FINAL) && title(l) === 'Active Connections 7', 'the replay to finish');
    let t = table(l);
    assert.ok(t.rows.some((r) => r.application === 'HTTP (bro.org)'), 'the HTTP Host');
    const closedBefore = t.rows.filter((r) => r.state === 'CLOSED').length;
    s.keys('t');
    l = await s.waitFor((l) => title(l) === 'Connections (active + closed) 13', 'the history');
    assert.ok(statusLine(l).startsWith('Closed connections shown'));
    t = table(l);
    assert.equal(t.rows.length, 13);
    const closed = t.rows.filter((r) => r.state === 'CLOSED');
    assert.equal(closed.length, closedBefore + 6, 'six closed connections more');
    for (const r of closed) assert.equal(r.remote, '192.150.187.43:80');
    assert.ok(t.rows.some((r) => r.state === 'ESTABLISHED'), 'the active ones stay');
    // Closed rows from the history are greyed (bright black); the active ones are not.
    const styled = s.captureStyled().filter((x) => /^│\s*TCP /.test(x.replace(SGR, '')));
    assert.equal(styled.length, 13);
    const greyed = styled.filter((x) => x.slice(0, x.indexOf('TCP')).includes('\x1b[90m'));
    assert.equal(greyed.length, 6, 'the six from the history greyed');
    for (const x of greyed) assert.match(x.replace(SGR, ''), / CLOSED /);

    s.keys('t');
    l = await s.waitFor((l) => title(l) === 'Active Connections 7', 'history hidden');
    assert.equal(table(l).rows.length, 7);
    s.keys('C-c');
    await assertRestored(s, 'Ctrl+C');
  } finally {
    s.kill();
  }
});

test('a terminal too small gets a message; growing it redraws the whole screen', async () => {
  const s = start(monitor(['--read', BRO, '--replay-speed', '0']), 40, 10);
  try {
    let l = await s.waitFor((l) => hasText(l, 'Terminal too small: 40×10.'), 'the too-small message');
    assert.ok(hasText(l, 'Needs at least 60×15.'));
    assert.ok(!hasText(l, 'Active Connections') && !hasText(l, '│Pro'), 'no squeezed table');
    assert.ok(l.every((x) => x.length <= 40));
    s.resize(160, 45);
    l = await s.waitFor((l) => title(l) === 'Active Connections 7' && hasText(l, FINAL), 'the full screen');
    assert.match(l[0]!, /^rustnet-ts +1 Overview │ 2 Details │ 3 Interfaces │ 4 Graph │ 5 Help$/, `the tab bar is back:\n${l.join('\n')}`);
    assert.match(statusLine(l), /^h help · \/ filter .*replay zeek__http__bro\.org\.pcap: finished/, 'the status line is back');
    assert.ok(!hasText(l, 'Terminal too small'));
    assert.equal(table(l).rows.length, 7);
    assert.ok(hasText(l, '┌─ Statistics '));
    assert.equal(l.length, 45);
  } finally {
    s.kill();
  }
});

test('live on lo: this test\'s own connection appears within one refresh, attributed to this process', async () => {
  // An address of 127/8 of our own (Linux answers on all of it): other tests' loopback traffic on this machine
  // can neither push our row off the screen nor look like it.
  const host = `127.${1 + (process.pid % 250)}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
  const server = net.createServer((c) => c.on('data', (d) => c.write(d)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  const remote = `${host}:${port}`;
  const s = start(monitor(['-i', 'lo', '--show-localhost', '--bpf-filter', `tcp and host ${host} and port ${port}`]), 160, 45);
  let socket: net.Socket | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    const live = await s.waitFor((l) => hasText(l, 'Interface: lo') && l.some((x) => /(BPF filter|Filter): tcp and host/.test(x)), 'the live capture on lo', 10_000);
    // The set-up builds the sock_diag addon: sockets come from the kernel's netlink tables.
    assert.ok(live.some((x) => /│Process: sock_diag /.test(x)), live.join('\n'));
    socket = net.connect({ port, host, localAddress: host });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('error', reject);
    });
    const connectedAt = Date.now();
    socket.write('hello');
    // A few more bytes meanwhile, so the row has traffic whatever tick it first shows in.
    timer = setInterval(() => socket?.write('.'), 200);
    let l = await s.waitFor((l) => indexOf(table(l), 'remote', remote) >= 0, `the row for port ${port}`, 3000);
    const elapsed = Date.now() - connectedAt;
    assert.ok(elapsed <= 3000, `shown after ${elapsed} ms`);
    let row = table(l).rows[indexOf(table(l), 'remote', remote)]!;
    assert.equal(row.protocol, 'TCP');
    if (row.local !== undefined) assert.equal(row.local, `${host}:${socket.localPort}`);
    // Attribution may land a tick after the row: the Process column, "name (pid)" (cut when narrow).
    const comm = fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    l = await s.waitFor((l) => table(l).rows.some((r) => r.remote === remote && (r.process ?? '').startsWith(`${comm} (`)), 'the process column', 3000);
    row = table(l).rows.find((r) => r.remote === remote)!;
    assert.ok(`${comm} (${process.pid})`.startsWith(row.process!.replace(/…$/, '')),
      `attributed to this process (${process.pid}, parent ${process.ppid}), not ${row.process}: ${describePid(row.process!)}`);
    // The details name the pid in full.
    s.keys('Enter');
    const d = await s.waitFor((l) => l.some((x) => /^│PID +\d+/.test(x)), 'the details with a pid');
    assert.ok(d.some((x) => new RegExp(`^│PID +${process.pid} +│$`).test(x)), `pid ${process.pid}:\n${d.join('\n')}`);
    assert.ok(d.some((x) => new RegExp(`^│Name +${comm} +│$`).test(x)));
    assert.ok(d.some((x) => x.startsWith(`│Remote `) && x.includes(remote)));
    assert.ok(d.some((x) => x.startsWith(`│Local `) && x.includes(`${host}:${socket!.localPort}`)));
  } finally {
    clearInterval(timer);
    socket?.destroy();
    s.kill();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
