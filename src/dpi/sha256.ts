// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the short messages of the QUIC Initial key schedule.
//
// node:crypto is faster per byte, but every call there pays for an object, a native transition and an
// OpenSSL context; the key schedule hashes a few dozen bytes at a time, so those fixed costs were most of
// the QUIC classifier's time. Here a hash state is eight 32-bit words and nothing is allocated per call.

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** FIPS 180-4 §5.3.3: the initial hash value. */
const H0 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Message schedule scratch (FIPS 180-4 §6.2.2 step 1); the first 16 words are the block being hashed. */
const W = new Int32Array(64);
/** The key block while its pads are made. */
const KEY_BLOCK = new Int32Array(16);

/** One compression (FIPS 180-4 §6.2.2) of the block in W[0..16) into the eight words state[so..so+8). */
function compress(state: Int32Array, so: number): void {
  const w = W;
  for (let t = 16; t < 64; t++) {
    const a = w[t - 15]!;
    const b = w[t - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[so]!;
  let b = state[so + 1]!;
  let c = state[so + 2]!;
  let d = state[so + 3]!;
  let e = state[so + 4]!;
  let f = state[so + 5]!;
  let g = state[so + 6]!;
  let h = state[so + 7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = g ^ (e & (f ^ g));
    const t1 = (h + S1 + ch + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) | (c & (a | b));
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[so] = (state[so]! + a) | 0;
  state[so + 1] = (state[so + 1]! + b) | 0;
  state[so + 2] = (state[so + 2]! + c) | 0;
  state[so + 3] = (state[so + 3]! + d) | 0;
  state[so + 4] = (state[so + 4]! + e) | 0;
  state[so + 5] = (state[so + 5]! + f) | 0;
  state[so + 6] = (state[so + 6]! + g) | 0;
  state[so + 7] = (state[so + 7]! + h) | 0;
}

/**
 * Put the final block of a message into W: bytes[off..off+len) (len <= 55, so the padding of
 * FIPS 180-4 §5.1.1 fits in the same block) for a message of `totalLen` bytes in all.
 */
function finalBlockFromBytes(bytes: Uint8Array, off: number, len: number, totalLen: number): void {
  const w = W;
  // Loops rather than fill()/set(): those are calls into the runtime, costlier than 16 stores.
  for (let i = 0; i < 16; i++) w[i] = 0;
  for (let i = 0; i < len; i++) w[i >> 2] = w[i >> 2]! | (bytes[off + i]! << (24 - 8 * (i & 3)));
  w[len >> 2] = w[len >> 2]! | (0x80 << (24 - 8 * (len & 3)));
  w[15] = totalLen * 8;
}

/** The final block of a message whose last 32 bytes are the digest in `words` (the outer hash of HMAC). */
function finalBlockFromWords(words: Int32Array, totalLen: number): void {
  const w = W;
  for (let i = 0; i < 8; i++) w[i] = words[i]!;
  w[8] = 0x80000000 | 0;
  for (let i = 9; i < 15; i++) w[i] = 0;
  w[15] = totalLen * 8;
}

/** The largest message hmacShort() takes: one block less the padding. */
export const MAX_SHORT_MESSAGE = 55;

/**
 * An HMAC-SHA256 key (RFC 2104) of at most 64 bytes with its inner and outer pads already hashed, so
 * each message costs two compressions.
 */
export class HmacKey {
  /** The hashed inner pad (words 0..7) and outer pad (words 8..15). */
  readonly pads = new Int32Array(16);

  /** Key bytes key[off..off+len); len <= 64 (a longer key would first be hashed, which QUIC never needs). */
  static fromBytes(key: Uint8Array, off = 0, len = key.length): HmacKey {
    return new HmacKey().setBytes(key, off, len);
  }

  /** Make this the key key[off..off+len) (len <= 64); returns this. */
  setBytes(key: Uint8Array, off: number, len: number): this {
    if (len > 64) throw new RangeError('HMAC keys longer than one block are not supported');
    const k = KEY_BLOCK;
    for (let i = 0; i < 16; i++) k[i] = 0;
    for (let i = 0; i < len; i++) k[i >> 2] = k[i >> 2]! | (key[off + i]! << (24 - 8 * (i & 3)));
    this.setPads();
    return this;
  }

  /** Make this the 32-byte key held as eight big-endian words words[off..off+8); returns this. */
  setWords(words: Int32Array, off = 0): this {
    const k = KEY_BLOCK;
    for (let i = 0; i < 8; i++) k[i] = words[off + i]!;
    for (let i = 8; i < 16; i++) k[i] = 0;
    this.setPads();
    return this;
  }

  /** Hash key⊕ipad and key⊕opad (the key is in KEY_BLOCK). */
  private setPads(): void {
    const w = W;
    const key = KEY_BLOCK;
    const pads = this.pads;
    for (let i = 0; i < 16; i++) w[i] = key[i]! ^ 0x36363636;
    for (let i = 0; i < 8; i++) pads[i] = H0[i]!;
    compress(pads, 0);
    for (let i = 0; i < 16; i++) w[i] = key[i]! ^ 0x5c5c5c5c;
    for (let i = 0; i < 8; i++) pads[8 + i] = H0[i]!;
    compress(pads, 8);
  }
}

const tmp = new Int32Array(8);

/**
 * HMAC-SHA256 of msg[off..off+len) (len <= MAX_SHORT_MESSAGE) under `key`, written to `out` as
 * eight big-endian words (`out` may be the words the key was made from).
 */
export function hmacShort(key: HmacKey, msg: Uint8Array, off: number, len: number, out: Int32Array): void {
  if (len > MAX_SHORT_MESSAGE) throw new RangeError('message longer than one block');
  const pads = key.pads;
  for (let i = 0; i < 8; i++) tmp[i] = pads[i]!;
  finalBlockFromBytes(msg, off, len, 64 + len);
  compress(tmp, 0);
  finalBlockFromWords(tmp, 64 + 32);
  for (let i = 0; i < 8; i++) out[i] = pads[8 + i]!;
  compress(out, 0);
}

/** SHA-256 of a message of at most MAX_SHORT_MESSAGE bytes (for tests against the FIPS examples). */
export function sha256Short(msg: Uint8Array): Int32Array {
  if (msg.length > MAX_SHORT_MESSAGE) throw new RangeError('message longer than one block');
  const out = new Int32Array(H0);
  finalBlockFromBytes(msg, 0, msg.length, msg.length);
  compress(out, 0);
  return out;
}

/** Big-endian words from words[from..] as `len` bytes (32 by default) into out[off..off+len). */
export function wordsToBytes(words: Int32Array, out: Uint8Array, off = 0, len = 32, from = 0): void {
  for (let i = 0; i < len; i++) out[off + i] = (words[from + (i >> 2)]! >>> (24 - 8 * (i & 3))) & 0xff;
}
