// Tests for the shared TLS hello parser: the RFC 9001 sample, each field, cut and broken messages, random bytes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LIST_ENTRIES } from '../core/app-info.js';
import { parseClientHello, parseServerHello, type ClientHello } from './client-hello.js';
import {
  RFC9001_CRYPTO_FRAME,
  alpnExt,
  clientHelloMessage,
  extension,
  mutated,
  prng,
  randomBytes,
  serverHelloMessage,
  sniExt,
  u16,
  versionsExt,
} from '../../test/support/dpi.js';

/** The ClientHello inside the RFC 9001 A.2 CRYPTO frame (type, offset and length take 4 bytes). */
const RFC_HELLO = RFC9001_CRYPTO_FRAME.subarray(4);

function text(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.subarray(start, end)).toString('latin1');
}

function serverName(h: ClientHello | null): string | undefined {
  return h === null || h.sniStart < 0 ? undefined : text(h.bytes, h.sniStart, h.sniEnd);
}

interface Fields {
  legacyVersion: number;
  versions: number[];
  serverName: string | undefined;
  alpn: string[];
  ech: boolean;
  intact: boolean;
}

/** Parse a whole message and turn the result into plain values for deepEqual. */
function parse(message: ArrayLike<number>, len = message.length): Fields | null {
  const b = Uint8Array.from(message);
  const h: ClientHello | null = parseClientHello(b, 0, len);
  if (h === null) return null;
  const alpn: string[] = [];
  for (let i = 0; i < h.alpn.length; i += 2) alpn.push(text(h.bytes, h.alpn[i]!, h.alpn[i + 1]!));
  // The parser reuses its result object: copy what the test compares.
  return { legacyVersion: h.legacyVersion, versions: [...h.versions], serverName: serverName(h), alpn, ech: h.ech, intact: h.intact };
}

/** Where the extensions start in a built ClientHello: header, version, random, session id, suites, compression, block length. */
const EXTS_AT = 4 + 2 + 32 + 1 + 2 + 4 + 2 + 2;

const SOUND: Fields = { legacyVersion: 0x0303, versions: [], serverName: undefined, alpn: [], ech: false, intact: true };

describe('parseClientHello', () => {
  it('reads the RFC 9001 A.2 sample: SNI example.com, ALPN "alpn", TLS 1.3', () => {
    assert.deepEqual(parse(RFC_HELLO), { ...SOUND, versions: [0x0304], serverName: 'example.com', alpn: ['alpn'] });
  });

  it('honours off and len, and refuses a range past the buffer', () => {
    const buf = new Uint8Array(RFC_HELLO.length + 10).fill(0xee);
    buf.set(RFC_HELLO, 3);
    const h = parseClientHello(buf, 3, RFC_HELLO.length + 7);
    assert.equal(serverName(h), 'example.com');
    assert.equal(h?.intact, true, 'bytes after the declared length are not part of it');
    assert.equal(parseClientHello(buf, 3, buf.length), null);
    assert.equal(parseClientHello(buf, -1, 10), null);
  });

  it('lists supported_versions without GREASE (RFC 8701)', () => {
    const h = parse(clientHelloMessage([...versionsExt([0x3a3a, 0x0304, 0x0303, 0xfafa]), ...sniExt('a.example')]));
    assert.deepEqual(h, { ...SOUND, versions: [0x0304, 0x0303], serverName: 'a.example' });
  });

  it('flags encrypted_client_hello and the older encrypted_server_name', () => {
    assert.equal(parse(clientHelloMessage(extension(0xfe0d, [0, 1, 2, 3])))?.ech, true);
    assert.equal(parse(clientHelloMessage(extension(0xffce, [1, 2])))?.ech, true);
    assert.equal(parse(clientHelloMessage(sniExt('plain.example')))?.ech, false);
  });

  it('reads a hello without extensions (RFC 5246 §7.4.1.2) and keeps legacy_version', () => {
    assert.deepEqual(parse(clientHelloMessage(null, 0x0300)), { ...SOUND, legacyVersion: 0x0300 });
  });

  it('takes the first host_name and ALPN list when an extension repeats; caps ALPN at MAX_LIST_ENTRIES', () => {
    const h = parse(clientHelloMessage([...sniExt('first.example'), ...sniExt('second.example'), ...alpnExt(['a']), ...alpnExt(['b'])]));
    assert.equal(h?.serverName, 'first.example');
    assert.deepEqual(h?.alpn, ['a']);
    const many = Array.from({ length: MAX_LIST_ENTRIES + 5 }, (_, i) => `p${i}`);
    assert.equal(parse(clientHelloMessage(alpnExt(many)))?.alpn.length, MAX_LIST_ENTRIES);
  });

  it('reads the whole extensions of a message cut short, and says it is not intact', () => {
    const m = clientHelloMessage([...sniExt('cut.example'), ...alpnExt(['h2']), ...extension(21, new Array<number>(500).fill(0))]);
    // Cut inside the padding: SNI and ALPN arrived whole.
    assert.deepEqual(parse(m, m.length - 100), { ...SOUND, serverName: 'cut.example', alpn: ['h2'], intact: false });
    // Cut inside the server_name extension: nothing from it.
    const sniEnd = EXTS_AT + sniExt('cut.example').length;
    for (let n = sniEnd - 12; n < sniEnd; n++) assert.equal(parse(m, n)?.serverName, undefined, `cut at ${n}`);
    assert.equal(parse(m, sniEnd)?.serverName, 'cut.example');
  });

  it('reads inner lengths that disagree as far as they go, and says the message is not intact', () => {
    const cases: Array<[string, number[], Partial<Fields>]> = [
      ['server_name list longer than its extension', extension(0, [0, 40, 0, 0, 3, 0x61, 0x62, 0x63]), { serverName: 'abc' }],
      ['host name past its list', extension(0, [0, 6, 0, 0, 200, 0x61, 0x62, 0x63]), {}],
      ['empty host name, then a real one', extension(0, [0, 9, 0, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63]), { serverName: 'abc' }],
      ['ALPN list longer than its extension', extension(16, [0, 50, 2, 0x68, 0x32]), { alpn: ['h2'] }],
      ['empty ALPN name after a good one', extension(16, [0, 4, 2, 0x68, 0x32, 0]), { alpn: ['h2'] }],
      ['odd supported_versions list', extension(43, [3, 3, 4, 3]), { versions: [0x0304] }],
      ['extension running past the block', [...sniExt('a.example'), 0, 21, 0, 99, 0], { serverName: 'a.example' }],
    ];
    for (const [what, exts, expected] of cases) {
      assert.deepEqual(parse(clientHelloMessage(exts)), { ...SOUND, ...expected, intact: false }, what);
    }
    // Extensions block longer than the message, or one stray byte where it should start.
    const m = clientHelloMessage(sniExt('d.example'));
    const longBlock = m.slice();
    longBlock[EXTS_AT - 2] = 0xff;
    assert.deepEqual(parse(longBlock), { ...SOUND, serverName: 'd.example', intact: false });
    const stray = clientHelloMessage(null);
    stray.push(0);
    stray[3]! += 1;
    assert.deepEqual(parse(stray), { ...SOUND, intact: false });
  });

  it('is null for anything that is not a ClientHello', () => {
    const good = clientHelloMessage(sniExt('x.example'));
    const broken = (at: number, value: number): number[] => {
      const m = good.slice();
      m[at] = value;
      return m;
    };
    const sidAt = 4 + 2 + 32;
    assert.equal(parse(broken(0, 2)), null, 'ServerHello type');
    assert.equal(parse(broken(4, 0x7f)), null, 'legacy_version major must be 3');
    assert.equal(parse(broken(sidAt, 33)), null, 'session id longer than 32');
    assert.equal(parse(broken(sidAt + 2, 3)), null, 'odd cipher_suites length');
    assert.equal(parse(broken(sidAt + 2, 0)), null, 'no cipher suites');
    assert.equal(parse(broken(sidAt + 7, 0)), null, 'no compression methods');
    assert.equal(parse(good.slice(0, 3)), null, 'no whole header');
    assert.equal(parse([1, 0, 0, 20, 3, 3, ...new Array<number>(16).fill(0)]), null, 'fixed part cut');
  });

  it('never reports a field that has not fully arrived, for every prefix of the sample', () => {
    for (let n = 0; n < RFC_HELLO.length; n++) {
      const h = parse(RFC_HELLO.subarray(0, n));
      if (h === null) continue;
      assert.equal(h.intact, false, `prefix ${n}`);
      assert.ok(h.serverName === undefined || h.serverName === 'example.com', `prefix ${n}: ${h.serverName}`);
      assert.ok(h.alpn.length === 0 || h.alpn[0] === 'alpn', `prefix ${n}: ${h.alpn.join()}`);
    }
  });

  it('never throws on random bytes or mutated hellos; names are non-empty ranges of the message', () => {
    const rnd = prng(7);
    for (let k = 0; k < 4000; k++) {
      const b = k % 2 === 0 ? mutated(RFC_HELLO, rnd, 4) : randomBytes(rnd, 300);
      if (k % 4 === 1 && b.length > 10) b.set([1, 0, (b.length - 4) >> 8, (b.length - 4) & 0xff, 3, 3]);
      const h = parseClientHello(b, 0, b.length);
      if (h === null) continue;
      assert.equal(h.bytes, b, 'offsets index the parsed buffer');
      const ranges = h.sniStart >= 0 ? [h.sniStart, h.sniEnd, ...h.alpn] : [...h.alpn];
      for (let i = 0; i < ranges.length; i += 2) {
        assert.ok(ranges[i]! >= 0 && ranges[i + 1]! <= b.length, `range ${ranges[i]}..${ranges[i + 1]} inside the input`);
        assert.ok(ranges[i + 1]! > ranges[i]!, 'never empty');
      }
    }
  });

  it('reuses one result object: each call overwrites the previous answer completely', () => {
    const first = parseClientHello(Uint8Array.from(clientHelloMessage([...sniExt('one.example'), ...alpnExt(['h2'])])), 0, 1e6);
    assert.equal(first, null, 'a length past the buffer is refused');
    const a = Uint8Array.from(clientHelloMessage([...sniExt('one.example'), ...alpnExt(['h2']), ...versionsExt([0x0304])]));
    assert.equal(serverName(parseClientHello(a, 0, a.length)), 'one.example');
    const b = Uint8Array.from(clientHelloMessage(null, 0x0301));
    assert.deepEqual(parse(b), { ...SOUND, legacyVersion: 0x0301 });
  });
});

describe('parseServerHello', () => {
  it('reads the selected version, or none, next to legacy_version', () => {
    const with13 = Uint8Array.from(serverHelloMessage(extension(43, u16(0x0304))));
    assert.deepEqual(parseServerHello(with13, 0, with13.length), { legacyVersion: 0x0303, versions: [0x0304] });
    const plain = Uint8Array.from(serverHelloMessage(null, 0x0302));
    assert.deepEqual(parseServerHello(plain, 0, plain.length), { legacyVersion: 0x0302, versions: [] });
    const grease = Uint8Array.from(serverHelloMessage(extension(43, u16(0x5a5a))));
    assert.deepEqual(parseServerHello(grease, 0, grease.length)?.versions, []);
  });

  it('is null for a ClientHello or a cut fixed part', () => {
    const ch = Uint8Array.from(clientHelloMessage(null));
    assert.equal(parseServerHello(ch, 0, ch.length), null);
    const sh = Uint8Array.from(serverHelloMessage(null));
    assert.equal(parseServerHello(sh, 0, 30), null);
  });
});
