// Google QUIC: hand-made Q039/Q043/Q046/Q050/T050/T051 captures against tshark, nDPI's real captures against nDPI and tshark, hostile input.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { AppInfo } from '../src/core/app-info.js';
import { Score, Verdict } from '../src/dpi/classifier.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { gquicClassifier } from '../src/dpi/gquic.js';
import { gquicVersionTag, quicVersionName } from '../src/dpi/quic-crypto.js';
import { CORPUS, readTsv } from './support/corpus.js';
import { alpnExt, clientHelloMessage, extension, flowCtx, inspectFlows, mutated, prng, readPayloads, sniExt, versionsExt } from './support/dpi.js';
import type { Endpoint } from './support/frames.js';
import {
  SALT,
  VERSION,
  chlo,
  cryptoFrame,
  fill,
  gquicStreamFrame,
  handshakeMessage,
  hex,
  initialKeys,
  initialPacket,
  publicHeaderPacket,
  q046Packet,
  tsharkAvailable,
  tsharkFields,
  udpCapture,
  varint,
  writeCapture,
} from './support/quic-packets.js';

const DIR = path.join(CORPUS, 'ndpi-quic');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gquic-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CLIENT: Endpoint = ['192.0.2.10', 51515];
const SERVER: Endpoint = ['198.51.100.20', 443];

/** Every UDP flow of a capture through the monitor's classifiers: "client → server" → label. */
function labels(file: string): Map<string, AppInfo | null> {
  const { flows } = inspectFlows(readPayloads(file).filter((p) => p.transport === 17), defaultClassifiers());
  return new Map([...flows.values()].map((f) => [`${f.client} → ${f.server}`, f.app]));
}

/** What we report of a flow, in the shape of the known answers. */
function ours(app: AppInfo | null | undefined): Record<string, string> {
  const r: Record<string, string> = {};
  if (app === null || app === undefined) return r;
  r.protocol = app.protocol;
  r.confidence = app.confidence;
  for (const k of ['quic_version', 'sni', 'user_agent'] as const) {
    const v = app.details[k];
    if (typeof v === 'string') r[k] = v;
  }
  if (app.details.alpn !== undefined) r.alpn = app.details.alpn.join(',');
  return r;
}

// ---------------------------------------------------------------------------------------------
// Hand-made captures: built byte by byte here, read by tshark 4.0.17 (answers below), read by us

const UA = 'Chrome/80.0.3987.0 Linux x86_64';
const CID = hex('1122334455667788');

/** A TLS ClientHello with quic_transport_parameters (0xffa5) holding google_user_agent (0x3129), in the T051 (varint) or T050 (16-bit) layout. */
function t05xHello(sni: string, alpn: string, ua: string, varints: boolean): Uint8Array {
  const value = Buffer.from(ua, 'latin1');
  const idle = Buffer.from([0x80, 0x00, 0x75, 0x30]); // max_idle_timeout 30000 ms as a 4-byte varint
  const params = varints
    ? Buffer.concat([varint(0x01), varint(idle.length), idle, varint(0x3129), varint(value.length), value])
    : (() => {
      const list = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x75, 0x30, 0x31, 0x29, 0x00, value.length]), value]);
      return Buffer.concat([Buffer.from([list.length >> 8, list.length & 0xff]), list]);
    })();
  return Uint8Array.from(clientHelloMessage([...sniExt(sni), ...alpnExt([alpn]), ...versionsExt([0x0304]), ...extension(0xffa5, [...params])]));
}

interface Known {
  name: string;
  datagrams: Array<[Uint8Array, boolean]>;
  /** What tshark 4.0.17 reads in the capture: version (as gquic.version or quic.version shows it), SNI, user agent, ALPN. */
  tshark: { version: string; sni: string; ua: string; alpn: string };
  /** What we report for the flow. */
  ours: Record<string, string>;
}

const KNOWN: Known[] = [
  {
    name: 'q043-chlo-and-rej',
    datagrams: [
      [publicHeaderPacket({ cid: CID, version: VERSION.Q043, pn: 1, frames: Buffer.concat([gquicStreamFrame(1, chlo({ sni: 'q43.example.org', uaid: UA, version: 'Q043' })), Buffer.alloc(1)]), size: 1350 }), true],
      [publicHeaderPacket({ cid: CID, pn: 1, frames: gquicStreamFrame(1, handshakeMessage('REJ', [['STK', fill(40, 1)], ['SNO', fill(32, 2)]])) }), false],
    ],
    tshark: { version: 'Q043', sni: 'q43.example.org', ua: UA, alpn: '' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'Q043', sni: 'q43.example.org', user_agent: UA },
  },
  {
    name: 'q039-ack-before-chlo',
    datagrams: [
      // A repeated CHLO after the server's REJ: an ACK frame (largest acked 1, 1-byte fields, no blocks, no timestamps) comes first.
      [publicHeaderPacket({ flags: 0x0d, cid: CID, version: 0x51303339, pn: 2, frames: Buffer.concat([hex('400100000100'), gquicStreamFrame(1, chlo({ sni: 'q39.example.org', version: 'Q039' }), 1024)]), size: 1350 }), true],
    ],
    tshark: { version: 'Q039', sni: 'q39.example.org', ua: '', alpn: '' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'Q039', sni: 'q39.example.org' },
  },
  {
    name: 'q046-chlo',
    datagrams: [[q046Packet({ cid: CID, pn: 1, frames: gquicStreamFrame(1, chlo({ sni: 'q46.example.org', uaid: UA, version: 'Q046' })), size: 1350 }), true]],
    tshark: { version: 'Q046', sni: 'q46.example.org', ua: UA, alpn: '' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'Q046', sni: 'q46.example.org', user_agent: UA },
  },
  {
    name: 'q050-initial',
    datagrams: [[initialPacket({
      version: VERSION.Q050, keys: initialKeys(SALT.Q050, CID), dcid: CID, scid: new Uint8Array(0), pn: 1, size: 1350,
      frames: cryptoFrame(0, chlo({ sni: 'q50.example.org', uaid: UA, version: 'Q050' }), 0x08),
    }), true]],
    tshark: { version: '0x51303530', sni: 'q50.example.org', ua: UA, alpn: '' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'Q050', sni: 'q50.example.org', user_agent: UA },
  },
  {
    name: 't051-initial',
    datagrams: [[initialPacket({
      version: VERSION.T051, keys: initialKeys(SALT.T051, CID), dcid: CID, scid: new Uint8Array(0), pn: 1, size: 1350,
      frames: cryptoFrame(0, t05xHello('t51.example.org', 'h3-T051', UA, true), 0x08),
    }), true]],
    tshark: { version: '0x54303531', sni: 't51.example.org', ua: UA, alpn: 'h3-T051' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'T051', sni: 't51.example.org', user_agent: UA, alpn: 'h3-T051' },
  },
  {
    name: 't050-initial',
    datagrams: [[initialPacket({
      version: VERSION.T050, keys: initialKeys(SALT.T050, CID), dcid: CID, scid: new Uint8Array(0), pn: 1, size: 1350,
      frames: cryptoFrame(0, t05xHello('t50.example.org', 'h3-T050', UA, false), 0x08),
    }), true]],
    tshark: { version: '0x54303530', sni: 't50.example.org', ua: UA, alpn: 'h3-T050' },
    ours: { protocol: 'QUIC', confidence: 'content', quic_version: 'T050', sni: 't50.example.org', user_agent: UA, alpn: 'h3-T050' },
  },
];

describe('hand-made Google QUIC captures', () => {
  for (const k of KNOWN) {
    const file = path.join(tmp, `${k.name}.pcap`);
    writeCapture(file, udpCapture(CLIENT, SERVER, k.datagrams));

    test(`${k.name}: what we report is the known answer`, () => {
      const got = labels(file);
      assert.equal(got.size, 1);
      assert.deepEqual(ours([...got.values()][0]), k.ours);
    });

    test(`${k.name}: the known answer is what tshark reads`, { skip: tsharkAvailable() ? false : 'tshark is not installed' }, () => {
      const rows = tsharkFields(file, [
        'gquic.version', 'quic.version', 'gquic.tag.sni', 'tls.handshake.extensions_server_name', 'gquic.tag.uaid',
        'tls.quic.parameter.google.user_agent', 'tls.handshake.extensions_alpn_str',
      ]);
      const first = rows[0]!;
      const t = { version: first[0] || first[1]!, sni: first[2] || first[3]!, ua: first[4] || first[5]!, alpn: first[6]! };
      assert.deepEqual(t, k.tshark);
      // And what we report agrees with it, field by field.
      assert.equal(k.ours.sni ?? '', t.sni);
      assert.equal(k.ours.user_agent ?? '', t.ua);
      assert.equal(k.ours.alpn ?? '', t.alpn);
      assert.equal(k.ours.quic_version, /^0x/.test(t.version) ? Buffer.from(t.version.slice(2), 'hex').toString('latin1') : t.version);
    });
  }

  test('a flow seen from the server\'s REJ only is QUIC by content, without a version', () => {
    const file = path.join(tmp, 'rej-only.pcap');
    writeCapture(file, udpCapture(SERVER, CLIENT, [KNOWN[0]!.datagrams[1]!]));
    assert.deepEqual(ours([...labels(file).values()][0]), { protocol: 'QUIC', confidence: 'content' });
  });
});

// ---------------------------------------------------------------------------------------------
// nDPI's captures (test/corpus/ndpi-quic): nDPI's own expected output and tshark's answers as oracles

interface NdpiFlow {
  ends: [string, string];
  proto: string;
  confidence: string;
  sni?: string;
  ua?: string;
  version?: string;
}

function ndpiFlows(name: string): NdpiFlow[] {
  const out = fs.readFileSync(path.join(DIR, `${name}.ndpi.out`), 'utf8');
  const rows: NdpiFlow[] = [];
  for (const line of out.split('\n')) {
    const m = /\bUDP (\S+) (?:<->|->) (\S+) .*?\[proto: [\d.]+\/([\w.]+)\].*?\[Confidence: ([^\]]+)\]/.exec(line);
    if (m === null) continue;
    const f: NdpiFlow = { ends: [m[1]!, m[2]!], proto: m[3]!.split('.')[0]!, confidence: m[4]! };
    const sni = /\[Hostname\/SNI: ([^\]]+)\]/.exec(line)?.[1];
    const ua = /\[User-Agent: ([^\]]+)\]/.exec(line)?.[1];
    const version = /\[QUIC ver: ([^\]]+)\]/.exec(line)?.[1];
    if (sni !== undefined) f.sni = sni;
    if (ua !== undefined) f.ua = ua;
    if (version !== undefined) f.version = version;
    rows.push(f);
  }
  return rows;
}

/** "a.b.c.d:port" → "a.b.c.d|port" (these captures are IPv4). */
const norm = (end: string): string => end.replace(/:(\d+)$/, '|$1');

const GOOGLE_CAPTURES = ['ndpi__quic_q39', 'ndpi__quic_q43', 'ndpi__quic_q46', 'ndpi__quic_q46_b', 'ndpi__quic_q50', 'ndpi__gquic', 'ndpi__quic_t50', 'ndpi__quic_t51', 'ndpi__gquic_only_from_server'];

describe('nDPI\'s Google QUIC captures', () => {
  for (const name of GOOGLE_CAPTURES) {
    test(`${name}: the SNI, user agent and version nDPI found, and tshark's per-frame answers`, () => {
      const file = path.join(DIR, `${name}.pcap`);
      const got = labels(file);
      const expected = ndpiFlows(name);
      assert.ok(expected.length > 0);
      for (const e of expected) {
        assert.equal(e.proto, 'QUIC');
        assert.equal(e.confidence, 'DPI');
        const [a, b] = e.ends.map(norm) as [string, string];
        const app = got.get(`${a} → ${b}`) ?? got.get(`${b} → ${a}`);
        assert.ok(app, `${name}: flow ${a} <-> ${b}`);
        assert.equal(app.protocol, 'QUIC');
        assert.equal(app.confidence, 'content');
        assert.equal(app.details.sni, e.sni);
        assert.equal(app.domain, e.sni);
        assert.equal(app.details.user_agent, e.ua);
        assert.equal(app.details.quic_version, e.version);
      }
      // tshark: the first frame naming an SNI names ours, and its user agent (CHLO tag or transport parameter) too.
      const rows = readTsv(path.join(DIR, `${name}.tshark.tsv`));
      const named = rows.find((r) => r.gquic_sni !== '' || r.tls_sni !== '');
      const app = [...got.values()][0]!;
      if (named === undefined) {
        assert.equal(app.details.sni, undefined);
      } else {
        assert.equal(app.details.sni, named.gquic_sni || named.tls_sni);
        assert.equal(app.details.user_agent ?? '', named.gquic_uaid || named.google_user_agent);
        if (named.alpn !== '') assert.deepEqual(app.details.alpn, named.alpn!.split(','));
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Versions, and input that must not break anything

describe('Google QUIC versions and hostile input', () => {
  test('version tags: Q0dd and T0dd only', () => {
    assert.equal(gquicVersionTag(0x51303433), 'Q043');
    assert.equal(gquicVersionTag(0x54303531), 'T051');
    for (const v of [0x00000001, 0x51313433, 0x52303433, 0x51303a33, 0xff00001d, 0x6b3343cf]) assert.equal(gquicVersionTag(v), undefined);
    assert.equal(quicVersionName(0x51303939), 'Q099');
    assert.equal(quicVersionName(0x12345678), '0x12345678');
  });

  test('an unknown Google version is recognised by its tag on any port; nothing is read from it', () => {
    const p = Buffer.concat([hex('c3'), Buffer.from('Q099', 'latin1'), hex('08'), CID, hex('00'), fill(1300, 4)]);
    assert.equal(gquicClassifier.detect(p, 0, p.length, flowCtx(17, 5000, 9999)), Score.CONTENT);
    const s = gquicClassifier.start();
    assert.equal(s.feed(p, 0, p.length, flowCtx(17, 5000, 9999)), Verdict.MORE);
    assert.deepEqual(ours(s.app), { protocol: 'QUIC', confidence: 'content', quic_version: 'Q099' });
    const t = Buffer.from(p);
    t.write('T099', 1, 'latin1');
    assert.equal(gquicClassifier.detect(t, 0, t.length, flowCtx(17, 5000, 9999)), Score.CONTENT);
  });

  test('public headers: reserved, reset and no-CID flags, or a version past Q043, are not gQUIC', () => {
    const base = KNOWN[0]!.datagrams[0]![0];
    for (const flags of [0x89, 0x49, 0x0b, 0x01]) {
      const p = Buffer.from(base);
      p[0] = flags;
      assert.equal(gquicClassifier.detect(p, 0, p.length, flowCtx(17, 5000, 443)), Score.NO, `flags 0x${flags.toString(16)}`);
    }
    const late = Buffer.from(base);
    late.write('Q046', 9, 'latin1');
    assert.equal(gquicClassifier.detect(late, 0, late.length, flowCtx(17, 5000, 443)), Score.NO);
  });

  const samples = KNOWN.slice(0, 4).map((k) => [k.name, Buffer.from(k.datagrams[0]![0])] as const);

  test('every prefix of the sample packets: no throw, and an SNI only when the whole SNI value is there', () => {
    for (const [name, pkt] of samples) {
      for (let n = 0; n <= pkt.length; n++) {
        assert.doesNotThrow(() => gquicClassifier.detect(pkt, 0, n, flowCtx(17, 5000, 443)));
        const s = gquicClassifier.start();
        assert.doesNotThrow(() => s.feed(pkt, 0, n, flowCtx(17, 5000, 443)));
        const sni = s.app?.details.sni;
        if (sni !== undefined) assert.ok(/\.example\.org$/.test(sni), `${name} prefix ${n}: ${sni}`);
      }
    }
  });

  test('mutated packets (2000, seeded): no throw; any SNI is printable ASCII', () => {
    const rnd = prng(0x9a1c);
    for (let k = 0; k < 2000; k++) {
      const [, pkt] = samples[k % samples.length]!;
      const m = mutated(pkt, rnd, 6);
      assert.doesNotThrow(() => gquicClassifier.detect(m, 0, m.length, flowCtx(17, 5000, 443)));
      const s = gquicClassifier.start();
      assert.doesNotThrow(() => s.feed(m, 0, m.length, flowCtx(17, 5000, 443)));
      const sni = s.app?.details.sni;
      if (sni !== undefined) assert.match(sni, /^[\x21-\x7e]+$/);
    }
  });

  test('CHLOs with hostile tag tables: offsets backwards or past the end, huge counts, empty values', () => {
    const tables: Buffer[] = [
      Buffer.concat([Buffer.from('CHLO\xff\xff\0\0', 'latin1'), fill(200, 1)]), // 65535 entries claimed
      handshakeMessage('CHLO', [['SNI', 'a.example'], ['UAID', '']]),
      (() => {
        const m = handshakeMessage('CHLO', [['PAD', 'xxxx'], ['SNI', 'b.example']]);
        m.writeUInt32LE(2, 16 + 4); // SNI ends before PAD: backwards
        return m;
      })(),
      (() => {
        const m = handshakeMessage('CHLO', [['SNI', 'c.example']]);
        m.writeUInt32LE(0xfffffff0, 12); // past the end
        return m;
      })(),
      handshakeMessage('CHLO', [['SNI', 'bad name\u0001']]),
    ];
    const seen: Array<string | undefined> = [];
    for (const t of tables) {
      const pkt = publicHeaderPacket({ cid: CID, version: VERSION.Q043, pn: 1, frames: gquicStreamFrame(1, t) });
      const s = gquicClassifier.start();
      assert.doesNotThrow(() => s.feed(pkt, 0, pkt.length, flowCtx(17, 5000, 443)));
      assert.equal(s.app?.protocol, 'QUIC');
      seen.push(s.app?.details.sni);
    }
    assert.deepEqual(seen, [undefined, 'a.example', undefined, undefined, undefined]);
  });

  test('random datagrams (5000, seeded), half with a gQUIC-looking first byte: no throw, no SNI', () => {
    const rnd = prng(77);
    for (let k = 0; k < 5000; k++) {
      const b = fill(Math.floor(rnd() * 1400) + 1, k + 11);
      if (k % 2 === 0) b[0] = [0x08, 0x09, 0x0c, 0x0d, 0x19, 0xc3, 0xcb][k % 7]!;
      const c = flowCtx(17, 5000, k % 3 === 0 ? 443 : 7000);
      assert.doesNotThrow(() => gquicClassifier.detect(b, 0, b.length, c));
      const s = gquicClassifier.start();
      assert.doesNotThrow(() => s.feed(b, 0, b.length, c));
      assert.equal(s.app?.details.sni, undefined);
    }
  });
});
