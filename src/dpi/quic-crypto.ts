// QUIC Initial packet protection: versions and salts, key derivation, header protection removal, AEAD open.

import { createCipheriv, createDecipheriv, createHmac, type Cipher } from 'node:crypto';

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

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

const VERSIONS = new Map<number, QuicVersionInfo>();

function addVersion(version: number, name: string, v2: boolean, salts: readonly Uint8Array[]): void {
  VERSIONS.set(version, { version, name, v2, salts });
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

/** The version's parameters, or undefined for a version we cannot open. Allocation-free. */
export function quicVersionInfo(version: number): QuicVersionInfo | undefined {
  return VERSIONS.get(version);
}

/** Display name of any version: short name when known, else 0x-hex. */
export function quicVersionName(version: number): string {
  return VERSIONS.get(version)?.name ?? '0x' + (version >>> 0).toString(16).padStart(8, '0');
}

/** Meaning of the type bits of a long-header first byte (RFC 9000 §17.2, RFC 9369 §3.2). */
export function longPacketType(firstByte: number, v2: boolean): number {
  const bits = (firstByte >> 4) & 3;
  // v2 rotates the codes by one: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
  return v2 ? (bits + 3) & 3 : bits;
}

/** HKDF-Extract with SHA-256 (RFC 5869 §2.2). */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1) with an empty context. Every output QUIC Initial protection
 * needs is at most 32 bytes, so one HKDF-Expand block T(1) (RFC 5869 §2.3) is enough.
 */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  const key = `${label}/${length}`;
  let info = labelInfo.get(key);
  if (info === undefined) {
    const full = 'tls13 ' + label;
    info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
    info.writeUInt16BE(length, 0);
    info[2] = full.length;
    info.write(full, 3, 'latin1');
    info[3 + full.length] = 0; // context length
    info[4 + full.length] = 1; // T(1) counter
    labelInfo.set(key, info);
  }
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** HkdfLabel structures by label and length: a handful of constants, built once. */
const labelInfo = new Map<string, Buffer>();

/** The three values protecting one direction's Initial packets, plus the receive state they need. */
export class InitialKeys {
  readonly hp: Buffer;
  /** Largest packet number opened with these keys, for RFC 9000 §17.1 packet number decoding. */
  largestPn = -1;
  private hpCipher: Cipher | null = null;

  constructor(secret: Uint8Array, v2: boolean) {
    // RFC 9001 §5.1 labels; RFC 9369 §3.3.2 renames them for v2.
    this.prefix = v2 ? 'quicv2 ' : 'quic ';
    this.secret = secret;
    this.hp = hkdfExpandLabel(secret, this.prefix + 'hp', 16);
  }

  // The AEAD key and IV are derived on first use: a packet whose header does not unprotect cleanly
  // (wrong keys) never needs them.
  private readonly prefix: string;
  private readonly secret: Uint8Array;
  private aeadKey: Buffer | null = null;
  private aeadIv: Buffer | null = null;

  get key(): Buffer {
    return (this.aeadKey ??= hkdfExpandLabel(this.secret, this.prefix + 'key', 16));
  }

  get iv(): Buffer {
    return (this.aeadIv ??= hkdfExpandLabel(this.secret, this.prefix + 'iv', 12));
  }

  /** AES-128-ECB of one 16-byte sample (RFC 9001 §5.4.3). ECB keeps no chaining state, so one cipher serves every sample. */
  mask(sample: Uint8Array): Buffer {
    if (this.hpCipher === null) {
      this.hpCipher = createCipheriv('aes-128-ecb', this.hp, null);
      this.hpCipher.setAutoPadding(false);
    }
    return this.hpCipher.update(sample);
  }
}

/** Client (or server) Initial keys for a Destination Connection ID (RFC 9001 §5.2). */
export function deriveInitialKeys(info: QuicVersionInfo, saltIndex: number, dcid: Uint8Array, server: boolean): InitialKeys {
  const initialSecret = hkdfExtract(info.salts[saltIndex] ?? info.salts[0]!, dcid);
  const secret = hkdfExpandLabel(initialSecret, server ? 'server in' : 'client in', 32);
  return new InitialKeys(secret, info.v2);
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

/** A long-header packet opened with Initial keys. */
export interface OpenedPacket {
  packetNumber: number;
  /** The decrypted frames (a fresh buffer: safe to keep). */
  payload: Buffer;
}

/**
 * Remove header protection and AEAD-open one long-header packet that spans [start, end) of `buf`
 * with its packet number at `pnOffset`. Returns null when it does not authenticate. Never throws.
 */
export function openLongHeaderPacket(
  buf: Uint8Array,
  start: number,
  pnOffset: number,
  end: number,
  keys: InitialKeys,
): OpenedPacket | null {
  // RFC 9001 §5.4.2: the sample starts 4 bytes after the packet number offset, as if the
  // packet number were 4 bytes long; senders pad so that 16 bytes are always there.
  const sampleOff = pnOffset + 4;
  if (start < 0 || pnOffset <= start || sampleOff + 16 > end || end > buf.length) return null;
  const mask = keys.mask(buf.subarray(sampleOff, sampleOff + 16));
  if (mask.length < 5) return null;
  // RFC 9001 §5.4.1: long headers protect the low 4 bits of the first byte, then the packet number.
  const first = buf[start]! ^ (mask[0]! & 0x0f);
  // RFC 9000 §17.2: the reserved bits are zero once protection is off; anything else means these are not
  // the packet's keys, and the AEAD pass can be skipped (three times in four for a wrong key).
  if ((first & 0x0c) !== 0) return null;
  const pnLen = (first & 0x03) + 1;
  const ctOff = pnOffset + pnLen;
  if (ctOff + 16 > end) return null;
  const header = Buffer.allocUnsafe(ctOff - start);
  header.set(buf.subarray(start, ctOff));
  header[0] = first;
  let truncated = 0;
  for (let i = 0; i < pnLen; i++) {
    const b = buf[pnOffset + i]! ^ mask[1 + i]!;
    header[pnOffset - start + i] = b;
    truncated = truncated * 256 + b;
  }
  const pn = decodePacketNumber(keys.largestPn, truncated, pnLen * 8);
  // RFC 9001 §5.3: nonce = iv XOR the packet number left-padded to the iv length.
  const nonce = Buffer.from(keys.iv);
  let rest = pn;
  for (let i = 11; i >= 4 && rest > 0; i--) {
    nonce[i] = nonce[i]! ^ (rest % 256);
    rest = Math.floor(rest / 256);
  }
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
