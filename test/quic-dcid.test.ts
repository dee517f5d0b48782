// QUIC Initials of one flow with different Destination Connection IDs: the ClientHello reassembled across them, against tshark and nDPI.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Verdict } from '../src/dpi/classifier.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { quicClassifier } from '../src/dpi/quic.js';
import { CORPUS, readTsv } from './support/corpus.js';
import { clientHello, flowCtx, inspectFlows, readPayloads } from './support/dpi.js';
import type { Endpoint } from './support/frames.js';
import {
  SALT,
  VERSION,
  cryptoFrame,
  fill,
  hex,
  initialKeys,
  initialPacket,
  retryPacket,
  tsharkAvailable,
  tsharkFields,
  udpCapture,
  writeCapture,
} from './support/quic-packets.js';

const DIR = path.join(CORPUS, 'ndpi-quic');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quic-dcid-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CLIENT: Endpoint = ['192.0.2.1', 50000];
const SERVER: Endpoint = ['198.51.100.2', 443];

/** The client's first DCID, the server's SCID, a Retry's SCID, another client-chosen DCID, the client's SCID. */
const A = hex('a1a2a3a4a5a6a7a8');
const S = hex('5151515151515151');
const R = hex('c0c1c2c3c4c5c6c7c8c9');
const B = hex('b1b2b3b4b5b6b7b8b9');
const C = hex('cc');

const HELLO = clientHello({ sni: 'split.example', alpn: ['h3'], pad: 1500 });
const HALF = 700;
const TOKEN = Buffer.from('retry-token-0123456789', 'latin1');

/** A client Initial with DCID `dcid`, protected with keys derived from `keysFrom`, carrying HELLO[from, to) at its offset. */
function clientInitial(dcid: Uint8Array, keysFrom: Uint8Array, pn: number, from: number, to: number, token?: Uint8Array): Buffer {
  return initialPacket({
    version: VERSION.v1, keys: initialKeys(SALT.v1, keysFrom), dcid, scid: C, pn, frames: cryptoFrame(from, HELLO.subarray(from, to)),
    ...(token === undefined ? {} : { token }),
  });
}

/** The server's Initial: ACK, then a ServerHello (RFC 8446 §4.1.3) choosing TLS_AES_128_GCM_SHA256 and x25519; keys from the client's DCID A. */
function serverInitial(): Buffer {
  const body = [0x03, 0x03, ...fill(32, 1), 0, 0x13, 0x01, 0, 0x00, 0x2e, 0x00, 0x2b, 0, 2, 3, 4, 0x00, 0x33, 0, 0x24, 0, 0x1d, 0, 0x20, ...fill(32, 2)];
  const sh = Uint8Array.from([2, 0, 0, body.length, ...body]);
  return initialPacket({
    version: VERSION.v1, keys: initialKeys(SALT.v1, A, true), dcid: C, scid: S, pn: 0, size: 200,
    frames: Buffer.concat([hex('0200000000'), cryptoFrame(0, sh)]),
  });
}

const retry = (): Buffer => retryPacket({ dcid: C, scid: R, token: TOKEN, originalDcid: A });

interface Case {
  name: string;
  why: string;
  datagrams: Array<[Uint8Array, boolean]>;
  /** Frame where tshark 4.0.17 shows the SNI (0: nowhere). */
  tsharkFrame: number;
  /** Frame where we find it. */
  ourFrame: number;
}

const CASES: Case[] = [
  {
    name: 'server-cid',
    why: 'the client moves to the server\'s SCID after its Initial (RFC 9000 §7.2) but keeps the keys of its first DCID (RFC 9001 §5.2)',
    datagrams: [[clientInitial(A, A, 0, 0, HALF), true], [serverInitial(), false], [clientInitial(S, A, 1, HALF, HELLO.length), true]],
    tsharkFrame: 3,
    ourFrame: 3,
  },
  {
    name: 'retry-resend',
    why: 'after a Retry the client sends its ClientHello again to the Retry\'s SCID, with keys derived from it (RFC 9001 §5.2)',
    datagrams: [
      [clientInitial(A, A, 0, 0, HALF), true], [retry(), false],
      [clientInitial(R, R, 1, 0, HALF, TOKEN), true], [clientInitial(R, R, 2, HALF, HELLO.length, TOKEN), true],
    ],
    tsharkFrame: 4,
    ourFrame: 4,
  },
  {
    name: 'retry-split',
    why: 'the ClientHello split over two Initials with two DCIDs and two key sets, a Retry between them (the same ClientHello: RFC 9000 §17.2.5.2)',
    datagrams: [[clientInitial(A, A, 0, 0, HALF), true], [retry(), false], [clientInitial(R, R, 1, HALF, HELLO.length, TOKEN), true]],
    tsharkFrame: 3,
    ourFrame: 3,
  },
  {
    name: 'own-dcid',
    why: 'a client that picks a new DCID and derives keys from it without any Retry (not what RFC 9000 allows): tshark takes the second '
      + 'Initial for another connection and never completes the hello; each packet is opened with its own DCID\'s keys here',
    datagrams: [[clientInitial(A, A, 0, 0, HALF), true], [clientInitial(B, B, 1, HALF, HELLO.length), true]],
    tsharkFrame: 0,
    ourFrame: 2,
  },
];

describe('hand-made captures: one ClientHello over Initials with different DCIDs', () => {
  for (const c of CASES) {
    const file = path.join(tmp, `${c.name}.pcap`);
    writeCapture(file, udpCapture(CLIENT, SERVER, c.datagrams));

    test(`${c.name}: SNI and ALPN found at frame ${c.ourFrame} (${c.why})`, () => {
      const { flows } = inspectFlows(readPayloads(file), defaultClassifiers());
      assert.equal(flows.size, 1);
      const f = [...flows.values()][0]!;
      assert.equal(f.app?.protocol, 'QUIC');
      assert.equal(f.app?.confidence, 'content');
      assert.equal(f.app?.domain, 'split.example');
      assert.deepEqual(f.app?.details.alpn, ['h3']);
      assert.equal(f.domainFrame, c.ourFrame);
    });

    test(`${c.name}: tshark shows the SNI at frame ${c.tsharkFrame || 'none'}`, { skip: tsharkAvailable() ? false : 'tshark is not installed' }, () => {
      const rows = tsharkFields(file, ['frame.number', 'tls.handshake.extensions_server_name']);
      const named = rows.filter((r) => r[1] !== '');
      if (c.tsharkFrame === 0) {
        assert.deepEqual(named, []);
      } else {
        assert.deepEqual(named, [[String(c.tsharkFrame), 'split.example']]);
      }
    });
  }
});

describe('nDPI quic_frags_different_dcid: Chromium\'s second Initial goes to the server\'s SCID', () => {
  test('cdnjs.cloudflare.com from frame 3, as tshark and nDPI (3 DPI packets) find it', () => {
    const file = path.join(DIR, 'ndpi__quic_frags_different_dcid.pcap');
    const { flows } = inspectFlows(readPayloads(file), defaultClassifiers());
    const f = [...flows.values()][0]!;
    const named = readTsv(path.join(DIR, 'ndpi__quic_frags_different_dcid.tshark.tsv')).filter((r) => r.tls_sni !== '');
    assert.deepEqual(named.map((r) => [r.frame, r.tls_sni, r.alpn]), [['3', 'cdnjs.cloudflare.com', 'h3']]);
    assert.equal(f.app?.domain, 'cdnjs.cloudflare.com');
    assert.deepEqual(f.app?.details.alpn, ['h3']);
    assert.equal(f.domainFrame, 3);
    const ndpi = fs.readFileSync(path.join(DIR, 'ndpi__quic_frags_different_dcid.ndpi.out'), 'utf8');
    assert.match(ndpi, /\[DPI packets: 3\].*\[Hostname\/SNI: cdnjs\.cloudflare\.com\]/);
  });
});

describe('bounds', () => {
  const ctx = (fromClient: boolean) => (fromClient ? flowCtx(17, 50000, 443, true) : flowCtx(17, 443, 50000, false));

  test('Initials under many DCIDs: at most 8 key sets are derived per flow, then new DCIDs are not tried', () => {
    const s = quicClassifier.start();
    // Eight Initials that no key opens (wrong keys for their DCID), each under a new DCID.
    for (let i = 0; i < 8; i++) {
      const junk = initialPacket({ version: VERSION.v1, keys: initialKeys(SALT.v1, fill(8, 100 + i)), dcid: fill(8, 200 + i), scid: C, pn: i, frames: cryptoFrame(0, fill(50, i)) });
      assert.equal(s.feed(junk, 0, junk.length, ctx(true)), Verdict.MORE);
    }
    assert.equal(s.app?.domain, undefined);
    // A ninth DCID, this time a sound Initial: its keys would be a ninth set, so it is left unopened.
    const whole = clientInitial(B, B, 9, 0, HELLO.length);
    s.feed(whole, 0, whole.length, ctx(true));
    assert.equal(s.app?.domain, undefined);
    // Under a DCID the flow already has keys for, the same hello opens.
    const s2 = quicClassifier.start();
    for (let i = 0; i < 7; i++) {
      const junk = initialPacket({ version: VERSION.v1, keys: initialKeys(SALT.v1, fill(8, 100 + i)), dcid: fill(8, 200 + i), scid: C, pn: i, frames: cryptoFrame(0, fill(50, i)) });
      s2.feed(junk, 0, junk.length, ctx(true));
    }
    s2.feed(whole, 0, whole.length, ctx(true));
    assert.equal(s2.app?.domain, 'split.example');
  });

  test('Initials that open with the first DCID\'s keys keep opening with them, whatever DCID they carry', () => {
    const s = quicClassifier.start();
    const dcids = [A, S, R, B, fill(20, 5), new Uint8Array(0)];
    // The hello in six fragments, each under another DCID, all protected with the keys of A.
    const cuts = [0, 300, 600, 900, 1200, 1500, HELLO.length];
    dcids.forEach((d, i) => {
      const p = initialPacket({ version: VERSION.v1, keys: initialKeys(SALT.v1, A), dcid: d, scid: C, pn: i, frames: cryptoFrame(cuts[i]!, HELLO.subarray(cuts[i]!, cuts[i + 1]!)) });
      s.feed(p, 0, p.length, ctx(true));
      assert.equal(s.app?.domain, i === dcids.length - 1 ? 'split.example' : undefined, `fragment ${i}`);
    });
  });

  test('truncated and bit-flipped second Initials: no throw, no SNI from a broken fragment', () => {
    const first = clientInitial(A, A, 0, 0, HALF);
    const second = clientInitial(S, A, 1, HALF, HELLO.length);
    for (let n = 0; n < second.length; n += 7) {
      const s = quicClassifier.start();
      s.feed(first, 0, first.length, ctx(true));
      assert.doesNotThrow(() => s.feed(second, 0, n, ctx(true)));
      assert.equal(s.app?.domain, undefined, `prefix ${n}`);
    }
    for (let i = 0; i < second.length; i += 13) {
      const flipped = Buffer.from(second);
      flipped[i]! ^= 0x10;
      const s = quicClassifier.start();
      s.feed(first, 0, first.length, ctx(true));
      assert.doesNotThrow(() => s.feed(flipped, 0, flipped.length, ctx(true)));
      assert.equal(s.app?.domain, undefined, `byte ${i}`);
    }
  });
});
