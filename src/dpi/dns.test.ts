// Tests for the DNS/mDNS/LLMNR classifier against the capture corpus, crafted messages and random bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_LIST_ENTRIES, MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict, type Classifier } from './classifier.js';
import { dnsClassifier } from './dns.js';
import { ntpClassifier } from './ntp.js';
import { dhcpClassifier } from './dhcp.js';
import { ssdpClassifier } from './ssdp.js';
import { stunClassifier } from './stun.js';
import { netbiosClassifier } from './netbios.js';
import { snmpClassifier } from './snmp.js';
import { bittorrentClassifier } from './bittorrent.js';
import { classicPcap, classicPcaps, manifest, oracle, summary, type Row } from '../../test/support/corpus.js';
import { classifyOnce, flowCtx, inspectFlows, prng, readPayloads, type InspectedFlow, type Payload } from '../../test/support/dpi.js';


/** Runs every payload of a capture through a DpiEngine (only the DNS classifier unless told), per flow. */
function runCapture(
  payloads: Payload[], classifiers: readonly Classifier[] = [dnsClassifier],
): { flows: Map<string, InspectedFlow>; frameFlow: Map<number, string> } {
  return inspectFlows(payloads, classifiers);
}

interface DnsRow {
  frame: number;
  app: string;
  isResponse: boolean;
  rcode: number;
  queries: string[];
  answers: string[];
}

function readDnsTsv(id: string): DnsRow[] {
  const list = (r: Row, name: string): string[] => (r[name] ?? '').split(',').filter((x) => x.length > 0);
  return oracle(id, 'dns.tsv').filter((r) => r.inside_icmp_error !== '1').map((r) => ({
    frame: Number(r.frame),
    app: r.app!,
    isResponse: r.is_response === '1',
    rcode: Number(r.rcode || '0'),
    queries: list(r, 'qry_name'),
    answers: [...list(r, 'a'), ...list(r, 'aaaa'), ...list(r, 'ptr'), ...list(r, 'cname')],
  }));
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** detect + start + feed one payload, as the engine does for the first payload of a flow. */
function classifyOne(payload: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(dnsClassifier, payload, ctx);
}

function udpPayloads(id: string, port: number): Payload[] {
  return readPayloads(classicPcap(id)).filter((s) => s.transport === 17 && (s.sport === port || s.dport === port));
}

// ---------------------------------------------------------------------------------------------
// Message builder for crafted cases (RFC 1035 §4.1 layout, names uncompressed)
// ---------------------------------------------------------------------------------------------

function nameBytes(name: string): number[] {
  const out: number[] = [];
  if (name !== '') {
    for (const label of name.split('.')) {
      const bytes = Buffer.from(label, 'utf8');
      out.push(bytes.length, ...bytes);
    }
  }
  out.push(0);
  return out;
}

interface Rr { name: number[]; type: number; cls?: number; rdata: number[] }

function message(opts: { id?: number; flags: number; qd: number[][]; an?: Rr[]; ns?: Rr[]; ar?: Rr[]; counts?: number[] }): Uint8Array {
  const an = opts.an ?? [];
  const ns = opts.ns ?? [];
  const ar = opts.ar ?? [];
  const counts = opts.counts ?? [opts.qd.length, an.length, ns.length, ar.length];
  const out: number[] = [];
  const push16 = (v: number): void => {
    out.push((v >> 8) & 0xff, v & 0xff);
  };
  push16(opts.id ?? 0x1234);
  push16(opts.flags);
  for (const c of counts) push16(c);
  for (const q of opts.qd) out.push(...q);
  for (const r of [...an, ...ns, ...ar]) {
    out.push(...r.name);
    push16(r.type);
    push16(r.cls ?? 1);
    out.push(0, 0, 0x0e, 0x10);
    push16(r.rdata.length);
    out.push(...r.rdata);
  }
  return Uint8Array.from(out);
}

const question = (name: string, type = 1, cls = 1): number[] => [...nameBytes(name), type >> 8, type & 0xff, cls >> 8, cls & 0xff];

function assertBounded(app: AppInfo | null): void {
  if (app === null) return;
  for (const v of Object.values(app.details)) {
    if (typeof v === 'string') assert.ok(v.length <= MAX_WIRE_STRING, 'string bound');
    if (Array.isArray(v)) {
      assert.ok(v.length <= MAX_LIST_ENTRIES, 'list bound');
      for (const s of v) assert.ok(s.length <= MAX_WIRE_STRING, 'entry bound');
    }
  }
  if (app.domain !== undefined) assert.ok(app.domain.length <= MAX_WIRE_STRING, 'domain bound');
}

// ---------------------------------------------------------------------------------------------
// Corpus: specific captures
// ---------------------------------------------------------------------------------------------

/** tcpdump__dns_udp's response: two A answers, then the name servers' glue (A and AAAA) from the additional section. */
const ANSWERS_WITH_GLUE = ['192.139.46.66', '198.199.88.104', '209.87.249.18', '2607:f0b0:f::babe:f00d', '97.107.133.15', '2600:3c03::f03c:91ff:fe96:e8ef'];

/** The one flow of a www.tcpdump.org lookup capture: the query, then a response with glue. */
function expectTcpdumpLookup(file: string, transport: number): void {
  const { flows } = runCapture(readPayloads(classicPcap(file)));
  const apps = [...flows.values()].filter((f) => f.app !== null);
  assert.equal(apps.length, 1);
  assert.equal(apps[0]!.transport, transport);
  const app = apps[0]!.app!;
  assert.equal(app.protocol, 'DNS');
  assert.equal(app.domain, 'www.tcpdump.org');
  assert.equal(app.state, 'DNS_RESPONSE');
  assert.deepEqual(app.details.dns_queries, ['www.tcpdump.org']);
  // The answer section holds the two A records; the AAAA records ride in the additional section.
  assert.deepEqual(app.details.dns_answers, ANSWERS_WITH_GLUE);
  assert.equal(app.details.dns_rcode, 'NOERROR');
}

test('tcpdump__dns_udp: A query and its response', () => {
  expectTcpdumpLookup('tcpdump__dns_udp.pcap', 17);
});

test('tcpdump__dns_udp: query alone gives DNS_QUERY, and detect is CONTENT on either port', () => {
  const segs = udpPayloads('tcpdump__dns_udp.pcap', 53);
  const q = segs[0]!;
  const r = classifyOne(q.payload, flowCtx(17, q.sport, q.dport));
  assert.equal(r.score, Score.CONTENT);
  assert.equal(r.verdict, Verdict.MORE);
  assert.equal(r.app?.state, 'DNS_QUERY');
  assert.equal(r.app?.details.dns_rcode, undefined);
  // The same bytes on unrelated ports: the query is structurally complete (one question, EDNS OPT).
  assert.equal(dnsClassifier.detect(q.payload, 0, q.payload.length, flowCtx(17, 40000, 40001)), Score.CONTENT);
  const resp = segs[1]!.payload;
  assert.equal(dnsClassifier.detect(resp, 0, resp.length, flowCtx(17, 40001, 40000)), Score.CONTENT);
});

test('tcpdump__dns_tcp: DNS over TCP, length-prefixed', () => {
  expectTcpdumpLookup('tcpdump__dns_tcp.pcap', 6);
});

function tcpMessages(): { query: Uint8Array; response: Uint8Array } {
  const segs = readPayloads(classicPcap('tcpdump__dns_tcp.pcap')).filter((s) => s.payload.length > 0);
  return { query: segs[0]!.payload, response: segs[1]!.payload };
}

test('DNS over TCP: byte-at-a-time, split prefixes, several messages per segment', () => {
  const { query, response } = tcpMessages();
  const full = (() => {
    const s = dnsClassifier.start();
    s.feed(query, 0, query.length, flowCtx(6, 33779, 53, true, 1000));
    s.feed(response, 0, response.length, flowCtx(6, 53, 33779, false, 5000));
    return s.app!;
  })();
  // One byte per segment, both directions.
  for (const cut of [1, 2, 3, 7, 13, 14, 15, 100]) {
    const s = dnsClassifier.start();
    let v: number = Verdict.MORE;
    for (const [bytes, client, seq0] of [[query, true, 1000], [response, false, 5000]] as const) {
      for (let i = 0; i < bytes.length; i += cut) {
        const n = Math.min(cut, bytes.length - i);
        const chunk = new Uint8Array(n + 4).fill(0xaa);
        chunk.set(bytes.subarray(i, i + n), 2);
        v = s.feed(chunk, 2, n, flowCtx(6, client ? 33779 : 53, client ? 53 : 33779, client, seq0 + i));
        assert.notEqual(v, Verdict.REJECT, `cut ${cut} at ${i}`);
        chunk.fill(0); // caller reuses its buffer
      }
    }
    assert.deepEqual(s.app, full, `cut ${cut}`);
  }
  // Three responses back to back in one segment, the third split into the next one.
  const many = Buffer.concat([response, response, response]);
  const s = dnsClassifier.start();
  s.feed(query, 0, query.length, flowCtx(6, 33779, 53, true, 1000));
  const split = response.length * 2 + 20;
  s.feed(many, 0, split, flowCtx(6, 53, 33779, false, 5000));
  s.feed(many, split, many.length - split, flowCtx(6, 53, 33779, false, 5000 + split));
  assert.deepEqual(s.app, full);
});

test('DNS over TCP: retransmissions are ignored, a gap resyncs on the next message start', () => {
  const { query, response } = tcpMessages();
  const s = dnsClassifier.start();
  s.feed(query, 0, query.length, flowCtx(6, 33779, 53, true, 1000));
  s.feed(query, 0, query.length, flowCtx(6, 33779, 53, true, 1000)); // retransmitted
  // Response: first half, then an overlapping retransmission of everything.
  const half = 50;
  s.feed(response, 0, half, flowCtx(6, 53, 33779, false, 7000));
  s.feed(response, 0, response.length, flowCtx(6, 53, 33779, false, 7000));
  assert.equal(s.app?.state, 'DNS_RESPONSE');
  assert.deepEqual(s.app?.details.dns_answers, ANSWERS_WITH_GLUE);

  // A lost segment in the middle of a message: the rest is skipped until a segment starts a message.
  const t = dnsClassifier.start();
  t.feed(query, 0, query.length, flowCtx(6, 33779, 53, true, 1000));
  t.feed(response, 0, 40, flowCtx(6, 53, 33779, false, 7000));
  t.feed(response, 80, response.length - 80, flowCtx(6, 53, 33779, false, 7080)); // 40..80 lost
  assert.equal(t.app?.state, 'DNS_QUERY');
  assert.equal(t.app?.details.dns_answers, undefined);
  t.feed(response, 0, response.length, flowCtx(6, 53, 33779, false, 7000 + response.length));
  assert.equal(t.app?.state, 'DNS_RESPONSE');
  assert.deepEqual(t.app?.details.dns_answers, ANSWERS_WITH_GLUE);
});

test('DNS over TCP: a message larger than the 16 KiB buffer is parsed from its prefix, the next one normally', () => {
  // A response of 2000 A records (over 16 KiB), then a small response in the same stream.
  const an: Rr[] = [];
  for (let i = 0; i < 2000; i++) an.push({ name: [0xc0, 12], type: 1, rdata: [10, 0, (i >> 8) & 0xff, i & 0xff] });
  const big = message({ flags: 0x8180, qd: [question('big.example')], an });
  assert.ok(big.length > 16 * 1024, 'message exceeds the buffer');
  const small = message({ flags: 0x8180, qd: [question('small.example')], an: [{ name: [0xc0, 12], type: 1, rdata: [192, 0, 2, 7] }] });
  const stream = new Uint8Array(4 + big.length + small.length);
  stream[0] = big.length >> 8;
  stream[1] = big.length & 0xff;
  stream.set(big, 2);
  const at = 2 + big.length;
  stream[at] = small.length >> 8;
  stream[at + 1] = small.length & 0xff;
  stream.set(small, at + 2);
  const s = dnsClassifier.start();
  assert.equal(dnsClassifier.detect(stream, 0, 1400, flowCtx(6, 53, 40000, false)), Score.CONTENT);
  let v: number = Verdict.MORE;
  for (let i = 0; i < stream.length; i += 1400) {
    const n = Math.min(1400, stream.length - i);
    v = s.feed(stream, i, n, flowCtx(6, 53, 40000, false, 100 + i));
  }
  assert.equal(v, Verdict.MORE);
  const d = s.app!.details;
  assert.deepEqual(d.dns_queries, ['big.example', 'small.example']);
  assert.equal(d.dns_answers?.length, MAX_LIST_ENTRIES);
  assert.equal(d.dns_answers?.[0], '10.0.0.0');
});

test('zeek__dns__mdns: mDNS over IPv4 and IPv6 with PTR and AAAA answers', () => {
  const { flows } = runCapture(readPayloads(classicPcap('zeek__dns__mdns.pcap')));
  const claimed = [...flows.values()].filter((f) => f.app !== null);
  assert.equal(claimed.length, 2);
  const v4 = claimed.find((f) => f.key.includes('224.0.0.251'))!.app!;
  const v6 = claimed.find((f) => !f.key.includes('224.0.0.251'))!.app!;
  const rev6a = '4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa';
  const rev6b = 'f.2.8.f.3.6.5.1.6.c.b.5.8.6.9.5.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa';
  const host = 'johanna-QEMU-Virtual-Machine.local';
  for (const app of [v4, v6]) {
    assert.equal(app.protocol, 'mDNS');
    assert.equal(app.domain, '_ipp._tcp.local');
    assert.equal(app.state, 'DNS_RESPONSE');
    assert.equal(app.details.dns_rcode, 'NOERROR');
  }
  assert.deepEqual(v4.details.dns_queries, ['_ipp._tcp.local', '_ipps._tcp.local', rev6a, host, '7.2.0.10.in-addr.arpa', rev6b]);
  assert.deepEqual(v4.details.dns_answers, [
    'fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4', host, 'fd52:429e:c03c:8235:5968:5bc6:1563:f82f', '10.0.2.7',
  ]);
  assert.deepEqual(v6.details.dns_queries, ['_ipp._tcp.local', '_ipps._tcp.local', rev6a, host, rev6b]);
  assert.deepEqual(v6.details.dns_answers, [
    'fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4', host, 'fd52:429e:c03c:8235:5968:5bc6:1563:f82f',
  ]);
});

test('zeek__dns-edns-ecs: all 85 messages recognised, names and answers match tshark', () => {
  const rows = readDnsTsv('zeek__dns-edns-ecs.pcap');
  assert.equal(rows.length, 85);
  const { flows, frameFlow } = runCapture(readPayloads(classicPcap('zeek__dns-edns-ecs.pcap')));
  for (const row of rows) {
    const flow = flows.get(frameFlow.get(row.frame)!);
    assert.ok(flow?.app, `frame ${row.frame} not recognised`);
    assert.equal(flow.app.protocol, 'DNS');
  }
  // CNAME targets and AAAA answers appear (frames 9 and 21 of the capture).
  const all = [...flows.values()].flatMap((f) => f.app?.details.dns_answers ?? []);
  assert.ok(all.includes('atlas-ui.ripe.net'), 'CNAME target');
  assert.ok(all.includes('193.0.6.158'), 'A answer');
  assert.ok(all.some((a) => a.includes(':')), 'AAAA answer');
});

test('ndpi__iphone and zeek__wikipedia: DNS, mDNS and LLMNR told apart; NXDOMAIN seen', () => {
  const iphone = runCapture(readPayloads(classicPcap('ndpi__iphone.pcap')));
  const protos = new Set([...iphone.flows.values()].map((f) => f.app?.protocol).filter((p) => p !== undefined));
  assert.deepEqual([...protos].sort(), ['DNS', 'mDNS']);
  const wiki = runCapture(readPayloads(classicPcap('zeek__wikipedia.pcap')));
  const wprotos = new Set([...wiki.flows.values()].map((f) => f.app?.protocol).filter((p) => p !== undefined));
  assert.deepEqual([...wprotos].sort(), ['DNS', 'LLMNR', 'mDNS']);
  const nx = [...wiki.flows.values()].filter((f) => f.app?.details.dns_rcode === 'NXDOMAIN');
  assert.equal(nx.length, 4);
  assert.equal(nx[0]!.app!.domain, 'upload.wikimedia.org.ncsa.uiuc.edu');
  // NetBIOS Name Service (UDP 137) and DHCP/SSDP in these captures are not DNS.
  for (const f of [...wiki.flows.values(), ...iphone.flows.values()]) {
    if (f.app !== null) assert.ok([53, 5353, 5355].some((p) => f.ports.includes(p)), f.key);
  }
});

test('ndpi__nfsv3: UDP that is not DNS is never claimed', () => {
  const segs = readPayloads(classicPcap('ndpi__nfsv3.pcap'));
  assert.ok(segs.filter((s) => s.transport === 17).length > 100, 'NFS over UDP present');
  for (const s of segs) {
    const score = dnsClassifier.detect(s.payload, 0, s.payload.length, flowCtx(s.transport, s.sport, s.dport));
    assert.equal(score, Score.NO, `frame ${s.frame}`);
  }
  const { flows } = runCapture(segs);
  for (const f of flows.values()) assert.equal(f.app, null);
});

test('corpus: no payload off the DNS ports is claimed (QUIC, GTP, NAT-PMP, Dropbox, HTTP, TLS…)', () => {
  for (const file of classicPcaps()) {
    for (const s of readPayloads(file)) {
      if ([53, 5353, 5355].includes(s.sport) || [53, 5353, 5355].includes(s.dport)) continue;
      const score = dnsClassifier.detect(s.payload, 0, s.payload.length, flowCtx(s.transport, s.sport, s.dport));
      assert.equal(score, Score.NO, `${file} frame ${s.frame}`);
    }
  }
});

test('corpus: per flow, query names, answers, rcode, state and protocol agree with tshark', () => {
  let checkedFiles = 0;
  for (const m of manifest()) {
    const id = m.id!;
    const file = classicPcap(m.classic_pcap!);
    const rows = readDnsTsv(id);
    const names = summary(id) as { dns_query_names: string[] };
    const { flows, frameFlow } = runCapture(readPayloads(file));
    // Expected per flow: tshark's rows for the frames we fed (IP fragments are not reassembled here).
    const byFlow = new Map<string, DnsRow[]>();
    for (const row of rows) {
      const key = frameFlow.get(row.frame);
      const flow = key === undefined ? undefined : flows.get(key);
      if (flow === undefined || !flow.frames.includes(row.frame)) continue;
      const list = byFlow.get(key!) ?? [];
      list.push(row);
      byFlow.set(key!, list);
    }
    const ours = new Set<string>();
    const expectedUnion = new Set<string>();
    const cut = new Set<string>();
    for (const [key, flowRows] of byFlow) {
      const app = flows.get(key)!.app;
      assert.ok(app !== null, `${file} ${key}`);
      const seen = flowRows.slice(0, 32);
      const names: string[] = [];
      for (const r of seen) {
        for (const q of r.queries) {
          if (names.some((n) => n.toLowerCase() === q.toLowerCase())) continue;
          if (names.length < MAX_LIST_ENTRIES) names.push(q);
          else cut.add(q); // beyond the list bound
        }
      }
      assert.deepEqual(app.details.dns_queries ?? [], names, `${file} ${key}`);
      for (const n of names) expectedUnion.add(n);
      for (const n of app.details.dns_queries ?? []) ours.add(n);
      assert.equal(app.domain, names[0], `${file} ${key}`);
      const oracleAnswers = new Set(seen.flatMap((r) => r.answers));
      for (const a of app.details.dns_answers ?? []) assert.ok(oracleAnswers.has(a), `${file} ${key}: ${a}`);
      const last = seen[seen.length - 1]!;
      assert.equal(app.state, last.isResponse ? 'DNS_RESPONSE' : 'DNS_QUERY', `${file} ${key}`);
      const lastResponse = seen.filter((r) => r.isResponse).pop();
      assert.equal(app.details.dns_rcode, lastResponse === undefined ? undefined : RCODES[lastResponse.rcode]);
      const proto = { DNS: 'DNS', MDNS: 'mDNS', LLMNR: 'LLMNR' }[last.app];
      assert.equal(app.protocol, proto, `${file} ${key}`);
      assertBounded(app);
    }
    // Every flow we claimed is one tshark decodes as DNS.
    for (const f of flows.values()) if (f.app !== null) assert.ok(byFlow.has(f.key), `${file} extra ${f.key}`);
    // The union equals tshark's list, except names cut by the per-flow list bound.
    assert.deepEqual([...ours].sort(), [...expectedUnion].sort(), file);
    for (const n of ours) assert.ok(names.dns_query_names.includes(n), `${file}: ${n}`);
    const missing = names.dns_query_names.filter((n) => !ours.has(n));
    for (const n of missing) assert.ok(cut.has(n), `${file}: ${n} missing`);
    assert.deepEqual(missing, [], file);
    if (rows.length > 0) checkedFiles++;
  }
  assert.ok(checkedFiles >= 10, `only ${checkedFiles} files with DNS`);
});

// ---------------------------------------------------------------------------------------------
// Crafted messages
// ---------------------------------------------------------------------------------------------

test('answers: A, AAAA in RFC 5952 form, PTR and CNAME targets through compression pointers', () => {
  const aaaa = (hex: string): Rr => ({ name: [0xc0, 12], type: 28, rdata: [...Buffer.from(hex, 'hex')] });
  const msg = message({
    flags: 0x8180,
    qd: [question('www.example.com')],
    an: [
      { name: [0xc0, 12], type: 5, rdata: [3, ...Buffer.from('cdn'), 0xc0, 16] }, // cdn.example.com
      { name: [0xc0, 12], type: 1, rdata: [192, 0, 2, 1] },
      aaaa('20010db8000000000000000000000001'),
      aaaa('00000000000000000000000000000001'),
      aaaa('00000000000000000000000000000000'),
      aaaa('20010db8000000010001000100010001'),
      aaaa('20010db8000000000001000000000001'),
      aaaa('0000000000000000000000000000ffff'.slice(0, 20) + 'ffffc0000201'),
      aaaa('20010DB8AAAA0BBB0CCC0DDD0EEE0FFF'),
      aaaa('00010000000000000000000000000000'),
      { name: [0xc0, 12], type: 12, rdata: [...nameBytes('host.example.net')] },
      { name: [0xc0, 12], type: 16, rdata: [4, 0x74, 0x65, 0x78, 0x74] }, // TXT: skipped
      { name: [0xc0, 12], type: 1, rdata: [192, 0, 2] }, // A with a bad length: skipped
    ],
  });
  const r = classifyOne(msg, flowCtx(17, 53, 40000, false));
  assert.equal(r.score, Score.CONTENT);
  assert.deepEqual(r.app?.details.dns_answers, [
    'cdn.example.com', '192.0.2.1', '2001:db8::1', '::1', '::', '2001:db8:0:1:1:1:1:1',
    '2001:db8::1:0:0:1', '::ffff:192.0.2.1', '2001:db8:aaaa:bbb:ccc:ddd:eee:fff', '1::', 'host.example.net',
  ]);
});

test('names: UTF-8 labels kept, control bytes and dots escaped, case-insensitive dedupe', () => {
  const weird = [3, 0x61, 0x2e, 0x62, 2, 0x1b, 0x5b, 0]; // "a.b" label, ESC [ label
  const msg = message({
    flags: 0x0000,
    qd: [question('Luca’s iMac._afpovertcp._tcp.local', 12), weird.concat([0, 1, 0, 1]), question('LUCA’S IMAC._AFPOVERTCP._TCP.LOCAL', 12)],
  });
  const r = classifyOne(msg, flowCtx(17, 5353, 5353));
  assert.equal(r.app?.protocol, 'mDNS');
  assert.deepEqual(r.app?.details.dns_queries, ['Luca’s iMac._afpovertcp._tcp.local', 'a\\.b.\\027[']);
  assert.equal(r.app?.state, 'DNS_QUERY');
  // Invalid UTF-8 falls back to byte escapes.
  const bad = message({ flags: 0, qd: [[2, 0xc3, 0x28, 0, 0, 1, 0, 1]] });
  assert.deepEqual(classifyOne(bad, flowCtx(17, 40000, 53)).app?.details.dns_queries, ['\\195(']);
});

test('LLMNR and rcodes, including the extended rcode from EDNS OPT', () => {
  const llmnr = message({ flags: 0x0000, qd: [question('printer')] });
  assert.equal(classifyOne(llmnr, flowCtx(17, 55000, 5355)).app?.protocol, 'LLMNR');
  const refused = message({ flags: 0x8185, qd: [question('x.example')] });
  assert.equal(classifyOne(refused, flowCtx(17, 53, 40000)).app?.details.dns_rcode, 'REFUSED');
  const badvers = message({
    flags: 0x8180, qd: [question('x.example')],
    ar: [{ name: [0], type: 41, cls: 1232, rdata: [] }],
  });
  // TTL bytes of the builder are 00 00 0e 10: extended rcode 0. Patch the top TTL byte to 1.
  badvers[badvers.length - 6] = 1;
  assert.equal(classifyOne(badvers, flowCtx(17, 53, 40000)).app?.details.dns_rcode, 'BADVERS');
  const odd = message({ flags: 0x818c, qd: [question('x.example')] });
  assert.equal(classifyOne(odd, flowCtx(17, 53, 40000)).app?.details.dns_rcode, 'RCODE12');
});

test('compression pointer loops, forward pointers, long labels and names are rejected', () => {
  const cases: Array<[string, number[]]> = [
    ['self loop', [0xc0, 12]],
    ['forward pointer', [0xc0, 14, 0]],
    ['label then pointer back to itself', [1, 0x61, 0xc0, 12]],
    ['two pointers ping-pong', [0xc0, 14, 0xc0, 12]],
    ['pointer into header', [0xc0, 2]],
    ['label of 64', [64, ...new Array<number>(64).fill(0x61), 0]],
    ['reserved label type 0x80', [0x80, 0]],
    ['extended label type 0x40', [0x41, 0]],
    ['name over 255 octets', [...Array.from({ length: 5 }, () => [63, ...new Array<number>(63).fill(0x62)]).flat(), 0]],
    ['unterminated', [3, 0x61, 0x62, 0x63]],
  ];
  for (const [what, name] of cases) {
    const msg = message({ flags: 0x0100, qd: [[...name, 0, 1, 0, 1]] });
    for (const ctx of [flowCtx(17, 40000, 53), flowCtx(17, 40000, 40001)]) {
      const r = classifyOne(msg, ctx);
      assert.notEqual(r.score, Score.CONTENT, what);
      assert.equal(r.verdict, Verdict.REJECT, what);
      assert.equal(r.app, null, what);
    }
  }
  // A long legitimate chain: each name points at the previous one (backwards), all fine.
  const qd: number[][] = [question('a.example')];
  let at = 12;
  for (let i = 0; i < MAX_LIST_ENTRIES + 4; i++) {
    qd.push([1, 0x62 + (i % 20), 0xc0 | (at >> 8), at & 0xff, 0, 1, 0, 1]);
    at += qd[qd.length - 2]!.length;
  }
  const chain = message({ flags: 0x0000, qd });
  const r = classifyOne(chain, flowCtx(17, 5353, 5353));
  assert.equal(r.score, Score.CONTENT);
  assert.equal(r.app?.details.dns_queries?.length, MAX_LIST_ENTRIES);
  assert.equal(r.app?.details.dns_queries?.[2], 'c.b.a.example');
  // A pointer loop inside an answer's RDATA: the record is skipped, the message still counts.
  const loop = message({
    flags: 0x8180, qd: [question('q.example')],
    an: [{ name: [0xc0, 12], type: 12, rdata: [0xc0, 0x30] }, { name: [0xc0, 12], type: 1, rdata: [1, 2, 3, 4] }],
  });
  const lr = classifyOne(loop, flowCtx(17, 53, 40000));
  assert.deepEqual(lr.app?.details.dns_answers, ['1.2.3.4']);
});

test('oversized counts and lengths', () => {
  const base = message({ flags: 0x0100, qd: [question('ok.example')] });
  for (const [i, v] of [[4, 0xff], [5, 0xff], [6, 0xff], [8, 0xff], [10, 0xff], [11, 0xff]] as const) {
    const m = Uint8Array.from(base);
    m[i] = v;
    const r = classifyOne(m, flowCtx(17, 40000, 53));
    assert.notEqual(r.score, Score.CONTENT, `byte ${i}`);
    assert.equal(dnsClassifier.detect(m, 0, m.length, flowCtx(17, 40000, 40001)), Score.NO);
  }
  // RDLENGTH beyond the datagram: record ignored, no throw.
  const resp = message({ flags: 0x8180, qd: [question('ok.example')], an: [{ name: [0xc0, 12], type: 1, rdata: [1, 2, 3, 4] }] });
  resp[resp.length - 6] = 0xff;
  const r = classifyOne(resp, flowCtx(17, 53, 40000));
  assert.equal(r.app?.details.dns_answers, undefined);
  // TCP length prefixes below the header size, and at the maximum. A prefix too short for a header is
  // no frame: the session looks for a message start at later segments' starts (a connection joined
  // mid-stream) and gives up after six payloads without one.
  for (const prefix of [[0, 0], [0, 11], [0xff, 0xff]]) {
    const buf = Uint8Array.from([...prefix, ...base]);
    const s = dnsClassifier.start();
    const v = s.feed(buf, 0, buf.length, flowCtx(6, 40000, 53, true, 1));
    assert.equal(v, Verdict.MORE);
    if (prefix[0] === 0xff) continue;
    const verdicts: number[] = [v];
    for (let k = 1; k < 6; k++) verdicts.push(s.feed(buf, 0, buf.length, flowCtx(6, 40000, 53, true, 1 + k * buf.length)));
    const M = Verdict.MORE;
    assert.deepEqual(verdicts, [M, M, M, M, M, Verdict.REJECT]);
    assert.equal(s.app, null);
  }
  // Offsets outside the buffer are refused quietly.
  assert.equal(dnsClassifier.detect(base, 10, base.length, flowCtx(17, 40000, 53)), Score.NO);
  assert.equal(dnsClassifier.start().feed(base, -1, 5, flowCtx(17, 40000, 53)), Verdict.MORE);
});

test('DONE after 32 messages; MORE while lists are not full', () => {
  const s = dnsClassifier.start();
  const q = message({ flags: 0x0100, qd: [question('same.example')] });
  for (let i = 1; i <= 32; i++) {
    const v = s.feed(q, 0, q.length, flowCtx(17, 40000, 53));
    assert.equal(v, i < 32 ? Verdict.MORE : Verdict.DONE);
  }
});

test('garbage on port 53 scores PORT and the session rejects it', () => {
  const junk = Uint8Array.from([0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const r = classifyOne(junk, flowCtx(17, 40000, 53));
  assert.equal(r.score, Score.PORT);
  assert.equal(r.verdict, Verdict.REJECT);
  assert.equal(dnsClassifier.detect(junk, 0, 3, flowCtx(17, 40000, 53)), Score.PORT);
  // A NetBIOS name query (RFC 1002 §4.2.12) is DNS-shaped but belongs to the netbios classifier.
  const nbns = Buffer.from('ff6e011000010000000000002045434643464845444441454445434444444944444545444245474445444341410000200001', 'hex');
  assert.equal(dnsClassifier.detect(nbns, 0, nbns.length, flowCtx(17, 137, 137)), Score.NO);
  assert.equal(dnsClassifier.detect(nbns, 0, nbns.length, flowCtx(17, 56641, 137)), Score.NO);
});

// ---------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------

function realMessages(): Array<{ bytes: Uint8Array; ctx: DpiContext }> {
  const out: Array<{ bytes: Uint8Array; ctx: DpiContext }> = [];
  for (const [file, port] of [
    ['tcpdump__dns_udp.pcap', 53], ['zeek__dns__mdns.pcap', 5353], ['zeek__dns-edns-ecs.pcap', 53],
    ['zeek__wikipedia.pcap', 5355],
  ] as const) {
    for (const s of udpPayloads(file, port).slice(0, 6)) out.push({ bytes: s.payload, ctx: flowCtx(17, s.sport, s.dport) });
  }
  return out;
}

test('every prefix of real messages: no throw, nothing beyond the full message', () => {
  for (const { bytes, ctx } of realMessages()) {
    const full = classifyOne(bytes, ctx).app!;
    assert.ok(full !== null, 'real message recognised');
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.slice(0, n);
      assert.notEqual(dnsClassifier.detect(prefix, 0, n, flowCtx(17, 40000, 40001)), Score.CONTENT);
      const r = classifyOne(prefix, ctx);
      if (r.app === null) continue;
      assert.equal(r.app.protocol, full.protocol);
      for (const q of r.app.details.dns_queries ?? []) assert.ok(full.details.dns_queries!.includes(q), q);
      for (const a of r.app.details.dns_answers ?? []) assert.ok(full.details.dns_answers!.includes(a), a);
      if (r.app.domain !== undefined) assert.equal(r.app.domain, full.domain);
    }
    // The same prefixes as TCP segments of one message.
    const framed = Uint8Array.from([bytes.length >> 8, bytes.length & 0xff, ...bytes]);
    for (let n = 1; n < framed.length; n++) {
      const s = dnsClassifier.start();
      s.feed(framed, 0, n, { ...ctx, transport: 6, seq: 9 });
      assert.ok(s.app === null || (s.app.details.dns_answers ?? []).every((a) => full.details.dns_answers!.includes(a)), `tcp prefix ${n}`);
    }
  }
});

test('random and mutated buffers: never throw, bounded output, no claims off the DNS ports', () => {
  const rnd = prng(0x5eed);
  const ports = [53, 5353, 5355, 137, 443, 40000, 123];
  let offPortContent = 0;
  const seeds = realMessages().map((m) => m.bytes);
  for (let i = 0; i < 20000; i++) {
    let bytes: Uint8Array;
    if (seeds.length > 0 && i % 2 === 0) {
      // Mutate a real message: flip a few bytes, sometimes cut it.
      const src = seeds[Math.floor(rnd() * seeds.length)]!;
      bytes = src.slice(0, rnd() < 0.3 ? Math.floor(rnd() * src.length) : src.length);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips && bytes.length > 0; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
    } else {
      bytes = new Uint8Array(Math.floor(rnd() * 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
      // Make some look like a header with small counts, to get past the first checks.
      if (bytes.length > 12 && rnd() < 0.5) {
        bytes[2] = rnd() < 0.5 ? 0x01 : 0x81;
        bytes[4] = 0;
        bytes[5] = 1;
        for (const k of [6, 8, 10]) bytes[k] = 0;
      }
    }
    const transport = rnd() < 0.7 ? 17 : 6;
    const sport = ports[Math.floor(rnd() * ports.length)]!;
    const dport = ports[Math.floor(rnd() * ports.length)]!;
    const ctx = flowCtx(transport, sport, dport, rnd() < 0.5, Math.floor(rnd() * 2 ** 32));
    const score = dnsClassifier.detect(bytes, 0, bytes.length, ctx);
    const isDnsPort = [53, 5353, 5355].includes(sport) || [53, 5353, 5355].includes(dport);
    if (!isDnsPort && score === Score.CONTENT && i % 2 === 1) offPortContent++;
    const s = dnsClassifier.start();
    s.feed(bytes, 0, bytes.length, ctx);
    s.feed(bytes, 0, bytes.length, { ...ctx, fromClient: !ctx.fromClient });
    assertBounded(s.app);
  }
  assert.equal(offPortContent, 0);
});

// ---------------------------------------------------------------------------------------------
// All the UDP service classifiers together over the whole corpus (content beats port, D7)
// ---------------------------------------------------------------------------------------------

const ALL: readonly Classifier[] = [
  dnsClassifier, ntpClassifier, dhcpClassifier, ssdpClassifier, stunClassifier, netbiosClassifier,
  snmpClassifier, bittorrentClassifier,
];

test('corpus: each payload is content for its own classifier only, and flows get the right protocol', () => {
  const owner = (s: { transport: number; sport: number; dport: number }): string | null => {
    const has = (...ports: number[]): boolean => ports.includes(s.sport) || ports.includes(s.dport);
    if (has(53, 5353, 5355)) return 'dns';
    if (s.transport !== 17) return null;
    if (has(67, 68)) return 'dhcp';
    if (has(1900)) return 'ssdp';
    if (has(137)) return 'netbios';
    return null;
  };
  const seen = new Map<string, number>();
  for (const file of classicPcaps()) {
    const segs = readPayloads(file);
    for (const s of segs) {
      if (s.payload.length === 0) continue;
      const ctx = flowCtx(s.transport, s.sport, s.dport);
      const want = owner(s);
      for (const c of ALL) {
        const score = c.detect(s.payload, 0, s.payload.length, ctx);
        if (c.id !== want) assert.notEqual(score, Score.CONTENT, `${file} frame ${s.frame}: ${c.id}`);
        else if (c.id !== 'dns' || s.transport === 17) assert.equal(score, Score.CONTENT, `${file} frame ${s.frame}: ${c.id}`);
      }
    }
    const { flows } = runCapture(segs, ALL);
    for (const f of flows.values()) {
      if (f.app === null) continue;
      const [sport, dport] = f.ports;
      const want = owner({ transport: f.transport, sport, dport });
      const got = { DNS: 'dns', mDNS: 'dns', LLMNR: 'dns', DHCP: 'dhcp', SSDP: 'ssdp', NetBIOS: 'netbios' }[f.app.protocol as string];
      assert.equal(got, want, `${file} ${f.key}: ${f.app.protocol}`);
      seen.set(f.app.protocol, (seen.get(f.app.protocol) ?? 0) + 1);
    }
  }
  for (const p of ['DNS', 'mDNS', 'LLMNR', 'DHCP', 'SSDP', 'NetBIOS']) assert.ok((seen.get(p) ?? 0) > 0, `no ${p} flow`);
});

test('a response repeating the question (in any letter case) lists the name once; a new name is added', () => {
  const ctx = (client: boolean) => flowCtx(17, client ? 40000 : 53, client ? 53 : 40000, client, 0);
  const s = dnsClassifier.start(Score.CONTENT);
  const q = message({ flags: 0x0100, qd: [question('www.Example.org')] });
  s.feed(q, 0, q.length, ctx(true));
  const r = message({ flags: 0x8180, qd: [question('WWW.example.ORG'), question('other.example')] });
  s.feed(r, 0, r.length, ctx(false));
  assert.deepEqual(s.app?.details.dns_queries, ['www.Example.org', 'other.example']);
  assert.equal(s.app?.domain, 'www.Example.org');
  // A name with bytes that need escapes is compared as text, still once.
  const odd = message({ flags: 0x8180, qd: [[3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1], [3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1]] });
  s.feed(odd, 0, odd.length, ctx(false));
  assert.deepEqual(s.app?.details.dns_queries, ['www.Example.org', 'other.example', 'a\\.b']);
});

test('a session started on a datagram detect() accepted reads it like one started without that knowledge', () => {
  for (const [name, bytes] of [
    ['query', message({ flags: 0x0100, qd: [question('a.example')] })],
    ['response', message({ flags: 0x8180, qd: [question('b.example')], an: [{ name: nameBytes('b.example'), type: 1, rdata: [192, 0, 2, 1] }] })],
  ] as const) {
    const ctx = flowCtx(17, 40000, 53, true, 0);
    assert.equal(dnsClassifier.detect(bytes, 0, bytes.length, ctx), Score.CONTENT, name);
    const a = dnsClassifier.start(Score.CONTENT);
    const b = dnsClassifier.start();
    assert.equal(a.feed(bytes, 0, bytes.length, ctx), b.feed(bytes, 0, bytes.length, ctx), name);
    assert.deepEqual(a.app, b.app, name);
    assert.ok(a.app !== null, `${name} recognised`);
  }
});
