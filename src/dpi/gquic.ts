// Google QUIC classifier: Q0xx versions by their version tag; the cleartext CHLO's SNI and user agent (Q043, Q046, Q050).

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { hostName } from './quic.js';
import { deriveInitialKeysAt, gquicVersionTag, openLongHeaderPacket, quicVersionInfo } from './quic-crypto.js';
import { wireText } from './wire-text.js';

// Google QUIC before IETF QUIC came in three wire images (Chromium's "QUIC Wire Layout Specification"
// and its source; Wireshark's gquic dissector reads the same):
// - up to Q043, a public header: flags, 8-byte connection ID, version (client packets until the server
//   agrees), packet number; the handshake's first packets are unencrypted, carrying a 12-byte message
//   hash and then frames whose STREAM frame on stream 1 holds a CHLO (client) or REJ (server) message;
// - Q046, the same packets under a long header shaped like IETF QUIC's invariants (RFC 8999), connection
//   ID lengths as two nibbles;
// - Q050, IETF-style Initial packets protected as RFC 9001 §5 with a salt of its own, whose CRYPTO frame
//   (type 0x08) holds the CHLO.
// Google's T05x versions carry a TLS ClientHello instead: quic.ts reads them.

/** Public header flags (up to Q043). */
const FLAG_VERSION = 0x01;
const FLAG_RESET = 0x02;
/** In server packets: a 32-byte diversification nonce follows the connection ID. */
const FLAG_NONCE = 0x04;
/** An 8-byte connection ID follows the flags. */
const FLAG_CID = 0x08;
/** Multipath (never used) and unused: both zero. */
const FLAG_RESERVED = 0xc0;
const CID_LEN = 8;
const NONCE_LEN = 32;
/** Unencrypted packets carry a 12-byte truncated FNV-1a-128 hash before their frames. */
const HASH_LEN = 12;
/** Stream 1 is the crypto stream, where CHLO and REJ travel. */
const CRYPTO_STREAM = 1;
/** Datagrams looked at for a CHLO after the version was recognised. */
const MAX_DATAGRAMS = 8;
/** Tag/value entries read from one handshake message (Chromium's kMaxEntries is 128). */
const MAX_TAGS = 128;
/** The last version with the public header; Q044 on use the long header. */
const LAST_PUBLIC_HEADER_VERSION = 43;
/** From Q039 on, frame fields are big-endian; before, little-endian. */
const FIRST_BIG_ENDIAN_VERSION = 39;
/** Q034 dropped the private flags byte and the entropy fields, whose layouts are not read here. */
const FIRST_READ_VERSION = 34;

/** Handshake message tags, as the big-endian number of their four bytes. */
const MSG_CHLO = 0x43484c4f; // 'CHLO'
const MSG_REJ = 0x52454a00; // 'REJ\0'
const TAG_SNI = 0x534e4900; // 'SNI\0'
const TAG_UAID = 0x55414944; // 'UAID'

// Scratch results: detect() must not allocate and JS is single-threaded.
/** Where the handshake message found by findMessage() ends. */
let msgEnd = 0;
/** Set by readHeader(): the version tag's number (0 when the packet has none), the frames' start, the packet number length. */
const hdr = { version: 0, framesAt: 0, pnLen: 0, kind: 0 };
/** readHeader() kinds. */
const PUBLIC = 1;
const LONG_Q046 = 2;
const LONG_IETF = 3;

/** The two-digit number of a 'Q0dd' version, or -1. */
function versionNumber(version: number): number {
  if (version >>> 24 !== 0x51 || gquicVersionTag(version) === undefined) return -1;
  return ((version >>> 8) & 0xff) * 10 + (version & 0xff) - 0x30 * 11;
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** Unsigned integer of n ≤ 8 bytes at p, big- or little-endian (exact up to 2^53, enough for lengths). */
function uint(b: Uint8Array, p: number, n: number, bigEndian: boolean): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[bigEndian ? p + i : p + n - 1 - i]!;
  return v;
}

/**
 * Read a gQUIC header at b[p..end) into `hdr`; false if it is none. PUBLIC headers without a version are
 * accepted (mid-conversation packets); the version is 0 then.
 */
function readHeader(b: Uint8Array, p: number, end: number): boolean {
  if (p >= end) return false;
  const flags = b[p]!;
  if ((flags & 0x80) === 0) {
    if ((flags & (FLAG_RESERVED | FLAG_RESET)) !== 0 || (flags & FLAG_CID) === 0) return false;
    let q = p + 1 + CID_LEN;
    let version = 0;
    if ((flags & FLAG_VERSION) !== 0) {
      if (q + 4 > end) return false;
      version = be32(b, q);
      const n = versionNumber(version);
      if (n < 0 || n > LAST_PUBLIC_HEADER_VERSION) return false;
      q += 4;
    } else if ((flags & FLAG_NONCE) !== 0) {
      // Only servers send the nonce, and only in packets without a version.
      q += NONCE_LEN;
    }
    const pnBits = (flags >> 4) & 3;
    hdr.pnLen = pnBits === 0 ? 1 : pnBits === 1 ? 2 : pnBits === 2 ? 4 : 6;
    hdr.version = version;
    hdr.framesAt = q + hdr.pnLen + HASH_LEN;
    hdr.kind = PUBLIC;
    return hdr.framesAt < end;
  }
  // Long header: fixed bit set, a 'Q0dd' or 'T0dd' version.
  if ((flags & 0x40) === 0 || p + 6 > end) return false;
  const version = be32(b, p + 1);
  if (gquicVersionTag(version) === undefined) return false;
  hdr.version = version;
  const n = versionNumber(version);
  if (n >= 44 && n < 50) {
    // Q046: DCIL/SCIL nibbles, each 0 or the length minus 3; packet number, hash, frames in clear.
    const cil = b[p + 5]!;
    const dcil = cil >> 4;
    const scil = cil & 15;
    const q = p + 6 + (dcil === 0 ? 0 : dcil + 3) + (scil === 0 ? 0 : scil + 3);
    hdr.pnLen = (flags & 3) + 1;
    hdr.framesAt = q + hdr.pnLen + HASH_LEN;
    hdr.kind = LONG_Q046;
    return hdr.framesAt < end;
  }
  // Q050 and later, T05x: RFC 9000 §17.2 layout (lengths checked where the packet is opened).
  hdr.pnLen = 0;
  hdr.framesAt = 0;
  hdr.kind = LONG_IETF;
  return b[p + 5]! <= 20;
}

/**
 * The handshake message on the crypto stream in the unencrypted frames b[p..end) (Q034 to Q046 layouts):
 * its start, with its end in msgEnd; -1 when there is none. Frames before it are skipped by their
 * lengths; PADDING and anything unknown end the search.
 */
function findMessage(b: Uint8Array, p: number, end: number, pnLen: number, bigEndian: boolean): number {
  while (p < end) {
    const type = b[p]!;
    if (type >= 0x80) {
      // STREAM: 1 F D OOO SS: stream ID of SS+1 bytes, offset of 0 or OOO+1 bytes, data length if D.
      const idLen = (type & 3) + 1;
      const ooo = (type >> 2) & 7;
      const offLen = ooo === 0 ? 0 : ooo + 1;
      let q = p + 1;
      if (q + idLen + offLen > end) return -1;
      const stream = uint(b, q, idLen, bigEndian);
      q += idLen + offLen;
      let dataEnd = end;
      if ((type & 0x20) !== 0) {
        if (q + 2 > end) return -1;
        dataEnd = q + 2 + uint(b, q, 2, bigEndian);
        q += 2;
        if (dataEnd > end) return -1;
      }
      if (stream === CRYPTO_STREAM) {
        msgEnd = dataEnd;
        return q;
      }
      p = dataEnd;
    } else if (type >= 0x40) {
      // ACK (Q034 on): 01 N U LL MM; largest acked (LL), delay (2), [blocks (1)], first block (MM),
      // blocks × (gap (1), length (MM)), timestamps (1), then if any: delta (1) + time (4), (n-1) × 3.
      const llBits = (type >> 2) & 3;
      const mmBits = type & 3;
      const ll = llBits === 0 ? 1 : llBits === 1 ? 2 : llBits === 2 ? 4 : 6;
      const mm = mmBits === 0 ? 1 : mmBits === 1 ? 2 : mmBits === 2 ? 4 : 6;
      let q = p + 1 + ll + 2;
      let blocks = 0;
      if ((type & 0x20) !== 0) {
        if (q >= end) return -1;
        blocks = b[q]!;
        q++;
      }
      q += mm + blocks * (1 + mm);
      if (q >= end) return -1;
      const stamps = b[q]!;
      q += 1 + (stamps > 0 ? 5 + (stamps - 1) * 3 : 0);
      p = q;
    } else if (type === 0x07) {
      p++; // PING
    } else if (type === 0x06) {
      p += 1 + pnLen; // STOP_WAITING: least unacked delta, as long as the packet number
    } else if (type === 0x04) {
      p += 1 + 4 + 8; // WINDOW_UPDATE: stream ID, byte offset
    } else if (type === 0x05) {
      p += 1 + 4; // BLOCKED: stream ID
    } else {
      // PADDING runs to the packet's end; RST_STREAM, CONNECTION_CLOSE, GOAWAY do not come before a hello.
      return -1;
    }
  }
  return -1;
}

/** The tag of the handshake message at b[p..end) (its first four bytes, big-endian), or 0. */
function messageTag(b: Uint8Array, p: number, end: number): number {
  return p >= 0 && p + 8 <= end ? be32(b, p) : 0;
}

/**
 * Read a CHLO's SNI and UAID into `app`. Layout (Chromium crypto_framer): tag (4), entry count (uint16
 * LE), two zero bytes, then per entry a tag (4) and the end offset of its value (uint32 LE), values
 * concatenated after the entries in the same order. Entries past `end` (a message cut by its frame) are
 * not read; offsets that go backwards end the walk.
 */
function readChlo(b: Uint8Array, p: number, end: number, app: AppInfo): void {
  const count = b[p + 4]! | (b[p + 5]! << 8);
  if (count > MAX_TAGS) return;
  const values = p + 8 + count * 8;
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const e = p + 8 + i * 8;
    if (e + 8 > end) return;
    const tag = be32(b, e);
    const offset = (b[e + 4]! | (b[e + 5]! << 8) | (b[e + 6]! << 16) | (b[e + 7]! << 24)) >>> 0;
    if (offset < prev) return;
    const start = values + prev;
    const stop = values + offset;
    prev = offset;
    if (stop > end) return;
    if (tag === TAG_SNI) {
      const sni = hostName(b, start, stop);
      if (sni !== undefined) {
        app.domain = sni;
        app.details.sni = sni;
      }
    } else if (tag === TAG_UAID && stop > start) {
      app.details.user_agent = wireText(b, start, stop);
    }
  }
}

/** RFC 9000 §16 variable-length integer at p; -1 when truncated. Its end goes to varintEnd. */
let varintEnd = 0;
function readVarint(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const len = 1 << (b[p]! >> 6);
  if (p + len > end) return -1;
  let v = b[p]! & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[p + i]!;
  varintEnd = p + len;
  return v;
}

class GquicSession implements ClassifierSession {
  app: AppInfo | null = null;
  private datagrams = 0;
  /** Version seen in the flow's packets, for the frames' byte order; 0 until one is. */
  private version = 0;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.datagrams++;
    const end = Math.min(off + len, buf.length);
    const p = Math.max(off, 0);
    if (!readHeader(buf, p, end)) return this.app === null ? Verdict.REJECT : this.more();
    if (hdr.version !== 0) {
      this.version = hdr.version;
      this.label().details.quic_version = gquicVersionTag(hdr.version);
    }
    let done = false;
    if (hdr.kind === LONG_IETF) done = this.openInitial(buf, p, end, ctx);
    else done = this.readFrames(buf, hdr.framesAt, end, hdr.pnLen);
    if (this.app === null) return Verdict.REJECT;
    return done ? Verdict.DONE : this.more();
  }

  private more(): number {
    return this.datagrams >= MAX_DATAGRAMS ? Verdict.DONE : Verdict.MORE;
  }

  private label(): AppInfo {
    if (this.app === null) this.app = newAppInfo('QUIC', 'content');
    return this.app;
  }

  /** Unencrypted frames (public header and Q046): a CHLO ends the flow's inspection; a REJ names it QUIC. */
  private readFrames(b: Uint8Array, p: number, end: number, pnLen: number): boolean {
    // Without a version yet (a flow seen from a server packet on), assume Q039 or later, the last versions used.
    const n = this.version === 0 ? FIRST_BIG_ENDIAN_VERSION : versionNumber(this.version);
    if (n < FIRST_READ_VERSION) return false;
    const at = findMessage(b, p, end, pnLen, n >= FIRST_BIG_ENDIAN_VERSION);
    const tag = messageTag(b, at, msgEnd);
    if (tag === MSG_CHLO) {
      readChlo(b, at, msgEnd, this.label());
      return true;
    }
    if (tag === MSG_REJ) this.label();
    return false;
  }

  /**
   * A Q050 client Initial: RFC 9000 §17.2.2 header, protection as RFC 9001 §5 with Q050's salt; the
   * decrypted frames hold the CHLO in a CRYPTO frame (type 0x08, offset and length as varints).
   */
  private openInitial(b: Uint8Array, p: number, end: number, ctx: DpiContext): boolean {
    const info = quicVersionInfo(this.version);
    // The Initial type bits are 00; the CHLO comes from the client, whose Initials open with client keys.
    if (info === undefined || info.handshake !== 'chlo' || (b[p]! & 0x30) !== 0 || !ctx.fromClient) return false;
    const dcidLen = b[p + 5]!;
    const dcidOff = p + 6;
    let q = dcidOff + dcidLen;
    if (q >= end) return false;
    q += 1 + b[q]!; // SCID
    const token = readVarint(b, q, end);
    if (token < 0) return false;
    const length = readVarint(b, varintEnd + token, end);
    if (length < 20 || varintEnd + length > end) return false;
    const pnOffset = varintEnd;
    const keys = deriveInitialKeysAt(info, 0, b, dcidOff, dcidLen, false);
    const opened = openLongHeaderPacket(b, p, pnOffset, pnOffset + length, keys, info.leadingFrames);
    if (opened === null) return false;
    const f = opened.payload;
    let i = 0;
    while (i < f.length && (f[i] === 0x00 || f[i] === 0x07)) i++; // PADDING, PING
    if (f[i] !== 0x08 || readVarint(f, i + 1, f.length) < 0) return false;
    const dataLen = readVarint(f, varintEnd, f.length);
    if (dataLen < 0 || varintEnd + dataLen > f.length) return false;
    const at = varintEnd;
    if (messageTag(f, at, at + dataLen) !== MSG_CHLO) return false;
    readChlo(f, at, at + dataLen, this.label());
    return true;
  }
}

export const gquicClassifier: Classifier = {
  id: 'gquic',
  transports: Transport.UDP,

  detect(buf: Uint8Array, off: number, len: number, _ctx: DpiContext): number {
    const end = Math.min(off + len, buf.length);
    if (off < 0 || !readHeader(buf, off, end)) return Score.NO;
    // T05x with known keys are quic.ts's (it reads their TLS ClientHello).
    const info = quicVersionInfo(hdr.version);
    if (info !== undefined && info.handshake === 'tls') return Score.NO;
    if (hdr.version !== 0) return Score.CONTENT;
    // A packet without a version (from a server, or a client after agreement) counts only when its
    // frames hold a handshake message in clear: the server's REJ, or a repeated CHLO.
    const at = findMessage(buf, hdr.framesAt, end, hdr.pnLen, true);
    const tag = messageTag(buf, at, msgEnd);
    return tag === MSG_CHLO || tag === MSG_REJ ? Score.CONTENT : Score.NO;
  },

  start(): ClassifierSession {
    return new GquicSession();
  },
};
