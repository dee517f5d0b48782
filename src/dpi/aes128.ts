// AES-128 encryption of single blocks (FIPS 197), for QUIC header protection and the first keystream block.
//
// QUIC's Initial keys change with every connection, and node:crypto makes a cipher object (with an
// OpenSSL context) per key; for one 16-byte block that set-up costs far more than the block. Here a key
// is 44 round-key words and a block is a few table look-ups, with nothing allocated per block.

/** FIPS 197 §5.1.1 S-box, and the encryption tables that fold SubBytes, ShiftRows and MixColumns. */
const SBOX = new Uint8Array(256);
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);

/** Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS 197 §4.2.1). */
function xtime(b: number): number {
  return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;
}

function buildTables(): void {
  // Walk the multiplicative group with generator 3 to find each byte's inverse, then apply the affine map.
  const log = new Uint8Array(256);
  const exp = new Uint8Array(256);
  let v = 1;
  for (let i = 0; i < 255; i++) {
    exp[i] = v;
    log[v] = i;
    v = v ^ xtime(v);
  }
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[(255 - log[x]!) % 255]!;
    let s = inv;
    let r = inv;
    for (let k = 0; k < 4; k++) {
      r = ((r << 1) | (r >> 7)) & 0xff;
      s ^= r;
    }
    SBOX[x] = s ^ 0x63;
  }
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x]!;
    const s2 = xtime(s);
    const s3 = s2 ^ s;
    // Column (2s, s, s, 3s) as a big-endian word; the other tables are its byte rotations.
    const t = (s2 << 24) | (s << 16) | (s << 8) | s3;
    TE0[x] = t;
    TE1[x] = (t >>> 8) | (t << 24);
    TE2[x] = (t >>> 16) | (t << 16);
    TE3[x] = (t >>> 24) | (t << 8);
  }
}
buildTables();

/** FIPS 197 §5.2 round constants for AES-128. */
const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

function subWord(w: number): number {
  return (SBOX[w >>> 24]! << 24) | (SBOX[(w >>> 16) & 0xff]! << 16) | (SBOX[(w >>> 8) & 0xff]! << 8) | SBOX[w & 0xff]!;
}

/** Expand a 16-byte key at key[off..off+16) into `rk` (44 words, FIPS 197 §5.2). */
export function expandKey128(key: Uint8Array, off: number, rk: Int32Array): void {
  for (let i = 0; i < 4; i++) {
    const p = off + 4 * i;
    rk[i] = (key[p]! << 24) | (key[p + 1]! << 16) | (key[p + 2]! << 8) | key[p + 3]!;
  }
  expandRest(rk);
}

/** FIPS 197 §5.2 key expansion from the first four words of `rk`. */
function expandRest(rk: Int32Array): void {
  for (let i = 4; i < 44; i++) {
    let t = rk[i - 1]!;
    if ((i & 3) === 0) t = subWord((t << 8) | (t >>> 24)) ^ (RCON[(i >> 2) - 1]! << 24);
    rk[i] = rk[i - 4]! ^ t;
  }
}

/** Expand a key given as four big-endian words w[off..off+4) into `rk` (44 words). */
export function expandKey128Words(w: Int32Array, off: number, rk: Int32Array): void {
  rk[0] = w[off]!;
  rk[1] = w[off + 1]!;
  rk[2] = w[off + 2]!;
  rk[3] = w[off + 3]!;
  expandRest(rk);
}

/** Encrypt the block src[so..so+16) with round keys `rk` into dst[doff..doff+16) (src and dst may be the same). */
export function encryptBlock128(rk: Int32Array, src: Uint8Array, so: number, dst: Uint8Array, doff: number): void {
  let s0 = ((src[so]! << 24) | (src[so + 1]! << 16) | (src[so + 2]! << 8) | src[so + 3]!) ^ rk[0]!;
  let s1 = ((src[so + 4]! << 24) | (src[so + 5]! << 16) | (src[so + 6]! << 8) | src[so + 7]!) ^ rk[1]!;
  let s2 = ((src[so + 8]! << 24) | (src[so + 9]! << 16) | (src[so + 10]! << 8) | src[so + 11]!) ^ rk[2]!;
  let s3 = ((src[so + 12]! << 24) | (src[so + 13]! << 16) | (src[so + 14]! << 8) | src[so + 15]!) ^ rk[3]!;
  let k = 4;
  for (let round = 1; round < 10; round++) {
    const t0 = TE0[s0 >>> 24]! ^ TE1[(s1 >>> 16) & 0xff]! ^ TE2[(s2 >>> 8) & 0xff]! ^ TE3[s3 & 0xff]! ^ rk[k]!;
    const t1 = TE0[s1 >>> 24]! ^ TE1[(s2 >>> 16) & 0xff]! ^ TE2[(s3 >>> 8) & 0xff]! ^ TE3[s0 & 0xff]! ^ rk[k + 1]!;
    const t2 = TE0[s2 >>> 24]! ^ TE1[(s3 >>> 16) & 0xff]! ^ TE2[(s0 >>> 8) & 0xff]! ^ TE3[s1 & 0xff]! ^ rk[k + 2]!;
    const t3 = TE0[s3 >>> 24]! ^ TE1[(s0 >>> 16) & 0xff]! ^ TE2[(s1 >>> 8) & 0xff]! ^ TE3[s2 & 0xff]! ^ rk[k + 3]!;
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  // Last round: no MixColumns.
  const S = SBOX;
  const o0 = ((S[s0 >>> 24]! << 24) | (S[(s1 >>> 16) & 0xff]! << 16) | (S[(s2 >>> 8) & 0xff]! << 8) | S[s3 & 0xff]!) ^ rk[40]!;
  const o1 = ((S[s1 >>> 24]! << 24) | (S[(s2 >>> 16) & 0xff]! << 16) | (S[(s3 >>> 8) & 0xff]! << 8) | S[s0 & 0xff]!) ^ rk[41]!;
  const o2 = ((S[s2 >>> 24]! << 24) | (S[(s3 >>> 16) & 0xff]! << 16) | (S[(s0 >>> 8) & 0xff]! << 8) | S[s1 & 0xff]!) ^ rk[42]!;
  const o3 = ((S[s3 >>> 24]! << 24) | (S[(s0 >>> 16) & 0xff]! << 16) | (S[(s1 >>> 8) & 0xff]! << 8) | S[s2 & 0xff]!) ^ rk[43]!;
  writeWord(dst, doff, o0);
  writeWord(dst, doff + 4, o1);
  writeWord(dst, doff + 8, o2);
  writeWord(dst, doff + 12, o3);
}

function writeWord(b: Uint8Array, p: number, w: number): void {
  b[p] = w >>> 24;
  b[p + 1] = (w >>> 16) & 0xff;
  b[p + 2] = (w >>> 8) & 0xff;
  b[p + 3] = w & 0xff;
}
