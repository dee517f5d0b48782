// TLS classifier: reassembles the ClientHello (and ServerHello) over TCP to read SNI, ALPN and version.

import { MAX_LIST_ENTRIES, MAX_WIRE_STRING, newAppInfo, type AppInfo } from '../core/app-info.js';
import {
  Score,
  Transport,
  Verdict,
  type Classifier,
  type ClassifierSession,
  type DpiContext,
} from './classifier.js';

/** Most client→server bytes we reassemble while looking for the end of the ClientHello. */
const CLIENT_STREAM_LIMIT = 16 * 1024;
/** The ServerHello is small; this only has to cover it plus a record header or two. */
const SERVER_STREAM_LIMIT = 4 * 1024;
/** Out-of-order segments kept per direction until the gap before them is filled. */
const MAX_PENDING_SEGMENTS = 8;
/** RFC 8446 §5.1 / RFC 5246 §6.2.1: a plaintext record fragment is at most 2^14 bytes. */
const MAX_RECORD_LENGTH = 16384;
/** Payloads that add nothing to the ClientHello (duplicates, gaps, server data) before we give up. */
const STALL_LIMIT = 10;
/** Absolute bound on payloads inspected, however the ClientHello trickles in. */
const FEED_LIMIT = 40;
/** Payloads we keep waiting for the ServerHello once the ClientHello is parsed. */
const SERVER_HELLO_WAIT = 4;

/** RFC 8446 §5.1 ContentType.handshake. */
const CONTENT_HANDSHAKE = 22;
/** RFC 8446 §4 HandshakeType. */
const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
/** Extension code points: RFC 6066 §3, RFC 7301 §3.1, RFC 8446 §4.2, draft-ietf-tls-esni. */
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d;
/** The pre-standard ESNI extension (draft-ietf-tls-esni-00..03). */
const EXT_ENCRYPTED_SERVER_NAME = 0xffce;

const HTTP_ALPN = new Set(['http/1.1', 'http/1.0', 'h2', 'h2c', 'h3']);
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

function isTlsPort(port: number): boolean {
  return (
    port === 443 || port === 8443 || port === 993 || port === 995 || port === 465 || port === 636 ||
    port === 853
  );
}

/**
 * True when the payload starts with a TLS handshake record carrying (the start of) a ClientHello or
 * ServerHello; `hsType` 0 accepts either. Checks only bytes that are present.
 */
function startsHandshakeRecord(buf: Uint8Array, off: number, len: number, hsType: number): boolean {
  return len >= 5 && handshakePrefix(buf, off, len, hsType);
}

/**
 * The same checks on however many bytes are present (a segment may be shorter than a record
 * header). Fields of the hello header are only checked when the first record holds them: a
 * ClientHello may be fragmented into records of any size.
 */
function handshakePrefix(buf: Uint8Array, off: number, len: number, hsType: number): boolean {
  if (len < 1) return false;
  // RFC 8446 §5.1: ContentType handshake(22), legacy_record_version 0x0300..0x0304 (SSL 3.0 .. TLS 1.3).
  if (buf[off] !== CONTENT_HANDSHAKE) return false;
  if (len >= 2 && buf[off + 1] !== 3) return false;
  if (len >= 3 && buf[off + 2]! > 4) return false;
  if (len < 5) return true;
  const recLen = (buf[off + 3]! << 8) | buf[off + 4]!;
  if (recLen === 0 || recLen > MAX_RECORD_LENGTH) return false;
  if (len >= 6) {
    const t = buf[off + 5];
    if (hsType === 0 ? t !== HS_CLIENT_HELLO && t !== HS_SERVER_HELLO : t !== hsType) return false;
  }
  // A hello longer than 64 KiB does not happen; the top length byte is zero.
  if (len >= 7 && recLen >= 2 && buf[off + 6] !== 0) return false;
  // RFC 8446 §4.1.2/§4.1.3: the hello starts with legacy_version, major byte 3.
  if (len >= 10 && recLen >= 5 && buf[off + 9] !== 3) return false;
  return true;
}

/** RFC 8701: GREASE code points are 0x?a?a with both bytes equal. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** Rank of a protocol version (higher is newer), or -1 when unknown. */
function versionRank(v: number): number {
  if (v >= 0x0300 && v <= 0x0304) return v - 0x0300;
  // TLS 1.3 drafts were announced as 0x7f00 + draft number (RFC 8446 predecessors).
  if ((v & 0xff00) === 0x7f00) return 4;
  return -1;
}

function versionLabel(v: number): string | undefined {
  switch (v) {
    case 0x0300:
      return 'SSL 3.0';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0304:
      return 'TLS 1.3';
    default:
      return (v & 0xff00) === 0x7f00 ? 'TLS 1.3' : undefined;
  }
}

function u16(d: Uint8Array, p: number): number {
  return (d[p]! << 8) | d[p + 1]!;
}

function decodeWire(d: Uint8Array, p: number, n: number): string {
  const take = Math.min(n, MAX_WIRE_STRING * 4);
  const s = utf8.decode(d.subarray(p, p + take));
  return s.length > MAX_WIRE_STRING ? s.slice(0, MAX_WIRE_STRING) : s;
}

interface Segment {
  seq: number;
  bytes: Uint8Array;
}

/**
 * One direction's TCP byte stream, put back in sequence order (duplicates and overlaps trimmed,
 * a few out-of-order segments held back), with the TLS record headers stripped in place so that
 * the front of `data` holds the handshake message bytes.
 */
class HandshakeStream {
  data: Uint8Array = EMPTY;
  /** Stream bytes received in order so far (record headers included). */
  length = 0;
  hasBase = false;
  private base = 0;
  private pending: Segment[] = [];
  private pendingBytes = 0;
  /** Offset of the next record header not yet consumed. */
  private recPos = 0;
  /** Handshake bytes gathered at the front of `data` (always <= recPos). */
  hsEnd = 0;

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.length >= this.limit;
  }

  /** Fix the sequence number of stream byte 0 and take in any held-back segments after it. */
  start(seq: number): void {
    this.hasBase = true;
    this.base = seq;
    this.drain();
  }

  /** Add one segment; true when the in-order stream grew. */
  push(buf: Uint8Array, off: number, len: number, seq: number): boolean {
    if (len <= 0) return false;
    if (!this.hasBase) {
      this.hold(seq, buf, off, len);
      return false;
    }
    // Sequence arithmetic modulo 2^32 (RFC 9293 §3.4): the signed 32-bit difference.
    const rel = (seq - this.base) | 0;
    if (rel > this.length) {
      if (rel < this.limit) this.hold(seq, buf, off, len);
      return false;
    }
    if (!this.place(rel, buf, off, len)) return false;
    this.drain();
    return true;
  }

  /** Copy the part of a segment at stream offset `rel` (<= length) that extends the stream. */
  private place(rel: number, src: Uint8Array, off: number, len: number): boolean {
    const skip = this.length - rel;
    if (skip >= len) return false; // retransmission of bytes we already have
    let n = len - skip;
    if (n > this.limit - this.length) n = this.limit - this.length;
    if (n <= 0) return false;
    this.reserve(this.length + n);
    this.data.set(src.subarray(off + skip, off + skip + n), this.length);
    this.length += n;
    return true;
  }

  private reserve(size: number): void {
    if (size <= this.data.length) return;
    let cap = Math.max(this.data.length * 2, 2048);
    while (cap < size) cap *= 2;
    if (cap > this.limit) cap = this.limit;
    const next = new Uint8Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  private hold(seq: number, buf: Uint8Array, off: number, len: number): void {
    for (const p of this.pending) {
      if (p.seq === seq && p.bytes.length >= len) return;
    }
    if (this.pending.length >= MAX_PENDING_SEGMENTS || this.pendingBytes + len > this.limit) return;
    this.pending.push({ seq, bytes: buf.slice(off, off + len) });
    this.pendingBytes += len;
  }

  private drain(): void {
    let progress = true;
    while (progress && this.pending.length > 0) {
      progress = false;
      for (let i = 0; i < this.pending.length; i++) {
        const p = this.pending[i]!;
        const rel = (p.seq - this.base) | 0;
        if (rel > this.length) continue;
        this.place(rel, p.bytes, 0, p.bytes.length);
        this.pendingBytes -= p.bytes.length;
        this.pending.splice(i, 1);
        progress = true;
        break;
      }
    }
  }

  /**
   * Strip record headers of complete records into the handshake area. Returns the total length
   * (header included) of the first handshake message when it is complete, 0 while more bytes are
   * needed, -1 when the stream cannot carry a complete message of type `hsType`.
   */
  message(hsType: number): number {
    const d = this.data;
    for (;;) {
      if (this.hsEnd >= 4) {
        // RFC 8446 §4: Handshake = msg_type(1) length(3) body.
        if (d[0] !== hsType) return -1;
        const total = 4 + ((d[1]! << 16) | (d[2]! << 8) | d[3]!);
        if (this.hsEnd >= total) return total;
      }
      const r = this.recPos;
      if (r + 5 > this.length) return this.full ? -1 : 0;
      // RFC 8446 §5.1: a handshake message may be fragmented over several records of type 22.
      if (d[r] !== CONTENT_HANDSHAKE || d[r + 1] !== 3) return -1;
      const recLen = u16(d, r + 3);
      if (recLen === 0 || recLen > MAX_RECORD_LENGTH) return -1;
      let recEnd = r + 5 + recLen;
      if (recEnd > this.length) {
        if (!this.full) return 0;
        // At the bound: keep the part of the record we have so the caller can read a cut message.
        recEnd = this.length;
      }
      d.copyWithin(this.hsEnd, r + 5, recEnd);
      this.hsEnd += recEnd - (r + 5);
      this.recPos = recEnd;
    }
  }

  release(): void {
    this.data = EMPTY;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

interface HelloFields {
  legacyVersion: number;
  /** Best non-GREASE supported_versions entry (ClientHello) or the selected one (ServerHello); -1 if none. */
  version: number;
  sni: string | undefined;
  alpn: string[];
  ech: boolean;
}

function emptyFields(): HelloFields {
  return { legacyVersion: -1, version: -1, sni: undefined, alpn: [], ech: false };
}

/**
 * Walk the fixed part of a hello (from legacy_version through the compression methods) and return
 * the offset of the extensions block, or -1 when the structure does not fit. A message cut short
 * (we stopped reassembling at the bound) is parsed as far as whole fields go.
 */
function skipHelloPrefix(d: Uint8Array, p: number, end: number, client: boolean, out: HelloFields): number {
  // RFC 8446 §4.1.2/§4.1.3: legacy_version(2) random(32) legacy_session_id<0..32>.
  if (p + 35 > end) return -1;
  out.legacyVersion = u16(d, p);
  if (d[p] !== 3) return -1;
  p += 34;
  const sid = d[p]!;
  if (sid > 32) return -1;
  p += 1 + sid;
  if (client) {
    // cipher_suites<2..2^16-2> (pairs), legacy_compression_methods<1..2^8-1>.
    if (p + 2 > end) return -1;
    const cs = u16(d, p);
    if (cs < 2 || (cs & 1) !== 0) return -1;
    p += 2 + cs;
    if (p + 1 > end) return -1;
    const cm = d[p]!;
    if (cm < 1) return -1;
    p += 1 + cm;
  } else {
    // cipher_suite(2) legacy_compression_method(1).
    p += 3;
  }
  return p > end ? -1 : p;
}

/** Parse a ClientHello body d[p..end) (after the 4-byte handshake header). */
function parseClientHello(d: Uint8Array, p: number, end: number, out: HelloFields): boolean {
  p = skipHelloPrefix(d, p, end, true, out);
  if (p < 0) return false;
  // RFC 5246 §7.4.1.2: before TLS 1.3 the extensions block may be absent altogether.
  if (p + 2 > end) return true;
  const extEnd = Math.min(p + 2 + u16(d, p), end);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(d, p);
    const len = u16(d, p + 2);
    p += 4;
    if (p + len > extEnd) break; // cut short: keep what we read so far
    if (type === EXT_SERVER_NAME) readServerName(d, p, p + len, out);
    else if (type === EXT_ALPN) readAlpn(d, p, p + len, out);
    else if (type === EXT_SUPPORTED_VERSIONS) readClientVersions(d, p, p + len, out);
    else if (type === EXT_ENCRYPTED_CLIENT_HELLO || type === EXT_ENCRYPTED_SERVER_NAME) out.ech = true;
    p += len;
  }
  return true;
}

/** RFC 6066 §3: ServerNameList of (name_type, HostName<1..2^16-1>); we take the first host_name(0). */
function readServerName(d: Uint8Array, p: number, end: number, out: HelloFields): void {
  if (out.sni !== undefined || p + 2 > end) return;
  const listEnd = Math.min(p + 2 + u16(d, p), end);
  p += 2;
  while (p + 3 <= listEnd) {
    const type = d[p]!;
    const n = u16(d, p + 1);
    p += 3;
    if (p + n > listEnd) return;
    // With ECH this is the outer ClientHello's public name, the only one visible on the wire.
    if (type === 0 && n > 0) {
      out.sni = decodeWire(d, p, n);
      return;
    }
    p += n;
  }
}

/** RFC 7301 §3.1: ProtocolNameList of ProtocolName<1..2^8-1>. */
function readAlpn(d: Uint8Array, p: number, end: number, out: HelloFields): void {
  if (out.alpn.length > 0 || p + 2 > end) return;
  const listEnd = Math.min(p + 2 + u16(d, p), end);
  p += 2;
  while (p < listEnd && out.alpn.length < MAX_LIST_ENTRIES) {
    const n = d[p]!;
    p += 1;
    if (n === 0 || p + n > listEnd) return;
    out.alpn.push(decodeWire(d, p, n));
    p += n;
  }
}

/** RFC 8446 §4.2.1: ClientHello form, ProtocolVersion versions<2..254>. */
function readClientVersions(d: Uint8Array, p: number, end: number, out: HelloFields): void {
  if (p + 1 > end) return;
  const listEnd = Math.min(p + 1 + d[p]!, end);
  p += 1;
  for (; p + 2 <= listEnd; p += 2) {
    const v = u16(d, p);
    if (isGrease(v)) continue;
    const rank = versionRank(v);
    if (rank >= 0 && (out.version < 0 || rank > versionRank(out.version))) out.version = v;
  }
}

/** Parse a ServerHello body: the negotiated version, from supported_versions when present. */
function parseServerHello(d: Uint8Array, p: number, end: number, out: HelloFields): boolean {
  p = skipHelloPrefix(d, p, end, false, out);
  if (p < 0) return false;
  if (p + 2 > end) return true;
  const extEnd = Math.min(p + 2 + u16(d, p), end);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(d, p);
    const len = u16(d, p + 2);
    p += 4;
    if (p + len > extEnd) break;
    // RFC 8446 §4.2.1: in a ServerHello the extension holds the single selected_version.
    if (type === EXT_SUPPORTED_VERSIONS && len === 2) {
      const v = u16(d, p);
      if (!isGrease(v) && versionRank(v) >= 0) out.version = v;
    }
    p += len;
  }
  return true;
}

class TlsSession implements ClassifierSession {
  app: AppInfo | null = null;
  private readonly client = new HandshakeStream(CLIENT_STREAM_LIMIT);
  private readonly server = new HandshakeStream(SERVER_STREAM_LIMIT);
  private port443 = false;
  private feeds = 0;
  private clientFeeds = 0;
  private stalls = 0;
  private afterClientHello = 0;
  /** The ClientHello has been read (fully, or as far as our bound allowed). */
  private clientDone = false;
  /** Nothing more to learn from the server side (ServerHello read, or it will not come). */
  private serverDone = false;
  /** The client stream turned out not to carry a ClientHello we can read. */
  private clientBroken = false;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (this.feeds === 0) this.port443 = ctx.srcPort === 443 || ctx.dstPort === 443;
    this.feeds++;
    if (len > 0 && off >= 0 && off + len <= buf.length) {
      if (ctx.fromClient) this.feedClient(buf, off, len, ctx.seq >>> 0);
      else this.feedServer(buf, off, len, ctx.seq >>> 0);
    }
    return this.verdict();
  }

  private feedClient(buf: Uint8Array, off: number, len: number, seq: number): void {
    this.clientFeeds++;
    if (this.clientDone) {
      this.afterClientHello++;
      return;
    }
    const s = this.client;
    // The stream starts at the first segment that can begin a ClientHello record; segments seen
    // before it are held back in case they are its out-of-order continuation.
    if (!s.hasBase && handshakePrefix(buf, off, len, HS_CLIENT_HELLO)) s.start(seq);
    if (!s.push(buf, off, len, seq)) {
      this.stalls++;
      return;
    }
    if (this.app === null) {
      // Claim the flow only once a whole record header and the hello's first bytes agree.
      const n = Math.min(s.length, 10);
      if (!handshakePrefix(s.data, 0, n, HS_CLIENT_HELLO)) {
        this.clientBroken = true;
        return;
      }
      if (n >= 6) this.recognise();
    }
    const total = s.message(HS_CLIENT_HELLO);
    if (total === 0) return;
    const fields = emptyFields();
    const end = total > 0 ? total : s.hsEnd;
    // A stream that fails before the message even starts (or with the wrong type) is not a hello.
    if (end >= 4 && s.data[0] === HS_CLIENT_HELLO && parseClientHello(s.data, 4, end, fields)) {
      this.applyClientHello(fields);
    } else {
      this.clientBroken = true;
    }
    this.clientDone = true;
    s.release();
  }

  private feedServer(buf: Uint8Array, off: number, len: number, seq: number): void {
    if (this.clientDone) this.afterClientHello++;
    else this.stalls++;
    if (this.serverDone) return;
    const s = this.server;
    if (!s.hasBase) {
      if (startsHandshakeRecord(buf, off, len, HS_SERVER_HELLO)) {
        s.start(seq);
        // The ClientHello may be missing from the capture; the ServerHello still says TLS.
        this.recognise();
      } else if (this.app === null && !this.client.hasBase) {
        // The server speaks before any ClientHello began, and not with a ServerHello: in TLS the
        // client speaks first (RFC 8446 §2), so this is some other protocol.
        this.clientBroken = true;
        return;
      } else if (this.clientDone) {
        // Servers answer a ClientHello with a ServerHello first (RFC 8446 §2); anything else
        // (an alert, or data from the middle of the stream) means no ServerHello to read.
        this.serverDone = true;
        return;
      }
    }
    if (!s.push(buf, off, len, seq)) return;
    const total = s.message(HS_SERVER_HELLO);
    if (total === 0) return;
    if (total > 0) {
      const fields = emptyFields();
      if (parseServerHello(s.data, 4, total, fields) && this.app !== null) {
        const v = fields.version >= 0 ? fields.version : fields.legacyVersion;
        const label = versionLabel(v);
        if (label !== undefined) this.app.details.tls_version = label;
      }
    }
    this.serverDone = true;
    s.release();
  }

  private recognise(): void {
    if (this.app === null) this.app = newAppInfo(this.port443 ? 'HTTPS' : 'TLS');
  }

  private applyClientHello(f: HelloFields): void {
    const app = this.app;
    if (app === null) return;
    const d = app.details;
    if (f.sni !== undefined) {
      d.sni = f.sni;
      app.domain = f.sni;
    }
    if (f.alpn.length > 0) {
      d.alpn = f.alpn;
      if (f.alpn.some((p) => HTTP_ALPN.has(p))) app.protocol = 'HTTPS';
    }
    // Report the highest offered version; a later ServerHello may narrow it to the negotiated one.
    const label = versionLabel(f.version >= 0 ? f.version : f.legacyVersion);
    // Only take the ClientHello's answer when no ServerHello has spoken yet.
    if (label !== undefined && d.tls_version === undefined) d.tls_version = label;
    if (f.ech) d.tls_ech = true;
  }

  private verdict(): number {
    if (this.app === null) {
      // Not TLS after all (or nothing that starts a hello within a few payloads, allowing for
      // out-of-order pieces held back): let another classifier try.
      if (this.clientBroken || this.clientDone) return Verdict.REJECT;
      if (!this.client.hasBase && (this.clientFeeds > MAX_PENDING_SEGMENTS || this.feeds >= STALL_LIMIT)) {
        return Verdict.REJECT;
      }
      return this.stalls >= STALL_LIMIT || this.feeds >= FEED_LIMIT ? Verdict.REJECT : Verdict.MORE;
    }
    if (this.clientDone) {
      if (this.serverDone || this.afterClientHello >= SERVER_HELLO_WAIT || this.clientBroken) {
        return Verdict.DONE;
      }
      return this.feeds >= FEED_LIMIT ? Verdict.DONE : Verdict.MORE;
    }
    if (this.stalls >= STALL_LIMIT || this.feeds >= FEED_LIMIT) return Verdict.DONE;
    return Verdict.MORE;
  }
}

export const tlsClassifier: Classifier = {
  id: 'tls',
  transports: Transport.TCP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (len > 0 && off >= 0 && off + len <= buf.length && startsHandshakeRecord(buf, off, len, 0)) {
      return Score.CONTENT;
    }
    return isTlsPort(ctx.srcPort) || isTlsPort(ctx.dstPort) ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new TlsSession();
  },
};
