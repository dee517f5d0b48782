// Tests for the TLS classifier: real ClientHellos from the corpus, reassembly, and hostile input.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import { Score, Verdict, type DpiContext } from './classifier.js';
import { tlsClassifier } from './tls.js';
import {
  CONNECT_TUNNEL_CLIENT_HELLO,
  alpnExt,
  clientHelloMessage,
  concat,
  cut,
  extension,
  feedSegments,
  hex,
  latin1,
  prng,
  randomBytes,
  records,
  serverHelloMessage,
  sniExt,
  tcpCtx,
  u16,
  versionsExt,
  type Seg,
} from '../../test/support/dpi.js';

function ctx(fromClient: boolean, seq: number, clientPort = 40000, serverPort = 443): DpiContext {
  return tcpCtx(fromClient, seq, clientPort, serverPort);
}

/** Feed segments until the session finishes; returns its app and every verdict. */
function run(segs: Seg[], clientPort = 40000, serverPort = 443): { app: AppInfo | null; verdicts: number[] } {
  return feedSegments(tlsClassifier, segs, { clientPort, serverPort, fill: 0xee });
}

/** The handshake message inside a buffer of complete records. */
function unframe(recs: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let p = 0; p + 5 <= recs.length; ) {
    const n = (recs[p + 3]! << 8) | recs[p + 4]!;
    out.push(...recs.subarray(p + 5, p + 5 + n));
    p += 5 + n;
  }
  return Uint8Array.from(out);
}

/** ndpi__tls_1.3_unidirectional_client frame 3: 192.168.12.156:39750 → 142.250.184.68:443, seq 1885049506, 564 bytes. */
const GOOGLE_CH = hex(`
  160301022f0100022b0303d3a25d7961eeee7919cd614bd8b0f63d5a6f8c6ca4de1828bda054f956f1af2420691ce201
  36f8bc28a70a33e7ef38c01b821e4bab3b8775d4691789deb9ca78140022130113021303c02bc02ccca9c02fc030cca8
  c009c00ac013c014009c009d002f0035010001c000000013001100000e7777772e676f6f676c652e636f6d00170000ff
  01000100000a00080006001d00170018000b00020100002300000010000b000908687474702f312e3100050005010000
  0000000d00140012040308040401050308050501080606010201003300260024001d0020dd05c9f34e9561b87b33ae99
  53204e9cdf17a4d71fbe2c1bf6630f98d504e43e002d00020101002b00090803040303030203010029011900f400ee01
  c1092fcf2e5566daa6383f539f55adeb8861e813cbdb08d12aed079eb584fa451ee875701fef81fa2dafa2b1ca600035
  a6524dccabbb9077a57e8f8244a6e058d21e9dd1ef37bf390ee4b551d5da7c2e2e932d78aa42e1a516cdce66f9998928
  bcb8dfabb7018466e86994c7d98696220821cbfac54286286988df5c06f600667b9340b418dc2ca444f058779088b6d9
  43f1a63c9c6bc84d0d3e3529d9953224cb1cf76971f31668eb1f6168175956f324442ed9583cac70118d00ebc9941eaa
  6a54dddc8e3aca0274a49cc3287c8ca4bdf5b975f80e772bcec17c3ca7471b678a05f88ed675119a65c0444273e797c5
  e300212091e42fe213601653a1e5e795b7a6fc938bdf71b51c8ea6150e91aec654576259
`);
/** ndpi__tls_1.3_unidirectional_client frame 5: 192.168.12.156:39750 → 142.250.184.68:443, seq 1885050070, 64 bytes. */
const GOOGLE_AFTER_1 = hex(`
  1403030001011703030035364f4b76004971a3f027a5dd3e38fd1cf077a9b66860cd1b20b02f777f84748bd86a774245
  b909025dfa0aed3899d2b6cf89df9875
`);
/** ndpi__tls_1.3_unidirectional_client frame 8: 192.168.12.156:39750 → 142.250.184.68:443, seq 1885050368, 24 bytes. */
const GOOGLE_AFTER_2 = hex(`
  17030300137fc3aff35c1d968f1401128a87a48279f4e1cc
`);
/** ndpi__dingtalk frame 8: 10.215.173.1:49352 → 104.166.182.25:443, seq 869499458, 512 bytes. */
const DINGTALK_CH_1 = hex(`
  1603010200010001fc030328d52630fe52f26695f54bf097ba930c0f6c8cd0a60ec8d17c28ce46cd4aab0220f496b16c
  8c4f3c417a5bf13f0474d60ad883c8f9a393a2eefde4fdbc0a8b95eb00203a3a130113021303c02bc02fc02cc030cca9
  cca8c013c014009c009d002f0035010001933a3a00000000001800160000137374617469632e64696e6774616c6b2e63
  6f6d00170000ff01000100000a000a00087a7a001d00170018000b00020100002300000010000e000c02683208687474
  702f312e31000500050100000000000d0012001004030804040105030805050108060601001200000033002b00297a7a
  000100001d0020e19480ffeebef611edae881e3da3688dd8bfd520d5f0d83936040ffc361af35f002d00020101002b00
  0b0aaaaa0304030303020301001b00030200024469000500030268324a4a000100001500c00000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
  0000000000000000000000000000000000000000000000000000000000000000
`);
/** ndpi__dingtalk frame 9: 10.215.173.1:49352 → 104.166.182.25:443, seq 869499970, 5 bytes. */
const DINGTALK_CH_2 = hex(`
  0000000000
`);
/** ndpi__dingtalk frame 11 (its first 127 bytes, the ServerHello record): 104.166.182.25:443 → 10.215.173.1:49352, seq 2011920364. */
const DINGTALK_SH = hex(`
  160303007a0200007603037f7e9da124ecca3e869fd67185c3b59bfccbe2fa3021065abcab479e876b122420f496b16c
  8c4f3c417a5bf13f0474d60ad883c8f9a393a2eefde4fdbc0a8b95eb130200002e002b0002030400330024001d00200d
  efccf569f82908a2749abc7e8b061ed3991f8e5eec23cc6e224f2eb568d926
`);
/** ndpi__tls_esni_sni_both frame 4: 192.168.1.21:55500 → 104.17.175.85:443, seq 362629366, 634 bytes. */
const ESNI_CH = hex(`
  160301027501000271030306a564656b2876dad16d5c40339a325ebc316cd485aa0b8bb66d76f1c0813af710b70b63dd
  114e5411e6452f0a0f97560000061303130113020100023200000033003100002e74686573652d6172652d6e6f742d74
  68652d64726f6964732d796f7572652d6c6f6f6b696e672d666f722e636f6dffce016e1301001d0020db3df8309b60ee
  5190359d24f44d36d9725df0f96fd4c4af8a78d4d0f17668580020bf707e086a555f3e660ec52dac0bcbe8bb5c597b5c
  923f26d33c6e9125c6b9bc0124b8845d1a37225d055cb7187b6d7cbd852adfda5269097680cb388af4fc9f5c7bce0377
  2d5259820afc2da5c949a663f997d270bbd2525d0d7c4d83e6fa9cfa038c1e78c2c847bb2033853998e7d391737c1cbb
  3796a9f7f24d5e88f6c5af94e95d93c2f8a168e73f18d090eab69d7c689afa7ad9bcaafefcf496509dd4dfeb3e96ce33
  4f2b00a6c03c1f9c1bf5040ba031e789d03185ddb6bd2d2105a91463519a23caae0295e3f068b701d99b1ab486583c72
  54dda07be99d50c23e4681cb62a5faa669adfef76693137788b3c0a5b0eec36e004f8a11e7b5b14dd37f50c1f6f20d68
  828620befb7460a5d6910255c126f921fe6b70f2e9c7299683fae6f9d068b139bad1ef709da821642b00fa7fd1bba44e
  f6c3dac61043c434224f3e570f62daa4bf000500050100000000000a000a0008001d001700180019000b00020100000d
  001800160804040104030805050105030806060106030201020300320012001004010403050105030601060302010203
  ff0100010000120000003300260024001d0020ac17ad824f38f7a764641fd5ad82cfc6ba50c2e705867dc469f26bf78c
  c27833002b0003020304
`);
/** ndpi__tls_esni_sni_both frame 6 (its first 111 bytes, the ServerHello record): 104.17.175.85:443 → 192.168.1.21:55500, seq 1664504090. */
const ESNI_SH = hex(`
  160303006a02000066030370fa573aaf4b5fdd87587db5afb23aba9546265f69479f45b2c010d403c98ef810b70b63dd
  114e5411e6452f0a0f975600130300002e00330024001d0020405b6b8d067ebca0332780b5aa1a02958bbc3fe9629331
  68f9419129f747e57a002b00020304
`);
/** ndpi__tls_with_huge_ch frame 8: 172.30.84.193:40640 → 208.253.217.142:443, seq 1225179700, 1024 bytes of which only
 * the first 258 are non-zero (the rest is the padding extension); the zeros are added in the test. */
const HUGE_CH_HEAD = hex(`
  1603012c9a01002c960303aa120de7d41bf652b5aef9676a6eabeee53b8edd86f51c159a9a616006660a4720c6f2d271
  17fc4001e3fa02e5ca390b9d4a800aa40a722aa26c4b3604ad95a8d60024130313021301003cc030c023cca9c02b009c
  c027c02cc00ac0090035c013000ac012002f01002c29002d00020101000d001600140603020108060401050104030601
  08050804050300230000000a00080006001d00170018003300260024001d00200000e065af51baa70d3b213b5030dc5d
  52e87d56cb077bafbf989ffd05c55502002b0009080304030303020301000b000201000010000e000c02683208687474
  702f312e31ff010001000017000000152b9d
`);
/** ndpi__tls_with_huge_ch frame 33 (its first 127 bytes, the ServerHello record): 208.253.217.142:443 → 172.30.84.193:40640, seq 381348675. */
const HUGE_SH = hex(`
  160303007a0200007603033280de5c9c4bd7383e46a07a6b4788d18178f98f24d6727162135d8191fd7c9f20c6f2d271
  17fc4001e3fa02e5ca390b9d4a800aa40a722aa26c4b3604ad95a8d6130300002e002b0002030400330024001d0020dd
  b70123b42e8f895bb9a520cf1e92dc441841a24d968753194530e802cb7225
`);
/** A ClientHello sent through an HTTP CONNECT tunnel on port 80. */
const NEWEGG_CH = CONNECT_TUNNEL_CLIENT_HELLO;

const GOOGLE_SEQ = 1885049506;
const HUGE_SEQ = 1225179700;

function expectGoogle(app: AppInfo | null): void {
  assert.ok(app, 'expected a recognised flow');
  assert.equal(app.protocol, 'HTTPS');
  assert.equal(app.domain, 'www.google.com');
  assert.equal(app.details.sni, 'www.google.com');
  assert.deepEqual(app.details.alpn, ['http/1.1']);
  // tshark: supported_versions 0x0304,0x0303,0x0302,0x0301
  assert.equal(app.details.tls_version, 'TLS 1.3');
}

describe('tlsClassifier.detect', () => {
  it('scores a ClientHello and a ServerHello record as content, on any port', () => {
    assert.equal(tlsClassifier.detect(GOOGLE_CH, 0, GOOGLE_CH.length, ctx(true, 1)), Score.CONTENT);
    assert.equal(tlsClassifier.detect(NEWEGG_CH, 0, NEWEGG_CH.length, ctx(true, 1, 52522, 80)), Score.CONTENT);
    assert.equal(tlsClassifier.detect(DINGTALK_SH, 0, DINGTALK_SH.length, ctx(false, 1)), Score.CONTENT);
  });

  it('gives only a port score to non-handshake bytes on TLS ports', () => {
    const junk = latin1('hello world');
    for (const port of [443, 8443, 993, 995, 465, 636, 853]) {
      assert.equal(tlsClassifier.detect(junk, 0, junk.length, ctx(true, 1, 40000, port)), Score.PORT);
    }
    assert.equal(tlsClassifier.detect(junk, 0, junk.length, ctx(true, 1, 40000, 8080)), Score.NO);
    // Fewer than 5 bytes cannot show a record header.
    assert.equal(tlsClassifier.detect(GOOGLE_CH, 0, 4, ctx(true, 1, 40000, 8080)), Score.NO);
    assert.equal(tlsClassifier.detect(GOOGLE_CH, 0, 4, ctx(true, 1, 40000, 443)), Score.PORT);
  });

  it('rejects record headers with impossible fields', () => {
    const bad = (patch: (b: Uint8Array) => void): number => {
      const b = GOOGLE_CH.slice();
      patch(b);
      return tlsClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 8080));
    };
    // A record header that is not a hello's, whose record ends where the bytes end: the framing of a
    // connection joined mid-stream, not a hello (the session wants the next header before it says TLS).
    assert.equal(bad((b) => (b[0] = 23)), Score.FRAMING); // application data, not a handshake
    assert.equal(bad((b) => (b[2] = 5)), Score.NO); // version 3.5 does not exist
    assert.equal(bad((b) => ((b[3] = 0), (b[4] = 0))), Score.NO); // empty record
    assert.equal(bad((b) => ((b[3] = 0xff), (b[4] = 0xff))), Score.NO); // > 2^14 (RFC 8446 §5.1)
    assert.equal(bad((b) => (b[5] = 11)), Score.FRAMING); // a Certificate cannot open a flow, but may be mid-stream
    // legacy_version major must be 3: not a hello, though the record header itself is sound.
    assert.equal(bad((b) => (b[9] = 0x7f)), Score.FRAMING);
  });

  it('honours off and len', () => {
    const buf = concat(Uint8Array.from([0, 0, 0]), GOOGLE_CH);
    assert.equal(tlsClassifier.detect(buf, 3, GOOGLE_CH.length, ctx(true, 1, 1, 2)), Score.CONTENT);
    assert.equal(tlsClassifier.detect(buf, 0, GOOGLE_CH.length, ctx(true, 1, 1, 2)), Score.NO);
    assert.equal(tlsClassifier.detect(buf, 3, buf.length, ctx(true, 1, 1, 2)), Score.NO); // len past the end
  });
});

describe('TLS session on corpus ClientHellos', () => {
  it('reads SNI, ALPN and version from a single-segment ClientHello (tls_1.3_unidirectional_client)', () => {
    const { app, verdicts } = run([
      { data: GOOGLE_CH, fromClient: true, seq: GOOGLE_SEQ },
      { data: GOOGLE_AFTER_1, fromClient: true, seq: GOOGLE_SEQ + 564 },
    ]);
    expectGoogle(app);
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE]);
  });

  it('stops waiting for a ServerHello that never comes (client-only capture)', () => {
    const segs: Seg[] = [{ data: GOOGLE_CH, fromClient: true, seq: GOOGLE_SEQ }];
    for (let i = 0; i < 6; i++) segs.push({ data: GOOGLE_AFTER_2, fromClient: true, seq: GOOGLE_SEQ + 564 + 24 * i });
    const { app, verdicts } = run(segs);
    expectGoogle(app);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.ok(verdicts.length <= 6, `finished after ${verdicts.length}`);
  });

  it('reassembles a ClientHello split over two segments and reads the ServerHello (dingtalk)', () => {
    const segs: Seg[] = [
      { data: DINGTALK_CH_1, fromClient: true, seq: 869499458 },
      { data: DINGTALK_CH_2, fromClient: true, seq: 869499970 },
      { data: DINGTALK_SH, fromClient: false, seq: 2011920364 },
    ];
    const { app, verdicts } = run(segs, 49352, 443);
    assert.ok(app, 'expected a recognised flow');
    assert.equal(app.domain, 'static.dingtalk.com');
    assert.equal(app.details.sni, 'static.dingtalk.com');
    assert.deepEqual(app.details.alpn, ['h2', 'http/1.1']);
    // Offered 0xaaaa (GREASE), 1.3 .. 1.0; the ServerHello confirms 1.3.
    assert.equal(app.details.tls_version, 'TLS 1.3');
    assert.equal(app.protocol, 'HTTPS');
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE, Verdict.DONE]);
    // Before the second segment nothing is invented.
    const half = run(segs.slice(0, 1), 49352, 443);
    assert.equal(half.app?.details.sni, undefined);
    assert.equal(half.app?.protocol, 'HTTPS');
  });

  it('takes the segments of the dingtalk ClientHello in reverse order', () => {
    const { app } = run(
      [
        { data: DINGTALK_CH_2, fromClient: true, seq: 869499970 },
        { data: DINGTALK_CH_1, fromClient: true, seq: 869499458 },
      ],
      49352,
      443,
    );
    assert.equal(app?.details.sni, 'static.dingtalk.com');
  });

  it('reports the outer SNI of a ClientHello that also carries ESNI (tls_esni_sni_both)', () => {
    const segs: Seg[] = [
      { data: ESNI_CH, fromClient: true, seq: 362629366 },
      { data: ESNI_SH, fromClient: false, seq: 1664504090 },
    ];
    const { app, verdicts } = run(segs, 55500, 443);
    assert.ok(app, 'expected a recognised flow');
    assert.equal(app.domain, 'these-are-not-the-droids-youre-looking-for.com');
    assert.equal(app.details.tls_ech, true);
    assert.equal(app.details.alpn, undefined);
    assert.equal(app.details.tls_version, 'TLS 1.3');
    assert.equal(app.protocol, 'HTTPS'); // port 443
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.DONE]);
    // Same bytes on another port, without an HTTP ALPN: plain TLS.
    assert.equal(run(segs, 55500, 4433).app?.protocol, 'TLS');
  });

  it('reassembles an 11 KB ClientHello over 12 segments without inventing an SNI (tls_with_huge_ch)', () => {
    const first = new Uint8Array(1024);
    first.set(HUGE_CH_HEAD);
    const segs: Seg[] = [{ data: first, fromClient: true, seq: HUGE_SEQ }];
    for (let i = 1; i <= 10; i++) segs.push({ data: new Uint8Array(1024), fromClient: true, seq: HUGE_SEQ + 1024 * i });
    segs.push({ data: new Uint8Array(159), fromClient: true, seq: HUGE_SEQ + 1024 * 11 });
    segs.push({ data: HUGE_SH, fromClient: false, seq: 381348675 });
    const { app, verdicts } = run(segs, 40640, 443);
    assert.ok(app, 'expected a recognised flow');
    assert.equal(app.domain, undefined);
    assert.equal('sni' in app.details, false);
    assert.deepEqual(app.details.alpn, ['h2', 'http/1.1']);
    assert.equal(app.details.tls_version, 'TLS 1.3');
    assert.equal(verdicts.length, 13);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.ok(verdicts.slice(0, -1).every((v) => v === Verdict.MORE), 'MORE until the end');
  });

  it('recognises TLS inside an HTTP CONNECT tunnel on port 80 (D7: the port lies)', () => {
    const { app } = run([{ data: NEWEGG_CH, fromClient: true, seq: 1321751451 }], 52522, 80);
    assert.ok(app, 'expected a recognised flow');
    assert.equal(app.domain, 'secure.newegg.com');
    assert.deepEqual(app.details.alpn, ['h2', 'spdy/3.1', 'http/1.1']);
    assert.equal(app.details.tls_version, 'TLS 1.2'); // no supported_versions: legacy 0x0303
    assert.equal(app.protocol, 'HTTPS'); // ALPN offers HTTP
  });
});

describe('TLS reassembly', () => {
  it('gives the same answer for every two-segment split of a ClientHello', () => {
    for (let at = 1; at < GOOGLE_CH.length; at++) {
      const { app } = run(cut(GOOGLE_CH, [at], GOOGLE_SEQ));
      expectGoogle(app);
    }
  });

  it('never invents fields from a prefix of the ClientHello', () => {
    for (let n = 1; n < GOOGLE_CH.length; n++) {
      const prefix = GOOGLE_CH.subarray(0, n);
      const score = tlsClassifier.detect(prefix, 0, n, ctx(true, GOOGLE_SEQ, 40000, 8080));
      assert.equal(score, n >= 5 ? Score.CONTENT : Score.NO, `prefix ${n}`);
      const { app } = run([{ data: prefix, fromClient: true, seq: GOOGLE_SEQ }]);
      assert.equal(app?.details.sni, undefined, `prefix ${n}`);
      assert.equal(app?.details.alpn, undefined, `prefix ${n}`);
    }
  });

  it('reads a ClientHello fragmented over several TLS records and many small segments', () => {
    const message = unframe(GOOGLE_CH);
    for (const [recordSize, segmentSize] of [[1, 500], [3, 200], [50, 37], [200, 37]] as const) {
      const recs = records(message, recordSize);
      const at: number[] = [];
      for (let p = segmentSize; p < recs.length; p += segmentSize) at.push(p);
      const { app } = run(cut(recs, at, 77));
      expectGoogle(app);
    }
  });

  it('handles out-of-order and duplicated segments', () => {
    const segs = cut(GOOGLE_CH, [90, 200, 310, 420, 500], GOOGLE_SEQ);
    const orders = [
      [0, 2, 1, 4, 3, 5],
      [5, 4, 3, 2, 1, 0],
      [1, 0, 0, 1, 3, 2, 2, 5, 4],
      [0, 0, 0, 1, 1, 2, 3, 3, 4, 5],
    ];
    for (const order of orders) {
      const { app } = run(order.map((i) => segs[i]!));
      expectGoogle(app);
    }
  });

  it('trims retransmissions that overlap what was already received', () => {
    // 0..100, then 50..300 (overlap), then 0..564 (full retransmission).
    const segs: Seg[] = [
      { data: GOOGLE_CH.subarray(0, 100), fromClient: true, seq: GOOGLE_SEQ },
      { data: GOOGLE_CH.subarray(50, 300), fromClient: true, seq: GOOGLE_SEQ + 50 },
      { data: GOOGLE_CH, fromClient: true, seq: GOOGLE_SEQ },
    ];
    expectGoogle(run(segs).app);
  });

  it('follows sequence numbers across the 2^32 wrap', () => {
    const base = 0xffffff00;
    const { app } = run(cut(GOOGLE_CH, [100, 256, 400], base));
    expectGoogle(app);
  });

  it('keeps only a bounded number of out-of-order segments and invents nothing when the gap stays', () => {
    const at: number[] = [];
    for (let p = 20; p < GOOGLE_CH.length; p += 20) at.push(p);
    const segs = cut(GOOGLE_CH, at, GOOGLE_SEQ);
    // Head first, then everything else backwards: more than the held-back limit arrives before
    // the gap right after the head fills, so some segments are dropped.
    const order = [segs[0]!, ...segs.slice(1).reverse()];
    const { app, verdicts } = run(order);
    assert.ok(app, 'expected a recognised flow');
    assert.equal(app.details.sni, undefined);
    assert.ok(verdicts.at(-1) === Verdict.DONE || verdicts.length === order.length, 'runs to the end or finishes');
  });
});

describe('TLS fields from built ClientHellos', () => {
  it('ignores GREASE in supported_versions and reports the highest real version', () => {
    const ch = records(clientHelloMessage([...versionsExt([0x3a3a, 0x0303, 0x0302, 0xfafa]), ...sniExt('a.example')]));
    const { app } = run([{ data: ch, fromClient: true, seq: 1 }], 40000, 8443);
    assert.equal(app?.details.tls_version, 'TLS 1.2');
    assert.equal(app?.protocol, 'TLS');
  });

  it('reports an IP literal SNI as sent', () => {
    const ch = records(clientHelloMessage(sniExt('192.0.2.7')));
    const { app } = run([{ data: ch, fromClient: true, seq: 1 }]);
    assert.equal(app?.details.sni, '192.0.2.7');
    assert.equal(app?.domain, '192.0.2.7');
  });

  it('reads an SSL 3.0 hello without extensions', () => {
    const ch = records(clientHelloMessage(null, 0x0300), 16384, 0x0300);
    const { app } = run([{ data: ch, fromClient: true, seq: 1 }], 40000, 9999);
    assert.equal(app?.details.tls_version, 'SSL 3.0');
    assert.equal(app?.domain, undefined);
    assert.equal(app?.protocol, 'TLS');
  });

  it('marks a ClientHello without SNI as TLS with no domain', () => {
    const ch = records(clientHelloMessage(alpnExt(['imap'])));
    const { app } = run([{ data: ch, fromClient: true, seq: 1 }], 40000, 993);
    assert.equal(app?.protocol, 'TLS');
    assert.equal(app?.domain, undefined);
    assert.deepEqual(app?.details.alpn, ['imap']);
  });

  it('switches to HTTPS for any HTTP ALPN', () => {
    for (const proto of ['http/1.1', 'http/1.0', 'h2', 'h2c', 'h3']) {
      const ch = records(clientHelloMessage(alpnExt(['x-other', proto])));
      assert.equal(run([{ data: ch, fromClient: true, seq: 1 }], 40000, 5000).app?.protocol, 'HTTPS', proto);
    }
  });

  it('takes the negotiated version from the ServerHello', () => {
    const ch = records(clientHelloMessage([...versionsExt([0x0304, 0x0303]), ...sniExt('b.example')]));
    // TLS 1.3 selected through supported_versions (RFC 8446 §4.2.1) ...
    const sh13 = records(serverHelloMessage(extension(43, u16(0x0304))), 16384, 0x0303);
    let r = run([{ data: ch, fromClient: true, seq: 1 }, { data: sh13, fromClient: false, seq: 9 }]);
    assert.equal(r.app?.details.tls_version, 'TLS 1.3');
    assert.equal(r.verdicts.at(-1), Verdict.DONE);
    // ... or a server that only speaks 1.2 answers with legacy_version 0x0303 and no extension.
    const sh12 = records(serverHelloMessage(null), 16384, 0x0303);
    r = run([{ data: ch, fromClient: true, seq: 1 }, { data: sh12, fromClient: false, seq: 9 }]);
    assert.equal(r.app?.details.tls_version, 'TLS 1.2');
  });

  it('stops waiting when the server answers with something other than a ServerHello', () => {
    const ch = records(clientHelloMessage(sniExt('c.example')));
    const alert = Uint8Array.from([21, 3, 3, 0, 2, 2, 40]);
    const r = run([{ data: ch, fromClient: true, seq: 1 }, { data: alert, fromClient: false, seq: 5 }]);
    assert.equal(r.app?.domain, 'c.example');
    assert.equal(r.verdicts.at(-1), Verdict.DONE);
  });

  it('recognises a flow from its ServerHello when the ClientHello is missing', () => {
    const { app } = run([{ data: DINGTALK_SH, fromClient: false, seq: 2011920364 }], 49352, 443);
    assert.equal(app?.protocol, 'HTTPS');
    assert.equal(app?.details.tls_version, 'TLS 1.3');
    assert.equal(app?.domain, undefined);
  });

  it('cuts a very long SNI to MAX_WIRE_STRING', () => {
    const ch = records(clientHelloMessage(sniExt('x'.repeat(1000))));
    const { app } = run([{ data: ch, fromClient: true, seq: 1 }]);
    assert.equal(app?.details.sni, 'x'.repeat(MAX_WIRE_STRING));
  });
});

describe('TLS session with hostile input', () => {
  it('rejects a flow on port 443 that does not speak TLS', () => {
    const junk = latin1('not tls at all');
    // Client only: a few payloads may be out-of-order pieces of a ClientHello, then a record layer is
    // looked for (8 segments searched) while the other direction may still bring one, 24 payloads at most.
    const segs: Seg[] = [];
    for (let i = 0; i < 30; i++) segs.push({ data: junk, fromClient: true, seq: 1 + 14 * i });
    const one = run(segs);
    assert.equal(one.app, null);
    assert.equal(one.verdicts.at(-1), Verdict.REJECT);
    assert.equal(one.verdicts.length, 24, `rejected after ${one.verdicts.length}`);
    // The server talking before any ClientHello: TLS clients speak first, so no hello will come; what
    // is left is a connection joined mid-stream, searched for records on 8 segments each way.
    const both: Seg[] = [];
    for (let i = 0; i < 20; i++) both.push({ data: junk, fromClient: i % 2 === 0, seq: 1 + 14 * (i >> 1) });
    const two = run(both);
    assert.equal(two.app, null);
    assert.equal(two.verdicts.at(-1), Verdict.REJECT);
    assert.equal(two.verdicts.length, 16, 'rejected once both directions were searched');
    // A first byte that is not a handshake record in an otherwise empty flow.
    const three = run([{ data: Uint8Array.from([22, 9]), fromClient: true, seq: 1 }]);
    assert.equal(three.app, null);
  });

  it('survives oversized length fields without inventing fields', () => {
    const cases: Uint8Array[] = [];
    // Handshake length 0xffffff inside a normal record: waits, then gives up at the bound.
    const huge = GOOGLE_CH.slice();
    huge[6] = 0xff;
    huge[7] = 0xff;
    huge[8] = 0xff;
    cases.push(huge);
    // SNI name length pointing past its extension.
    cases.push(records(clientHelloMessage([...extension(0, [0, 20, 0, 0, 200, ...latin1('short.example')])])));
    // ALPN list length larger than the extension; an empty protocol name.
    cases.push(records(clientHelloMessage(extension(16, [0, 50, 2, 0x68, 0x32]))));
    cases.push(records(clientHelloMessage(extension(16, [0, 3, 0, 0x68, 0x32]))));
    // Extensions block longer than the message; session id longer than 32.
    const m = clientHelloMessage(sniExt('d.example'));
    const extLenAt = 4 + 2 + 32 + 1 + 2 + 4 + 2;
    const longExt = m.slice();
    longExt[extLenAt] = 0xff;
    cases.push(records(longExt));
    const longSid = m.slice();
    longSid[4 + 34] = 200;
    cases.push(records(longSid));
    for (const c of cases) {
      const segs: Seg[] = [{ data: c, fromClient: true, seq: 1000 }];
      for (let i = 0; i < 50; i++) segs.push({ data: new Uint8Array(500), fromClient: true, seq: 1000 + c.length + 500 * i });
      const { app, verdicts } = run(segs);
      assert.notEqual(app?.details.sni, 'short.example');
      assert.ok(app === null || app.details.alpn === undefined || app.details.alpn.every((p) => p.length > 0), 'no empty ALPN');
      assert.ok(verdicts.at(-1) !== Verdict.MORE, 'must finish');
      assert.ok(verdicts.length <= 41, `finished after ${verdicts.length}`);
    }
  });

  it('reads the complete extensions of a ClientHello cut by the 16 KiB bound', () => {
    // SNI first, then a handshake claiming 40000 bytes: the bound stops reassembly and the
    // extensions that arrived are still read, none is made up.
    const exts = [...sniExt('bound.example'), ...extension(21, new Array<number>(39000).fill(0))];
    const recs = records(clientHelloMessage(exts));
    const at: number[] = [];
    for (let p = 1400; p < recs.length; p += 1400) at.push(p);
    const { app, verdicts } = run(cut(recs, at, 5));
    assert.equal(app?.details.sni, 'bound.example');
    assert.equal(verdicts.at(-1), Verdict.DONE);
    // The bound is reached on segment 12; then up to 4 payloads wait for a ServerHello.
    assert.ok(verdicts.length <= Math.ceil(16384 / 1400) + 4, `finished after ${verdicts.length}`);
  });

  it('never throws or invents an SNI on random payloads', () => {
    const rnd = prng(0x7115);
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 700);
      const len = b.length;
      // Half of them get a plausible record and hello header so the parser goes deeper.
      if (i % 2 === 0 && len > 10) b.set([22, 3, 1, (len - 5) >> 8, (len - 5) & 0xff, 1, 0, (len - 9) >> 8, (len - 9) & 0xff, 3]);
      const c = ctx(rnd() < 0.7, Math.floor(rnd() * 2 ** 32), 40000, rnd() < 0.5 ? 443 : 5555);
      const score = tlsClassifier.detect(b, 0, len, c);
      assert.ok(score === Score.NO || score === Score.PORT || score === Score.CONTENT, 'valid score');
      const s = tlsClassifier.start();
      for (let k = 0; k < 3; k++) {
        const v = s.feed(b, 0, len, { ...c, seq: (c.seq + k * len) >>> 0 });
        assert.ok(v === Verdict.MORE || v === Verdict.DONE || v === Verdict.REJECT, 'valid verdict');
      }
      assert.equal(s.app?.details.sni, undefined);
    }
  });

  it('never throws on bit-flipped real ClientHellos', () => {
    const rnd = prng(42);
    for (let i = 0; i < 2000; i++) {
      const b = (i % 2 === 0 ? GOOGLE_CH : ESNI_CH).slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      const { app } = run(cut(b, [Math.floor(rnd() * b.length)], 7));
      const sni = app?.details.sni;
      assert.ok(sni === undefined || (typeof sni === 'string' && sni.length <= MAX_WIRE_STRING), 'bounded SNI');
    }
  });
});
