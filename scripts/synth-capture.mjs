#!/usr/bin/env node
// Writes a reproducible synthetic capture (classic pcap) of realistic flows seen from one host, for benchmarks and tests.

import { createCipheriv, createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = `usage: node scripts/synth-capture.mjs -o FILE [--flows N] [--seed S] [--size-scale X] [--duration SECS] [--t0 EPOCH]
       node scripts/synth-capture.mjs --self-check

Writes a classic pcap (Ethernet, microsecond timestamps, sorted by time) holding N distinct flows
seen from one host (10.77.1.10 / fd77:1::10); remotes come only from 198.18.0.0/15 and 2001:db8::/32.
The same arguments always give the same bytes.

Flow mix (share of flows): TLS/TCP 443 36 %, DNS/UDP 53 38 %, QUIC/UDP 443 8 % (real v1 Initials
with SNI), HTTP/TCP 80 6 %, other TCP 5 %, NTP 5 %, SSH 1.2 %, ICMP echo 0.5 %, RTP-like UDP 0.3 %,
plus 40 ARP exchanges; about 15 % of flows are IPv6.

  -o, --out FILE      where to write the capture (required)
  --flows N           number of flows (default 50000)
  --seed S            PRNG seed, a non-negative integer (default 20260101)
  --size-scale X      scales bulk transfer sizes (default 1.0; the bench uses 0.7)
  --duration SECS     seconds the capture covers, at most 4000 (default 60)
  --t0 EPOCH          first timestamp in seconds since 1970 (default 1767225600)
  --self-check        check the QUIC Initial protection against RFC 9001 Appendix A, then exit
  -h, --help          show this help`;

// ------------------------------------------------------------------------------------------------
// Command line

function fail(message) {
  process.stderr.write(`synth-capture: ${message}\n`);
  process.exit(2);
}

function parseCommandLine(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string', short: 'o' },
        flows: { type: 'string' },
        seed: { type: 'string' },
        'size-scale': { type: 'string' },
        duration: { type: 'string' },
        t0: { type: 'string' },
        'self-check': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs explains itself in a sentence or two; the first is enough.
    fail(`${String(err.message).split(/\.\s/)[0].replace(/\.$/, '')} (see --help)`);
  }
  const integer = (name, text, fallback, max) => {
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) > max) {
      fail(`--${name} must be an integer from 0 to ${max}, not "${text}"`);
    }
    return Number(text);
  };
  const real = (name, text, fallback, ok, what) => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) fail(`--${name} must be ${what}, not "${text}"`);
    return v;
  };
  const args = {
    help: values.help === true,
    selfCheck: values['self-check'] === true,
    out: values.out,
    flows: integer('flows', values.flows, 50000, 10_000_000),
    seed: integer('seed', values.seed, 20260101, Number.MAX_SAFE_INTEGER),
    sizeScale: real('size-scale', values['size-scale'], 1.0, (v) => v > 0, 'a number above 0'),
    // Timestamps are sorted as 32-bit microsecond offsets, hence the bound.
    duration: real('duration', values.duration, 60, (v) => v > 0 && v <= 4000, 'a number of seconds above 0 and at most 4000'),
    t0: real('t0', values.t0, 1767225600, (v) => v >= 0 && v < 2 ** 32 - 4000, 'an epoch time in seconds (0 to 2^32 - 4000)'),
  };
  if (!args.help && !args.selfCheck && (args.out === undefined || args.out === '')) fail('-o FILE is required (see --help)');
  return args;
}

// ------------------------------------------------------------------------------------------------
// Seeded PRNG: xoshiro128** (Blackman & Vigna), state filled by splitmix32 from both halves of the seed.

class Rng {
  constructor(seed) {
    let x = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    const splitmix = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix() ^ hi;
    this.c = splitmix();
    this.d = splitmix() | 1; // never the all-zero state
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32() {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random() {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Integer in [lo, hi). */
  int(lo, hi) {
    return lo + Math.floor(this.random() * (hi - lo));
  }

  uniform(lo, hi) {
    return lo + (hi - lo) * this.random();
  }

  chance(p) {
    return this.random() < p;
  }

  pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  /** Standard normal (Box-Muller; the second value is dropped to keep the draw count simple). */
  gauss() {
    const u = 1 - this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  expo(rate) {
    return -Math.log(1 - this.random()) / rate;
  }

  bytes(n) {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      b[i] = v;
      if (i + 1 < n) b[i + 1] = v >>> 8;
      if (i + 2 < n) b[i + 2] = v >>> 16;
      if (i + 3 < n) b[i + 3] = v >>> 24;
    }
    return b;
  }
}

function rotl(v, k) {
  return (v << k) | (v >>> (32 - k));
}

// ------------------------------------------------------------------------------------------------
// Byte building

/** Appends big-endian fields to a growable buffer; len() back-fills a length prefix. */
class Writer {
  constructor(size = 512) {
    this.buf = Buffer.alloc(size);
    this.n = 0;
  }
  reset() {
    this.n = 0;
    return this;
  }
  room(k) {
    if (this.n + k <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(grown, 0, 0, this.n);
    this.buf = grown;
  }
  u8(v) {
    this.room(1);
    this.buf[this.n++] = v;
    return this;
  }
  u16(v) {
    this.room(2);
    this.buf[this.n++] = v >>> 8;
    this.buf[this.n++] = v;
    return this;
  }
  u24(v) {
    this.room(3);
    this.buf[this.n++] = v >>> 16;
    this.buf[this.n++] = v >>> 8;
    this.buf[this.n++] = v;
    return this;
  }
  u32(v) {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.n);
    this.n += 4;
    return this;
  }
  u16s(list) {
    for (const v of list) this.u16(v);
    return this;
  }
  bytes(b, off = 0, len = b.length - off) {
    this.room(len);
    if (len > 0) (Buffer.isBuffer(b) ? b : Buffer.from(b)).copy(this.buf, this.n, off, off + len);
    this.n += len;
    return this;
  }
  text(s) {
    return this.bytes(Buffer.from(s, 'latin1'));
  }
  zeros(k) {
    this.room(k);
    this.buf.fill(0, this.n, this.n + k);
    this.n += k;
    return this;
  }
  /** QUIC variable-length integer (RFC 9000 §16), smallest encoding. */
  varint(v) {
    if (v < 64) return this.u8(v);
    if (v < 16384) return this.u16(0x4000 | v);
    if (v < 2 ** 30) return this.u32((0x80000000 | v) >>> 0);
    throw new RangeError('varint too large for this generator');
  }
  /** Writes a `width`-byte length field covering whatever fill() appends. */
  len(width, fill) {
    const at = this.n;
    this.zeros(width);
    fill();
    const v = this.n - at - width;
    for (let i = width - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) this.buf[at + i] = x & 0xff;
    return this;
  }
  /** A copy of what was written (the writer is reused). */
  take() {
    return Buffer.from(this.buf.subarray(0, this.n));
  }
}

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ------------------------------------------------------------------------------------------------
// QUIC v1 Initial packet protection (RFC 9001 §5)

const QUIC_V1 = 1;
const INITIAL_SALT_V1 = hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context; every length used here fits one SHA-256 block. */
function expandLabel(secret, label, length) {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >>> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
  // The trailing 0x01 is HKDF-Expand's block counter for T(1) (RFC 5869 §2.3).
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

function directionKeys(initialSecret, label) {
  const secret = expandLabel(initialSecret, label, 32);
  return { key: expandLabel(secret, 'quic key', 16), iv: expandLabel(secret, 'quic iv', 12), hp: expandLabel(secret, 'quic hp', 16) };
}

/** Client and server Initial keys, both derived from the client's first Destination Connection ID. */
function initialKeys(dcid) {
  const initialSecret = createHmac('sha256', INITIAL_SALT_V1).update(dcid).digest(); // HKDF-Extract
  return { client: directionKeys(initialSecret, 'client in'), server: directionKeys(initialSecret, 'server in') };
}

/**
 * One protected Initial packet filling exactly `size` bytes: long header, packet number of `pnLen`
 * bytes, `frames` then PADDING, sealed with AES-128-GCM and header protection applied.
 */
function sealInitial(keys, dcid, scid, pn, pnLen, frames, size) {
  const headerLen = 1 + 4 + 1 + dcid.length + 1 + scid.length + 1 /* token length 0 */ + 2 /* Length */;
  const plainLen = size - headerLen - pnLen - 16;
  if (plainLen < frames.length || plainLen < 4) throw new RangeError('Initial frames do not fit the datagram');
  const w = new Writer(size);
  w.u8(0xc0 | (pnLen - 1)).u32(QUIC_V1).u8(dcid.length).bytes(dcid).u8(scid.length).bytes(scid).u8(0);
  w.u16(0x4000 | (pnLen + plainLen + 16));
  const pnOffset = w.n;
  for (let i = pnLen - 1; i >= 0; i--) w.u8((pn / 2 ** (8 * i)) & 0xff);
  const aad = w.buf.subarray(0, w.n);
  const plain = Buffer.alloc(plainLen); // zero bytes are PADDING frames
  frames.copy(plain);
  // RFC 9001 §5.3: the nonce is the IV with the packet number XORed into its low bytes.
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= Math.floor(pn / 2 ** (8 * i)) & 0xff;
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(aad);
  const sealed = Buffer.concat([aad, gcm.update(plain), gcm.final(), gcm.getAuthTag()]);
  // RFC 9001 §5.4: the mask comes from a 16-byte sample taken 4 bytes after the packet number's start.
  const sample = sealed.subarray(pnOffset + 4, pnOffset + 20);
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(sample);
  sealed[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLen; i++) sealed[pnOffset + i] ^= mask[1 + i];
  return sealed;
}

/** RFC 9001 Appendix A: keys for DCID 0x8394c8f03e515708, and the client Initial of A.2 sealed again. */
function selfCheck() {
  const keys = initialKeys(hex('8394c8f03e515708'));
  const expect = (what, got, want) => {
    if (got.toString('hex') !== want) throw new Error(`self-check: ${what} is ${got.toString('hex')}, RFC 9001 says ${want}`);
  };
  expect('client key', keys.client.key, '1f369613dd76d5467730efcbe3b1a22d');
  expect('client iv', keys.client.iv, 'fa044b2f42a3fd3b46fb255c');
  expect('client hp', keys.client.hp, '9f50449e04a0e810283a1e9933adedd2');
  expect('server key', keys.server.key, 'cf3a5331653c364c88f0f379b6067e37');
  expect('server iv', keys.server.iv, '0ac1493ca1905853b0bba03e');
  expect('server hp', keys.server.hp, 'c206b8d9b9f0f37644430b490eeaa314');
  // A.2: the CRYPTO frame (ClientHello for example.com) in a 1200-byte Initial, packet number 2 in 4 bytes.
  const crypto = hex(`
    060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c000004130113
    02010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d00170018001000070005
    04616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce1
    5d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c0002400100
    3900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806
    048000ffff`);
  const packet = sealInitial(keys.client, hex('8394c8f03e515708'), Buffer.alloc(0), 2, 4, crypto, 1200);
  // The protected header and the AEAD tag as printed in A.2; the tag authenticates everything between.
  expect('protected header', packet.subarray(0, 22), 'c000000001088394c8f03e5157080000449e7b9aec34');
  expect('AEAD tag', packet.subarray(1184), 'e221af44860018ab0856972e194cd934');
}

// ------------------------------------------------------------------------------------------------
// Capture store: frames go into large chunks as they are made; an index sorts them by time at the end.

const CHUNK_BYTES = 64 << 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class FrameStore {
  constructor(durationSecs) {
    this.duration = durationSecs;
    this.chunks = [];
    this.chunk = null;
    this.words = null; // 16-bit view of the chunk, for checksums
    this.pos = CHUNK_BYTES;
    this.count = 0;
    this.bytes = 0;
    this.grow(1 << 20);
  }

  grow(capacity) {
    const keep = (old, Type) => {
      const next = new Type(capacity);
      if (old) next.set(old);
      return next;
    };
    // Sort key per frame: microseconds since the start in the high 32 bits, emission order in the low.
    this.keys = keep(this.keys, BigUint64Array);
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.chunkOf = keep(this.chunkOf, Uint16Array);
    this.offsetOf = keep(this.offsetOf, Uint32Array);
    this.lengthOf = keep(this.lengthOf, Uint16Array);
    this.capacity = capacity;
  }

  /** Room for a frame of up to `len` bytes at this.pos of this.chunk (an even offset, for 16-bit checksum reads). */
  reserve(len) {
    if (this.pos + len > CHUNK_BYTES) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.words = new Uint16Array(this.chunk.buffer, this.chunk.byteOffset, CHUNK_BYTES >>> 1);
      this.chunks.push(this.chunk);
      this.pos = 0;
    }
    return this.chunk;
  }

  commit(t, len) {
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const i = this.count++;
    const micros = Math.round(t * 1e6);
    if (LITTLE_ENDIAN) {
      this.keyWords[2 * i] = i;
      this.keyWords[2 * i + 1] = micros;
    } else {
      this.keys[i] = (BigInt(micros) << 32n) | BigInt(i);
    }
    this.chunkOf[i] = this.chunks.length - 1;
    this.offsetOf[i] = this.pos;
    this.lengthOf[i] = len;
    this.pos += (len + 1) & ~1;
    this.bytes += len;
  }

  /** Writes the classic pcap, frames in time order (emission order among equal microseconds). */
  write(path, t0Secs) {
    const sorted = this.keys.subarray(0, this.count).sort();
    const sortedWords = new Uint32Array(sorted.buffer, sorted.byteOffset, 2 * this.count);
    const base = Math.round(t0Secs * 1e6);
    const fd = fs.openSync(path, 'w');
    const out = Buffer.allocUnsafe(16 << 20);
    let n = 0;
    const flush = () => {
      for (let done = 0; done < n; ) done += fs.writeSync(fd, out, done, n - done);
      n = 0;
    };
    // Global header: magic, version 2.4, UTC, no accuracy, snaplen 262144, LINKTYPE_ETHERNET.
    n = out.writeUInt32LE(0xa1b2c3d4, n);
    n = out.writeUInt16LE(2, n);
    n = out.writeUInt16LE(4, n);
    n = out.writeInt32LE(0, n);
    n = out.writeUInt32LE(0, n);
    n = out.writeUInt32LE(262144, n);
    n = out.writeUInt32LE(1, n);
    for (let k = 0; k < sorted.length; k++) {
      // Reading the key's halves as 32-bit words avoids a BigInt per frame.
      const i = LITTLE_ENDIAN ? sortedWords[2 * k] : Number(sorted[k] & 0xffffffffn);
      const micros = base + (LITTLE_ENDIAN ? sortedWords[2 * k + 1] : Number(sorted[k] >> 32n));
      const len = this.lengthOf[i];
      if (n + 16 + len > out.length) flush();
      const sec = Math.floor(micros / 1e6);
      out.writeUInt32LE(sec, n);
      out.writeUInt32LE(micros - sec * 1e6, n + 4);
      out.writeUInt32LE(len, n + 8);
      out.writeUInt32LE(len, n + 12);
      const off = this.offsetOf[i];
      this.chunks[this.chunkOf[i]].copy(out, n + 16, off, off + len);
      n += 16 + len;
    }
    flush();
    fs.closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------
// Frames: Ethernet + IPv4/IPv6 + transport, with every checksum computed in place.

const LOCAL_MAC = hex('02770000010a');
const GATEWAY_MAC = hex('027700000001');
const LOCAL4 = Buffer.from([10, 77, 1, 10]);
const LOCAL6 = hex('fd770001000000000000000000000010');
const GATEWAY4 = Buffer.from([10, 77, 1, 1]);
const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;

/** Folds a sum of 16-bit words to 16 bits (ones' complement addition, RFC 1071). */
function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** Ones' complement sum of b[start..end) read as big-endian words; start must be even. */
function sumWords(b, words, start, end) {
  const pairsEnd = start + ((end - start) & ~1);
  let s = 0;
  // Native-order 16-bit reads: the ones' complement sum in the other byte order is the byte-swapped sum (RFC 1071 §2B).
  for (let i = start >>> 1, e = pairsEnd >>> 1; i < e; i++) s += words[i];
  s = fold(s);
  if (LITTLE_ENDIAN) s = ((s & 0xff) << 8) | (s >>> 8);
  if (pairsEnd < end) s += b[pairsEnd] << 8;
  return s;
}

class FrameMaker {
  constructor(store) {
    this.store = store;
    this.ipId = 0;
  }

  /** Ethernet II header; outbound frames go from the local host to the gateway. */
  ethernet(b, p, out, etherType) {
    b.set(out ? GATEWAY_MAC : LOCAL_MAC, p);
    b.set(out ? LOCAL_MAC : GATEWAY_MAC, p + 6);
    b[p + 12] = etherType >>> 8;
    b[p + 13] = etherType & 0xff;
  }

  /**
   * An IP packet: `head` (the transport header and any payload prefix, checksum field zero) then
   * pay[payOff, payOff + payLen). `out`: sent by the local host. Frames at or past the end of the
   * capture's time span are dropped.
   */
  ip(t, out, src, dst, proto, head, headLen, pay, payOff, payLen) {
    const store = this.store;
    if (t >= store.duration) return;
    const v6 = src.length === 16;
    const ipLen = v6 ? 40 : 20;
    const l4Len = headLen + payLen;
    const frameLen = 14 + ipLen + l4Len;
    const b = store.reserve(frameLen);
    const words = store.words;
    const p = store.pos;
    const ip = p + 14;
    this.ethernet(b, p, out, v6 ? 0x86dd : 0x0800);
    // Received packets crossed a dozen routers; sent ones leave with the default TTL.
    const ttl = out ? 64 : 52;
    if (v6) {
      b.writeUInt32BE(0x60000000, ip);
      b.writeUInt16BE(l4Len, ip + 4);
      b[ip + 6] = proto;
      b[ip + 7] = ttl;
      b.set(src, ip + 8);
      b.set(dst, ip + 24);
    } else {
      this.ipId = (this.ipId + 1) & 0xffff;
      b[ip] = 0x45;
      b[ip + 1] = 0;
      b.writeUInt16BE(20 + l4Len, ip + 2);
      b.writeUInt16BE(this.ipId, ip + 4);
      b.writeUInt16BE(0x4000, ip + 6); // don't fragment
      b[ip + 8] = ttl;
      b[ip + 9] = proto;
      b[ip + 10] = 0;
      b[ip + 11] = 0;
      b.set(src, ip + 12);
      b.set(dst, ip + 16);
      b.writeUInt16BE(~fold(sumWords(b, words, ip, ip + 20)) & 0xffff, ip + 10);
    }
    const l4 = ip + ipLen;
    head.copy(b, l4, 0, headLen);
    if (payLen > 0) pay.copy(b, l4 + headLen, payOff, payOff + payLen);
    // Pseudo-header (RFC 793 / RFC 8200 §8.1): the addresses are already in place in the IP header.
    let sum = sumWords(b, words, l4, l4 + l4Len);
    if (proto !== ICMP) sum += sumWords(b, words, v6 ? ip + 8 : ip + 12, l4) + proto + (l4Len >>> 16) + (l4Len & 0xffff);
    let check = ~fold(sum) & 0xffff;
    const at = proto === TCP ? l4 + 16 : proto === UDP ? l4 + 6 : l4 + 2;
    if (proto === UDP && check === 0) check = 0xffff; // zero means "no checksum" in UDP
    b[at] = check >>> 8;
    b[at + 1] = check & 0xff;
    store.commit(t, frameLen);
  }

  /** A frame given whole (ARP). */
  raw(t, frame) {
    const store = this.store;
    if (t >= store.duration) return;
    const b = store.reserve(frame.length);
    frame.copy(b, store.pos);
    store.commit(t, frame.length);
  }
}

// ------------------------------------------------------------------------------------------------
// The generator: shared state per run.

const WORDS = (
  'api cdn static img www mail auth login update telemetry ads media video edge push chat files docs maps news ' +
  'shop pay store sync git npm registry cloud data metrics events assets fonts s3 storage graph ws live play'
).split(' ');
const TLDS = ['com', 'net', 'org', 'io', 'dev', 'app', 'co.uk', 'de', 'fr', 'cloud'];
const ORGS = ['example', 'contoso', 'fabrikam', 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'piedpiper', 'vandelay', 'wayne', 'stark'];
const ORG_SUFFIXES = ['', '-cdn', '-static', 'labs', '-edge', 'app'];
const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'curl/7.88.1',
  'Wget/1.21.3',
  'Debian APT-HTTP/1.3 (2.6.1)',
  'python-requests/2.28.1',
];
const DNS4 = Buffer.from([198, 18, 0, 53]);
const DNS6 = hex('20010db8000000000000000000000053');
const POOL_BYTES = 1 << 20;
/** TCP payload per full segment: 1448 + 32 (header with timestamps) + 20 (IPv4) = 1500-byte packets. */
const MSS = 1448;
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

class Generator {
  constructor(args) {
    this.args = args;
    this.rng = new Rng(args.seed);
    const rng = this.rng;
    this.store = new FrameStore(args.duration);
    this.frames = new FrameMaker(this.store);
    this.frames.ipId = rng.int(0, 65536);
    this.head = new Writer(128); // scratch for transport headers
    this.w = new Writer(2048); // scratch for application messages
    // Payload bytes are slices of one random pool: random-looking, and cheap to produce.
    this.pool = rng.bytes(POOL_BYTES);
    this.domains = Array.from({ length: 400 }, () => {
      const org = rng.pick(ORGS);
      const suffix = rng.chance(0.5) ? rng.pick(ORG_SUFFIXES) : '';
      return `${org}${suffix}.${rng.pick(TLDS)}`;
    });
    // A fixed population of remote hosts, so flows repeat remotes as real traffic does.
    this.remotes4 = Array.from({ length: 20000 }, () => Buffer.from([198, 18 + rng.int(0, 2), rng.int(0, 256), rng.int(1, 255)]));
    this.remotes6 = Array.from({ length: 4000 }, () => Buffer.concat([hex('20010db8'), rng.bytes(12)]));
    this.used = new Set();
  }

  /** `n` random bytes: a view into the pool. */
  rnd(n) {
    if (n > POOL_BYTES) throw new RangeError('random slice larger than the pool');
    const o = this.rng.int(0, POOL_BYTES - n + 1);
    return this.pool.subarray(o, o + n);
  }

  /** `n` random bytes as a fresh buffer of any size (the pool tiled from random offsets). */
  rndLong(n) {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 65536) this.rnd(Math.min(65536, n - i)).copy(b, i);
    return b;
  }

  hostname() {
    const rng = this.rng;
    const word = rng.pick(WORDS);
    const num = rng.chance(0.5) ? '' : String(rng.int(1, 40));
    return `${word}${num}.${rng.pick(this.domains)}`;
  }

  /** Median-scaled log-normal integer clamped to [lo, hi]. */
  lognormInt(median, sigma, lo, hi) {
    return Math.floor(Math.max(lo, Math.min(hi, Math.exp(this.rng.gauss() * sigma) * median)));
  }

  /** A remote address and client port not used before with this service port. */
  pickPair(v6, servicePort, fixedRemote) {
    const rng = this.rng;
    for (;;) {
      const remote = fixedRemote ?? rng.pick(v6 ? this.remotes6 : this.remotes4);
      const clientPort = rng.int(32768, 61000);
      // By address value: the population of remotes holds a few repeats.
      const key = `${remote.toString('hex')}:${clientPort}:${servicePort}`;
      if (!this.used.has(key)) {
        this.used.add(key);
        return { local: v6 ? LOCAL6 : LOCAL4, remote, clientPort };
      }
    }
  }

  /** A UDP datagram: `prefix` (written by the caller into this.head after 8 header bytes) then a payload slice. */
  udp(t, out, local, remote, localPort, remotePort, pay, payOff = 0, payLen = pay ? pay.length - payOff : 0, prefixLen = 0) {
    const h = this.head;
    const len = 8 + prefixLen + payLen;
    h.buf.writeUInt16BE(out ? localPort : remotePort, 0);
    h.buf.writeUInt16BE(out ? remotePort : localPort, 2);
    h.buf.writeUInt16BE(len, 4);
    h.buf.writeUInt16BE(0, 6);
    this.frames.ip(t, out, out ? local : remote, out ? remote : local, UDP, h.buf, 8 + prefixLen, pay, payOff, payLen);
  }

  // ---------------------------------------------------------------------------------------------- payloads

  tlsClientHello(sni) {
    const rng = this.rng;
    const w = this.w.reset();
    const name = Buffer.from(sni, 'latin1');
    w.u8(0x16).u16(0x0301).len(2, () => {
      w.u8(1).len(3, () => {
        w.u16(0x0303).bytes(this.rnd(32)).u8(32).bytes(this.rnd(32));
        w.len(2, () => w.u16s([0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0xc009, 0xc00a]));
        w.u8(1).u8(0); // compression: null only
        w.len(2, () => {
          w.u16(0).len(2, () => w.len(2, () => w.u8(0).len(2, () => w.bytes(name)))); // server_name
          w.u16(23).u16(0); // extended_master_secret
          w.u16(0xff01).u16(1).u8(0); // renegotiation_info
          w.u16(10).len(2, () => w.len(2, () => w.u16s([0x001d, 0x0017, 0x0018, 0x0019, 0x0100]))); // supported_groups
          w.u16(11).u16(2).u8(1).u8(0); // ec_point_formats
          w.u16(16).len(2, () => w.len(2, () => w.u8(2).text('h2').u8(8).text('http/1.1'))); // ALPN
          w.u16(13).len(2, () => w.len(2, () => w.u16s([0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501])));
          w.u16(43).u16(5).u8(4).u16(0x0304).u16(0x0303); // supported_versions
          w.u16(45).u16(2).u8(1).u8(1); // psk_key_exchange_modes
          w.u16(51).len(2, () => w.len(2, () => w.u16(0x001d).u16(32).bytes(this.rnd(32)))); // key_share
          // padding (RFC 7685) to the 517-byte record browsers send
          const pad = 517 - (w.n + 4);
          if (pad > 0) w.u16(21).u16(pad).zeros(pad);
        });
      });
    });
    return w.take();
  }

  tlsServerFlight(appBytes) {
    const w = this.w.reset();
    w.u8(0x16).u16(0x0303).len(2, () => {
      w.u8(2).len(3, () => {
        w.u16(0x0303).bytes(this.rnd(32)).u8(32).bytes(this.rnd(32)).u16(0x1301).u8(0);
        w.len(2, () => {
          w.u16(43).u16(2).u16(0x0304);
          w.u16(51).u16(36).u16(0x001d).u16(32).bytes(this.rnd(32));
        });
      });
    });
    w.bytes(hex('140303000101')); // ChangeCipherSpec
    return Buffer.concat([w.take(), this.tlsAppData(appBytes)]);
  }

  /** Application-data records of up to 16401 bytes (ciphertext + tag), about `n` bytes in all. */
  tlsAppData(n) {
    const parts = [];
    for (let left = n; left > 0; ) {
      const k = Math.min(left, 16401);
      parts.push(Buffer.from([0x17, 0x03, 0x03, k >>> 8, k & 0xff]), this.rnd(k));
      left -= k + 5;
    }
    return Buffer.concat(parts);
  }

  httpRequest(host) {
    const rng = this.rng;
    const segments = Array.from({ length: rng.int(1, 4) }, () => rng.pick(WORDS));
    const endings = ['', '.js', '.css', '.png', '.json', null];
    const ending = rng.pick(endings) ?? `?id=${rng.int(0, 1e6)}`;
    const ua = rng.pick(USER_AGENTS);
    return Buffer.from(`GET /${segments.join('/')}${ending} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'latin1');
  }

  httpResponse(bodyLen) {
    const type = this.rng.pick(['text/plain', 'application/octet-stream']);
    const head = Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: ${type}\r\nContent-Length: ${bodyLen}\r\n\r\n`, 'latin1');
    return Buffer.concat([head, this.rndLong(bodyLen)]);
  }

  /** Query and response for one name; answers point back at the question's name (offset 12). */
  dnsPair(qname, qtype) {
    const rng = this.rng;
    const id = rng.int(0, 65536);
    const name = dnsName(qname);
    const query = new Writer(64)
      .u16(id).u16(rng.chance(0.5) ? 0x0120 : 0x0100).u16(1).u16(0).u16(0).u16(0)
      .bytes(name).u16(qtype).u16(1).take();
    const rcode = rng.chance(0.05) ? 3 : 0; // NXDOMAIN now and then
    const answers = new Writer(256);
    let count = 0;
    if (rcode === 0) {
      const n = rng.int(1, 4);
      for (let i = 0; i < n; i++) {
        const ttl = rng.pick([30, 60, 300, 3600]);
        answers.u16(0xc00c).u16(qtype).u16(1).u32(ttl);
        if (qtype === 1) answers.u16(4).bytes(rng.pick(this.remotes4));
        else if (qtype === 28) answers.u16(16).bytes(rng.pick(this.remotes6));
        else if (qtype === 12) answers.len(2, () => answers.bytes(dnsName(this.hostname())));
        else answers.len(2, () => answers.u16(1).u8(0).bytes(hex('00010006026832026833'))); // HTTPS: priority 1, root target, alpn h2,h3
        count++;
        if (qtype === 12 || qtype === 65) break;
      }
    }
    const response = new Writer(64 + answers.n)
      .u16(id).u16(0x8180 | rcode).u16(1).u16(count).u16(0).u16(0)
      .bytes(name).u16(qtype).u16(1).bytes(answers.buf, 0, answers.n).take();
    return { query, response };
  }

  quicClientHello(sni, scid) {
    const w = new Writer(512);
    const params = new Writer(64);
    const intParam = (id, v) => {
      const value = new Writer(8).varint(v);
      params.varint(id).varint(value.n).bytes(value.buf, 0, value.n);
    };
    intParam(0x01, 30000); // max_idle_timeout (ms)
    intParam(0x03, 1472); // max_udp_payload_size
    intParam(0x04, 15728640); // initial_max_data
    intParam(0x05, 6291456); // initial_max_stream_data_bidi_local
    intParam(0x06, 6291456); // initial_max_stream_data_bidi_remote
    intParam(0x07, 6291456); // initial_max_stream_data_uni
    intParam(0x08, 100); // initial_max_streams_bidi
    intParam(0x09, 103); // initial_max_streams_uni
    params.varint(0x0f).varint(scid.length).bytes(scid); // initial_source_connection_id
    const name = Buffer.from(sni, 'latin1');
    // RFC 9001 §8.4: no legacy session id in QUIC; TLS 1.3 suites only.
    w.u8(1).len(3, () => {
      w.u16(0x0303).bytes(this.rnd(32)).u8(0).u16(6).u16s([0x1301, 0x1302, 0x1303]).u8(1).u8(0);
      w.len(2, () => {
        w.u16(0).len(2, () => w.len(2, () => w.u8(0).len(2, () => w.bytes(name)))); // server_name
        w.u16(10).len(2, () => w.len(2, () => w.u16s([0x001d, 0x0017, 0x0018]))); // supported_groups
        w.u16(13).len(2, () => w.len(2, () => w.u16s([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])));
        w.u16(16).len(2, () => w.len(2, () => w.u8(2).text('h3'))); // ALPN
        w.u16(43).u16(3).u8(2).u16(0x0304); // supported_versions: TLS 1.3
        w.u16(45).u16(2).u8(1).u8(1); // psk_key_exchange_modes
        w.u16(51).len(2, () => w.len(2, () => w.u16(0x001d).u16(32).bytes(this.rnd(32)))); // key_share
        w.u16(0x39).len(2, () => w.bytes(params.buf, 0, params.n)); // quic_transport_parameters
      });
    });
    return w.take();
  }

  quicServerHello() {
    const w = new Writer(128);
    w.u8(2).len(3, () => {
      w.u16(0x0303).bytes(this.rnd(32)).u8(0).u16(0x1301).u8(0);
      w.len(2, () => {
        w.u16(43).u16(2).u16(0x0304);
        w.u16(51).u16(36).u16(0x001d).u16(32).bytes(this.rnd(32));
      });
    });
    return w.take();
  }

  // ---------------------------------------------------------------------------------------------- flows

  tls(t0, v6) {
    const rng = this.rng;
    const out = rng.chance(0.97);
    const { local, remote, clientPort } = this.pickPair(v6, 443);
    const c = new TcpFlow(this, t0, local, remote, out ? clientPort : 443, out ? 443 : clientPort, out, rng.uniform(0.004, 0.15));
    c.handshake();
    c.send(out, this.tlsClientHello(this.hostname()));
    const down = this.lognormInt(6000 * this.args.sizeScale, 1.9, 300, 40_000_000);
    c.send(!out, this.tlsServerFlight(Math.min(down, 3000)));
    c.send(out, Buffer.concat([hex('140303000101'), this.tlsAppData(rng.int(60, 120))]));
    const rounds = rng.pick([1, 1, 1, 2, 3]);
    for (let i = 0; i < rounds; i++) {
      c.send(out, this.tlsAppData(this.lognormInt(400, 1.0, 40, 20000)));
      c.send(!out, this.tlsAppData(Math.floor(down / 2)));
    }
    c.close();
  }

  http(t0, v6) {
    const { local, remote, clientPort } = this.pickPair(v6, 80);
    const c = new TcpFlow(this, t0, local, remote, clientPort, 80, true, this.rng.uniform(0.004, 0.15));
    c.handshake();
    c.send(true, this.httpRequest(this.hostname()));
    c.send(false, this.httpResponse(this.lognormInt(5000 * this.args.sizeScale, 1.8, 0, 20_000_000)));
    c.close();
  }

  ssh(t0, v6) {
    const rng = this.rng;
    const out = rng.chance(0.7);
    const { local, remote, clientPort } = this.pickPair(v6, 22);
    const c = new TcpFlow(this, t0, local, remote, out ? clientPort : 22, out ? 22 : clientPort, out, rng.uniform(0.004, 0.12));
    c.handshake();
    c.send(!out, Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    c.send(out, Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'));
    c.send(out, this.rnd(1500)); // key exchange
    c.send(!out, this.rnd(1100));
    const exchanges = this.lognormInt(60, 1.2, 5, 3000);
    for (let i = 0; i < exchanges; i++) {
      c.t += rng.expo(3.0); // a person typing
      c.send(out, this.rnd(rng.pick([36, 36, 52, 68, 100])));
      c.send(!out, this.rnd(rng.pick([36, 44, 100, 300, 1200])));
    }
    c.close();
  }

  otherTcp(t0, v6) {
    const rng = this.rng;
    const port = rng.pick([25, 143, 587, 993, 3306, 5432, 6379, 8080, 8443, 9000, 1883, 5222]);
    const { local, remote, clientPort } = this.pickPair(v6, port);
    const c = new TcpFlow(this, t0, local, remote, clientPort, port, true, rng.uniform(0.004, 0.15));
    c.handshake();
    const n = rng.int(1, 6);
    for (let i = 0; i < n; i++) {
      c.send(true, this.rnd(rng.int(20, 600)));
      c.send(false, this.rnd(this.lognormInt(800, 1.5, 10, 200000)));
    }
    c.close();
  }

  dns(t0, v6) {
    const rng = this.rng;
    const qtype = rng.pick([1, 1, 1, 28, 28, 65, 12]);
    const qname = qtype === 12 ? `${rng.int(0, 256)}.${rng.int(0, 256)}.18.198.in-addr.arpa` : this.hostname();
    const { local, remote, clientPort } = this.pickPair(v6, 53, v6 ? DNS6 : DNS4);
    const { query, response } = this.dnsPair(qname, qtype);
    this.udp(t0, true, local, remote, clientPort, 53, query);
    this.udp(t0 + rng.uniform(0.001, 0.05), false, local, remote, clientPort, 53, response);
  }

  quic(t0, v6) {
    const rng = this.rng;
    const { local, remote, clientPort } = this.pickPair(v6, 443);
    const dcid = rng.bytes(8); // the client's random first DCID: it seeds both sides' Initial keys
    const scid = rng.bytes(8); // client's CID
    const serverCid = rng.bytes(8);
    const rtt = rng.uniform(0.004, 0.15);
    const keys = initialKeys(dcid);
    const send = (t, out, datagram) => this.udp(t, out, local, remote, clientPort, 443, datagram);
    let t = t0;
    // Client Initial: CRYPTO frame with the whole ClientHello, padded to a 1252-byte UDP payload (RFC 9000 §14.1).
    const hello = this.quicClientHello(this.hostname(), scid);
    const clientFrames = new Writer(hello.length + 8).u8(0x06).varint(0).varint(hello.length).bytes(hello).take();
    send(t, true, sealInitial(keys.client, dcid, scid, 0, 2, clientFrames, 1252));
    t += rtt;
    // Server Initial: ACK of packet 0, then the ServerHello; the rest of its flight is Handshake packets.
    const serverHello = this.quicServerHello();
    const serverFrames = new Writer(serverHello.length + 16)
      .u8(0x02).varint(0).varint(rng.int(0, 64)).varint(0).varint(0) // ACK: largest 0, delay, no extra ranges
      .u8(0x06).varint(0).varint(serverHello.length).bytes(serverHello).take();
    send(t, false, sealInitial(keys.server, scid, serverCid, 0, 2, serverFrames, 1200));
    send(t + 1e-5, false, this.quicLong(0xe1, scid, serverCid, 1200));
    send(t + 2e-5, false, this.quicLong(0xe1, scid, serverCid, rng.int(300, 1200)));
    t += rtt / 2;
    send(t, true, this.quicLong(0xe1, serverCid, scid, 90)); // client Finished
    // 1-RTT: mostly downloads, an ACK-sized packet back every third one.
    const n = this.lognormInt(25 * this.args.sizeScale, 1.7, 2, 40000);
    for (let i = 0; i < n; i++) {
      t += rng.uniform(0.00002, 0.002);
      this.shortHeader(rng.int(0, 32), scid);
      this.udp(t, false, local, remote, clientPort, 443, this.pool, ...this.rndSpan(rng.pick([1200, 1200, 1200, 800, 120]) - 9), 9);
      if (i % 3 === 2) {
        this.shortHeader(rng.int(0, 32), serverCid);
        this.udp(t + rtt / 2, true, local, remote, clientPort, 443, this.pool, ...this.rndSpan(rng.int(25, 60)), 9);
      }
    }
  }

  /** Short header first byte and 8-byte DCID, written after the UDP header in this.head. */
  shortHeader(bits, dcid) {
    const h = this.head;
    h.buf[8] = 0x40 | bits;
    dcid.copy(h.buf, 9);
  }

  /** Offset and length of `n` random pool bytes. */
  rndSpan(n) {
    const o = this.rng.int(0, POOL_BYTES - n + 1);
    return [o, n];
  }

  /** A long-header packet (Handshake here) whose protected part is random bytes. */
  quicLong(first, dcid, scid, size) {
    const w = new Writer(size);
    w.u8(first).u32(QUIC_V1).u8(dcid.length).bytes(dcid).u8(scid.length).bytes(scid);
    const rest = size - w.n - 2;
    w.u16(0x4000 | rest).bytes(this.rnd(rest));
    return w.take();
  }

  ntp(t0, v6) {
    const { local, remote, clientPort } = this.pickPair(v6, 123);
    // Mode 3 (client) version 4 with a transmit timestamp; the answer is mode 4 from a stratum-2 server.
    const query = Buffer.concat([Buffer.from([0x23]), Buffer.alloc(39), this.rnd(8)]);
    const reply = Buffer.concat([hex('240200e9'), this.rnd(44)]);
    this.udp(t0, true, local, remote, clientPort, 123, query);
    this.udp(t0 + this.rng.uniform(0.005, 0.1), false, local, remote, clientPort, 123, reply);
  }

  rtp(t0, v6) {
    const rng = this.rng;
    const port = rng.int(10000, 20000);
    const { local, remote, clientPort } = this.pickPair(v6, port);
    const ssrcOut = rng.u32();
    const ssrcIn = rng.u32();
    const seqOut = rng.int(0, 65536);
    const seqIn = rng.int(0, 65536);
    const n = rng.int(200, 1200);
    const h = this.head;
    // 20 ms of audio per packet each way (160-byte RTP payloads, dynamic payload type 111).
    const rtpHeader = (seq, ts, ssrc) => {
      h.buf[8] = 0x80;
      h.buf[9] = 111;
      h.buf.writeUInt16BE(seq & 0xffff, 10);
      h.buf.writeUInt32BE(ts >>> 0, 12);
      h.buf.writeUInt32BE(ssrc, 16);
    };
    for (let i = 0; i < n; i++) {
      const t = t0 + i * 0.02;
      rtpHeader(seqOut + i, i * 960, ssrcOut);
      this.udp(t, true, local, remote, clientPort, port, this.pool, ...this.rndSpan(148), 12);
      rtpHeader(seqIn + i, i * 960, ssrcIn);
      this.udp(t + 0.0031, false, local, remote, clientPort, port, this.pool, ...this.rndSpan(148), 12);
    }
  }

  icmp(t0, v6) {
    const rng = this.rng;
    const remote = v6 ? rng.pick(this.remotes6) : rng.pick(this.remotes4);
    const local = v6 ? LOCAL6 : LOCAL4;
    const proto = v6 ? ICMP6 : ICMP;
    const ident = rng.int(0, 65536);
    const n = rng.int(3, 11);
    const h = this.head;
    for (let s = 0; s < n; s++) {
      const t = t0 + s;
      const [off, len] = this.rndSpan(56);
      // Echo request then reply with the same identifier, sequence and data.
      for (const [type, out, at] of [[v6 ? 128 : 8, true, t], [v6 ? 129 : 0, false, t + 0.02]]) {
        h.buf.writeUInt32BE((type << 24) >>> 0, 0);
        h.buf.writeUInt16BE(ident, 4);
        h.buf.writeUInt16BE(s + 1, 6);
        this.frames.ip(at, out, out ? local : remote, out ? remote : local, proto, h.buf, 8, this.pool, off, len);
      }
    }
  }

  /** ARP who-has for the gateway and its answer (padded to the 60-byte Ethernet minimum). */
  arp(t) {
    const request = new Writer(60).bytes(Buffer.alloc(6, 0xff)).bytes(LOCAL_MAC).u16(0x0806)
      .u16(1).u16(0x0800).u8(6).u8(4).u16(1).bytes(LOCAL_MAC).bytes(LOCAL4).zeros(6).bytes(GATEWAY4).zeros(18).take();
    const reply = new Writer(60).bytes(LOCAL_MAC).bytes(GATEWAY_MAC).u16(0x0806)
      .u16(1).u16(0x0800).u8(6).u8(4).u16(2).bytes(GATEWAY_MAC).bytes(GATEWAY4).bytes(LOCAL_MAC).bytes(LOCAL4).zeros(18).take();
    this.frames.raw(t, request);
    this.frames.raw(t + 0.0003, reply);
  }

  run() {
    const rng = this.rng;
    const mix = [
      ['tls', 0.36], ['http', 0.06], ['ssh', 0.012], ['otherTcp', 0.05], ['dns', 0.38],
      ['quic', 0.08], ['ntp', 0.05], ['rtp', 0.003], ['icmp', 0.005],
    ];
    const total = mix.reduce((s, [, w]) => s + w, 0);
    const flows = Object.fromEntries(mix.map(([k]) => [k, 0]));
    const packets = Object.fromEntries(mix.map(([k]) => [k, 0]));
    for (let i = 0; i < this.args.flows; i++) {
      let x = rng.random() * total;
      let kind = mix[mix.length - 1][0];
      for (const [k, w] of mix) {
        if (x < w) {
          kind = k;
          break;
        }
        x -= w;
      }
      const before = this.store.count;
      const start = rng.uniform(0, this.args.duration);
      this[kind](start, rng.chance(0.15));
      flows[kind]++;
      packets[kind] += this.store.count - before;
      if (i % 10000 === 0 && i > 0) process.stderr.write(`synth-capture: ${i} flows, ${this.store.count} packets\n`);
    }
    for (let i = 0; i < 40; i++) this.arp(rng.uniform(0, this.args.duration));
    return { flows, packets };
  }
}

/** TCP connection state: both sides' sequence numbers and timestamp clocks. Side true = the local host. */
class TcpFlow {
  constructor(gen, t, local, remote, localPort, remotePort, out, rtt) {
    const rng = gen.rng;
    this.gen = gen;
    this.local = local;
    this.remote = remote;
    this.localPort = localPort;
    this.remotePort = remotePort;
    this.out = out; // the local host is the client
    this.rtt = rtt;
    this.t = t;
    // Index 1: sent by the local host, 0: by the remote.
    this.seq = [rng.u32(), rng.u32()];
    this.tsBase = [rng.int(0, 2 ** 31), rng.int(0, 2 ** 31)];
    this.synTsval = [0, 0];
    this.window = [rng.pick([235, 501, 1040, 501]), rng.pick([501, 502, 512, 1024, 2048])];
  }

  /** One segment; `seq` given means a retransmission (the sequence space does not advance). */
  seg(t, fromLocal, flags, pay = null, payOff = 0, payLen = 0, synOptions = false, seq = -1) {
    const me = fromLocal ? 1 : 0;
    const peer = 1 - me;
    const h = this.gen.head.reset();
    const tsval = (this.tsBase[me] + Math.floor(t * 1000)) >>> 0;
    h.u16(fromLocal ? this.localPort : this.remotePort).u16(fromLocal ? this.remotePort : this.localPort);
    h.u32(seq >= 0 ? seq : this.seq[me]).u32(flags & ACK ? this.seq[peer] : 0);
    h.u8((synOptions ? 10 : 8) << 4).u8(flags);
    if (synOptions) {
      // MSS, SACK permitted, timestamps, NOP, window scale 7: as Linux sends them.
      h.u16(fromLocal === this.out ? 64240 : 65160).u16(0).u16(0);
      h.u8(2).u8(4).u16(1460).u8(4).u8(2).u8(8).u8(10).u32(tsval).u32(flags & ACK ? this.synTsval[peer] : 0);
      h.u8(1).u8(3).u8(3).u8(7);
      this.synTsval[me] = tsval;
    } else {
      // The echoed value is what the peer sent about half an RTT ago.
      const echo = Math.max(this.synTsval[peer], (this.tsBase[peer] + Math.floor(Math.max(0, t - this.rtt / 2) * 1000)) >>> 0);
      h.u16(this.window[me]).u16(0).u16(0);
      h.u8(1).u8(1).u8(8).u8(10).u32(tsval).u32(echo);
    }
    const [src, dst] = fromLocal ? [this.local, this.remote] : [this.remote, this.local];
    this.gen.frames.ip(t, fromLocal, src, dst, TCP, h.buf, h.n, pay, payOff, payLen);
    if (seq < 0) this.seq[me] = (this.seq[me] + payLen + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
  }

  handshake() {
    const client = this.out;
    const rng = this.gen.rng;
    let t = this.t;
    this.seg(t, client, SYN, null, 0, 0, true);
    if (rng.chance(0.01)) {
      // SYN lost: sent again after the 1 s initial RTO.
      this.seq[client ? 1 : 0] = (this.seq[client ? 1 : 0] - 1) >>> 0;
      t += 1.0;
      this.seg(t, client, SYN, null, 0, 0, true);
    }
    t += this.rtt;
    this.seg(t, !client, SYN | ACK, null, 0, 0, true);
    t += 0.00005;
    this.seg(t, client, ACK);
    this.t = t;
  }

  /** A byte stream one way: slow-start bursts one RTT apart, an ACK back for every second segment. */
  send(fromLocal, data, initialWindow = 10) {
    const rng = this.gen.rng;
    const me = fromLocal ? 1 : 0;
    let t = this.t + 0.00003;
    let i = 0;
    let cwnd = initialWindow;
    let unacked = 0;
    const n = data.length;
    while (i < n) {
      let burst = 0;
      while (i < n && burst < cwnd) {
        const len = Math.min(MSS, n - i);
        const seq0 = this.seq[me];
        const psh = i + MSS >= n || burst === cwnd - 1 ? PSH : 0;
        this.seg(t, fromLocal, ACK | psh, data, i, len);
        if (rng.chance(0.003)) this.seg(t + this.rtt * 1.5, fromLocal, ACK, data, i, len, false, seq0);
        i += len;
        burst++;
        unacked++;
        t += len * 8e-9 + 0.000002; // ~1 Gb/s serialisation
        if (unacked >= 2) {
          this.seg(t + this.rtt / 2, !fromLocal, ACK);
          unacked = 0;
        }
      }
      t += this.rtt;
      cwnd = Math.min(cwnd * 2, 120);
    }
    if (unacked > 0) this.seg(t + 0.04, !fromLocal, ACK); // delayed-ACK timer
    this.t = t;
  }

  /** FIN exchange (75 %), RST (12 %), or left open (13 %: long-lived, or the capture ended first). */
  close() {
    const rng = this.gen.rng;
    const r = rng.random();
    let t = this.t + this.rtt;
    if (r < 0.75) {
      const first = rng.chance(0.6);
      this.seg(t, first, FIN | ACK);
      t += this.rtt / 2;
      this.seg(t, !first, FIN | ACK);
      t += this.rtt / 2;
      this.seg(t, first, ACK);
    } else if (r < 0.87) {
      this.seg(t, rng.chance(0.5), RST | ACK);
    }
  }
}

function dnsName(name) {
  const w = new Writer(name.length + 2);
  for (const label of name.split('.')) w.u8(label.length).text(label);
  return w.u8(0).take();
}

// ------------------------------------------------------------------------------------------------

function main() {
  const args = parseCommandLine(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  try {
    selfCheck();
  } catch (err) {
    process.stderr.write(`synth-capture: ${err.message}\n`);
    process.exit(1);
  }
  if (args.selfCheck) {
    process.stdout.write('synth-capture: self-check passed (RFC 9001 Appendix A keys and client Initial)\n');
    return;
  }
  const started = process.hrtime.bigint();
  const gen = new Generator(args);
  const { flows, packets } = gen.run();
  // Written under a temporary name first: a file at the final path is always complete (the bench reuses it).
  const tmp = `${args.out}.tmp-${process.pid}`;
  try {
    gen.store.write(tmp, args.t0);
    fs.renameSync(tmp, args.out);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    process.stderr.write(`synth-capture: cannot write ${args.out}: ${err.message}\n`);
    process.exit(1);
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const kinds = Object.keys(flows).map((k) => `${k} ${flows[k]}/${packets[k]}`).join(', ');
  process.stderr.write(
    `synth-capture: wrote ${args.out}: ${gen.store.count} packets, ${gen.store.bytes} frame bytes in ${secs.toFixed(1)} s; ` +
      `flows/packets by kind: ${kinds}\n`,
  );
}

main();
