// QUIC recognised mid-stream from short-header (1-RTT) packets: nDPI's capture, real protected packets, random and look-alike UDP.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { AppInfo } from '../src/core/app-info.js';
import type { DpiContext, FlowInspection } from '../src/core/dpi-port.js';
import { Score, Verdict } from '../src/dpi/classifier.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { DpiEngine } from '../src/dpi/engine.js';
import { quicClassifier } from '../src/dpi/quic.js';
import { CORPUS } from './support/corpus.js';
import { flowCtx, prng, readPayloads, type Payload } from './support/dpi.js';
import { SALT, VERSION, cryptoFrame, fill, initialKeys, initialPacket, randomKeys, shortPacket } from './support/quic-packets.js';

const DIR = path.join(CORPUS, 'ndpi-quic');

// ---------------------------------------------------------------------------------------------
// Driving flows

/** A datagram of a flow: bytes, and whether the flow's first sender (the tracker's client) sent it. */
type Datagram = [Uint8Array, boolean];

interface Outcome {
  /** The label after each datagram (a copy of the fields that matter), null where there was none. */
  labels: Array<{ protocol: string; confidence: string; state: string | undefined } | null>;
  /** Index (0-based) of the datagram after which the flow was QUIC 'mid-stream', or -1. */
  recognisedAt: number;
  flow: FlowInspection;
}

/** Feed one flow's datagrams to a new engine flow, client on port cport, server on sport. */
function run(engine: DpiEngine, datagrams: readonly Datagram[], cport = 50000, sport = 443): Outcome {
  const flow = engine.begin();
  const labels: Outcome['labels'] = [];
  let recognisedAt = -1;
  datagrams.forEach(([bytes, fromClient], i) => {
    const ctx: DpiContext = fromClient ? flowCtx(17, cport, sport, true) : flowCtx(17, sport, cport, false);
    // Inside a larger buffer, scribbled on afterwards: sessions get borrowed bytes.
    const buf = new Uint8Array(bytes.length + 9).fill(0xa5);
    buf.set(bytes, 5);
    engine.inspect(flow, buf, 5, bytes.length, ctx);
    buf.fill(0x3c);
    const app: AppInfo | null = flow.app;
    labels.push(app === null ? null : { protocol: app.protocol, confidence: app.confidence, state: app.state });
    if (recognisedAt < 0 && app?.protocol === 'QUIC' && app.confidence === 'mid-stream') recognisedAt = i;
  });
  return { labels, recognisedAt, flow };
}

const quicOnly = (): DpiEngine => new DpiEngine([quicClassifier]);

/** A 1-RTT conversation: the client's packets carry `clientDcid` (the server's CID), the server's `serverDcid`. */
function conversation(
  pattern: string,
  o: { clientDcid: Uint8Array; serverDcid: Uint8Array; seed: number; sizes?: number[] },
): Datagram[] {
  const rnd = prng(o.seed);
  const ck = randomKeys(rnd);
  const sk = randomKeys(rnd);
  let cpn = 1000 + Math.floor(rnd() * 1000);
  let spn = 2000 + Math.floor(rnd() * 1000);
  return [...pattern].map((c, i) => {
    const size = o.sizes?.[i % o.sizes.length] ?? 20 + Math.floor(rnd() * 1100);
    // STREAM frame type 0x0a with random contents stands in for application data.
    const payload = Buffer.concat([Buffer.from([0x0a]), fill(size, o.seed * 131 + i)]);
    return c === 'c'
      ? [shortPacket(ck, o.clientDcid, cpn++, payload, { spin: rnd() < 0.5 }), true]
      : [shortPacket(sk, o.serverDcid, spn++, payload, { spin: rnd() < 0.5 }), false];
  });
}

const cid = (n: number, seed: number): Buffer => fill(n, 7000 + seed);

// ---------------------------------------------------------------------------------------------

describe('nDPI quic_sh.pcap: flows captured after their handshake', () => {
  /** nDPI's expected output: per flow "a:port <-> b:port", protocol, confidence, DPI packets. */
  function ndpiFlows(): Array<{ ends: string[]; proto: string; confidence: string; dpiPackets: number }> {
    const out = fs.readFileSync(path.join(DIR, 'ndpi__quic_sh.ndpi.out'), 'utf8');
    const rows = [];
    for (const m of out.matchAll(/UDP (\S+) <-> (\S+) \[proto: [\d.]+\/(\w+)\].*?\[Confidence: (\w+)\].*?\[DPI packets: (\d+)\]/g)) {
      rows.push({ ends: [m[1]!, m[2]!], proto: m[3]!, confidence: m[4]!, dpiPackets: Number(m[5]) });
    }
    return rows;
  }

  /** "[2001:b07::1]:443" or "1.2.3.4:443" → the form readPayloads() gives ("32 hex digits|443" or "1.2.3.4|443"). */
  function norm(end: string): string {
    const m = /^\[(.*)\]:(\d+)$/.exec(end);
    if (m === null) return end.replace(/:(\d+)$/, '|$1');
    const [head, tail] = m[1]!.split('::') as [string, string | undefined];
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return `${groups.map((g) => g.padStart(4, '0')).join('')}|${m[2]}`;
  }

  test('each flow nDPI labels QUIC by DPI is QUIC mid-stream here too, from no more packets than nDPI needed', (t) => {
    const expected = ndpiFlows();
    assert.equal(expected.length, 3);
    const payloads = readPayloads(path.join(DIR, 'ndpi__quic_sh.pcap'));
    const report: string[] = [];
    for (const e of expected) {
      assert.equal(e.proto, 'QUIC');
      assert.equal(e.confidence, 'DPI');
      const ends = e.ends.map(norm);
      const mine = payloads.filter((p: Payload) => ends.includes(`${p.src}|${p.sport}`) && ends.includes(`${p.dst}|${p.dport}`));
      const firstSender = `${mine[0]!.src}|${mine[0]!.sport}`;
      const datagrams: Datagram[] = mine.map((p) => [p.payload, `${p.src}|${p.sport}` === firstSender]);
      const cport = mine[0]!.sport;
      const sport = mine[0]!.dport;
      const { recognisedAt, labels, flow } = run(new DpiEngine(defaultClassifiers()), datagrams, cport, sport);
      assert.ok(recognisedAt >= 0, `${e.ends.join(' <-> ')} recognised`);
      assert.ok(recognisedAt >= 2, 'never from fewer than three packets');
      assert.ok(recognisedAt + 1 <= e.dpiPackets, `${recognisedAt + 1} packets here, nDPI needed ${e.dpiPackets}`);
      assert.deepEqual(labels.at(-1), { protocol: 'QUIC', confidence: 'mid-stream', state: 'QUIC_CONNECTED' });
      assert.equal(flow.done, true, 'a recognised flow is not inspected any more');
      report.push(`${e.ends.join(' <-> ')}: QUIC mid-stream after ${recognisedAt + 1} packets (nDPI: ${e.dpiPackets})`);
    }
    for (const line of report) t.diagnostic(line);
  });
});

describe('real 1-RTT packets (AEAD and header protection with random keys)', () => {
  test('client DCID of 8 bytes, none towards the client (as Chrome does): QUIC at the third packet, on any port', () => {
    for (const [cport, sport] of [[50000, 443], [50000, 8443], [40001, 61000]] as const) {
      const d = conversation('cscs', { clientDcid: cid(8, 1), serverDcid: new Uint8Array(0), seed: sport });
      const { labels, recognisedAt } = run(quicOnly(), d, cport, sport);
      assert.equal(recognisedAt, 2, `port ${sport}`);
      // Before: nothing claimed from content (443 may show the port guess, marked as such).
      for (const l of labels.slice(0, 2)) assert.ok(l === null || l.confidence === 'port', JSON.stringify(l));
      assert.deepEqual(labels[2], { protocol: 'QUIC', confidence: 'mid-stream', state: 'QUIC_CONNECTED' });
    }
  });

  test('never on one packet, nor on two', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const pattern of ['c', 'cc', 'cs', 'sc']) {
        const d = conversation(pattern, { clientDcid: cid(8, seed), serverDcid: cid(8, seed + 1), seed });
        const s = quicClassifier.start(Score.FRAMING, 0);
        const ctx = (fromClient: boolean): DpiContext => (fromClient ? flowCtx(17, 5000, 443, true) : flowCtx(17, 443, 5000, false));
        for (const [b, fromClient] of d) assert.equal(s.feed(b, 0, b.length, ctx(fromClient)), Verdict.MORE);
        assert.equal(s.app, null, `${pattern} seed ${seed}`);
      }
    }
  });

  test('DCIDs of 4 to 20 bytes are recognised in either direction; shorter ones are not', () => {
    for (const n of [4, 5, 8, 12, 16, 18, 20]) {
      for (const pattern of ['ccc', 'scc', 'sss', 'cscsc']) {
        const d = conversation(pattern, { clientDcid: cid(n, n), serverDcid: cid(n, n + 50), seed: n * 7 + pattern.length });
        const { recognisedAt } = run(quicOnly(), d, 50000, 4433);
        assert.equal(recognisedAt, 2, `DCID ${n}, ${pattern}`);
      }
    }
    for (const n of [0, 1, 2, 3]) {
      const d = conversation('cscscscscscs', { clientDcid: cid(n, n), serverDcid: cid(n, n + 50), seed: n });
      const { recognisedAt, labels } = run(quicOnly(), d, 50000, 4433);
      assert.equal(recognisedAt, -1, `DCID ${n}`);
      assert.ok(labels.every((l) => l === null), 'no label, not even a guess, off port 443');
    }
  });

  test('a DCID that changes (RFC 9000 §5.1.2) starts a new run: recognised once the new one repeats', () => {
    const a = conversation('cc', { clientDcid: cid(8, 1), serverDcid: new Uint8Array(0), seed: 11 });
    const b = conversation('ccc', { clientDcid: cid(8, 2), serverDcid: new Uint8Array(0), seed: 12 });
    // One packet with the old DCID, then the new one: the old run never reaches two packets.
    const { recognisedAt } = run(quicOnly(), [a[0]!, b[0]!, b[1]!, b[2]!]);
    assert.equal(recognisedAt, 2);
  });

  test('packets too short for the DCID they would have (RFC 9001 §5.4.2 sample) are not QUIC', () => {
    // 21 bytes each: room for the sample only with an empty DCID, yet 8 bytes repeat after the first byte.
    const rnd = prng(5);
    const id = cid(8, 9);
    const d: Datagram[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
      const b = fill(21, 300 + i);
      b[0] = 0x40 | Math.floor(rnd() * 32);
      id.copy(b, 1);
      return [b, true];
    });
    assert.equal(run(quicOnly(), d).recognisedAt, -1);
  });

  test('a flow that started with its handshake stays a content label, not mid-stream', () => {
    const dcid = cid(8, 77);
    const keys = initialKeys(SALT.v1, dcid);
    const initial = initialPacket({ version: VERSION.v1, keys, dcid, scid: cid(8, 78), pn: 0, frames: cryptoFrame(0, fill(40, 1)) });
    const rest = conversation('scscsc', { clientDcid: cid(8, 79), serverDcid: cid(8, 78), seed: 3 });
    const { labels, recognisedAt } = run(quicOnly(), [[initial, true], ...rest]);
    assert.equal(recognisedAt, -1);
    assert.equal(labels.at(-1)?.confidence, 'content');
    assert.equal(labels.at(-1)?.state, 'QUIC_CONNECTED');
  });
});

describe('not QUIC: random UDP and look-alikes', () => {
  test('random datagrams (2000 seeded flows of 12): never QUIC from content, whatever the port', () => {
    const rnd = prng(0xc0ffee);
    let framing = 0;
    for (let f = 0; f < 2000; f++) {
      const shaped = f % 2 === 0; // half the flows: every first byte shaped like a short header
      const d: Datagram[] = [];
      for (let i = 0; i < 12; i++) {
        const b = fill(Math.floor(rnd() * 1400) + 1, f * 100 + i);
        if (shaped) b[0] = 0x40 | (b[0]! & 0x3f);
        d.push([b, rnd() < 0.6]);
      }
      const sport = f % 3 === 0 ? 443 : 1024 + Math.floor(rnd() * 60000);
      for (const [b] of d) if (quicClassifier.detect(b, 0, b.length, flowCtx(17, 50000, sport)) === Score.FRAMING) framing++;
      const { labels } = run(quicOnly(), d, 50000, sport);
      for (const l of labels) assert.ok(l === null || l.confidence === 'port', `flow ${f}: ${JSON.stringify(l)}`);
    }
    // The framing check does pass on random bytes shaped like a short header: the packets that follow decide.
    assert.ok(framing > 1000, `${framing} random datagrams passed the one-packet check`);
  });

  test('a random payload shaped like a short header is never QUIC on one packet alone', () => {
    for (let i = 0; i < 500; i++) {
      const b = fill(60 + i, 900 + i);
      b[0] = 0x40 | (i & 0x3f);
      const s = quicClassifier.start(Score.FRAMING, 0);
      const v = s.feed(b, 0, b.length, flowCtx(17, 50000, 443));
      assert.ok(v === Verdict.MORE || v === Verdict.REJECT);
      assert.equal(s.app, null);
    }
  });

  test('a fixed first byte and a fixed session id (an OpenVPN-like data channel): not QUIC', () => {
    // P_DATA_V2: opcode 9 << 3 = 0x48, 3-byte peer id, 4-byte packet id counting up, then ciphertext.
    const d: Datagram[] = [];
    for (let i = 0; i < 12; i++) {
      const b = Buffer.concat([Buffer.from([0x48, 0x00, 0x00, 0x07, 0, 0, 0, i + 1]), fill(100 + i * 10, 40 + i)]);
      d.push([b, i % 3 !== 2]);
    }
    const { labels, flow } = run(quicOnly(), d, 50000, 1194);
    assert.ok(labels.every((l) => l === null));
    assert.equal(flow.done, true, 'given up within the first few packets');
  });

  test('text datagrams (SIP over UDP) and zero-padded ones: not QUIC, rejected at the first packet', () => {
    const sip = Buffer.from('OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\nMax-Forwards: 70\r\n\r\n', 'latin1');
    const padded = Buffer.concat([Buffer.from([0x52]), cid(8, 3), Buffer.alloc(60)]);
    for (const b of [sip, padded]) {
      assert.equal(quicClassifier.detect(b, 0, b.length, flowCtx(17, 5060, 443)), Score.NO);
      const s = quicClassifier.start(Score.FRAMING, 0);
      assert.equal(s.feed(b, 0, b.length, flowCtx(17, 5060, 443)), Verdict.REJECT);
    }
  });

  test('identical datagrams sent again and again (a retransmitting sender): not QUIC', () => {
    const b = Buffer.concat([Buffer.from([0x47]), cid(8, 4), fill(80, 5)]);
    const { labels } = run(quicOnly(), Array.from({ length: 10 }, (): Datagram => [b, true]), 50000, 443);
    assert.ok(labels.every((l) => l === null || l.confidence === 'port'));
  });

  test('what cannot be told apart: a sender imitating the 1-RTT shape on purpose is taken for QUIC (documented limit)', () => {
    const rnd = prng(8);
    const id = cid(8, 6);
    const d: Datagram[] = [0, 1, 2].map((i) => {
      const b = fill(80, 60 + i);
      b[0] = 0x40 | Math.floor(rnd() * 32);
      id.copy(b, 1);
      return [b, true];
    });
    assert.equal(run(quicOnly(), d).recognisedAt, 2);
  });
});

describe('bounded work and hostile input', () => {
  test('a flow that never shows the shape is given up after 8 datagrams; a recognised one is not inspected again', () => {
    const engine = quicOnly();
    // Short-header shaped, random: every datagram passes the framing check, none repeats a DCID.
    const d: Datagram[] = Array.from({ length: 20 }, (_, i): Datagram => {
      const b = fill(200, 5000 + i);
      b[0] = 0x40 | (i & 0x1f);
      return [b, true];
    });
    let fed = 0;
    const counting = {
      ...quicClassifier,
      start: () => {
        const s = quicClassifier.start(Score.FRAMING, 0);
        return { get app() { return s.app; }, feed: (b: Uint8Array, o: number, l: number, c: DpiContext) => { fed++; return s.feed(b, o, l, c); } };
      },
    };
    run(new DpiEngine([counting]), d, 50000, 9999);
    assert.equal(fed, 8, 'the session saw the first 8 datagrams only');
    const ok = run(engine, conversation('cscscscscs', { clientDcid: cid(8, 1), serverDcid: cid(8, 2), seed: 9 }));
    assert.equal(ok.recognisedAt, 2);
    assert.equal(ok.flow.done, true);
  });

  test('truncated packets: every prefix of a real 1-RTT packet, three of a flow at a time; nothing under 21 bytes counts', () => {
    const d = conversation('ccc', { clientDcid: cid(8, 1), serverDcid: cid(0, 0), seed: 21, sizes: [60] });
    for (let n = 0; n <= d[0]![0].length; n++) {
      const s = quicClassifier.start(Score.FRAMING, 0);
      for (const [b] of d) {
        assert.doesNotThrow(() => quicClassifier.detect(b, 0, n, flowCtx(17, 5000, 443)));
        assert.doesNotThrow(() => s.feed(b, 0, n, flowCtx(17, 5000, 443)));
      }
      if (n < 21) assert.equal(quicClassifier.detect(d[0]![0], 0, n, flowCtx(17, 5000, 443)), Score.NO, `prefix ${n}`);
      if (n < 29) assert.notEqual(s.app?.confidence, 'mid-stream', `prefix ${n}: shorter than 21 + the 8-byte DCID`);
    }
  });

  test('offsets and lengths past the buffer, empty payloads: no throw', () => {
    const b = conversation('c', { clientDcid: cid(8, 1), serverDcid: cid(0, 0), seed: 2 })[0]![0];
    for (const [off, len] of [[0, 0], [b.length, 5], [b.length - 3, 100], [-1, 10], [3, b.length]] as const) {
      assert.doesNotThrow(() => quicClassifier.detect(b, off, len, flowCtx(17, 1, 2)));
      const s = quicClassifier.start(Score.FRAMING, 0);
      assert.doesNotThrow(() => s.feed(b, off, len, flowCtx(17, 1, 2)));
    }
  });
});
