// nDPI's own expected output as an oracle: our DPI labels agree with every flow nDPI recognised, never contradict it, mid-stream too.
//
// test/corpus/oracle/<capture>/ndpiReader.out is what nDPI's test suite expects ndpiReader to print for the
// corpus's nDPI captures (see test/corpus/README.md). Each flow line names the flow, nDPI's protocol
// ("91.176/TLS.Wikipedia": master TLS) and how nDPI reached it ("Confidence: DPI", "Match by port", …).
// The captures are replayed whole, and again with the first packets of every flow left out
// (scripts/drop-flow-starts.mjs), so that what is left looks like a capture started mid-stream; nDPI's
// label of the whole flow is the truth for both.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { CORPUS, classicPcap, manifest, replay } from './support/corpus.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DROP_SCRIPT = path.join(ROOT, 'scripts/drop-flow-starts.mjs');

/** nDPI master protocol names and the labels of ours that say the same. Others are protocols we do not know. */
const SAME: Readonly<Record<string, readonly string[]>> = {
  TLS: ['TLS', 'HTTPS'],
  HTTP: ['HTTP'],
  DNS: ['DNS'],
  MDNS: ['mDNS'],
  LLMNR: ['LLMNR'],
  QUIC: ['QUIC'],
  DHCP: ['DHCP'],
  SSDP: ['SSDP'],
  NTP: ['NTP'],
  STUN: ['STUN'],
  SSH: ['SSH'],
  NetBIOS: ['NetBIOS'],
  SNMP: ['SNMP'],
  BitTorrent: ['BitTorrent'],
  MQTT: ['MQTT'],
  FTP_CONTROL: ['FTP'],
};

interface NdpiFlow {
  /** nDPI's flow number in its output. */
  readonly n: number;
  readonly transport: string;
  readonly text: string;
  /** "TLS.Wikipedia", "HTTP", "DingTalk". */
  readonly name: string;
  /** The part before the first dot: what the flow is at the protocol level. */
  readonly master: string;
  /** "DPI", "Match by port", … */
  readonly confidence: string;
}

/** An address as one canonical string: IPv6 written out in full, so nDPI's and our spellings compare. */
function canonical(addr: string): string {
  if (!addr.includes(':')) return addr;
  const [head, tail] = addr.includes('::') ? addr.split('::') as [string, string] : [addr, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.padStart(4, '0').toLowerCase()).join(':');
}

/** "1.2.3.4:80" or "[2001:db8::1]:443" → canonical "address|port". */
function endpoint(text: string): string {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  assert.ok(m !== null, `endpoint ${text}`);
  return `${canonical(m[1]!)}|${m[2]}`;
}

function flowKey(transport: string, a: string, b: string): string {
  return `${transport}|${[a, b].sort().join('|')}`;
}

/** The TCP and UDP flows of one ndpiReader.out, by key. */
function ndpiFlows(id: string): Map<string, NdpiFlow> {
  const out = fs.readFileSync(path.join(CORPUS, 'oracle', id, 'ndpiReader.out'), 'utf8');
  const flows = new Map<string, NdpiFlow>();
  for (const line of out.split('\n')) {
    const m = /^\t(\d+)\t(TCP|UDP) (\S+) <?-> (\S+) \[proto: (?:[A-Za-z]+:)?[\d.]+\/([^\]]+)\].*?\]\[Confidence: ([^\]]+)\]/.exec(line);
    if (m === null) continue;
    const [, n, transport, a, b, name, confidence] = m as unknown as [string, string, string, string, string, string, string];
    flows.set(flowKey(transport, endpoint(a), endpoint(b)), {
      n: Number(n), transport, text: `${transport} ${a} <-> ${b}`, name, master: name.split('.')[0]!, confidence,
    });
  }
  return flows;
}

/** Our closed events of TCP and UDP connections, by the same key. */
function ourFlows(events: readonly ConnectionEvent[]): Map<string, ConnectionEvent> {
  const ours = new Map<string, ConnectionEvent>();
  for (const e of events) {
    if (e.event !== 'connection_closed' || (e.protocol !== 'TCP' && e.protocol !== 'UDP')) continue;
    const key = flowKey(e.protocol, `${canonical(e.source_ip)}|${e.source_port}`, `${canonical(e.destination_ip)}|${e.destination_port}`);
    ours.set(key, e);
  }
  return ours;
}

function label(e: ConnectionEvent | undefined): string {
  if (e === undefined) return 'no connection';
  if (e.dpi_protocol === undefined) return 'no label';
  return `${e.dpi_protocol} (${e.dpi_confidence})`;
}

/** A label of ours that DPI read from the content (a handshake, a message, or the framing mid-stream). */
function inspected(e: ConnectionEvent | undefined): e is ConnectionEvent & { dpi_protocol: string } {
  return e?.dpi_protocol !== undefined && (e.dpi_confidence === 'content' || e.dpi_confidence === 'mid-stream');
}

/**
 * Problems with our labels against nDPI's: a flow nDPI recognised (Confidence: DPI, a protocol we know)
 * that we label otherwise or only guess, when `mustLabel`; any label of ours read from the content that
 * names another protocol than nDPI found by DPI.
 */
function disagreements(ndpi: Map<string, NdpiFlow>, ours: Map<string, ConnectionEvent>, mustLabel: boolean): string[] {
  const problems: string[] = [];
  for (const [key, f] of ndpi) {
    const e = ours.get(key);
    const same = SAME[f.master];
    if (mustLabel && f.confidence === 'DPI' && same !== undefined && !(inspected(e) && same.includes(e.dpi_protocol))) {
      problems.push(`nDPI flow ${f.n} ${f.text}: nDPI says ${f.name} by DPI, we say ${label(e)}`);
    }
    if (!inspected(e) || f.confidence !== 'DPI') continue;
    if (same === undefined || !same.includes(e.dpi_protocol)) {
      problems.push(`nDPI flow ${f.n} ${f.text}: we say ${label(e)}, nDPI found ${f.name} by DPI`);
    }
  }
  return problems;
}

/** What nDPI only guessed by port (or did not recognise) and what we say of those flows, for the test output. */
function guessLines(ndpi: Map<string, NdpiFlow>, ours: Map<string, ConnectionEvent>): string[] {
  const lines: string[] = [];
  for (const [key, f] of ndpi) {
    if (f.confidence === 'DPI' && SAME[f.master] !== undefined) continue;
    const why = f.confidence === 'DPI' ? `${f.name} by DPI (a protocol we do not know)` : `${f.name} (${f.confidence})`;
    lines.push(`nDPI flow ${f.n} ${f.text}: nDPI ${why}; we say ${label(ours.get(key))}`);
  }
  return lines;
}

const CAPTURES = manifest().filter((m) => m.id!.startsWith('ndpi__'));

test('the corpus holds nDPI\'s expected output for each of its nDPI captures', () => {
  assert.ok(CAPTURES.length >= 16, `${CAPTURES.length} nDPI captures`);
  for (const m of CAPTURES) assert.ok(ndpiFlows(m.id!).size > 0, `${m.id}: flows parsed from ndpiReader.out`);
  // The parser reads what it should: a known line of ndpi__sites.
  const sites = [...ndpiFlows('ndpi__sites.pcapng').values()];
  const wiki = sites.find((f) => f.n === 2)!;
  assert.deepEqual([wiki.name, wiki.master, wiki.confidence], ['TLS.Wikipedia', 'TLS', 'DPI']);
  assert.equal(sites.filter((f) => f.confidence === 'Match by port').length, 4);
  assert.equal(canonical('2a03:2880:f208:c4:face:b00c::43fe'), canonical('2a03:2880:f208:c4:face:b00c:0:43fe'));
});

for (const m of CAPTURES) {
  const id = m.id!;
  test(`our labels match nDPI's on every flow it recognised: ${id}`, async (t: TestContext) => {
    const ndpi = ndpiFlows(id);
    const { events } = await replay(path.join(CORPUS, m.file!));
    const ours = ourFlows(events);
    for (const line of guessLines(ndpi, ours)) t.diagnostic(line);
    const problems = disagreements(ndpi, ours, true);
    assert.deepEqual(problems, [], `${id}:\n  ${problems.join('\n  ')}`);
  });
}

/** Every nDPI capture without the first `drop` packets of each TCP and UDP flow: labels and counts. */
async function midStream(drop: number, t: TestContext): Promise<{ problems: string[]; counts: Map<string, number> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-midstream-'));
  const problems: string[] = [];
  const counts = new Map<string, number>();
  try {
    for (const m of CAPTURES) {
      const id = m.id!;
      const file = path.join(dir, `${id}.pcap`);
      execFileSync(process.execPath, [DROP_SCRIPT, classicPcap(m.classic_pcap!), file, '--drop', String(drop), '--udp'], { stdio: 'pipe' });
      const ndpi = ndpiFlows(id);
      const ours = ourFlows((await replay(file)).events);
      problems.push(...disagreements(ndpi, ours, false).map((p) => `${id}: ${p}`));
      for (const [key, e] of ours) {
        const kind = `${e.dpi_protocol ?? 'none'} ${e.dpi_confidence ?? ''}`.trim();
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        const f = ndpi.get(key);
        if (e.dpi_confidence === 'mid-stream') t.diagnostic(`${id}: ${label(e)} where nDPI says ${f === undefined ? 'nothing' : `${f.name} (${f.confidence})`}`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`labels without the first ${drop} packets of each flow: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return { problems, counts };
}

test('mid-stream (first 4 packets of every flow left out): no label of ours contradicts nDPI, TLS named from its records', async (t) => {
  const { problems, counts } = await midStream(4, t);
  assert.deepEqual(problems, [], problems.join('\n'));
  // 50 TLS flows of ndpi__sites and ndpi__iphone lose their ClientHello and are named from the record layer.
  assert.ok((counts.get('HTTPS mid-stream') ?? 0) >= 45, `HTTPS mid-stream: ${counts.get('HTTPS mid-stream')}`);
  // ndpi__http-lines-split and ndpi__sites' Likee download: HTTP from a status line or a later request.
  assert.ok((counts.get('HTTP mid-stream') ?? 0) >= 2, `HTTP mid-stream: ${counts.get('HTTP mid-stream')}`);
  // ndpi__dns_fragmented's two DNS-over-TCP connections: a message boundary found after their first query.
  assert.ok((counts.get('DNS mid-stream') ?? 0) >= 2, `DNS mid-stream: ${counts.get('DNS mid-stream')}`);
});

test('mid-stream (first 10 packets left out): no label of ours contradicts nDPI', async (t) => {
  const { problems, counts } = await midStream(10, t);
  assert.deepEqual(problems, [], problems.join('\n'));
  assert.ok((counts.get('HTTPS mid-stream') ?? 0) >= 25, `HTTPS mid-stream: ${counts.get('HTTPS mid-stream')}`);
});
