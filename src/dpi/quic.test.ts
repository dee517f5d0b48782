// Tests for the QUIC classifier: RFC 9001/9369 vectors, synthetic handshakes, real captures vs tshark, hostile input.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict, type ClassifierSession } from './classifier.js';
import { quicClassifier } from './quic.js';
import {
  InitialKeys,
  QUIC_V1,
  QUIC_V2,
  decodePacketNumber,
  deriveInitialKeys,
  hkdfExpandLabel,
  hkdfExtract,
  openLongHeaderPacket,
  quicVersionInfo,
} from './quic-crypto.js';
import { classicPcap, manifest, oracle, summary } from '../../test/support/corpus.js';
import {
  RFC9001_CRYPTO_FRAME,
  RFC9001_INITIAL,
  clientHello,
  inspectFlows,
  mutated,
  prng,
  readPayloads,
  type InspectedFlow,
} from '../../test/support/dpi.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ---------------------------------------------------------------------------------------------
// RFC test vectors (data copied from the RFC appendices).

const RFC_DCID = hex('8394c8f03e515708');

/** RFC 9001 A.2 / RFC 9369 A.2: the CRYPTO frame of the sample client Initial (then 917 bytes of PADDING). */
const RFC_CRYPTO_FRAME = Buffer.from(RFC9001_CRYPTO_FRAME);

/** RFC 9001 A.2: the protected client Initial (1200 bytes). */
const RFC9001_CLIENT_INITIAL = Buffer.from(RFC9001_INITIAL);

/** RFC 9001 A.3: the protected server Initial. */
const RFC9001_SERVER_INITIAL = hex(`
  cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
  5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
  dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
  022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
  2158407dd074ee`);

/** RFC 9369 A.2: the protected v2 client Initial (1200 bytes). */
const RFC9369_CLIENT_INITIAL = hex(`
  d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485
  dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04
  9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d
  250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a
  12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500
  cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68
  18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33
  12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3
  d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd
  6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520
  bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045
  636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f
  ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12
  16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5
  4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4
  fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b
  8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7
  14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9
  9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91
  abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd
  80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db
  848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18
  d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15
  c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc
  7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61
  f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710
  10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b
  3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e
  06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce
  8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1
  34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1
  e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd
  5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3
  8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89
  d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53
  6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19
  9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b
  a18b2faa745b6fe189cf772a9f84cbfc`);

/** RFC 9369 A.3: the protected v2 server Initial. */
const RFC9369_SERVER_INITIAL = hex(`
  dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698
  baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17
  f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2
  c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8
  4bed8521e2e140`);

const RFC_SERVER_PAYLOAD_TAIL = hex(`
  020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5
  430b9a045a1200130100002e00330024001d00209d3c940d89690b84d08a6099
  3c144eca684d1081287c834d5311bcf32bb9da1a002b00020304`);

// ---------------------------------------------------------------------------------------------
// Helpers: contexts, a packet protector for synthetic traffic, a ClientHello builder.

function ctx(fromClient: boolean, srcPort = 50000, dstPort = 443): DpiContext {
  return fromClient
    ? { transport: 17, fromClient, srcPort, dstPort, seq: 0, tsMicros: 0 }
    : { transport: 17, fromClient, srcPort: dstPort, dstPort: srcPort, seq: 0, tsMicros: 0 };
}

function feedAll(session: ClassifierSession, datagrams: Array<[Uint8Array, boolean]>): number {
  let v: number = Verdict.MORE;
  for (const [d, fromClient] of datagrams) v = session.feed(d, 0, d.length, ctx(fromClient));
  return v;
}

function varint(v: number): Buffer {
  if (v < 0x40) return Buffer.from([v]);
  if (v < 0x4000) return Buffer.from([0x40 | (v >> 8), v & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x80000000 | v) >>> 0);
  return b;
}

interface LongPacketSpec {
  version: number;
  /** LongType value: 0 Initial, 1 0-RTT, 2 Handshake. */
  type: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  pn: number;
  pnLen?: number;
  payload: Uint8Array;
  token?: Uint8Array;
  keys: InitialKeys;
}

/** Protect a long-header packet the way a sender does (RFC 9001 §5.3, §5.4); the opposite of the code under test. */
function protect(spec: LongPacketSpec): Buffer {
  const pnLen = spec.pnLen ?? 2;
  const v2 = spec.version === QUIC_V2;
  const wireType = v2 ? (spec.type + 1) & 3 : spec.type;
  const version = Buffer.alloc(4);
  version.writeUInt32BE(spec.version >>> 0);
  const parts: Buffer[] = [
    Buffer.from([0xc0 | (wireType << 4) | (pnLen - 1)]),
    version,
    Buffer.from([spec.dcid.length]),
    Buffer.from(spec.dcid),
    Buffer.from([spec.scid.length]),
    Buffer.from(spec.scid),
  ];
  if (spec.type === 0) parts.push(varint(spec.token?.length ?? 0), Buffer.from(spec.token ?? []));
  const lengthField = Buffer.alloc(2);
  lengthField.writeUInt16BE(0x4000 | (pnLen + spec.payload.length + 16));
  parts.push(lengthField);
  const pnBytes = Buffer.alloc(pnLen);
  for (let i = 0; i < pnLen; i++) pnBytes[pnLen - 1 - i] = Math.floor(spec.pn / 256 ** i) & 0xff;
  parts.push(pnBytes);
  const header = Buffer.concat(parts);
  const nonce = Buffer.from(spec.keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Math.floor(spec.pn / 256 ** i) & 0xff;
  const gcm = createCipheriv('aes-128-gcm', spec.keys.key, nonce);
  gcm.setAAD(header);
  const body = Buffer.concat([gcm.update(spec.payload), gcm.final(), gcm.getAuthTag()]);
  const packet = Buffer.concat([header, body]);
  const pnOffset = header.length - pnLen;
  const ecb = createCipheriv('aes-128-ecb', spec.keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

function cryptoFrame(offset: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x06]), varint(offset), varint(data.length), Buffer.from(data)]);
}

function clientKeys(version: number, dcid: Uint8Array): InitialKeys {
  return deriveInitialKeys(quicVersionInfo(version)!, 0, dcid, false);
}

/** A client Initial padded to 1200 bytes as RFC 9000 §14.1 requires. */
function clientInitial(version: number, dcid: Uint8Array, pn: number, frames: Buffer, token?: Uint8Array): Buffer {
  const overhead = 1 + 4 + 1 + dcid.length + 1 + 4 + 1 + (token?.length ?? 0) + 2 + 2 + 16;
  const pad = Math.max(0, 1200 - overhead - frames.length);
  const spec: LongPacketSpec = {
    version, type: 0, dcid, scid: hex('c1c2c3c4'), pn, payload: Buffer.concat([frames, Buffer.alloc(pad)]), keys: clientKeys(version, dcid),
  };
  if (token !== undefined) spec.token = token;
  return protect(spec);
}

/** A 1-RTT packet's shape: first byte 0x41, the DCID, then bytes that look like ciphertext (seeded). */
function shortHeader(dcid: Uint8Array, size = 60): Buffer {
  const rnd = prng(size * 31 + dcid.length);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rnd() * 256);
  b[0] = 0x41;
  Buffer.from(dcid).copy(b, 1);
  return b;
}

// ---------------------------------------------------------------------------------------------

describe('QUIC crypto: RFC 9001 Appendix A (v1)', () => {
  test('A.1 initial secrets and client/server keys for DCID 0x8394c8f03e515708', () => {
    const salt = quicVersionInfo(QUIC_V1)!.salts[0]!;
    const initial = hkdfExtract(salt, RFC_DCID);
    assert.equal(initial.toString('hex'), '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44');
    const client = hkdfExpandLabel(initial, 'client in', 32);
    assert.equal(client.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
    const server = hkdfExpandLabel(initial, 'server in', 32);
    assert.equal(server.toString('hex'), '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b');
    const ck = clientKeys(QUIC_V1, RFC_DCID);
    assert.equal(ck.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
    assert.equal(ck.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
    assert.equal(ck.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
    const sk = deriveInitialKeys(quicVersionInfo(QUIC_V1)!, 0, RFC_DCID, true);
    assert.equal(sk.key.toString('hex'), 'cf3a5331653c364c88f0f379b6067e37');
    assert.equal(sk.iv.toString('hex'), '0ac1493ca1905853b0bba03e');
    assert.equal(sk.hp.toString('hex'), 'c206b8d9b9f0f37644430b490eeaa314');
  });

  test('A.2 header protection mask and client Initial decryption', () => {
    const keys = clientKeys(QUIC_V1, RFC_DCID);
    // RFC 9001 A.2: sample d1b1c98dd7689fb8ec11d242b123dc9b gives mask 437b9aec36.
    assert.equal(keys.mask(hex('d1b1c98dd7689fb8ec11d242b123dc9b')).subarray(0, 5).toString('hex'), '437b9aec36');
    assert.equal(RFC9001_CLIENT_INITIAL.length, 1200);
    // Header: 1+4+1+8+1 (+ token length 0) + Length 0x449e (2 bytes) = 18 bytes before the packet number.
    const opened = openLongHeaderPacket(RFC9001_CLIENT_INITIAL, 0, 18, 1200, keys);
    assert.ok(opened);
    assert.equal(opened.packetNumber, 2);
    assert.equal(opened.payload.length, 1162);
    assert.deepEqual(opened.payload.subarray(0, RFC_CRYPTO_FRAME.length), RFC_CRYPTO_FRAME);
    assert.ok(opened.payload.subarray(RFC_CRYPTO_FRAME.length).every((b) => b === 0));
  });

  test('A.2 protection of the documented payload reproduces the documented packet (checks the test protector)', () => {
    const payload = Buffer.concat([RFC_CRYPTO_FRAME, Buffer.alloc(917)]);
    const packet = protect({
      version: QUIC_V1, type: 0, dcid: RFC_DCID, scid: new Uint8Array(0), pn: 2, pnLen: 4, payload, keys: clientKeys(QUIC_V1, RFC_DCID),
    });
    assert.deepEqual(packet, RFC9001_CLIENT_INITIAL);
  });

  test('an Initial whose first frame cannot be in an Initial packet is not opened (checked before the AEAD pass)', () => {
    const keys = clientKeys(QUIC_V1, RFC_DCID);
    const make = (first: number) => protect({
      version: QUIC_V1, type: 0, dcid: RFC_DCID, scid: new Uint8Array(0), pn: 0, pnLen: 2,
      payload: Buffer.concat([Buffer.from([first]), RFC_CRYPTO_FRAME, Buffer.alloc(900)]), keys,
    });
    // RFC 9000 §12.4: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE may lead an Initial's payload.
    for (const first of [0x00, 0x01, 0x06]) {
      const packet = make(first);
      const opened = openLongHeaderPacket(packet, 0, 18, packet.length, clientKeys(QUIC_V1, RFC_DCID));
      assert.ok(opened, `first frame 0x${first.toString(16)} opens`);
      assert.equal(opened.payload[0], first);
    }
    // A STREAM frame (0x08) or an unassigned type never leads an Initial, though the AEAD would verify.
    for (const first of [0x08, 0x30, 0xff]) {
      const packet = make(first);
      assert.equal(openLongHeaderPacket(packet, 0, 18, packet.length, clientKeys(QUIC_V1, RFC_DCID)), null, `0x${first.toString(16)}`);
    }
  });

  test('A.3 server Initial opens with server keys (ACK + CRYPTO ServerHello)', () => {
    const keys = deriveInitialKeys(quicVersionInfo(QUIC_V1)!, 0, RFC_DCID, true);
    // 1+4+1+0+1+8 + token length (1) + Length 0x4075 (2) = 18.
    const opened = openLongHeaderPacket(RFC9001_SERVER_INITIAL, 0, 18, RFC9001_SERVER_INITIAL.length, keys);
    assert.ok(opened);
    assert.equal(opened.packetNumber, 1);
    assert.equal(opened.payload.subarray(0, 5).toString('hex'), '0200000000');
    assert.ok(opened.payload.toString('hex').endsWith(RFC_SERVER_PAYLOAD_TAIL.toString('hex')));
    // The client keys must not open it.
    assert.equal(openLongHeaderPacket(RFC9001_SERVER_INITIAL, 0, 18, RFC9001_SERVER_INITIAL.length, clientKeys(QUIC_V1, RFC_DCID)), null);
  });

  test('the classifier claims the packet on any port and reads the SNI', () => {
    const c = ctx(true, 5555, 4433);
    assert.equal(quicClassifier.detect(RFC9001_CLIENT_INITIAL, 0, 1200, c), Score.CONTENT);
    const s = quicClassifier.start();
    assert.equal(s.feed(RFC9001_CLIENT_INITIAL, 0, 1200, c), Verdict.MORE);
    assert.deepEqual(s.app, {
      protocol: 'QUIC',
      domain: 'example.com',
      details: { quic_version: 'v1', sni: 'example.com', alpn: ['alpn'] },
      state: 'QUIC_INITIAL',
      confidence: 'content',
    });
  });

  test('packet number decoding (RFC 9000 A.3 example)', () => {
    assert.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
    assert.equal(decodePacketNumber(-1, 2, 32), 2);
    assert.equal(decodePacketNumber(0xff, 0x01, 8), 0x101);
  });
});

describe('QUIC crypto: RFC 9369 Appendix A (v2)', () => {
  test('A.1 keys', () => {
    const salt = quicVersionInfo(QUIC_V2)!.salts[0]!;
    const client = hkdfExpandLabel(hkdfExtract(salt, RFC_DCID), 'client in', 32);
    assert.equal(client.toString('hex'), '14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b');
    const ck = clientKeys(QUIC_V2, RFC_DCID);
    assert.equal(ck.key.toString('hex'), '8b1a0bc121284290a29e0971b5cd045d');
    assert.equal(ck.iv.toString('hex'), '91f73e2351d8fa91660e909f');
    assert.equal(ck.hp.toString('hex'), '45b95e15235d6f45a6b19cbcb0294ba9');
    const sk = deriveInitialKeys(quicVersionInfo(QUIC_V2)!, 0, RFC_DCID, true);
    assert.equal(sk.key.toString('hex'), '82db637861d55e1d011f19ea71d5d2a7');
    assert.equal(sk.iv.toString('hex'), 'dd13c276499c0249d3310652');
    assert.equal(sk.hp.toString('hex'), 'edf6d05c83121201b436e16877593c3a');
  });

  test('A.2 client Initial (v2 type bits 0b01) decrypts; A.3 server Initial with server keys', () => {
    const opened = openLongHeaderPacket(RFC9369_CLIENT_INITIAL, 0, 18, 1200, clientKeys(QUIC_V2, RFC_DCID));
    assert.ok(opened);
    assert.equal(opened.packetNumber, 2);
    assert.deepEqual(opened.payload.subarray(0, RFC_CRYPTO_FRAME.length), RFC_CRYPTO_FRAME);
    const sk = deriveInitialKeys(quicVersionInfo(QUIC_V2)!, 0, RFC_DCID, true);
    const server = openLongHeaderPacket(RFC9369_SERVER_INITIAL, 0, 18, RFC9369_SERVER_INITIAL.length, sk);
    assert.ok(server);
    assert.equal(server.packetNumber, 1);
    assert.ok(server.payload.toString('hex').endsWith(RFC_SERVER_PAYLOAD_TAIL.toString('hex')));
  });

  test('the classifier reads the v2 sample', () => {
    const s = quicClassifier.start();
    s.feed(RFC9369_CLIENT_INITIAL, 0, 1200, ctx(true));
    assert.equal(s.app?.domain, 'example.com');
    assert.equal(s.app?.details.quic_version, 'v2');
    assert.equal(s.app?.state, 'QUIC_INITIAL');
  });

  test('a v1-typed first byte on a v2 packet is not an Initial (RFC 9369 §3.2)', () => {
    const p = Buffer.from(RFC9369_CLIENT_INITIAL);
    p[0] = (p[0]! & ~0x30) | 0x00; // type bits 00 = Retry in v2
    const s = quicClassifier.start();
    s.feed(p, 0, p.length, ctx(true));
    assert.equal(s.app?.domain, undefined);
  });
});

describe('QUIC session: synthetic handshakes', () => {
  const dcid = hex('0011223344556677');

  test('CRYPTO split over three Initials in three datagrams, out of order, with a gap', () => {
    const ch = clientHello({ sni: 'split.example', alpn: ['h3', 'h3-29'], pad: 2500 });
    const a = ch.subarray(0, 1000), b = ch.subarray(1000, 2000), c = ch.subarray(2000);
    const s = quicClassifier.start();
    // Second and third fragments first: nothing yet (gap at offset 0).
    feedAll(s, [[clientInitial(QUIC_V1, dcid, 1, cryptoFrame(1000, b)), true], [clientInitial(QUIC_V1, dcid, 2, cryptoFrame(2000, c)), true]]);
    assert.equal(s.app?.domain, undefined);
    assert.equal(s.app?.state, 'QUIC_INITIAL');
    const v = s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, a)), true));
    assert.equal(v, Verdict.MORE);
    assert.equal(s.app?.domain, 'split.example');
    assert.deepEqual(s.app?.details.alpn, ['h3', 'h3-29']);
  });

  test('two Initials coalesced in one datagram, with PING, ACK and padding frames around CRYPTO', () => {
    const ch = clientHello({ sni: 'coalesced.example', alpn: ['h3'], pad: 1200 });
    const half = 800;
    const ack = hex('020500020001010203'); // largest 5, delay 0, 2 extra ranges (gap 1 len 1, gap 2 len 3)
    const p1 = protect({ version: QUIC_V1, type: 0, dcid, scid: hex('aa'), pn: 0, payload: Buffer.concat([hex('01'), cryptoFrame(0, ch.subarray(0, half)), hex('0000')]), keys: clientKeys(QUIC_V1, dcid) });
    const p2 = protect({ version: QUIC_V1, type: 0, dcid, scid: hex('aa'), pn: 1, payload: Buffer.concat([ack, cryptoFrame(half, ch.subarray(half)), Buffer.alloc(30)]), keys: clientKeys(QUIC_V1, dcid) });
    const s = quicClassifier.start();
    s.feed(...withCtx(Buffer.concat([p1, p2, Buffer.alloc(40)]), true));
    assert.equal(s.app?.domain, 'coalesced.example');
  });

  test('Retry: the next Initial uses the new DCID and is opened with keys derived from it', () => {
    const ch = clientHello({ sni: 'retry.example', alpn: ['h3'], pad: 1500 });
    const first = clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, ch.subarray(0, 900)));
    // Retry (RFC 9000 §17.2.5): type 3, new SCID chosen by the server, token, 16-byte integrity tag.
    const newCid = hex('f067a5502a4262b5');
    const retry = Buffer.concat([hex('f000000001'), Buffer.from([4]), hex('c1c2c3c4'), Buffer.from([8]), newCid, Buffer.from('token'), Buffer.alloc(16, 9)]);
    const token = Buffer.from('token');
    const second = clientInitial(QUIC_V1, newCid, 1, cryptoFrame(900, ch.subarray(900)), token);
    const s = quicClassifier.start();
    feedAll(s, [[first, true], [retry, false]]);
    assert.equal(s.app?.domain, undefined);
    assert.equal(s.app?.state, 'QUIC_INITIAL');
    s.feed(...withCtx(second, true));
    assert.equal(s.app?.domain, 'retry.example');
  });

  test('after Version Negotiation the new attempt\'s ClientHello is not mixed with the old one', () => {
    const old = clientHello({ sni: 'a.example', pad: 1500 });
    const fresh = clientHello({ sni: 'b.example', alpn: ['h3'], pad: 300 });
    const s = quicClassifier.start();
    s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, old.subarray(0, 900))), true));
    const vn = Buffer.concat([hex('80000000000408090a0b04c1c2c3c4'), hex('6b3343cf')]);
    s.feed(...withCtx(vn, false));
    const dcid2 = hex('99887766554433221100');
    s.feed(...withCtx(clientInitial(QUIC_V2, dcid2, 0, cryptoFrame(0, fresh.subarray(0, 100))), true));
    assert.equal(s.app?.domain, undefined);
    s.feed(...withCtx(clientInitial(QUIC_V2, dcid2, 1, cryptoFrame(100, fresh.subarray(100))), true));
    assert.equal(s.app?.domain, 'b.example');
    assert.equal(s.app?.details.quic_version, 'v2');
  });

  test('states: Initial → Handshake → (server 0.5-RTT) → Connected at the client\'s first short header → DONE', () => {
    const ch = clientHello({ sni: 'state.example', alpn: ['h3'] });
    const s = quicClassifier.start();
    assert.equal(s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, ch)), true)), Verdict.MORE);
    assert.equal(s.app?.state, 'QUIC_INITIAL');
    // Server Initial + Handshake coalesced (server keys are not needed for the state).
    const sk = deriveInitialKeys(quicVersionInfo(QUIC_V1)!, 0, dcid, true);
    const serverInitial = protect({ version: QUIC_V1, type: 0, dcid: hex('c1c2c3c4'), scid: hex('5151'), pn: 0, payload: Buffer.alloc(40, 0), keys: sk });
    const serverHandshake = protect({ version: QUIC_V1, type: 2, dcid: hex('c1c2c3c4'), scid: hex('5151'), pn: 0, payload: Buffer.alloc(40, 1), keys: sk });
    assert.equal(s.feed(...withCtx(Buffer.concat([serverInitial, serverHandshake]), false)), Verdict.MORE);
    assert.equal(s.app?.state, 'QUIC_HANDSHAKE');
    // A server may send 1-RTT data before the handshake completes (RFC 9001 §5.7): not yet connected.
    assert.equal(s.feed(...withCtx(shortHeader(hex('c1c2c3c4')), false)), Verdict.MORE);
    assert.equal(s.app?.state, 'QUIC_HANDSHAKE');
    // The client sends 1-RTT only once its handshake is complete (RFC 9001 §4.1.1).
    assert.equal(s.feed(...withCtx(shortHeader(hex('5151')), true)), Verdict.DONE);
    assert.equal(s.app?.state, 'QUIC_CONNECTED');
    assert.equal(s.app?.domain, 'state.example');
  });

  test('a lone server Initial moves to QUIC_HANDSHAKE; states never go back', () => {
    const s = quicClassifier.start();
    const sk = deriveInitialKeys(quicVersionInfo(QUIC_V1)!, 0, dcid, true);
    const serverInitial = protect({ version: QUIC_V1, type: 0, dcid: hex('c1c2c3c4'), scid: hex('5151'), pn: 0, payload: Buffer.alloc(40, 0), keys: sk });
    s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, clientHello({ sni: 'x.example' }).subarray(0, 10))), true));
    s.feed(...withCtx(serverInitial, false));
    assert.equal(s.app?.state, 'QUIC_HANDSHAKE');
    s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 1, hex('01')), true));
    assert.equal(s.app?.state, 'QUIC_HANDSHAKE');
  });

  test('CONNECTION_CLOSE in a decryptable Initial: closed when the initiator sends it, draining when it receives it', () => {
    const close = hex('1c0a000474657374'); // error 0x0a, frame type 0, reason "test"
    const s1 = quicClassifier.start();
    assert.equal(s1.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, close), true)), Verdict.DONE);
    assert.equal(s1.app?.state, 'QUIC_CLOSED');
    const s2 = quicClassifier.start();
    const appClose = hex('1d0100'); // application close, no reason
    assert.equal(s2.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, appClose), false)), Verdict.DONE);
    assert.equal(s2.app?.state, 'QUIC_DRAINING');
  });

  test('a ClientHello without SNI yields no domain; ALPN still reported', () => {
    const s = quicClassifier.start();
    s.feed(...withCtx(clientInitial(QUIC_V2, dcid, 0, cryptoFrame(0, clientHello({ alpn: ['h3'] }))), true));
    assert.equal(s.app?.domain, undefined);
    assert.equal(s.app?.details.sni, undefined);
    assert.deepEqual(s.app?.details.alpn, ['h3']);
    assert.equal(s.app?.details.quic_version, 'v2');
  });

  test('draft-29 and draft-23 salts; unknown versions are QUIC only on 443', () => {
    for (const [v, name] of [[0xff00001d, 'draft-29'], [0xff000017, 'draft-23'], [0xff000021, 'draft-33']] as const) {
      const s = quicClassifier.start();
      s.feed(...withCtx(clientInitial(v, dcid, 0, cryptoFrame(0, clientHello({ sni: `${name}.example` }))), true));
      assert.equal(s.app?.domain, `${name}.example`);
      assert.equal(s.app?.details.quic_version, name);
    }
    const unknown = Buffer.from(clientInitial(QUIC_V1, dcid, 0, hex('01')));
    unknown.writeUInt32BE(0x12345678, 1);
    assert.equal(quicClassifier.detect(unknown, 0, unknown.length, ctx(true, 5000, 443)), Score.PORT);
    assert.equal(quicClassifier.detect(unknown, 0, unknown.length, ctx(true, 5000, 8443)), Score.NO);
    const s = quicClassifier.start();
    s.feed(unknown, 0, unknown.length, ctx(true));
    assert.equal(s.app?.details.quic_version, '0x12345678');
  });

  test('version negotiation is recognised', () => {
    const vn = Buffer.concat([hex('80000000000408090a0b04c1c2c3c4'), hex('000000016b3343cf')]);
    assert.equal(quicClassifier.detect(vn, 0, vn.length, ctx(false, 5000, 9999)), Score.CONTENT);
    const bad = Buffer.concat([hex('80000000000408090a0b04c1c2c3c4'), hex('00000000')]);
    assert.equal(quicClassifier.detect(bad, 0, bad.length, ctx(false, 5000, 9999)), Score.NO);
  });

  test('a short header is framing on any port (test/quic-midstream.test.ts decides), never from 20 bytes or less', () => {
    const sh = shortHeader(hex('01020304'));
    assert.equal(quicClassifier.detect(sh, 0, sh.length, ctx(true, 5000, 443)), Score.FRAMING);
    assert.equal(quicClassifier.detect(sh, 0, sh.length, ctx(true, 5000, 4433)), Score.FRAMING);
    assert.equal(quicClassifier.detect(sh, 0, 20, ctx(true, 5000, 443)), Score.NO);
  });

  test('a ClientHello claiming more than 64 KiB is given up on without growing memory', () => {
    const fake = Buffer.concat([hex('01ffffff'), Buffer.alloc(900, 1)]);
    const s = quicClassifier.start();
    s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, fake)), true));
    assert.equal(s.app?.domain, undefined);
    // Given up: a real hello later at the same offsets is not looked at any more (bounded work).
    s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 1, cryptoFrame(0, clientHello({ sni: 'late.example' }))), true));
    assert.equal(s.app?.domain, undefined);
  });

  test('gives up (DONE) after 30 datagrams', () => {
    const s = quicClassifier.start();
    let v = s.feed(...withCtx(clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, clientHello({ sni: 'x.example' }).subarray(0, 10))), true));
    // After a client Initial, server short headers alone never complete the handshake: only the datagram bound ends it.
    for (let i = 1; i < 30; i++) {
      assert.equal(v, Verdict.MORE);
      v = s.feed(...withCtx(shortHeader(hex('01020304')), false));
    }
    assert.equal(v, Verdict.DONE);
    assert.equal(s.app?.state, 'QUIC_INITIAL');
  });

  test('keeps copies: the caller may reuse its buffer and pass any offset', () => {
    const ch = clientHello({ sni: 'copy.example', pad: 1500 });
    const p1 = clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, ch.subarray(0, 1000)));
    const p2 = clientInitial(QUIC_V1, dcid, 1, cryptoFrame(1000, ch.subarray(1000)));
    const shared = Buffer.alloc(1500);
    const s = quicClassifier.start();
    p1.copy(shared, 100);
    s.feed(shared, 100, p1.length, ctx(true));
    shared.fill(0xee);
    p2.copy(shared, 7);
    s.feed(shared, 7, p2.length, ctx(true));
    assert.equal(s.app?.domain, 'copy.example');
  });
});

function withCtx(d: Uint8Array, fromClient: boolean): [Uint8Array, number, number, DpiContext] {
  return [d, 0, d.length, ctx(fromClient)];
}

// ---------------------------------------------------------------------------------------------
// Real captures, flow by flow through the DPI engine.

/** Text address (IPv4 dotted or any IPv6 form) to the form readPayloads() gives: dotted, or 32 hex digits. */
function normAddr(a: string): string {
  if (!a.includes(':')) return a;
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** Every UDP flow of a capture through a DpiEngine holding only the QUIC classifier. */
function runCapture(file: string, skipFrames: ReadonlySet<number> = new Set()): InspectedFlow[] {
  const datagrams = readPayloads(classicPcap(file)).filter((p) => p.transport === 17 && !skipFrames.has(p.frame));
  return [...inspectFlows(datagrams, [quicClassifier]).flows.values()];
}

interface OracleRow {
  frame: number;
  client: string;
  server: string;
  version: string;
  sni: string;
  alpn: string[];
}

function quicOracle(id: string): OracleRow[] {
  return oracle(id, 'quic_sni.tsv').map((r) => ({
    frame: Number(r.frame),
    client: `${normAddr(r.src!)}|${r.sport}`,
    server: `${normAddr(r.dst!)}|${r.dport}`,
    version: r.quic_version!,
    sni: r.sni ?? '',
    alpn: r.alpn ? r.alpn.split(',') : [],
  }));
}

const VERSION_NAMES: Record<string, string> = {
  '0x00000001': 'v1', '0x6b3343cf': 'v2', '0xff00001d': 'draft-29', '0xff00001c': 'draft-28',
};

/** Every ClientHello tshark decrypted is found with the same SNI, ALPN and version; no other flow gets a domain. */
function checkAgainstOracle(file: string, id: string): InspectedFlow[] {
  const flows = runCapture(file);
  const rows = quicOracle(id);
  assert.ok(rows.length > 0, `${id}: oracle rows`);
  for (const row of rows) {
    const f = flows.find((x) => x.client === row.client && x.server === row.server);
    assert.ok(f, `flow ${row.client} → ${row.server} present`);
    assert.equal(f.app?.protocol, 'QUIC');
    assert.equal(f.app?.domain, row.sni === '' ? undefined : row.sni, `SNI of ${row.client}`);
    assert.equal(f.app?.details.sni, row.sni === '' ? undefined : row.sni);
    assert.deepEqual(f.app?.details.alpn, row.alpn.length > 0 ? row.alpn : undefined);
    const version = row.version.split(',').pop()!;
    assert.equal(f.app?.details.quic_version, VERSION_NAMES[version] ?? version);
    // Found no later than the frame where tshark completed the ClientHello.
    if (row.sni !== '') {
      const tsharkFrame = Math.min(...rows.filter((r) => r.client === row.client).map((r) => r.frame));
      assert.ok(f.domainFrame !== undefined && f.domainFrame <= tsharkFrame, `SNI of ${row.client} found at ${f.domainFrame}, tshark ${tsharkFrame}`);
    }
  }
  for (const f of flows) {
    if (!rows.some((r) => r.client === f.client && r.server === f.server)) {
      assert.equal(f.app?.domain, undefined, `no invented SNI on ${f.client}`);
    }
  }
  return flows;
}

describe('QUIC on real captures (tshark quic_sni.tsv as truth)', () => {
  test('Chromium 115 → api.cirrus-ci.com (v1, h3), connected', () => {
    const [f] = checkAgainstOracle('zeek__quic__chromium-115.0.5790.110-api-cirrus-com.pcap', 'zeek__quic__chromium-115.0.5790.110-api-cirrus-com.pcap');
    assert.equal(f!.app?.domain, 'api.cirrus-ci.com');
    assert.equal(f!.app?.state, 'QUIC_CONNECTED');
    assert.equal(f!.done, true);
  });

  test('QUIC v2 over Linux SLL → test', () => {
    const flows = checkAgainstOracle('ndpi__quic-v2.pcap', 'ndpi__quic-v2.pcapng');
    assert.equal(flows[0]!.app?.domain, 'test');
    assert.equal(flows[0]!.app?.details.quic_version, 'v2');
    assert.equal(flows[0]!.app?.state, 'QUIC_CONNECTED');
  });

  test('draft-29 → localhost', () => {
    const flows = checkAgainstOracle('ndpi__quic-29.pcap', 'ndpi__quic-29.pcap');
    assert.equal(flows[0]!.app?.domain, 'localhost');
    assert.equal(flows[0]!.app?.details.quic_version, 'draft-29');
  });

  test('CRYPTO spread over several Initials → found on the completing frame', () => {
    const flows = checkAgainstOracle(
      'zeek__quic__quic-multiple-initial-fragmented-crypto.pcap',
      'zeek__quic__quic-multiple-initial-fragmented-crypto.pcap',
    );
    assert.equal(flows[0]!.app?.domain, 'googleads.g.doubleclick.net');
    assert.equal(flows[0]!.domainFrame, 3);
    assert.equal(flows[0]!.app?.state, 'QUIC_HANDSHAKE');
  });

  test('Retry over the NULL link type → localhost; also when the first Initial is lost', () => {
    const flows = checkAgainstOracle('tcpdump__quic_retry.pcap', 'tcpdump__quic_retry.pcap');
    assert.equal(flows[0]!.app?.domain, 'localhost');
    assert.equal(flows[0]!.app?.state, 'QUIC_CONNECTED');
    // Without frame 1 the hello comes from frame 3, the Initial sent to the Retry's new connection ID.
    const [f] = runCapture('tcpdump__quic_retry.pcap', new Set([1]));
    assert.equal(f!.app?.domain, 'localhost');
    assert.equal(f!.domainFrame, 3);
  });

  test('0-RTT captures: draft-28 → abcd and v1 → ssl.gstatic.com', () => {
    const flows = checkAgainstOracle('ndpi__quic_0RTT.pcap', 'ndpi__quic_0RTT.pcap');
    assert.deepEqual(flows.map((f) => f.app?.domain).sort(), ['abcd', 'ssl.gstatic.com']);
  });

  test('QUIC v2 HTTP/3 without SNI: still v2, no domain invented', () => {
    const flows = checkAgainstOracle('zeek__quic__quicv2-http3-443.pcap', 'zeek__quic__quicv2-http3-443.pcap');
    assert.equal(flows[0]!.app?.protocol, 'QUIC');
    assert.equal(flows[0]!.app?.domain, undefined);
    assert.equal(flows[0]!.app?.details.quic_version, 'v2');
  });

  test('ndpi sites: the four QUIC SNIs, nothing else', () => {
    const flows = checkAgainstOracle('ndpi__sites.pcap', 'ndpi__sites.pcapng');
    const snis = flows.map((f) => f.app?.domain).filter((d) => d !== undefined).sort();
    assert.deepEqual(snis, ['classroom.google.com', 'hangouts.google.com', 'plus.google.com', 'www.threads.net']);
  });

  test('no capture in the corpus yields an SNI tshark does not know', () => {
    for (const m of manifest()) {
      const id = m.id!;
      const file = m.classic_pcap!;
      const known = new Set((summary(id) as { quic_sni?: string[] }).quic_sni ?? []);
      for (const f of runCapture(file)) {
        if (f.app?.domain !== undefined) assert.ok(known.has(f.app.domain), `${id}: ${f.app.domain}`);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile input: never throw, never a false SNI.

function safeFeed(s: ClassifierSession, d: Uint8Array, off: number, len: number, fromClient = true): void {
  assert.doesNotThrow(() => s.feed(d, off, len, ctx(fromClient)));
}

describe('QUIC robustness', () => {
  const samples: Array<[string, Buffer]> = [
    ['RFC 9001 A.2', RFC9001_CLIENT_INITIAL],
    ['RFC 9369 A.2', RFC9369_CLIENT_INITIAL],
    ['RFC 9001 A.3', RFC9001_SERVER_INITIAL],
  ];

  test('every prefix of the sample packets: no throw, no SNI before the packet is whole', () => {
    for (const [name, pkt] of samples) {
      for (let n = 0; n <= pkt.length; n++) {
        const c = ctx(true, 5000, 443);
        assert.doesNotThrow(() => quicClassifier.detect(pkt, 0, n, c));
        const s = quicClassifier.start();
        safeFeed(s, pkt, 0, n);
        if (n < pkt.length) assert.equal(s.app?.domain, undefined, `${name} prefix ${n}`);
      }
    }
  });

  test('single-bit flips across the client samples: no throw, never a wrong SNI', () => {
    for (const [name, pkt] of samples.slice(0, 2)) {
      const copy = Buffer.from(pkt);
      for (let i = 0; i < copy.length; i++) {
        // All 8 bits of the header and first sample bytes, one rotating bit per byte after that.
        for (let bit = i < 40 ? 0 : i % 8; bit < (i < 40 ? 8 : (i % 8) + 1); bit++) {
          copy[i]! ^= 1 << bit;
          assert.doesNotThrow(() => quicClassifier.detect(copy, 0, copy.length, ctx(true)));
          const s = quicClassifier.start();
          safeFeed(s, copy, 0, copy.length);
          // Every byte is authenticated (header as AAD, the rest by the tag), so any flip hides the SNI.
          assert.equal(s.app?.domain, undefined, `${name} byte ${i} bit ${bit}`);
          copy[i]! ^= 1 << bit;
        }
      }
    }
  });

  test('random buffers (seeded), raw and with a plausible long header: no throw, no SNI', () => {
    const rnd = prng(0x5eed);
    const versions = [QUIC_V1, QUIC_V2, 0xff00001d, 0xff00001c, 0, 0xfaceb002];
    for (let k = 0; k < 4000; k++) {
      const len = Math.floor(rnd() * 1400);
      const b = Buffer.alloc(len + 3);
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      if (k % 2 === 1 && len >= 7) {
        b[1] = 0xc0 | (b[1]! & 0x3f);
        b.writeUInt32BE(versions[k % versions.length]! >>> 0, 2);
        b[6] = b[6]! % 21;
      }
      const off = k % 2 === 1 ? 1 : 0;
      const c = ctx(rnd() < 0.5, 40000, rnd() < 0.5 ? 443 : 9999);
      assert.doesNotThrow(() => quicClassifier.detect(b, off, len, c));
      const s = quicClassifier.start();
      for (let j = 0; j < 3; j++) safeFeed(s, b, off, len, j !== 1);
      assert.equal(s.app?.domain, undefined);
    }
  });

  test('random frames inside correctly protected Initials: no throw, no SNI', () => {
    const rnd = prng(42);
    const dcid = hex('0102030405060708');
    for (let k = 0; k < 400; k++) {
      const frames = Buffer.alloc(20 + Math.floor(rnd() * 300));
      for (let i = 0; i < frames.length; i++) frames[i] = Math.floor(rnd() * 256);
      // Bias towards frame types we parse.
      frames[0] = [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1d][k % 7]!;
      const s = quicClassifier.start();
      safeFeed(s, clientInitial(QUIC_V1, dcid, k, frames), 0, 1200);
      assert.equal(s.app?.domain, undefined);
    }
  });

  test('a non-printable SNI is not reported; non-printable ALPN is shown as hex', () => {
    const dcid = hex('0102030405060708');
    const ch = clientHello({ sni: 'bad\u0001name', alpn: ['h3', '\u0001\u00ff'] });
    const s = quicClassifier.start();
    safeFeed(s, clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, ch)), 0, 1200);
    assert.equal(s.app?.domain, undefined);
    assert.equal(s.app?.details.sni, undefined);
    assert.deepEqual(s.app?.details.alpn, ['h3', '0x01ff']);
  });

  test('a ClientHello whose inner lengths disagree yields nothing, though it arrived whole', () => {
    const dcid = hex('0102030405060708');
    const ch = Buffer.from(clientHello({ sni: 'broken.example', alpn: ['h3'] }));
    // The server_name list claims one byte more than its extension holds.
    const at = ch.indexOf(Buffer.from('broken.example')) - 4;
    ch[at]! += 1;
    const s = quicClassifier.start();
    safeFeed(s, clientInitial(QUIC_V1, dcid, 0, cryptoFrame(0, ch)), 0, 1200);
    assert.equal(s.app?.domain, undefined);
    assert.equal(s.app?.details.alpn, undefined);
  });

  test('mutated ClientHellos in correctly protected Initials: no throw, only printable ASCII SNIs', () => {
    const rnd = prng(7);
    const dcid = hex('0102030405060708');
    const ch = RFC_CRYPTO_FRAME.subarray(4);
    for (let k = 0; k < 300; k++) {
      const m = mutated(ch, rnd, 4);
      const s = quicClassifier.start();
      safeFeed(s, clientInitial(QUIC_V1, dcid, k, cryptoFrame(0, m)), 0, 1200);
      const sni = s.app?.domain;
      if (sni !== undefined) assert.match(sni, /^[\x21-\x7e]+$/);
    }
  });
});
