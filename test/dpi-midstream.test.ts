// Connections joined mid-stream, with real bytes: TLS records cut at every segment boundary, HTTP and DNS over TCP without their start, hostile input, and what the engine spends.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppInfo } from '../src/core/app-info.js';
import type { DpiContext, FlowInspection } from '../src/core/dpi-port.js';
import { Score, Verdict } from '../src/dpi/classifier.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { dnsClassifier } from '../src/dpi/dns.js';
import { DpiEngine, MAX_UNCLAIMED_PAYLOADS } from '../src/dpi/engine.js';
import { httpClassifier } from '../src/dpi/http.js';
import { tlsClassifier } from '../src/dpi/tls.js';
import type { ConnectionRow } from '../src/core/snapshot.js';
import { detailsLines } from '../src/ui/details-view.js';
import { compileFilter, matchesFilter } from '../src/ui/filter.js';
import { buildTable } from '../src/ui/table-model.js';
import { stripTags } from '../src/ui/tags.js';
import { initialViewState } from '../src/ui/view-state.js';
import { classicPcap } from './support/corpus.js';
import { connectionRow, snapshotOf } from './support/rows.js';
import { concat, cut, feedSegments, latin1, prng, randomBytes, readPayloads, tcpCtx, type Payload, type Seg } from './support/dpi.js';

const TCP = 6;

// ---------------------------------------------------------------------------------------------
// Corpus bytes

/** One direction of a corpus TCP flow as a byte stream in sequence order (retransmissions dropped). */
function stream(payloads: readonly Payload[]): { bytes: Uint8Array; seq0: number } {
  const segs = [...payloads].sort((a, b) => a.seq - b.seq);
  const seq0 = segs[0]!.seq;
  const out: number[] = [];
  for (const s of segs) {
    const at = s.seq - seq0;
    for (let i = Math.max(0, out.length - at); i < s.payload.length; i++) out.push(s.payload[i]!);
  }
  return { bytes: Uint8Array.from(out), seq0 };
}

/** Where each TLS record header sits in a stream that starts with one (RFC 8446 §5.1: type, version, length). */
function recordStarts(b: Uint8Array): number[] {
  const at: number[] = [];
  for (let p = 0; p + 5 <= b.length; p += 5 + ((b[p + 3]! << 8) | b[p + 4]!)) at.push(p);
  return at;
}

/** ndpi__443-curl: the payloads of www.ntop.org (178.62.197.130:443) to curl (192.168.1.13:55523). */
const CURL = readPayloads(classicPcap('ndpi__443-curl.pcap')).filter((p) => p.transport === TCP && p.payload.length > 0);
const CURL_SERVER = stream(CURL.filter((p) => p.sport === 443));
const CURL_HEADERS = recordStarts(CURL_SERVER.bytes);
/** Headers of the 1,324-byte application-data records (content type 23) that carry the download. */
const BULK = CURL_HEADERS.filter((h, i) => CURL_SERVER.bytes[h] === 23 && i > 0 && CURL_HEADERS[i + 1] !== undefined && CURL_HEADERS[i + 1]! - h === 1329);

function expectMidStreamTls(app: AppInfo | null, protocol: 'HTTPS' | 'TLS', what: string): void {
  assert.equal(app?.protocol, protocol, what);
  assert.equal(app?.confidence, 'mid-stream', what);
  // TLS 1.2's records carry 0x0303, and so do TLS 1.3's (RFC 8446 §5.1): the record layer cannot tell them apart.
  assert.equal(app?.details.tls_version, 'TLS 1.2 or 1.3', what);
  assert.equal(app?.domain, undefined, what);
  assert.equal(app?.details.sni, undefined, what);
}

/** Feed segments to a fresh TLS session as a flow whose first packet came from the server (a capture begun late). */
function runTls(segs: Seg[], serverPort = 443): { app: AppInfo | null; verdicts: number[] } {
  return feedSegments(tlsClassifier, segs, { clientPort: 55523, serverPort, fill: 0x17 });
}

/** A new engine flow fed `payloads` as tracking would (the first sender counts as the client). */
function inspectAll(engine: DpiEngine, payloads: readonly Payload[], port?: (p: number) => number): FlowInspection {
  const flow = engine.begin();
  const first = `${payloads[0]!.src}|${payloads[0]!.sport}`;
  for (const p of payloads) {
    const map = port ?? ((x: number): number => x);
    const ctx: DpiContext = { transport: p.transport, fromClient: `${p.src}|${p.sport}` === first, srcPort: map(p.sport), dstPort: map(p.dport), seq: p.seq >>> 0, tsMicros: 0 };
    const buf = new Uint8Array(p.payload.length + 6).fill(0x16);
    buf.set(p.payload, 3);
    engine.inspect(flow, buf, 3, p.payload.length, ctx);
    buf.fill(0x17);
  }
  return flow;
}

describe('TLS record layer without a handshake (ndpi__443-curl, the server side after its handshake)', () => {
  it('the corpus flow has what the tests need', () => {
    assert.ok(BULK.length >= 20, `${BULK.length} bulk records`);
    assert.deepEqual([...CURL_SERVER.bytes.subarray(BULK[0]!, BULK[0]! + 5)], [23, 3, 3, 0x05, 0x2c]);
  });

  it('is recognised wherever one cut splits three records into two segments', () => {
    // From 100 bytes inside a record to just past the third header: 3 headers, 2 of them whole records.
    const [a, , c] = [BULK[3]!, BULK[4]!, BULK[5]!];
    const window = CURL_SERVER.bytes.subarray(a - 100, c + 25);
    const seq = (CURL_SERVER.seq0 + a - 100) >>> 0;
    for (let k = 1; k < window.length; k++) {
      const { app, verdicts } = runTls(cut(window, [k], seq, false));
      expectMidStreamTls(app, 'HTTPS', `cut at ${k}`);
      assert.equal(verdicts.at(-1), Verdict.DONE, `cut at ${k}`);
    }
  });

  it('is recognised when a header is split over three segments', () => {
    const [a, b, c] = [BULK[6]!, BULK[7]!, BULK[8]!];
    const window = CURL_SERVER.bytes.subarray(a, c + 5);
    const seq = (CURL_SERVER.seq0 + a) >>> 0;
    for (const h of [0, b - a, c - a]) {
      for (let i = Math.max(1, h - 2); i <= h + 4; i++) {
        for (let j = i + 1; j <= i + 6 && j < window.length; j++) {
          const { app } = runTls(cut(window, [i, j], seq, false));
          expectMidStreamTls(app, 'HTTPS', `cuts at ${i}, ${j}`);
        }
      }
    }
  });

  it('is recognised from the capture\'s own segments, joined inside a record, in either direction of the flow', () => {
    const start = CURL_SERVER.seq0 + BULK[2]! + 700; // inside a record
    const segs: Seg[] = CURL.filter((p) => p.sport === 443 && p.seq >= start).map((p) => ({ data: p.payload, fromClient: true, seq: p.seq }));
    const { app, verdicts } = runTls(segs);
    expectMidStreamTls(app, 'HTTPS', 'real segments');
    // 1,440-byte segments and 1,329-byte records: the second header comes within two segments of the first.
    assert.ok(verdicts.length <= 3, `recognised after ${verdicts.length} segments`);
    // The same through the engine, the flow's first packet being the server's.
    const flow = inspectAll(new DpiEngine(defaultClassifiers()), CURL.filter((p) => p.sport === 443 && p.seq >= start));
    expectMidStreamTls(flow.app, 'HTTPS', 'engine');
    assert.equal(flow.done, true, 'nothing more is inspected once recognised');
  });

  it('names TLS on a port that is not TLS\'s from records at the start of segments (framing beats no score)', () => {
    // Frames 13, 22, 24: one application-data record per segment (57, 38 and 215 bytes).
    const small = CURL.filter((p) => p.sport === 443 && [57, 38, 215].includes(p.payload.length));
    assert.equal(small.length, 3);
    assert.equal(tlsClassifier.detect(small[0]!.payload, 0, small[0]!.payload.length, tcpCtx(false, small[0]!.seq, 40000, 5223)), Score.FRAMING);
    const flow = inspectAll(new DpiEngine(defaultClassifiers()), small, (p) => (p === 443 ? 5223 : p));
    expectMidStreamTls(flow.app, 'TLS', 'port 5223');
  });

  it('is not recognised from one record alone, however it is cut', () => {
    const a = BULK[9]!;
    const one = CURL_SERVER.bytes.subarray(a, a + 1329);
    for (let k = 1; k < one.length; k += 7) {
      const { app, verdicts } = runTls(cut(one, [k], (CURL_SERVER.seq0 + a) >>> 0, false));
      assert.equal(app, null, `cut at ${k}`);
      assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE], `cut at ${k}`);
    }
    // The next header cut after 4 of its 5 bytes is not a header yet.
    const truncated = CURL_SERVER.bytes.subarray(a, a + 1329 + 4);
    assert.equal(runTls([{ data: truncated, fromClient: false, seq: 1 }]).app, null);
  });

  it('never calls one random payload that starts like a record (0x17 0x03 0x03) TLS', () => {
    const rnd = prng(0x170303);
    const engine = new DpiEngine(defaultClassifiers());
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 1500);
      if (b.length < 5) continue;
      b.set([0x17, 0x03, 0x03], 0);
      const { app } = runTls([{ data: b, fromClient: i % 2 === 0, seq: Math.floor(rnd() * 2 ** 32) }], i % 3 === 0 ? 443 : 8443);
      assert.equal(app, null, `payload ${i}`);
      const flow = inspectAll(engine, [{ frame: 1, transport: TCP, src: 'a', sport: 40000, dst: 'b', dport: 443, seq: 1, payload: b }]);
      assert.equal(flow.app?.confidence, 'port', `payload ${i}: only the port's guess`);
    }
  });

  it('does not take broken chains for records', () => {
    const good = concat(Uint8Array.of(23, 3, 3, 0, 20), new Uint8Array(20).fill(0xaa), Uint8Array.of(23, 3, 3, 0, 30), new Uint8Array(30).fill(0xbb));
    assert.equal(runTls([{ data: good, fromClient: false, seq: 1 }]).app?.confidence, 'mid-stream', 'the sound chain');
    const second = 25;
    const variants: Array<[string, (b: Uint8Array) => void]> = [
      ['content type 25', (b) => (b[second] = 25)],
      ['content type 19', (b) => (b[second] = 19)],
      ['major version 2', (b) => (b[second + 1] = 2)],
      ['version 3.5', (b) => (b[second + 2] = 5)],
      ['another version than the first record', (b) => (b[second + 2] = 1)],
      ['empty record', (b) => ((b[second + 3] = 0), (b[second + 4] = 0))],
      ['longer than 2^14 + 2048 (RFC 5246 §6.2.3)', (b) => ((b[second + 3] = 0x48), (b[second + 4] = 0x01))],
      ['an alert of one byte', (b) => ((b[second] = 21), (b[second + 3] = 0), (b[second + 4] = 1))],
      ['the first length one byte off', (b) => (b[4] = 21)],
    ];
    for (const [what, patch] of variants) {
      const b = good.slice();
      patch(b);
      // Whole, and with the second header arriving in a segment of its own.
      assert.equal(runTls([{ data: b, fromClient: false, seq: 1 }]).app, null, what);
      assert.equal(runTls(cut(b, [second], 1, false)).app, null, `${what}, cut`);
    }
    // Lengths at the RFC bounds are records: 2^14 + 2048 bytes exactly.
    const max = concat(Uint8Array.of(23, 3, 3, 0x48, 0x00), new Uint8Array(18432), Uint8Array.of(21, 3, 3, 0, 2, 1, 0));
    assert.equal(runTls(cut(max, [1400, 9000, 18437], 1, false)).app?.confidence, 'mid-stream');
  });

  it('follows retransmissions without counting them, and starts over after a gap', () => {
    const [a, b, c] = [BULK[10]!, BULK[11]!, BULK[12]!];
    const bytes = CURL_SERVER.bytes;
    const seqOf = (i: number): number => (CURL_SERVER.seq0 + i) >>> 0;
    const seg = (from: number, to: number): Seg => ({ data: bytes.subarray(from, to), fromClient: false, seq: seqOf(from) });
    // The first header's segment twice, then the body, then the second header: recognised at the last one only.
    const { app, verdicts } = runTls([seg(a - 10, a + 100), seg(a - 10, a + 100), seg(a + 100, b - 3), seg(b - 3, b + 50)]);
    expectMidStreamTls(app, 'HTTPS', 'retransmitted');
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE, Verdict.MORE, Verdict.DONE]);
    // The segment holding the second header is lost: the chain is not confirmed across the gap; the
    // third header, due where the lost record said, is found again by searching.
    const gap = runTls([seg(a - 10, a + 100), seg(b + 200, c - 50), seg(c - 50, c + 40)]);
    assert.deepEqual(gap.verdicts.slice(0, 2), [Verdict.MORE, Verdict.MORE]);
    assert.equal(gap.app, null, 'one header after the gap is not two in a row');
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP

/** ndpi__sites: the Likee image downloads, 192.168.1.250:39890 ↔ 45.82.241.51:80, keep-alive. */
const LIKEE = readPayloads(classicPcap('ndpi__sites.pcapng')).filter((p) => p.transport === TCP && p.payload.length > 0 && (p.sport === 39890 || p.dport === 39890));
const isRequest = (p: Payload): boolean => p.sport === 39890;
const statusAt = (p: Payload): boolean => latin1('HTTP/1.1 200').every((x, i) => p.payload[i] === x);

describe('HTTP joined mid-stream (ndpi__sites, keep-alive downloads of videosnap.like.video)', () => {
  it('the corpus flow has what the tests need', () => {
    assert.ok(LIKEE.filter(isRequest).length >= 5);
    assert.ok(LIKEE.filter(statusAt).length >= 5);
    assert.ok(!statusAt(LIKEE[2]!) && !isRequest(LIKEE[2]!), 'the third payload is the middle of a response');
  });

  it('joined inside a response: the next request and status line at segment starts give Host, method and status', () => {
    for (let from = 2; from <= 7; from++) {
      const flow = inspectAll(new DpiEngine(defaultClassifiers()), LIKEE.slice(from));
      const app = flow.app;
      assert.equal(app?.protocol, 'HTTP', `from payload ${from}`);
      assert.equal(app?.confidence, 'mid-stream', `from payload ${from}`);
      assert.equal(app?.details.http_method, 'GET');
      assert.equal(app?.details.http_host, 'videosnap.like.video');
      assert.equal(app?.domain, 'videosnap.like.video');
      assert.equal(app?.details.http_status, 200);
      assert.match(String(app?.details.http_path), /^\/eu_live\//);
    }
  });

  it('a flow whose first packet is the response: the server is told from the status line, whichever side sent first', () => {
    const resp = LIKEE.find(statusAt)!;
    const req = LIKEE.filter(isRequest)[1]!;
    const s = httpClassifier.start(Score.CONTENT, 0);
    // The response travels from the flow's first sender (tracking's "client").
    assert.equal(s.feed(resp.payload, 0, resp.payload.length, tcpCtx(true, resp.seq, 80, 39890)), Verdict.MORE);
    assert.equal(s.app?.confidence, 'mid-stream');
    assert.equal(s.app?.details.http_status, 200);
    s.feed(req.payload, 0, req.payload.length, tcpCtx(false, req.seq, 80, 39890));
    assert.equal(s.app?.details.http_host, 'videosnap.like.video');
  });

  it('the end of a request body without a line end does not hide the next request', () => {
    const resp = LIKEE.find(statusAt)!;
    const req = LIKEE.filter(isRequest)[2]!;
    for (const seen of [0, 3]) {
      const s = httpClassifier.start(seen === 0 ? Score.CONTENT : Score.PORT, seen);
      // The server's status line first (the flow's first sender), then the tail of an upload, then a request.
      s.feed(resp.payload, 0, resp.payload.length, tcpCtx(true, resp.seq, 80, 39890));
      const tail = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff).map((b) => (b === 10 ? 11 : b));
      s.feed(tail, 0, tail.length, tcpCtx(false, req.seq - 700, 80, 39890));
      s.feed(req.payload, 0, req.payload.length, tcpCtx(false, req.seq, 80, 39890));
      assert.equal(s.app?.confidence, 'mid-stream', `seen ${seen}`);
      assert.equal(s.app?.details.http_host, 'videosnap.like.video', `seen ${seen}`);
      assert.equal(s.app?.details.http_status, 200, `seen ${seen}`);
    }
  });

  it('a request seen from the connection\'s start is content, not mid-stream', () => {
    const flow = inspectAll(new DpiEngine(defaultClassifiers()), LIKEE);
    assert.equal(flow.app?.confidence, 'content');
    assert.equal(flow.app?.details.http_host, 'videosnap.like.video');
  });

  it('takes no status line in the middle of a segment, nor a malformed one, and guesses only from port 80', () => {
    const body = LIKEE[2]!.payload;
    const hidden = concat(body.subarray(0, 100), latin1('\r\nHTTP/1.1 200 OK\r\n\r\n'), body.subarray(100, 400));
    const lookalikes = ['HTTP/1.1 2000 OK\r\n', 'HTTP/1.1 20 OK\r\n', 'HTTP/2.0 200 OK\r\n', 'http/1.1 200 OK\r\n', 'HTTP/1.1 200OK\r\n'].map(latin1);
    for (const port of [80, 8000]) {
      const payloads: Payload[] = [hidden, ...lookalikes, hidden].map((payload, i) => ({ frame: i, transport: TCP, src: 'b', sport: port, dst: 'a', dport: 40000, seq: 1 + 1000 * i, payload }));
      const flow = inspectAll(new DpiEngine(defaultClassifiers()), payloads);
      if (port === 80) {
        assert.equal(flow.app?.protocol, 'HTTP');
        assert.equal(flow.app?.confidence, 'port', 'port 80 alone');
        assert.deepEqual(flow.app?.details, {});
      } else {
        assert.equal(flow.app, null);
      }
    }
  });

  it('never labels random payloads on port 80 more than a guess, and gives up within ten', () => {
    const rnd = prng(0x80);
    for (let k = 0; k < 300; k++) {
      const s = httpClassifier.start(Score.PORT, 0);
      let v: number = Verdict.MORE;
      let n = 0;
      while (v === Verdict.MORE && n < 20) {
        const b = randomBytes(rnd, 1400);
        v = s.feed(b, 0, b.length, tcpCtx(rnd() < 0.5, 1 + 1400 * n, 40000, 80));
        n++;
      }
      assert.equal(s.app, null, `flow ${k}`);
      assert.ok(n <= 10, `flow ${k} took ${n} payloads`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// DNS over TCP

const DNS_TCP = readPayloads(classicPcap('tcpdump__dns_tcp.pcap')).filter((p) => p.payload.length > 0);
const QUERY = DNS_TCP[0]!;
const RESPONSE = DNS_TCP[1]!;
const DNS_ANSWERS = ['192.139.46.66', '198.199.88.104'];

describe('DNS over TCP joined mid-stream (tcpdump__dns_tcp, ndpi__dns_fragmented)', () => {
  const feed = (parts: Array<[Uint8Array, boolean, number]>, seen = 0): { app: AppInfo | null; verdicts: number[] } => {
    const s = dnsClassifier.start(dnsClassifier.detect(parts[0]![0], 0, parts[0]![0].length, tcpCtx(parts[0]![1], parts[0]![2], 33779, 53)), seen);
    const verdicts = parts.map(([b, fromClient, seq]) => s.feed(b, 0, b.length, tcpCtx(fromClient, seq, 33779, 53)));
    return { app: s.app, verdicts };
  };

  it('the response alone (its query was before the capture) is DNS mid-stream with its answers', () => {
    const { app } = feed([[RESPONSE.payload, true, RESPONSE.seq]]);
    assert.equal(app?.protocol, 'DNS');
    assert.equal(app?.confidence, 'mid-stream');
    assert.equal(app?.domain, 'www.tcpdump.org');
    for (const a of DNS_ANSWERS) assert.ok(app?.details.dns_answers?.includes(a), a);
  });

  it('the query seen from its start is content', () => {
    const { app } = feed([[QUERY.payload, true, QUERY.seq], [RESPONSE.payload, false, RESPONSE.seq]]);
    assert.equal(app?.confidence, 'content');
  });

  it('the tail of a query, cut anywhere, then the response: the boundary is found at the response', () => {
    const q = QUERY.payload;
    for (let k = 1; k < q.length; k++) {
      const { app } = feed([[q.subarray(k), true, (QUERY.seq + k) >>> 0], [RESPONSE.payload, false, RESPONSE.seq]]);
      assert.equal(app?.protocol, 'DNS', `query cut at ${k}`);
      assert.equal(app?.confidence, 'mid-stream', `query cut at ${k}`);
      assert.equal(app?.domain, 'www.tcpdump.org', `query cut at ${k}`);
    }
  });

  it('a long response split into segments, its query not captured (ndpi__dns_fragmented over IPv4 and IPv6)', () => {
    const frag = readPayloads(classicPcap('ndpi__dns_fragmented.pcap')).filter((p) => p.transport === TCP && p.sport === 53 && p.payload.length > 0);
    assert.equal(frag.length, 2);
    for (const r of frag) {
      for (const size of [1, 97, 536, 1460]) {
        const segs: Array<[Uint8Array, boolean, number]> = [];
        for (let i = 0; i < r.payload.length; i += size) segs.push([r.payload.subarray(i, i + size), true, (r.seq + i) >>> 0]);
        const { app } = feed(segs);
        assert.equal(app?.confidence, 'mid-stream', `segments of ${size}`);
        assert.equal(app?.domain, 'weberlab.de', `segments of ${size}`);
        assert.equal(app?.state, 'DNS_RESPONSE');
      }
    }
  });

  it('garbage on TCP port 53 is given up after six payloads, and only the port\'s guess is left', () => {
    const rnd = prng(53);
    const engine = new DpiEngine(defaultClassifiers());
    for (let k = 0; k < 300; k++) {
      const payloads: Payload[] = [];
      for (let i = 0; i < 12; i++) payloads.push({ frame: i, transport: TCP, src: 'c', sport: 40000, dst: 's', dport: 53, seq: 1 + 2000 * i, payload: randomBytes(rnd, 1400) });
      payloads.forEach((p) => p.payload.length === 0 && (p.payload = Uint8Array.of(1)));
      const flow = inspectAll(engine, payloads);
      assert.equal(flow.app?.protocol, 'DNS', `flow ${k}`);
      assert.equal(flow.app?.confidence, 'port', `flow ${k}`);
      assert.equal(flow.done, true, `flow ${k}: given up`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The engine: guesses, and what unclaimed flows cost

describe('the engine: port guesses and bounded work', () => {
  it('shows the port\'s guess until the content says more, then the content\'s label', () => {
    const engine = new DpiEngine(defaultClassifiers());
    const a = BULK[13]!;
    const b = CURL_SERVER.bytes;
    const flow = engine.begin();
    const feed = (from: number, to: number): void => {
      const ctx: DpiContext = { transport: TCP, fromClient: true, srcPort: 443, dstPort: 55523, seq: (CURL_SERVER.seq0 + from) >>> 0, tsMicros: 0 };
      engine.inspect(flow, b, from, to - from, ctx);
    };
    feed(a + 10, a + 700); // inside a record: nothing but the port
    assert.deepEqual([flow.app?.protocol, flow.app?.confidence], ['HTTPS', 'port']);
    feed(a + 700, a + 1340); // the next header
    feed(a + 1340, a + 2700); // the one after it, where the length said
    expectMidStreamTls(flow.app, 'HTTPS', 'after the records');
    assert.equal(flow.done, true);
  });

  it('an unrecognised flow costs a bounded number of payloads, on any port', () => {
    const rnd = prng(7);
    for (const port of [443, 80, 53, 5223]) {
      const engine = new DpiEngine(defaultClassifiers());
      const flow = engine.begin();
      let n = 0;
      while (!flow.done && n < 100) {
        const p = randomBytes(rnd, 1400);
        if (p.length === 0) continue;
        engine.inspect(flow, p, 0, p.length, tcpCtx(n % 3 !== 0, 1 + 1400 * n, 40000, port));
        n++;
      }
      // TLS looks for records on at most 24 payloads (443); then each other classifier gets the
      // remaining unclaimed payloads.
      assert.ok(n <= 24 + MAX_UNCLAIMED_PAYLOADS, `port ${port}: ${n} payloads inspected`);
      assert.equal(flow.app === null || flow.app.confidence === 'port', true, `port ${port}`);
      assert.equal(engine.classifierErrors, 0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// On the screen

describe('a guess on the screen: marked, never shown as a fact, filtered and sorted as a label', () => {
  const NOW = 10_000_000;
  const rows: ConnectionRow[] = [
    connectionRow({ id: 1, remotePort: 443, app: { protocol: 'HTTPS', domain: 'www.example.com', details: { sni: 'www.example.com' }, confidence: 'content' } }),
    connectionRow({ id: 2, remotePort: 443, app: { protocol: 'HTTPS', domain: undefined, details: {}, confidence: 'port' } }),
    connectionRow({ id: 3, remotePort: 443, app: { protocol: 'HTTPS', domain: undefined, details: { tls_version: 'TLS 1.2 or 1.3' }, confidence: 'mid-stream' } }),
    connectionRow({ id: 4, remotePort: 80, service: 'http', app: { protocol: 'HTTP', domain: undefined, details: {}, confidence: 'port' } }),
    connectionRow({ id: 5, remotePort: 9999, service: undefined }),
  ];
  const snapshot = snapshotOf(rows, { nowMicros: NOW });
  const table = (filterText = '', column: 'application' | null = null): string[] => {
    const state = { ...initialViewState(), filterText, sort: { column, descending: false } };
    return buildTable(snapshot, state, 160, 20, { nowMicros: NOW, history: [], color: false }).lines.map(stripTags);
  };

  it('the Application / Host column marks the port\'s guesses with a trailing ?', () => {
    const lines = table();
    assert.match(lines[0]!, /\sHTTPS \(www\.example\.com\)\s/);
    assert.match(lines[1]!, /\sHTTPS\?\s/);
    assert.match(lines[2]!, /\sHTTPS\s/, 'mid-stream is recognised, not guessed');
    assert.doesNotMatch(lines[2]!, /HTTPS\?/);
    assert.match(lines[3]!, /\sHTTP\?\s/);
  });

  it('filter and sort read the label itself', () => {
    assert.equal(table('app:https').length, 3);
    assert.equal(table('app:/^HTTP$/').length, 1, 'the guess HTTP? is HTTP to the filter');
    assert.ok(matchesFilter(compileFilter('https'), rows[1]!));
    assert.ok(!matchesFilter(compileFilter('app:?'), rows[1]!), 'the mark is not part of the label');
    // Sorted by application: HTTP first, the three HTTPS rows (the guess among them), no label last.
    const sorted = table('', 'application').map((l) => /\s(HTTPS?\??(?: \([^)]*\))?|—)\s+\S+ B\/s/.exec(l)?.[1]);
    assert.equal(sorted[0], 'HTTP?');
    assert.deepEqual(new Set(sorted.slice(1, 4)), new Set(['HTTPS?', 'HTTPS', 'HTTPS (www.example.com)']));
    assert.equal(sorted[4], '—');
  });

  it('Details says how a label that is not content was reached', () => {
    const text = (row: ConnectionRow): string[] => detailsLines(row, NOW, 100, { showHostnames: false, color: false, timeZone: 'utc' }).map(stripTags);
    const confidence = (row: ConnectionRow): string | undefined => text(row).find((l) => l.startsWith('Confidence '))?.slice(10).trim();
    assert.equal(confidence(rows[0]!), undefined, 'content needs no word');
    assert.match(confidence(rows[1]!)!, /guessed from the port alone/);
    assert.match(confidence(rows[2]!)!, /mid-stream/);
  });
});
