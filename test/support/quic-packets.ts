// Test support: QUIC and Google QUIC packets built byte by byte (protected with node:crypto), captures of them, tshark's reading.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac } from 'node:crypto';
import { udpPayloadFrame, writePcap, type TimedFrame } from './capture-writer.js';
import type { Endpoint } from './frames.js';
import { prng } from './prng.js';

// Keys are derived here with node:crypto's HMAC, independently of src/dpi/quic-crypto.ts (our own
// SHA-256 and AES), so a test of the one against the other means something.

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Initial salts: RFC 9001 §5.2 (v1); Q050, T050 and T051 as Chromium defines them. */
export const SALT = {
  v1: hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
  Q050: hex('504574efd066fe2f9d945cfcdbd3a7f0d3b56b45'),
  T050: hex('7ff579e5acd072915580304c43a2367c60488310'),
  T051: hex('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d'),
} as const;

export const VERSION = { v1: 0x00000001, Q043: 0x51303433, Q046: 0x51303436, Q050: 0x51303530, T050: 0x54303530, T051: 0x54303531 } as const;

/** RFC 9000 §16 variable-length integer, smallest encoding. */
export function varint(v: number): Buffer {
  if (v < 0x40) return Buffer.from([v]);
  if (v < 0x4000) return Buffer.from([0x40 | (v >> 8), v & 0xff]);
  if (v < 0x40000000) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((0x80000000 | v) >>> 0);
    return b;
  }
  throw new RangeError('varint too large for these tests');
}

const u16be = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u32be = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** HKDF-Expand-Label (RFC 8446 §7.1), empty context, one block. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([u16be(length), Buffer.from([full.length]), full, Buffer.from([0, 1])]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

export interface PacketKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** One direction's Initial keys (RFC 9001 §5.2) for a salt and the client's DCID. */
export function initialKeys(salt: Buffer, dcid: Uint8Array, server = false): PacketKeys {
  const initial = createHmac('sha256', salt).update(dcid).digest();
  const secret = expandLabel(initial, server ? 'server in' : 'client in', 32);
  return { key: expandLabel(secret, 'quic key', 16), iv: expandLabel(secret, 'quic iv', 12), hp: expandLabel(secret, 'quic hp', 16) };
}

/** Random 1-RTT keys: a capture that starts mid-stream has keys nobody outside the endpoints knows. */
export function randomKeys(rnd: () => number): PacketKeys {
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  return { key: bytes(16), iv: bytes(12), hp: bytes(16) };
}

/** AEAD-seal `payload` after `header` whose packet number of pnLen bytes ends it; then header protection (RFC 9001 §5.3, §5.4). */
function seal(keys: PacketKeys, header: Buffer, pn: number, pnLen: number, payload: Uint8Array, firstBitsMask: number): Buffer {
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i]! ^= Math.floor(pn / 256 ** i) & 0xff;
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const packet = Buffer.concat([header, gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const pnOffset = header.length - pnLen;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & firstBitsMask;
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

function pnBytes(pn: number, pnLen: number): Buffer {
  const b = Buffer.alloc(pnLen);
  for (let i = 0; i < pnLen; i++) b[pnLen - 1 - i] = Math.floor(pn / 256 ** i) & 0xff;
  return b;
}

export interface InitialSpec {
  version: number;
  keys: PacketKeys;
  dcid: Uint8Array;
  scid: Uint8Array;
  pn: number;
  /** Frames; padded with zero bytes (PADDING) to `size` bytes of datagram. */
  frames: Uint8Array;
  size?: number;
  token?: Uint8Array;
  /** Long packet type bits (0 Initial, 2 Handshake) for v1-style versions. */
  type?: number;
}

/** A protected long-header Initial (RFC 9000 §17.2.2), 2-byte packet number, padded to `size` (1200 by default). */
export function initialPacket(s: InitialSpec): Buffer {
  const pnLen = 2;
  const token = Buffer.from(s.token ?? []);
  const size = s.size ?? 1200;
  const head = Buffer.concat([
    Buffer.from([0xc0 | ((s.type ?? 0) << 4) | (pnLen - 1)]), u32be(s.version),
    Buffer.from([s.dcid.length]), Buffer.from(s.dcid), Buffer.from([s.scid.length]), Buffer.from(s.scid),
    varint(token.length), token,
  ]);
  const payloadLen = Math.max(s.frames.length, size - head.length - 2 - pnLen - 16);
  const payload = Buffer.concat([Buffer.from(s.frames), Buffer.alloc(payloadLen - s.frames.length)]);
  const header = Buffer.concat([head, u16be(0x4000 | (pnLen + payload.length + 16)), pnBytes(s.pn, pnLen)]);
  return seal(s.keys, header, s.pn, pnLen, payload, 0x0f);
}

/**
 * A protected 1-RTT packet (RFC 9000 §17.3.1): first byte with spin and key phase bits, DCID, packet
 * number of pnLen bytes, sealed `payload`; header protection masks the low five bits of the first byte.
 */
export function shortPacket(keys: PacketKeys, dcid: Uint8Array, pn: number, payload: Uint8Array, o: { pnLen?: number; spin?: boolean; keyPhase?: boolean } = {}): Buffer {
  const pnLen = o.pnLen ?? 2;
  const first = 0x40 | (o.spin === true ? 0x20 : 0) | (o.keyPhase === true ? 0x04 : 0) | (pnLen - 1);
  const header = Buffer.concat([Buffer.from([first]), Buffer.from(dcid), pnBytes(pn, pnLen)]);
  // RFC 9001 §5.4.2: the sample needs 4 bytes after the packet number's start plus 16; pad with PADDING frames.
  const need = Math.max(0, 4 - pnLen - payload.length);
  return seal(keys, header, pn, pnLen, Buffer.concat([Buffer.from(payload), Buffer.alloc(need)]), 0x1f);
}

/**
 * A v1 Retry (RFC 9000 §17.2.5) with its integrity tag (RFC 9001 §5.8: AES-128-GCM under the fixed key
 * and nonce, over the Original DCID and the packet).
 */
export function retryPacket(o: { dcid: Uint8Array; scid: Uint8Array; token: Uint8Array; originalDcid: Uint8Array }): Buffer {
  const packet = Buffer.concat([
    Buffer.from([0xf0]), u32be(VERSION.v1), Buffer.from([o.dcid.length]), Buffer.from(o.dcid),
    Buffer.from([o.scid.length]), Buffer.from(o.scid), Buffer.from(o.token),
  ]);
  const pseudo = Buffer.concat([Buffer.from([o.originalDcid.length]), Buffer.from(o.originalDcid), packet]);
  const gcm = createCipheriv('aes-128-gcm', hex('be0c690b9f66575a1d766b54e368c84e'), hex('461599d35d632bf2239825bb'));
  gcm.setAAD(pseudo);
  gcm.final();
  return Buffer.concat([packet, gcm.getAuthTag()]);
}

/** CRYPTO frame: type 0x06 (RFC 9000 §19.6), or 0x08 in Google's Q050/T05x. */
export function cryptoFrame(offset: number, data: Uint8Array, type = 0x06): Buffer {
  return Buffer.concat([Buffer.from([type]), varint(offset), varint(data.length), Buffer.from(data)]);
}

// ---------------------------------------------------------------------------------------------
// Google QUIC: CHLO messages, public-header and Q046 packets

/** A handshake message (tag, uint16 LE count, 2 zero bytes, per entry tag + uint32 LE end offset, values). */
export function handshakeMessage(tag: string, entries: Array<[string, Uint8Array | string]>): Buffer {
  const head = Buffer.alloc(8);
  head.write(tag.padEnd(4, '\0'), 0, 'latin1');
  head.writeUInt16LE(entries.length, 4);
  const index: Buffer[] = [];
  const values: Buffer[] = [];
  let end = 0;
  for (const [t, v] of entries) {
    const value = typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
    end += value.length;
    const e = Buffer.alloc(8);
    e.write(t.padEnd(4, '\0'), 0, 'latin1');
    e.writeUInt32LE(end, 4);
    index.push(e);
    values.push(value);
  }
  return Buffer.concat([head, ...index, ...values]);
}

/** A CHLO as Chrome sends it: PAD first so the message is 1024 bytes, then SNI, VER, UAID (tags in increasing order). */
export function chlo(o: { sni?: string; version: string; uaid?: string; size?: number }): Buffer {
  const rest: Array<[string, Uint8Array | string]> = [];
  if (o.sni !== undefined) rest.push(['SNI', o.sni]);
  if (o.uaid !== undefined) rest.push(['UAID', o.uaid]);
  rest.push(['VER', o.version]);
  const bare = handshakeMessage('CHLO', [['PAD', ''], ...rest]);
  const pad = Math.max(0, (o.size ?? 1024) - bare.length);
  return handshakeMessage('CHLO', [['PAD', Buffer.alloc(pad, 0x2d)], ...rest]);
}

/** STREAM frame on stream `id` (1 byte), 2-byte offset when offset > 0, 2-byte data length (big-endian, Q039 on). */
export function gquicStreamFrame(id: number, data: Uint8Array, offset = 0): Buffer {
  const type = 0x80 | 0x20 | (offset > 0 ? 1 << 2 : 0);
  return Buffer.concat([Buffer.from([type, id]), offset > 0 ? u16be(offset) : Buffer.alloc(0), u16be(data.length), Buffer.from(data)]);
}

/**
 * Neither tshark nor our reader checks the 12-byte message authentication hash of unencrypted gQUIC
 * packets (a truncated FNV-1a-128); a fixed value stands in for it.
 */
const HASH = hex('a1a2a3a4a5a6a7a8a9aaabac');

/** A public-header packet (up to Q043) from the client: flags, CID, version, 1-byte packet number, hash, frames, zero padding to `size`. */
export function publicHeaderPacket(o: { flags?: number; cid: Uint8Array; version?: number; pn: number; frames: Uint8Array; size?: number }): Buffer {
  const flags = o.flags ?? (0x08 | (o.version === undefined ? 0 : 0x01));
  const parts: Buffer[] = [Buffer.from([flags]), Buffer.from(o.cid)];
  if (o.version !== undefined) parts.push(u32be(o.version));
  parts.push(Buffer.from([o.pn & 0xff]), HASH, Buffer.from(o.frames));
  const p = Buffer.concat(parts);
  return Buffer.concat([p, Buffer.alloc(Math.max(0, (o.size ?? 0) - p.length))]);
}

/** A Q046 long-header packet: 0xc3 (Initial, 4-byte packet number), version, 0x50 (DCID 8, no SCID), CID, packet number, hash, frames. */
export function q046Packet(o: { cid: Uint8Array; pn: number; frames: Uint8Array; size?: number }): Buffer {
  const p = Buffer.concat([Buffer.from([0xc3]), u32be(VERSION.Q046), Buffer.from([0x50]), Buffer.from(o.cid), u32be(o.pn), HASH, Buffer.from(o.frames)]);
  return Buffer.concat([p, Buffer.alloc(Math.max(0, (o.size ?? 0) - p.length))]);
}

// ---------------------------------------------------------------------------------------------
// Captures and tshark

/** A capture of UDP datagrams between two endpoints, 1 ms apart; `fromClient` says who sends each. */
export function udpCapture(client: Endpoint, server: Endpoint, datagrams: Array<[Uint8Array, boolean]>, t0 = 1_700_000_000_000_000): TimedFrame[] {
  return datagrams.map(([d, fromClient], i) => ({
    tsMicros: t0 + i * 1000,
    bytes: fromClient ? udpPayloadFrame(client, server, d) : udpPayloadFrame(server, client, d),
  }));
}

export function writeCapture(file: string, frames: readonly TimedFrame[]): string {
  writePcap(file, frames);
  return file;
}

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;
}

/** tshark's fields per frame (every occurrence, comma-separated), one row of strings per frame. */
export function tsharkFields(file: string, fields: readonly string[], extra: readonly string[] = []): string[][] {
  const r = spawnSync('tshark', ['-r', file, ...extra, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/** Seeded filler bytes. */
export function fill(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
}
