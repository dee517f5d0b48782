// TLS classifier: reassembles the ClientHello (and ServerHello) over TCP to read SNI, ALPN and version;
// without a handshake, recognises the record layer of a connection joined mid-stream.

import { newAppInfo, type AppInfo, type AppProtocol } from '../core/app-info.js';
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
/**
 * RFC 8446 §5.1 content types change_cipher_spec(20), alert(21), handshake(22), application_data(23),
 * and heartbeat(24) of RFC 6520: what a record header may carry.
 */
const FIRST_CONTENT_TYPE = 20;
const LAST_CONTENT_TYPE = 24;
const CONTENT_ALERT = 21;
/**
 * RFC 5246 §6.2.3: a protected record is at most 2^14 + 2048 bytes (RFC 8446 §5.2 allows 2^14 + 256);
 * the larger bound of the two covers every version.
 */
const MAX_CIPHERTEXT_LENGTH = 16384 + 2048;
/** Record headers that must each sit where the one before said it ends, before a flow is called TLS mid-stream. */
const MID_STREAM_RECORDS = 2;
/**
 * Payloads a mid-stream search may take, both directions together, before it gives up: room for a
 * record of 2^14 bytes in ~1,400-byte segments to end where the next header must be. Each one costs a
 * few comparisons, except for the segments searched whole (MID_STREAM_SCANS).
 */
const MID_STREAM_FEEDS = 24;
/** Segments per direction searched whole for a record header; later ones are only looked at where a header is due. */
const MID_STREAM_SCANS = 8;
/** Most bytes of one segment searched for a record header. */
const SCAN_LIMIT = 16 * 1024;
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

/**
 * The length of the record whose 5-byte header is (t, major, minor, hi, lo) when it is a plausible TLS
 * record header (RFC 8446 §5.1, RFC 5246 §6.2: content type 20–24, version 0x0300–0x0304, a length
 * the RFCs allow), else -1.
 */
function recordLength(t: number, major: number, minor: number, hi: number, lo: number): number {
  if (t < FIRST_CONTENT_TYPE || t > LAST_CONTENT_TYPE || major !== 3 || minor > 4) return -1;
  const n = (hi << 8) | lo;
  if (n === 0 || n > MAX_CIPHERTEXT_LENGTH) return -1;
  // RFC 8446 §6: an alert is at least its level and description.
  if (t === CONTENT_ALERT && n < 2) return -1;
  return n;
}

function recordLengthAt(b: Uint8Array, p: number): number {
  return recordLength(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
}

// What scanRecords() found (module scratch, so the search allocates nothing).
/** Offset of the first header of the chain, or -1 when none survived. */
let chainStart = -1;
/** Headers in the chain, each where the one before said. */
let chainRecords = 0;
/** Offset where the next header is due (at or past the end of the bytes searched). */
let chainNext = 0;
/** Minor version byte the chain's headers share. */
let chainMinor = 0;

/**
 * Looks in b[from, end) for a run of TLS record headers, each where the previous record ends, that
 * holds up to the end of the bytes: from `from` first, then (unless `startOnly`) at every later offset,
 * up to SCAN_LIMIT bytes. A header whose record ends inside the bytes must be followed by another one
 * with the same version. Sets the chain* scratch; chainStart is -1 when nothing holds.
 */
function scanRecords(b: Uint8Array, from: number, end: number, startOnly: boolean): void {
  chainStart = -1;
  const limit = startOnly ? Math.min(end, from + 5) : Math.min(end, from + SCAN_LIMIT);
  for (let i = from; i + 5 <= limit; i++) {
    // Cheap first test: most bytes are not a content type followed by major version 3.
    const t = b[i]!;
    if (t < FIRST_CONTENT_TYPE || t > LAST_CONTENT_TYPE || b[i + 1] !== 3) continue;
    const n = recordLengthAt(b, i);
    if (n < 0) continue;
    const minor = b[i + 2]!;
    let count = 1;
    let p = i + 5 + n;
    while (p + 5 <= end) {
      const m = recordLengthAt(b, p);
      if (m < 0 || b[p + 2] !== minor) break;
      count++;
      p += 5 + m;
    }
    if (p + 5 <= end) continue; // a header that should be there is not
    chainStart = i;
    chainRecords = count;
    chainNext = p;
    chainMinor = minor;
    return;
  }
}

/**
 * One direction of a connection joined mid-stream: finds a TLS record header and checks that the next
 * one sits where its length says, across segments, by TCP sequence number alone (nothing is copied but
 * the first bytes of a header cut by a segment's end).
 */
class RecordWalker {
  /** A header was found and the next one's position is known. */
  anchored = false;
  /** Sequence number where the next header is due. */
  next = 0;
  /** Minor version byte of the chain (every record of a connection carries the same one). */
  minor = 0;
  /** Headers of the chain so far. */
  records = 0;
  /** Up to 4 bytes of the due header that ended the last segment, big-endian, and how many. */
  private partial = 0;
  private partialLength = 0;
  /** Segments searched whole so far. */
  scans = 0;

  /** True while this direction may still find a chain. */
  get alive(): boolean {
    return this.anchored || this.scans < MID_STREAM_SCANS;
  }

  /** Take one segment; true once MID_STREAM_RECORDS headers have been seen in a row. */
  push(b: Uint8Array, off: number, len: number, seq: number): boolean {
    const end = off + len;
    let p = off;
    if (this.anchored) {
      if (this.partialLength > 0) {
        const want = (this.next + this.partialLength) >>> 0;
        const rel = (seq - want) | 0;
        // A retransmission of bytes already walked over changes nothing.
        if (rel < 0 && rel + len <= 0) return false;
        if (rel !== 0) {
          this.lose();
        } else {
          const need = 5 - this.partialLength;
          if (len < need) {
            for (let k = 0; k < len; k++) this.partial = this.partial * 256 + b[off + k]!;
            this.partialLength += len;
            return false;
          }
          let h = this.partial;
          for (let k = 0; k < need; k++) h = h * 256 + b[off + k]!;
          this.partialLength = 0;
          this.partial = 0;
          // h holds the 5 header bytes (40 bits: arithmetic, not bit operators).
          const t = Math.floor(h / 2 ** 32);
          const rest = h % 2 ** 32;
          const minor = (rest >>> 16) & 0xff;
          const n = recordLength(t, rest >>> 24, minor, (rest >>> 8) & 0xff, rest & 0xff);
          if (n < 0 || minor !== this.minor) {
            this.lose();
          } else {
            this.records++;
            this.next = (this.next + 5 + n) >>> 0;
          }
        }
      }
      while (this.anchored) {
        const rel = (this.next - seq) | 0;
        // The due header lies in bytes we did not see (a segment lost or still to come): start over.
        if (rel < 0) {
          this.lose();
          break;
        }
        // Still inside a record's body (or a retransmission of bytes walked over before).
        if (rel >= len) break;
        const at = off + rel;
        if (end - at < 5) {
          for (let k = at; k < end; k++) this.partial = this.partial * 256 + b[k]!;
          this.partialLength = end - at;
          break;
        }
        const n = recordLengthAt(b, at);
        if (n < 0 || b[at + 2] !== this.minor) {
          this.lose();
          p = at + 1;
          break;
        }
        this.records++;
        this.next = (this.next + 5 + n) >>> 0;
      }
      if (this.anchored) return this.records >= MID_STREAM_RECORDS;
    }
    if (this.scans >= MID_STREAM_SCANS || p >= end) return false;
    this.scans++;
    scanRecords(b, p, end, false);
    if (chainStart < 0) return false;
    this.anchored = true;
    this.records = chainRecords;
    this.minor = chainMinor;
    this.next = (seq + (chainNext - off)) >>> 0;
    if (chainNext < end) {
      // The next header starts in this segment's last bytes.
      for (let k = chainNext; k < end; k++) this.partial = this.partial * 256 + b[k]!;
      this.partialLength = end - chainNext;
    }
    return this.records >= MID_STREAM_RECORDS;
  }

  private lose(): void {
    this.anchored = false;
    this.records = 0;
    this.partial = 0;
    this.partialLength = 0;
  }
}

/** What the record layer's version says (RFC 8446 §5.1: TLS 1.3 records carry 0x0303, as TLS 1.2's do). */
function recordVersionLabel(minor: number): string {
  return minor === 3 ? 'TLS 1.2 or 1.3' : versionLabel(0x0300 | minor)!;
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
  /**
   * Without a hello to read, the record layer of each direction (made on the first payload that gives
   * no label, i.e. only for connections joined after their handshake).
   */
  private midClient: RecordWalker | null = null;
  private midServer: RecordWalker | null = null;
  private midFeeds = 0;
  /** Recognised from the record layer alone. */
  private midStream = false;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (this.feeds === 0) this.port443 = ctx.srcPort === 443 || ctx.dstPort === 443;
    this.feeds++;
    if (len > 0 && off >= 0 && off + len <= buf.length) {
      const seq = ctx.seq >>> 0;
      if (ctx.fromClient) this.feedClient(buf, off, len, seq);
      else this.feedServer(buf, off, len, seq);
      if (this.app === null && this.midFeeds < MID_STREAM_FEEDS) this.feedMidStream(buf, off, len, seq, ctx.fromClient);
    }
    return this.verdict();
  }

  /**
   * Connections joined after their handshake: records in either direction, a header where the previous
   * one ends, two in a row (the direction of the flow's first packet need not be the TLS client's).
   */
  private feedMidStream(buf: Uint8Array, off: number, len: number, seq: number, fromClient: boolean): void {
    this.midFeeds++;
    const walker = fromClient ? (this.midClient ??= new RecordWalker()) : (this.midServer ??= new RecordWalker());
    if (!walker.push(buf, off, len, seq)) return;
    this.midStream = true;
    this.recognise();
    const app = this.app!;
    app.confidence = 'mid-stream';
    app.details.tls_version = recordVersionLabel(walker.minor);
  }

  /** True while the record layer may still be recognised. */
  private midStreamAlive(): boolean {
    if (this.midFeeds >= MID_STREAM_FEEDS) return false;
    const c = this.midClient;
    const s = this.midServer;
    if ((c !== null && c.alive) || (s !== null && s.alive)) return true;
    // A direction not seen yet may still bring records (a client's long burst comes before any answer).
    return c === null || s === null;
  }

  private feedClient(buf: Uint8Array, off: number, len: number, seq: number): void {
    this.clientFeeds++;
    if (this.clientDone) {
      this.afterClientHello++;
      return;
    }
    // No hello will come (the server spoke first, or the stream is not one): hold nothing back for it.
    if (this.clientBroken) return;
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
    // The record layer is all a connection joined mid-stream shows: nothing more to learn.
    if (this.midStream) return Verdict.DONE;
    if (this.app === null) {
      // Not TLS after all (or nothing that starts a hello within a few payloads, allowing for
      // out-of-order pieces held back), and no record layer either: let another classifier try.
      const rejected =
        this.clientBroken || this.clientDone ||
        (!this.clientStarted() && (this.clientFeeds > MAX_PENDING_SEGMENTS || this.feeds >= STALL_LIMIT)) ||
        this.stalls >= STALL_LIMIT || this.feeds >= FEED_LIMIT;
      return rejected && !this.midStreamAlive() ? Verdict.REJECT : Verdict.MORE;
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
    if (len > 0 && off >= 0 && off + len <= buf.length) {
      if (startsHandshakeRecord(buf, off, len, 0)) return Score.CONTENT;
      // Mid-stream: records from the segment's first byte that hold up to its end. Only the start is
      // looked at here (every unclaimed TCP payload of every flow comes by); sessions on TLS's ports
      // search whole segments. The session still wants the next header before it says TLS.
      scanRecords(buf, off, off + len, true);
      if (chainStart === off) return Score.FRAMING;
    }
    return isTlsPort(ctx.srcPort) || isTlsPort(ctx.dstPort) ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new TlsSession();
  },
  guess(ctx: DpiContext): AppProtocol | undefined {
    if (ctx.srcPort === 443 || ctx.dstPort === 443) return 'HTTPS';
    return isTlsPort(ctx.srcPort) || isTlsPort(ctx.dstPort) ? 'TLS' : undefined;
  },
};
