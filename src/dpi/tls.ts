// TLS classifier: reassembles the ClientHello (and ServerHello) over TCP to read SNI, ALPN and version.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { parseClientHello, parseServerHello, type ClientHello, type ServerHello } from './client-hello.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { u16 } from '../core/bytes.js';
import { wireText, wireToken } from './wire-text.js';

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

const HTTP_ALPN = new Set(['http/1.1', 'http/1.0', 'h2', 'h2c', 'h3']);

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


/** The version a hello names: the newest listed one we know, else legacy_version. */
function helloVersion(hello: ServerHello): number {
  let best = -1;
  const versions = hello.versions;
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i]!;
    const rank = versionRank(v);
    if (rank >= 0 && (best < 0 || rank > versionRank(best))) best = v;
  }
  return best >= 0 ? best : hello.legacyVersion;
}

/**
 * When buf[off, off+len) starts with one handshake record (RFC 8446 §5.1) that holds a whole
 * handshake message of type `hsType`, the message's length (header included); else 0.
 */
function wholeMessageInFirstRecord(buf: Uint8Array, off: number, len: number, hsType: number): number {
  if (len < 9 || buf[off] !== CONTENT_HANDSHAKE || buf[off + 1] !== 3 || buf[off + 5] !== hsType) return 0;
  const recLen = u16(buf, off + 3);
  const total = 4 + ((buf[off + 6]! << 16) | (buf[off + 7]! << 8) | buf[off + 8]!);
  return recLen <= MAX_RECORD_LENGTH && total <= recLen && 5 + recLen <= len ? total : 0;
}

/**
 * One direction's handshake bytes: the TCP stream in sequence order (a few out-of-order segments
 * held back), with the TLS record headers stripped in place so that the front of `stream.data`
 * holds the handshake message bytes.
 */
class HandshakeStream {
  readonly stream: TcpStream;
  /** Offset of the next record header not yet consumed. */
  private recPos = 0;
  /** Handshake bytes gathered at the front of `data` (always <= recPos). */
  hsEnd = 0;

  constructor(limit: number) {
    this.stream = new TcpStream(limit, MAX_PENDING_SEGMENTS);
  }

  /**
   * Strip record headers of complete records into the handshake area. Returns the total length
   * (header included) of the first handshake message when it is complete, 0 while more bytes are
   * needed, -1 when the stream cannot carry a complete message of type `hsType`.
   */
  message(hsType: number): number {
    const s = this.stream;
    const d = s.data;
    for (;;) {
      if (this.hsEnd >= 4) {
        // RFC 8446 §4: Handshake = msg_type(1) length(3) body.
        if (d[0] !== hsType) return -1;
        const total = 4 + ((d[1]! << 16) | (d[2]! << 8) | d[3]!);
        if (this.hsEnd >= total) return total;
      }
      const r = this.recPos;
      if (r + 5 > s.kept) return s.full ? -1 : 0;
      // RFC 8446 §5.1: a handshake message may be fragmented over several records of type 22.
      if (d[r] !== CONTENT_HANDSHAKE || d[r + 1] !== 3) return -1;
      const recLen = u16(d, r + 3);
      if (recLen === 0 || recLen > MAX_RECORD_LENGTH) return -1;
      let recEnd = r + 5 + recLen;
      if (recEnd > s.kept) {
        if (!s.full) return 0;
        // At the bound: keep the part of the record we have so the caller can read a cut message.
        recEnd = s.kept;
      }
      d.copyWithin(this.hsEnd, r + 5, recEnd);
      this.hsEnd += recEnd - (r + 5);
      this.recPos = recEnd;
    }
  }
}

class TlsSession implements ClassifierSession {
  app: AppInfo | null = null;
  // Reassembly state is created only when a hello does not arrive whole in its first segment.
  private clientHs: HandshakeStream | null = null;
  private serverHs: HandshakeStream | null = null;
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
    // Common case: the first segment holds one record carrying the whole ClientHello. Read it in place
    // (no reassembly state is made at all).
    if (this.app === null && !this.clientStarted()) {
      const total = wholeMessageInFirstRecord(buf, off, len, HS_CLIENT_HELLO);
      if (total > 0) {
        const hello = parseClientHello(buf, off + 5, total);
        if (hello !== null) {
          this.recognise();
          this.applyClientHello(hello);
          this.clientDone = true;
          return;
        }
      }
    }
    const hs = (this.clientHs ??= new HandshakeStream(CLIENT_STREAM_LIMIT));
    const s = hs.stream;
    // The stream starts at the first segment that can begin a ClientHello record; segments seen
    // before it are held back in case they are its out-of-order continuation.
    if (!s.started && handshakePrefix(buf, off, len, HS_CLIENT_HELLO)) s.start(seq);
    if (s.push(buf, off, len, seq) !== Arrival.NEXT) {
      this.stalls++;
      return;
    }
    if (this.app === null) {
      // Claim the flow only once a whole record header and the hello's first bytes agree.
      const n = Math.min(s.kept, 10);
      if (!handshakePrefix(s.data, 0, n, HS_CLIENT_HELLO)) {
        this.clientBroken = true;
        return;
      }
      if (n >= 6) this.recognise();
    }
    const total = hs.message(HS_CLIENT_HELLO);
    if (total === 0) return;
    // At the bound the message is cut: its extensions that arrived whole are still read. A stream
    // that fails before the message even starts (or with the wrong type) is not a hello.
    const hello = parseClientHello(s.data, 0, total > 0 ? total : hs.hsEnd);
    if (hello !== null) this.applyClientHello(hello);
    else this.clientBroken = true;
    this.clientDone = true;
    s.release();
  }

  private feedServer(buf: Uint8Array, off: number, len: number, seq: number): void {
    if (this.clientDone) this.afterClientHello++;
    else this.stalls++;
    if (this.serverDone) return;
    if (this.app !== null && (this.serverHs === null || !this.serverHs.stream.started)) {
      // Common case: the first server segment holds a record with the whole ServerHello.
      const total = wholeMessageInFirstRecord(buf, off, len, HS_SERVER_HELLO);
      const hello = total > 0 ? parseServerHello(buf, off + 5, total) : null;
      if (hello !== null) {
        this.applyServerHello(hello);
        this.serverDone = true;
        return;
      }
    }
    const hs = (this.serverHs ??= new HandshakeStream(SERVER_STREAM_LIMIT));
    const s = hs.stream;
    if (!s.started) {
      if (startsHandshakeRecord(buf, off, len, HS_SERVER_HELLO)) {
        s.start(seq);
        // The ClientHello may be missing from the capture; the ServerHello still says TLS.
        this.recognise();
      } else if (this.app === null && !this.clientStarted()) {
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
    if (s.push(buf, off, len, seq) !== Arrival.NEXT) return;
    const total = hs.message(HS_SERVER_HELLO);
    if (total === 0) return;
    const hello = total > 0 ? parseServerHello(s.data, 0, total) : null;
    if (hello !== null) this.applyServerHello(hello);
    this.serverDone = true;
    s.release();
  }

  private applyServerHello(hello: ServerHello): void {
    if (this.app === null) return;
    const label = versionLabel(helloVersion(hello));
    if (label !== undefined) this.app.details.tls_version = label;
  }

  private clientStarted(): boolean {
    return this.clientHs !== null && this.clientHs.stream.started;
  }

  private recognise(): void {
    if (this.app === null) this.app = newAppInfo(this.port443 ? 'HTTPS' : 'TLS');
  }

  private applyClientHello(hello: ClientHello): void {
    const app = this.app;
    if (app === null) return;
    const d = app.details;
    const b = hello.bytes;
    if (hello.sniStart >= 0) {
      d.sni = wireText(b, hello.sniStart, hello.sniEnd);
      app.domain = d.sni;
    }
    const pairs = hello.alpn;
    if (pairs.length > 0) {
      // Sized up front: an array grown by push() from empty reserves 17 slots, and this one lives as
      // long as the connection.
      const alpn = new Array<string>(pairs.length >>> 1);
      let http = false;
      for (let i = 0; i < pairs.length; i += 2) {
        const name = wireToken(b, pairs[i]!, pairs[i + 1]!);
        if (HTTP_ALPN.has(name)) http = true;
        alpn[i >>> 1] = name;
      }
      d.alpn = alpn;
      if (http) app.protocol = 'HTTPS';
    }
    // Report the highest offered version; a later ServerHello may narrow it to the negotiated one.
    const label = versionLabel(helloVersion(hello));
    // Only take the ClientHello's answer when no ServerHello has spoken yet.
    if (label !== undefined && d.tls_version === undefined) d.tls_version = label;
    if (hello.ech) d.tls_ech = true;
  }

  private verdict(): number {
    if (this.app === null) {
      // Not TLS after all (or nothing that starts a hello within a few payloads, allowing for
      // out-of-order pieces held back): let another classifier try.
      if (this.clientBroken || this.clientDone) return Verdict.REJECT;
      if (!this.clientStarted() && (this.clientFeeds > MAX_PENDING_SEGMENTS || this.feeds >= STALL_LIMIT)) {
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
