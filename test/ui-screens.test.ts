// Screen tests without a terminal: the real TerminalUi on in-memory streams, fed by corpus replays at packet time,
// painted screens compared with the expected ones in test/screens (UPDATE_SCREENS=1 rewrites them).

// Details show times of day in the local zone: fixed here so the screens read the same on every machine
// (Node re-reads TZ when it is assigned, and nothing is formatted before the tests run).
process.env.TZ = 'UTC';

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MIN_HEIGHT, MIN_WIDTH } from '../src/ui/terminal-ui.js';
import { TcpConversation, udpPayloadFrame, writePcap, type TimedFrame } from './support/capture-writer.js';
import { CORPUS } from './support/corpus.js';
import { clientHello, latin1, records } from './support/dpi.js';
import { KEY, ScreenHarness, readScreen } from './support/screen.js';

/** 54 open connections at the end: DNS, mDNS, SSDP, DHCP, ICMP, ARP and 14 TLS connections with SNI. */
const IPHONE = path.join(CORPUS, 'pcap', 'ndpi__iphone.pcap');
/** 64 connections over a day, all but one closed by the end: the history view (`t`). */
const SITES = path.join(CORPUS, 'pcap', 'ndpi__sites.pcapng');

/**
 * Runs `body` on a fresh screen, then compares the screens it kept with their expected files; the screen is
 * closed even when an assertion fails, so the file always ends.
 */
async function withScreen(file: string, columns: number, rows: number, body: (h: ScreenHarness) => Promise<void>, color = true): Promise<void> {
  const h = await ScreenHarness.open(file, { columns, rows, color });
  try {
    await body(h);
    h.compareKept();
  } finally {
    await h.close();
  }
}

/** The Overview's table title (the text between the box's top-left corner and its line). */
function tableTitle(lines: readonly string[]): string {
  const m = /^┌─ (.*?) ─/.exec(lines[1] ?? '');
  assert.ok(m, `a table box on row 2: ${JSON.stringify(lines[1])}`);
  return m[1]!;
}

/** The table's body rows (inside the border, after the header), trailing blanks dropped. */
function tableRows(lines: readonly string[], tableWidth: number): string[] {
  const rows: string[] = [];
  for (const line of lines.slice(3)) {
    if (line.startsWith('└')) break;
    const inner = line.slice(1, tableWidth - 1).trimEnd();
    if (inner !== '') rows.push(inner);
  }
  return rows;
}

test('overview at 160×45: all 54 connections counted, side panels shown, a known SNI on screen', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    const lines = h.text();
    h.keepScreen('overview-160x45', lines);
    assert.equal(lines.length, 45, 'one text line per terminal row');
    assert.match(lines[0]!, /^rustnet-ts {2}1 Overview │ 2 Details │ 3 Interfaces │ 4 Graph │ 5 Help/);
    assert.equal(tableTitle(lines), 'Active Connections 54');
    for (const panel of ['Traffic', 'Network Stats', 'Interfaces', 'Statistics']) {
      assert.ok(lines.some((l) => l.includes(`┌─ ${panel} `)), `the ${panel} panel is shown`);
    }
    // Beside the panels the table drops Local Address first and keeps Application / Host wide enough for a name.
    assert.match(lines[2]!, /^│Pro +Remote Address +State +Service +Application \/ Host +Down\/Up +Process +│/);
    assert.ok(lines.some((l) => /│TCP +17\.248\.176\.75:443 .* HTTPS \(gateway\.icloud\.com\) /.test(l)), 'a TLS connection with its SNI is on screen');
    const seen = h.snapshots.at(-1)!.capture.framesSeen;
    assert.ok(lines.some((l) => l.includes(`│Packets: ${seen} seen, `)), `the Statistics panel counts the ${seen} packets`);
    assert.match(lines[44]!, /replay ndpi__iphone\.pcap: finished, holding the final state/, 'the status line says it is a replay and how far');
  });
});

test('overview at 120×30 keeps narrower panels; at 100×30 and 80×24 the table takes the whole width', async () => {
  await withScreen(IPHONE, 120, 30, async (h) => {
    const lines = h.text();
    h.keepScreen('overview-120x30', lines);
    assert.equal(tableTitle(lines), 'Active Connections 54');
    assert.ok(lines.some((l) => l.includes('┌─ Traffic ')), 'Traffic panel at 120 columns');
    assert.ok(lines.every((l) => [...l].length <= 120), 'no line wider than the terminal');
  });
  await withScreen(IPHONE, 100, 30, async (h) => {
    const lines = h.text();
    h.keepScreen('overview-100x30', lines);
    assert.equal(tableTitle(lines), 'Active Connections 54');
    assert.ok(!lines.some((l) => l.includes('┌─ Traffic ')), 'no panels at 100 columns: the table keeps its columns');
    assert.match(lines[2]!, /^│Pro +Remote Address +State +Service +Application \/ Host +Down\/Up +Process +│$/);
  });
  await withScreen(IPHONE, 80, 24, async (h) => {
    const lines = h.text();
    h.keepScreen('overview-80x24', lines);
    assert.equal(tableTitle(lines), 'Active Connections 54');
    for (const panel of ['Traffic', 'Network Stats', 'Statistics']) {
      assert.ok(!lines.some((l) => l.includes(`┌─ ${panel} `)), `no ${panel} panel at 80 columns`);
    }
    assert.equal([...lines[1]!].length, 80, 'the table spans the full width');
    assert.equal(tableRows(lines, 80).length, 24 - 2 - 3, 'only the rows that fit are painted');
  });
});

test('s cycles the sort to Down/Up (descending), S flips it; the selection stays on its connection', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    // The selection starts on the first row in chronological order (connection #1, no traffic).
    assert.deepEqual(h.inverseRows(1, 115), [3], 'the first row is selected');
    assert.match(h.text()[3]!, /│UDP +192\.168\.2\.255:17500 /);
    let presses = 0;
    while (!tableTitle(h.text()).includes('Down/Up')) {
      assert.ok(++presses <= 10, 's reaches the Down/Up column within 10 presses');
      await h.press('s');
    }
    assert.equal(presses, 7, 'Down/Up is the seventh column');
    let lines = h.text();
    assert.equal(tableTitle(lines), 'Active Connections (Sort: Down/Up ↓) 54');
    assert.match(lines[2]!, /Down\/Up ↓/, 'the active header carries the arrow');
    // Re-sorted, the idle connection #1 went down the list and the view followed it.
    const selected = h.inverseRows(1, 115);
    assert.equal(selected.length, 1);
    assert.match(lines[selected[0]!]!, /│UDP +192\.168\.2\.255:17500 /, 'still connection #1');
    assert.ok(selected[0]! > 3, 'which is no longer on top');

    await h.press('g');
    lines = h.text();
    h.keepScreen('sorted-down-up', lines);
    // The busiest connections of the final snapshot (receive + send rate) are on top, in order.
    const busiest = [...h.snapshots.at(-1)!.connections]
      .sort((a, b) => (b.receiveRateBps + b.sendRateBps) - (a.receiveRateBps + a.sendRateBps))
      .slice(0, 3)
      .map((r) => `${r.remoteAddr}:${r.remotePort}`);
    const top = tableRows(lines, 116).slice(0, 3).map((r) => /^\S+ +(\S+)/.exec(r)![1]);
    assert.deepEqual(top, busiest);
    assert.deepEqual(h.inverseRows(1, 115), [3], 'g selected the top row');

    await h.press('S');
    assert.equal(tableTitle(h.text()), 'Active Connections (Sort: Down/Up ↑) 54');
  });
});

test('filter /sni:gateway keeps the three gateway.icloud.com connections; Enter shows the selected one\'s details', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    await h.press('/', ...'sni:gateway', KEY.enter);
    const lines = h.text();
    h.keepScreen('filter-sni', lines);
    assert.equal(tableTitle(lines), 'Active Connections 3 of 54');
    const rows = tableRows(lines, 116);
    assert.equal(rows.length, 3);
    for (const r of rows) assert.match(r, /^TCP +17\.248\.176\.75:443 .* HTTPS \(gateway\.icloud\.com\) /);
    assert.match(lines[44]!, /sni:gateway/, 'the status line shows the kept filter');

    await h.press(KEY.enter);
    const details = h.text();
    h.keepScreen('details', details);
    assert.match(details[1]!, /^┌─ Details /);
    const id = Number(/^│Connection #(\d+)/.exec(details[2]!)?.[1]);
    const row = h.snapshots.at(-1)!.connections.find((c) => c.id === id);
    assert.ok(row !== undefined && row.remoteAddr === '17.248.176.75', `details of one of the filtered rows (#${id})`);
    assert.ok(details.some((l) => /^│sni +gateway\.icloud\.com +│$/.test(l)), 'the SNI field, in full');
    assert.ok(details.some((l) => /^│Remote +gateway\.icloud\.com:443 \(17\.248\.176\.75:443\)/.test(l)), 'the remote endpoint, named by passive DNS');
    const iso = new Date(Math.floor(row.firstSeenMicros / 1000)).toISOString();
    assert.ok(details.some((l) => l.startsWith(`│First seen         ${iso.slice(0, 10)} ${iso.slice(11, 23)} `)), `first seen in UTC (${iso})`);

    // Esc goes back to the Overview with the filter still on; a second Esc clears it.
    await h.press(KEY.escape);
    assert.equal(tableTitle(h.text()), 'Active Connections 3 of 54');
    await h.press(KEY.escape);
    assert.equal(tableTitle(h.text()), 'Active Connections 54');

    // A filter that matches nothing says so instead of leaving the table blank.
    await h.press('/', ...'sni:no-such-host');
    assert.equal(tableTitle(h.text()), 'Active Connections 0 of 54');
    assert.ok(h.text().some((l) => l.startsWith('│No connections match the filter')));
  });
});

test('interfaces (i), graph (4), help (h) pages; Tab and Shift+Tab cycle the tabs', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    await h.press('i');
    const interfaces = h.text();
    h.keepScreen('interfaces', interfaces);
    assert.match(interfaces[1]!, /^┌─ Interfaces /);
    assert.match(interfaces[2]!, /^│Interface counters are live-only: a replay has none\. /);

    await h.press('4');
    const graph = h.text();
    h.keepScreen('graph', graph);
    assert.match(graph[1]!, /^┌─ Graph /);
    assert.ok(graph.some((l) => l.includes('│ Applications (54 connections)')), 'the application mix counts every connection');
    assert.ok(graph.some((l) => l.includes('│Connections 54 (TCP 15 · UDP 31 · other 8)')), 'connections over time, by transport');

    await h.press('h');
    const help = h.text();
    h.keepScreen('help', help);
    assert.match(help[1]!, /^┌─ Help /);
    assert.ok(help.some((l) => /sort/i.test(l)), 'help lists the sort key');

    await h.press('1');
    assert.equal(tableTitle(h.text()), 'Active Connections 54');
    const tabs: string[] = [];
    for (let i = 0; i < 5; i++) {
      await h.press(KEY.tab);
      tabs.push(/^┌─ (\S+)/.exec(h.text()[1]!)![1]!);
    }
    assert.deepEqual(tabs, ['Details', 'Interfaces', 'Graph', 'Help', 'Active'], 'Tab walks the tabs and wraps');
    await h.press(KEY.shiftTab);
    assert.match(h.text()[1]!, /^┌─ Help /, 'Shift+Tab goes back one');
  });
});

test('a groups rows by process: a replay has no processes, so one "—" group of 54 with the summed rates', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    await h.press('a');
    const lines = h.text();
    h.keepScreen('grouped', lines);
    assert.equal(tableTitle(lines), 'Active Connections 54 · 1 group by process');
    const rows = tableRows(lines, 116);
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /^▸ — +54 connections +85\.6 KB\/s \/ 69\.8 KB\/s/, 'collapsed group: count and summed Down/Up');
    await h.press(KEY.enter);
    const expanded = tableRows(h.text(), 116);
    assert.equal(expanded.length, 40, 'Enter expands it: the group row and the 39 members that fit');
    assert.match(expanded[0]!, /^▾ — +54 connections/);
  });
});

test('t shows closed connections beside the open one (history of ndpi__sites)', async () => {
  await withScreen(SITES, 160, 45, async (h) => {
    assert.equal(tableTitle(h.text()), 'Active Connections 1');
    await h.press('t');
    const lines = h.text();
    h.keepScreen('history', lines);
    assert.equal(tableTitle(lines), 'Connections (active + closed) 64');
    // Closed rows are greyed (colour 8); the one still open (146.70.182.51, selected) is not.
    const cells = (h.ui.screen as unknown as { lines: [number, string][][] }).lines;
    const fg = (y: number): Set<number> => new Set(cells[y]!.slice(1, 115).map(([attr]) => (attr >> 9) & 0x1ff));
    const open = lines.findIndex((l) => l.includes('146.70.182.51:443'));
    assert.ok(open > 0, 'the open connection is listed');
    assert.ok(!fg(open).has(8), 'the open connection is not grey');
    const closed = tableRows(lines, 116).length - 1;
    assert.equal(closed, 40 - 1, 'the rest of the visible rows are closed ones');
    for (let y = 3; y < 3 + 40; y++) if (y !== open) assert.deepEqual([...fg(y)], [8], `row ${y} (closed) is grey`);

    // x asks, a second x forgets the closed ones.
    await h.press('x');
    assert.match(h.text()[44]!, /^Press x again to clear closed connections /);
    await h.press('x');
    assert.equal(tableTitle(h.text()), 'Connections (active + closed) 1');
    assert.equal(tableRows(h.text(), 116).length, 1);
  });
});

test('--no-color: the same screen with no colour attribute on any cell', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    const lines = h.text();
    h.keepScreen('overview-no-color', lines);
    assert.deepEqual(lines, readScreen('overview-160x45'), 'the same text as with colour (colour only adds, never replaces)');
    const cells = (h.ui.screen as unknown as { lines: [number, string][][] }).lines;
    // blessed packs a cell's attributes as flags << 18 | fg << 9 | bg; 0x1ff is "default colour".
    const coloured = cells.flat().filter(([attr]) => ((attr >> 9) & 0x1ff) !== 0x1ff || (attr & 0x1ff) !== 0x1ff);
    assert.equal(coloured.length, 0, 'no cell has a foreground or background colour');
    await h.flush();
    assert.equal(colourSgr(h.output.latin1()), null, 'no colour escape written to the terminal');
  }, false);
  await withScreen(IPHONE, 160, 45, async (h) => {
    const cells = (h.ui.screen as unknown as { lines: [number, string][][] }).lines;
    assert.ok(cells.flat().some(([attr]) => ((attr >> 9) & 0x1ff) !== 0x1ff), 'with colour on, some cells are coloured');
    await h.flush();
    assert.notEqual(colourSgr(h.output.latin1()), null, 'and colour escapes are written');
  });
});

/** The first SGR sequence in `out` that sets a foreground or background colour, or null. */
function colourSgr(out: string): string | null {
  // eslint-disable-next-line no-control-regex
  for (const m of out.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const params = m[1]!.split(';').map(Number);
    if (params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107))) return m[0];
  }
  return null;
}

test('a terminal too small gets a message, not garbage; a resize redraws at once', async () => {
  await withScreen(IPHONE, 50, 12, async (h) => {
    const lines = h.text();
    h.keepScreen('too-small', lines);
    assert.ok(lines.some((l) => l.includes('Terminal too small: 50×12.')));
    assert.ok(lines.some((l) => l.includes(`Needs at least ${MIN_WIDTH}×${MIN_HEIGHT}.`)));
    assert.ok(lines.every((l) => [...l].length <= 50));

    h.output.resize(160, 45);
    assert.equal(tableTitle(h.text()), 'Active Connections 54', 'enlarged: the Overview is back');
    assert.deepEqual(h.text(), readScreen('overview-160x45'), 'exactly the screen opened at 160×45');
    h.output.resize(59, 30);
    assert.ok(h.text().some((l) => l.includes('Terminal too small: 59×30.')), 'one column short of the minimum');
  });
});

test('q asks, a second q quits (another key in between cancels); Ctrl+C quits at once', async () => {
  await withScreen(IPHONE, 160, 45, async (h) => {
    await h.press('q');
    assert.equal(h.quits, 0, 'one q only asks');
    assert.match(h.text()[44]!, /^Press q again to quit /);
    await h.press('j', 'q');
    assert.equal(h.quits, 0, 'j cancelled the first q, so this q asks again');
    await h.press('q');
    assert.equal(h.quits, 1);
  });
  await withScreen(IPHONE, 100, 30, async (h) => {
    await h.press(KEY.ctrlC);
    assert.equal(h.quits, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// U11: hostile strings from the wire, through DPI, the session and the real screen.

/** Retitles the terminal (OSC 0), clears it, turns text red: what a packet must never get to do. */
const OSC_TITLE = '\x1b]0;pwned\x07';
const CLEAR = '\x1b[2J';
const RED = '\x1b[31m';

/** As the screen shows each: control characters written out as \xNN (sanitize.ts). */
// eslint-disable-next-line no-control-regex
const shown = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const HOSTILE = {
  sni: `sni${OSC_TITLE}${CLEAR}${RED}.evil.test`,
  httpHost: `host${OSC_TITLE}${RED}.evil.test`,
  httpPath: `/path${CLEAR}\x07${RED}x`,
  dnsName: `dns${OSC_TITLE}${CLEAR}.evil.test`,
  sshServer: `SSH-2.0-Evil${OSC_TITLE}${CLEAR}${RED}_1.0 extra`,
  sshSoftware: `Bad${RED}${OSC_TITLE}_2.0`,
};

const CLIENT = '10.0.0.2';
const TLS_SERVER = '203.0.113.7';
const HTTP_SERVER = '198.51.100.9';
const SSH_SERVER = '192.0.2.22';
const RESOLVER = '10.0.0.1';

/** DNS name in wire form (RFC 1035 §3.1): labels of any bytes, dot-separated here. */
function dnsName(name: string): number[] {
  return [...name.split('.').flatMap((l) => [l.length, ...latin1(l)]), 0];
}

/** A standard query for `name` (A, IN) and its answer handing out `address` (RFC 1035 §4.1). */
function dnsExchange(name: string, address: string): { query: Uint8Array; response: Uint8Array } {
  const question = [...dnsName(name), 0, 1, 0, 1];
  const query = Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...question]);
  const answer = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...address.split('.').map(Number)];
  const response = Uint8Array.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...question, ...answer]);
  return { query, response };
}

/** One capture with every hostile field: DNS answer, TLS SNI, HTTP Host and path, SSH banner. */
function hostileFrames(): TimedFrame[] {
  const t0 = 1_700_000_000_000_000;
  const frames: TimedFrame[] = [];
  // The DNS answer names the TLS server's address first, so passive DNS names that connection too.
  const dns = dnsExchange(HOSTILE.dnsName, TLS_SERVER);
  frames.push({ tsMicros: t0, bytes: udpPayloadFrame([CLIENT, 40000], [RESOLVER, 53], dns.query) });
  frames.push({ tsMicros: t0 + 2000, bytes: udpPayloadFrame([RESOLVER, 53], [CLIENT, 40000], dns.response) });
  const tls = new TcpConversation([CLIENT, 40001], [TLS_SERVER, 443], t0 + 10_000).handshake()
    .send(true, records(clientHello({ sni: HOSTILE.sni, alpn: ['h2'] })));
  const http = new TcpConversation([CLIENT, 40002], [HTTP_SERVER, 80], t0 + 20_000).handshake()
    .send(true, latin1(`GET ${HOSTILE.httpPath} HTTP/1.1\r\nHost: ${HOSTILE.httpHost}\r\nUser-Agent: test\r\n\r\n`))
    .send(false, latin1('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  const ssh = new TcpConversation([CLIENT, 40003], [SSH_SERVER, 22], t0 + 30_000).handshake()
    .send(false, latin1(`${HOSTILE.sshServer}\r\n`))
    .send(true, latin1(`SSH-2.0-${HOSTILE.sshSoftware}\r\n`));
  return [...frames, ...tls.frames, ...http.frames, ...ssh.frames];
}

/** Every OSC sequence (ESC ] … BEL) in `out`. */
function oscSequences(out: string): string[] {
  // eslint-disable-next-line no-control-regex
  return out.match(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g) ?? [];
}

test('U11: hostile SNI, HTTP Host/path, DNS name and SSH banner are shown escaped, never written raw', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-hostile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hostile.pcap');
  writePcap(file, hostileFrames());

  for (const color of [true, false]) {
    const h = await ScreenHarness.open(file, { columns: 160, rows: 45, color, shownName: 'hostile.pcap' });
    const screens: string[][] = [];
    /** Filters down to the one connection on `port`, opens its details, and comes back to all four. */
    const detailsOf = async (port: number): Promise<string[]> => {
      await h.press('/', ...`dport:${port}`, KEY.enter);
      assert.equal(tableTitle(h.text()), 'Active Connections 1 of 4', `one connection to port ${port}`);
      screens.push(h.text());
      await h.press(KEY.enter);
      const details = h.text();
      screens.push(details);
      await h.press(KEY.escape, KEY.escape);
      assert.equal(tableTitle(h.text()), 'Active Connections 4');
      return details;
    };
    try {
      const overview = h.text();
      screens.push(overview);
      assert.equal(tableTitle(overview), 'Active Connections 4');
      if (color) h.keepScreen('hostile-overview', overview);
      const field = (lines: string[], label: string): string => {
        const line = lines.find((l) => l.startsWith(`│${label} `));
        assert.ok(line !== undefined, `details have a ${label} line`);
        return line.slice(1 + label.length).trim().replace(/ *│$/, '');
      };

      const tls = await detailsOf(443);
      if (color) h.keepScreen('hostile-details-tls', tls);
      assert.equal(field(tls, 'sni'), shown(HOSTILE.sni), 'SNI kept whole, shown escaped');
      assert.equal(field(tls, 'Domain'), shown(HOSTILE.sni));
      // Passive DNS named the server after the hostile DNS answer; DNS names arrive as RFC 1035 escapes (\DDD).
      assert.match(field(tls, 'Remote'), /^dns\\027\]0;pwned\\007\\027\[2J\.evil\.test:443 \(203\.0\.113\.7:443\)$/);

      const http = await detailsOf(80);
      assert.equal(field(http, 'http_method'), 'GET', 'HTTP request with control bytes keeps its method');
      assert.equal(field(http, 'http_host'), shown(HOSTILE.httpHost), 'and its Host');
      assert.equal(field(http, 'http_path'), shown(HOSTILE.httpPath), 'and its path');

      const dns = await detailsOf(53);
      assert.equal(field(dns, 'dns_queries'), 'dns\\027]0;pwned\\007\\027[2J.evil.test', 'the DNS name, RFC 1035 escapes');
      assert.equal(field(dns, 'dns_answers'), TLS_SERVER);

      const ssh = await detailsOf(22);
      if (color) h.keepScreen('hostile-details-ssh', ssh);
      assert.equal(field(ssh, 'ssh_server_banner'), shown(HOSTILE.sshServer), 'the server\'s banner, whole');
      assert.equal(field(ssh, 'ssh_client_banner'), shown(`SSH-2.0-${HOSTILE.sshSoftware}`), 'the client\'s banner');
      assert.equal(field(ssh, 'ssh_software'), shown(HOSTILE.sshSoftware), 'and its software version');
      h.compareKept();
    } finally {
      await h.close();
    }

    // Nothing painted holds a control character: every one was turned into visible text.
    for (const lines of screens) {
      // eslint-disable-next-line no-control-regex
      for (const l of lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f-\x9f]/, `a painted line holds a control character: ${JSON.stringify(l)}`);
    }
    const out = h.output.latin1();
    // The only OSC is blessed's own title; the only BEL ends it.
    assert.deepEqual(oscSequences(out), ['\x1b]0;rustnet-ts\x07'], 'no OSC from the wire reached the terminal');
    assert.equal(out.split('\x07').length - 1, 1, 'no BEL from the wire');
    // blessed clears the screen itself only as "home, then erase" (at start and at exit).
    for (let i = out.indexOf(CLEAR); i >= 0; i = out.indexOf(CLEAR, i + 1)) {
      assert.equal(out.slice(i - 3, i), '\x1b[H', `an erase-screen at byte ${i} not written by blessed`);
    }
    for (const raw of [OSC_TITLE, `${CLEAR}${RED}`, `host${OSC_TITLE}`, `/path${CLEAR}`, `Evil${OSC_TITLE}`, `Bad${RED}`, `${RED}.evil`, `${RED}x`, `${RED}_1.0`]) {
      assert.ok(!out.includes(raw), `the raw bytes ${JSON.stringify(raw)} reached the terminal`);
    }
    if (!color) assert.equal(colourSgr(out), null, 'without colour, no colour escape at all: the injected SGR did not get through');
  }
});
