// QUIC Initial packet protection: versions and salts, key derivation, header protection removal, AEAD open.

import { createDecipheriv } from 'node:crypto';
import { encryptBlock128, expandKey128Words } from './aes128.js';
import { HmacKey, hmacShort, wordsToBytes } from './sha256.js';

/** Long-header packet types by meaning; the wire bits differ between versions (RFC 9369 §3.2). */
export const LongType = { INITIAL: 0, ZERO_RTT: 1, HANDSHAKE: 2, RETRY: 3 } as const;

/** What differs between the QUIC versions whose Initial packets we can open. */
export interface QuicVersionInfo {
  readonly version: number;
  /** 'v1', 'v2', 'draft-29', or hex for versions without a short name. */
  readonly name: string;
  /** RFC 9369 wire image: other long-header type bits and the 'quicv2 …' labels. */
  readonly v2: boolean;
  /** Candidate initial salts, tried in this order (more than one only where the version's salt is uncertain). */
  readonly salts: readonly Uint8Array[];
  /**
   * What the client's Initial CRYPTO data holds: a TLS 1.3 ClientHello ('tls': IETF versions and Google's
   * T05x), or Google QUIC's own crypto handshake, a CHLO tag/value message ('chlo': Q050).
   */
  readonly handshake: 'tls' | 'chlo';
  /**
   * Type byte of the CRYPTO frame: 0x06 in IETF QUIC (RFC 9000 §19.6); 0x08 in Google's Q050 and T05x,
   * whose Initials carry Google QUIC's frame types (PADDING 0x00, PING 0x07, ACK 0x40..0x7f).
   */
  readonly cryptoFrame: number;
  /** Frame types that may open a decrypted Initial payload, by type byte (1 = allowed). */
  readonly leadingFrames: Uint8Array;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

// RFC 9001 §5.2 (also used by drafts 33 and 34, which introduced it).
const SALT_V1 = hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
// RFC 9369 §3.3.1.
const SALT_V2 = hex('0dede3def700a6db819381be6e269dcbf9bd2ed9');
// draft-ietf-quic-tls-29 §5.2, unchanged through draft-32.
const SALT_D29 = hex('afbfec289993d24c9e9786f19c6111e04390a899');
// draft-ietf-quic-tls-23 §5.2, unchanged through draft-28.
const SALT_D23 = hex('c3eef712c72ebb5a11a7d2432bb46365bef9f502');
// draft-ietf-quic-tls-22 §5.2 (the first draft with one-byte connection ID lengths).
const SALT_D22 = hex('7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a');

// Google's QUIC versions with IETF-style Initial protection, each with a salt of its own: the values
// Chromium's QUIC stack defines, which Wireshark and nDPI decrypt with too (test/gquic.test.ts opens
// real Q050, T050 and T051 Initials with them).
const SALT_Q050 = hex('504574efd066fe2f9d945cfcdbd3a7f0d3b56b45');
const SALT_T050 = hex('7ff579e5acd072915580304c43a2367c60488310');
const SALT_T051 = hex('7a4edef4e7ccee5fa4506c19124fc8ccda6e033d');

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;
/** Google QUIC versions are four ASCII characters: 'Q050' = 0x51303530, 'T051' = 0x54303531. */
export const GQUIC_Q050 = 0x51303530;
export const GQUIC_T050 = 0x54303530;
export const GQUIC_T051 = 0x54303531;

/** Frame types that may lead an IETF Initial's payload (RFC 9000 §12.4, Table 3). */
const INITIAL_FRAME_TYPES = new Uint8Array(256);
for (const t of [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1d]) INITIAL_FRAME_TYPES[t] = 1;
/**
 * Frame types that may lead a Q050/T05x Initial's payload: Google QUIC's own frame types, where 0x00 is
 * PADDING, 0x07 PING, 0x08 CRYPTO and 0x40..0x7f the ACK frame's type byte.
 */
const GQUIC_FRAME_TYPES = new Uint8Array(256);
for (const t of [0x00, 0x07, 0x08]) GQUIC_FRAME_TYPES[t] = 1;
for (let t = 0x40; t <= 0x7f; t++) GQUIC_FRAME_TYPES[t] = 1;

const VERSIONS = new Map<number, QuicVersionInfo>();

function addVersion(version: number, name: string, v2: boolean, salts: readonly Uint8Array[]): void {
  VERSIONS.set(version, { version, name, v2, salts, handshake: 'tls', cryptoFrame: 0x06, leadingFrames: INITIAL_FRAME_TYPES });
}

/** A Google version with IETF-style Initial protection: Google frame types, a TLS or CHLO handshake. */
function addGoogleVersion(version: number, salt: Uint8Array, handshake: 'tls' | 'chlo'): void {
  const name = String.fromCharCode(version >>> 24, (version >>> 16) & 0xff, (version >>> 8) & 0xff, version & 0xff);
  VERSIONS.set(version, { version, name, v2: false, salts: [salt], handshake, cryptoFrame: 0x08, leadingFrames: GQUIC_FRAME_TYPES });
}

addVersion(QUIC_V1, 'v1', false, [SALT_V1]);
addVersion(QUIC_V2, 'v2', true, [SALT_V2]);
for (let d = 22; d <= 34; d++) {
  const salt = d <= 22 ? SALT_D22 : d <= 28 ? SALT_D23 : d <= 32 ? SALT_D29 : SALT_V1;
  addVersion((0xff000000 | d) >>> 0, `draft-${d}`, false, [salt]);
}
// mvfst (Facebook) versions follow IETF drafts; which draft salt each uses is not documented in one
// place, so try the plausible ones; the AEAD tag tells which one is right.
addVersion(0xfaceb001, '0xfaceb001', false, [SALT_D22]);
for (const v of [0xfaceb002, 0xfaceb00e, 0xfaceb010, 0xfaceb011, 0xfaceb012, 0xfaceb013]) {
  addVersion(v, '0x' + v.toString(16), false, [SALT_D23, SALT_D29, SALT_V1]);
}

addGoogleVersion(GQUIC_Q050, SALT_Q050, 'chlo');
addGoogleVersion(GQUIC_T050, SALT_T050, 'tls');
addGoogleVersion(GQUIC_T051, SALT_T051, 'tls');

/**
 * The four-character name of a Google QUIC version ('Q043', 'Q046', 'Q050', 'T051'), or undefined when
 * `version` is not one: 'Q' or 'T', then '0', then two digits.
 */
export function gquicVersionTag(version: number): string | undefined {
  const a = version >>> 24;
  const b = (version >>> 16) & 0xff;
  const c = (version >>> 8) & 0xff;
  const d = version & 0xff;
  if ((a !== 0x51 && a !== 0x54) || b !== 0x30 || c < 0x30 || c > 0x39 || d < 0x30 || d > 0x39) return undefined;
  return String.fromCharCode(a, b, c, d);
}

/** The version's parameters, or undefined for a version we cannot open. Allocation-free. */
export function quicVersionInfo(version: number): QuicVersionInfo | undefined {
  return VERSIONS.get(version);
}

/** Display name of any version: short name when known, a Google version's four characters, else 0x-hex. */
export function quicVersionName(version: number): string {
  return VERSIONS.get(version)?.name ?? gquicVersionTag(version) ?? '0x' + (version >>> 0).toString(16).padStart(8, '0');
}

/** Meaning of the type bits of a long-header first byte (RFC 9000 §17.2, RFC 9369 §3.2). */
export function longPacketType(firstByte: number, v2: boolean): number {
  const bits = (firstByte >> 4) & 3;
  // v2 rotates the codes by one: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
  return v2 ? (bits + 3) & 3 : bits;
}

// The key schedule runs on our own SHA-256/AES (sha256.ts, aes128.ts): every connection has its own
// keys, and node:crypto's per-object set-up cost several times what the few blocks themselves do.

/** HMAC keys of the initial salts, with their pads hashed once. */
const saltKeys = new Map<Uint8Array, HmacKey>();

function saltKey(salt: Uint8Array): HmacKey {
  let k = saltKeys.get(salt);
  if (k === undefined) {
    k = HmacKey.fromBytes(salt);
    saltKeys.set(salt, k);
  }
  return k;
}

/** HkdfLabel (RFC 8446 §7.1) with an empty context, followed by the T(1) counter byte of RFC 5869 §2.3. */
function labelInfo(label: string, length: number): Uint8Array {
  const full = 'tls13 ' + label;
  const info = new Uint8Array(2 + 1 + full.length + 1 + 1);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  for (let i = 0; i < full.length; i++) info[3 + i] = full.charCodeAt(i);
  info[3 + full.length] = 0; // context length
  info[4 + full.length] = 1; // T(1) counter
  return info;
}

/** The labels the Initial key schedule uses (RFC 9001 §5.1, §5.2; RFC 9369 §3.3.2 for v2). */
interface Labels {
  readonly hp: Uint8Array;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}
const LABELS_V1: Labels = { hp: labelInfo('quic hp', 16), key: labelInfo('quic key', 16), iv: labelInfo('quic iv', 12) };
const LABELS_V2: Labels = { hp: labelInfo('quicv2 hp', 16), key: labelInfo('quicv2 key', 16), iv: labelInfo('quicv2 iv', 12) };
const CLIENT_IN = labelInfo('client in', 32);
const SERVER_IN = labelInfo('server in', 32);

const words = new Int32Array(8);

function wordsBuffer(w: Int32Array, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  wordsToBytes(w, b, 0, length);
  return b;
}

/** HKDF-Extract with SHA-256 (RFC 5869 §2.2); salt at most 64 bytes, ikm at most 55. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  hmacShort(HmacKey.fromBytes(salt), ikm, 0, ikm.length, words);
  return wordsBuffer(words, 32);
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1) with an empty context. Every output QUIC Initial protection
 * needs is at most 32 bytes, so one HKDF-Expand block T(1) (RFC 5869 §2.3) is enough.
 */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  if (length > 32) throw new RangeError('one HKDF-Expand block gives at most 32 bytes');
  const info = labelInfo(label, length);
  hmacShort(HmacKey.fromBytes(secret), info, 0, info.length, words);
  return wordsBuffer(words, length);
}

/** Scratch for masks and keystream blocks: callers read them at once. */
const block = Buffer.alloc(16);
/** Scratch AES round keys: a key is expanded where it is used (about 0.1 µs), not kept per connection. */
const rounds = new Int32Array(44);
/** Scratch HMAC key of a direction's secret. */
const secretKey = new HmacKey();

// Layout of InitialKeys.w: the keys one direction needs. It and the secret's pads are two small typed
// arrays rather than one, because V8 keeps typed arrays of up to 64 bytes inside its heap and gives
// larger ones a separately allocated backing store, which costs several times more to create and free.
const W_HP = 0; // 4 words: header-protection key
const W_KEY = 4; // 4 words: AEAD key (once derived)
const W_IV = 8; // 3 words: AEAD IV (once derived)
const W_SIZE = 11;

/** The values protecting one direction's Initial packets, plus the receive state they need. */
export class InitialKeys {
  /** Largest packet number opened with these keys, for RFC 9000 §17.1 packet number decoding. */
  largestPn = -1;
  private readonly w = new Int32Array(W_SIZE);
  /**
   * The HMAC key made of the 32-byte client or server initial secret, as its two hashed pads
   * (HmacKey.pads): kept rather than the secret itself, so that deriving the AEAD key and IV later
   * does not hash the pads again (two of the sixteen SHA-256 compressions a successful open costs).
   */
  private readonly secretPads = new Int32Array(16);
  private readonly labels: Labels;
  /** The AEAD key and IV are in w (derived on first use: wrong keys are usually told before). */
  private aeadReady = false;

  /** `secret` holds the 32-byte client or server initial secret as eight big-endian words. */
  constructor(secret: Int32Array, v2: boolean) {
    this.labels = v2 ? LABELS_V2 : LABELS_V1;
    secretKey.setWords(secret);
    const pads = secretKey.pads;
    for (let i = 0; i < 16; i++) this.secretPads[i] = pads[i]!;
    this.expand(this.labels.hp, W_HP, 4);
  }

  /** HKDF-Expand-Label of the secret (its HMAC key must be in secretKey) into w[at..at+n). */
  private expand(info: Uint8Array, at: number, n: number): void {
    hmacShort(secretKey, info, 0, info.length, words);
    for (let i = 0; i < n; i++) this.w[at + i] = words[i]!;
  }

  private deriveAead(): void {
    if (this.aeadReady) return;
    const pads = secretKey.pads;
    for (let i = 0; i < 16; i++) pads[i] = this.secretPads[i]!;
    this.expand(this.labels.key, W_KEY, 4);
    this.expand(this.labels.iv, W_IV, 3);
    this.aeadReady = true;
  }

  private bytes(at: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    wordsToBytes(this.w, b, 0, length, at);
    return b;
  }

  /** The header-protection key (RFC 9001 §5.4). */
  get hp(): Buffer {
    return this.bytes(W_HP, 16);
  }

  /** The AEAD key (RFC 9001 §5.1), derived on first use. */
  get key(): Buffer {
    this.deriveAead();
    return this.bytes(W_KEY, 16);
  }

  /** The AEAD IV (RFC 9001 §5.1), derived on first use. */
  get iv(): Buffer {
    this.deriveAead();
    return this.bytes(W_IV, 12);
  }

  /**
   * AES-128-ECB of the 16-byte sample at sample[off..off+16) under the header-protection key (RFC 9001
   * §5.4.3). The result is a scratch buffer, valid until the next call.
   */
  mask(sample: Uint8Array, off = 0): Buffer {
    expandKey128Words(this.w, W_HP, rounds);
    encryptBlock128(rounds, sample, off, block, 0);
    return block;
  }

  /**
   * RFC 9001 §5.3: the nonce for packet number `pn` (the IV XOR the packet number, left-padded), into
   * out[0..12).
   */
  nonce(pn: number, out: Uint8Array): void {
    this.deriveAead();
    wordsToBytes(this.w, out, 0, 12, W_IV);
    let rest = pn;
    for (let i = 11; i >= 4 && rest > 0; i--) {
      out[i] = out[i]! ^ (rest % 256);
      rest = Math.floor(rest / 256);
    }
  }

  /**
   * The first byte of AES-GCM's keystream for `nonce` (RFC 9001 §5.3 nonces are 96 bits, so the
   * first plaintext block is encrypted with counter 2, NIST SP 800-38D §7.1).
   */
  firstKeystreamByte(nonce: Uint8Array): number {
    this.deriveAead();
    expandKey128Words(this.w, W_KEY, rounds);
    for (let i = 0; i < 12; i++) block[i] = nonce[i]!;
    block[12] = 0;
    block[13] = 0;
    block[14] = 0;
    block[15] = 2;
    encryptBlock128(rounds, block, 0, block, 0);
    return block[0]!;
  }
}

/** The initial secret's HMAC key, needed only while one direction's secret is derived from it. */
const initialKey = new HmacKey();

/** Client (or server) Initial keys for the Destination Connection ID dcid[off..off+len) (RFC 9001 §5.2). */
export function deriveInitialKeysAt(
  info: QuicVersionInfo,
  saltIndex: number,
  dcid: Uint8Array,
  off: number,
  len: number,
  server: boolean,
): InitialKeys {
  hmacShort(saltKey(info.salts[saltIndex] ?? info.salts[0]!), dcid, off, len, words);
  const initial = initialKey.setWords(words);
  const label = server ? SERVER_IN : CLIENT_IN;
  hmacShort(initial, label, 0, label.length, words);
  return new InitialKeys(words, info.v2);
}

/** deriveInitialKeys for a whole DCID array. */
export function deriveInitialKeys(info: QuicVersionInfo, saltIndex: number, dcid: Uint8Array, server: boolean): InitialKeys {
  return deriveInitialKeysAt(info, saltIndex, dcid, 0, dcid.length, server);
}

/** RFC 9000 Appendix A.3: full packet number from its truncated encoding and the largest seen. */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const hwin = win / 2;
  // (expected & ~mask) | truncated, without 32-bit bitwise operators.
  const candidate = expected - (expected % win) + truncated;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

const nonceScratch = Buffer.alloc(12);

/** A long-header packet opened with Initial keys. */
export interface OpenedPacket {
  packetNumber: number;
  /** The decrypted frames (a fresh buffer: safe to keep). */
  payload: Buffer;
}

/**
 * Remove header protection and AEAD-open one long-header packet that spans [start, end) of `buf`
 * with its packet number at `pnOffset`. Returns null when it does not authenticate. Never throws.
 * `leadingFrames` (QuicVersionInfo.leadingFrames) are the frame types the payload may start with.
 */
export function openLongHeaderPacket(
  buf: Uint8Array,
  start: number,
  pnOffset: number,
  end: number,
  keys: InitialKeys,
  leadingFrames: Uint8Array = INITIAL_FRAME_TYPES,
): OpenedPacket | null {
  // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number offset, as if the
  // packet number were 4 bytes long; senders pad so that 16 bytes are always there.
  const sampleOff = pnOffset + 4;
  if (start < 0 || pnOffset <= start || sampleOff + 16 > end || end > buf.length) return null;
  const mask = keys.mask(buf, sampleOff);
  // RFC 9001 §5.4.1: long headers protect the low 4 bits of the first byte, then the packet number.
  const first = buf[start]! ^ (mask[0]! & 0x0f);
  // RFC 9000 §17.2: the reserved bits are zero once protection is off; anything else means these are not
  // the packet's keys, and the AEAD pass can be skipped (three times in four for a wrong key).
  if ((first & 0x0c) !== 0) return null;
  const pnLen = (first & 0x03) + 1;
  const ctOff = pnOffset + pnLen;
  if (ctOff + 16 > end) return null;
  let truncated = 0;
  for (let i = 0; i < pnLen; i++) truncated = truncated * 256 + (buf[pnOffset + i]! ^ mask[1 + i]!);
  const pn = decodePacketNumber(keys.largestPn, truncated, pnLen * 8);
  const nonce = nonceScratch;
  keys.nonce(pn, nonce);
  // RFC 9000 §12.4: an Initial packet carries only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE
  // frames. Decrypting just the first byte tells wrong keys (or a packet that is no Initial) from right
  // ones in 250 cases of 256 before the AEAD pass, which costs far more when it fails.
  if (!leadingFrames[buf[ctOff]! ^ keys.firstKeystreamByte(nonce)]) return null;
  const header = Buffer.allocUnsafe(ctOff - start);
  header.set(buf.subarray(start, ctOff));
  header[0] = first;
  for (let i = 0; i < pnLen; i++) header[pnOffset - start + i] = (truncated / 2 ** (8 * (pnLen - 1 - i))) & 0xff;
  const tagOff = end - 16;
  let payload: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-gcm', keys.key, nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(buf.subarray(tagOff, end));
    const a = decipher.update(buf.subarray(ctOff, tagOff));
    // final() throws when the tag does not verify: that only means "not decryptable with these keys".
    const b = decipher.final();
    payload = b.length === 0 ? a : Buffer.concat([a, b]);
  } catch {
    return null;
  }
  if (pn > keys.largestPn) keys.largestPn = pn;
  return { packetNumber: pn, payload };
}
