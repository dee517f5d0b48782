// HTTP/1.x classifier: first request (method, target, Host), response status, and TLS inside CONNECT tunnels;
// on a connection joined mid-stream, the first status line or request found at a segment's start.

import { newAppInfo, type AppInfo, type AppProtocol } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { wireText, wireToken } from './wire-text.js';
import { tlsClassifier } from './tls.js';

/** Most bytes of the first request's header block we read before giving up on its end. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Longest line we keep while it is split over segments (longer lines are cut, not dropped). */
const MAX_LINE_BYTES = 8 * 1024;
/** Payloads inspected before we stop, whatever is still missing. */
const FEED_LIMIT = 10;
/** How far detect() looks for the end of the request line. */
const DETECT_SCAN = 2048;
/** RFC 9110 §4.2.1: the http scheme's default port, the only one that alone suggests HTTP. */
const HTTP_PORT = 80;

/**
 * Request methods of RFC 9110 §9.3, PATCH (RFC 5789) and the WebDAV methods of RFC 4918 §9,
 * which start ordinary HTTP/1.1 requests on the same connections.
 */
const METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK',
].map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)));

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);

/** Length of the method token at buf[off..end) when it is a known method followed by SP, else 0. */
function methodLength(buf: Uint8Array, off: number, end: number): number {
  // Indexed loop: detect() must not allocate, not even an iterator.
  for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k]!;
    if (off + m.length >= end || buf[off + m.length] !== SP) continue;
    let i = 0;
    while (i < m.length && buf[off + i] === m[i]) i++;
    if (i === m.length) return i;
  }
  return 0;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; we take major version 1 only. */
function isHttp1Version(buf: Uint8Array, p: number, end: number): boolean {
  return (
    p + 8 <= end &&
    buf[p] === 0x48 && buf[p + 1] === 0x54 && buf[p + 2] === 0x54 && buf[p + 3] === 0x50 &&
    buf[p + 4] === 0x2f && buf[p + 5] === 0x31 && buf[p + 6] === 0x2e && isDigit(buf[p + 7])
  );
}

/** RFC 9112 §4: status-line = HTTP-version SP 3DIGIT SP [reason-phrase]. Returns the code or -1. */
function statusCode(buf: Uint8Array, p: number, end: number): number {
  if (!isHttp1Version(buf, p, end) || p + 12 > end || buf[p + 8] !== SP) return -1;
  if (!isDigit(buf[p + 9]) || !isDigit(buf[p + 10]) || !isDigit(buf[p + 11])) return -1;
  // The reason phrase is optional but the separator must follow the code when more bytes are there.
  if (p + 12 < end && buf[p + 12] !== SP && buf[p + 12] !== CR && buf[p + 12] !== LF) return -1;
  const code = (buf[p + 9]! - 0x30) * 100 + (buf[p + 10]! - 0x30) * 10 + (buf[p + 11]! - 0x30);
  return code >= 100 && code <= 599 ? code : -1;
}

/**
 * RFC 9112 §3: request-line = method SP request-target SP HTTP-version. The shape is what tells
 * HTTP from other bytes: a known method and SP at the start, and, when the line end is in `buf`,
 * SP HTTP/1.x just before it. The target between them may hold any byte but LF, control bytes
 * included, as tshark reads it: rejecting those would let a client hide its request (method, Host,
 * path) behind one ESC. They are escaped where they are shown, not here. A line cut by the segment
 * end is taken on its method alone; the session checks the version once the line is complete and
 * labels nothing before that.
 */
function looksLikeRequest(buf: Uint8Array, off: number, len: number): boolean {
  const end = off + len;
  const m = methodLength(buf, off, end);
  if (m === 0) return false;
  const limit = Math.min(end, off + DETECT_SCAN);
  let p = off + m + 1;
  if (p < limit && (buf[p] === SP || buf[p] === CR || buf[p] === LF)) return false;
  for (; p < limit; p++) {
    if (buf[p] === LF) {
      const lineEnd = p > off && buf[p - 1] === CR ? p - 1 : p;
      return lineEnd - 9 > off + m && buf[lineEnd - 9] === SP && isHttp1Version(buf, lineEnd - 8, lineEnd);
    }
  }
  return true;
}

function asciiLower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Case-insensitive match of a header name (given in lower case) followed by ':' at d[p]. */
function isHeader(d: Uint8Array, p: number, end: number, name: string): boolean {
  if (p + name.length >= end || d[p + name.length] !== 0x3a) return false;
  for (let i = 0; i < name.length; i++) {
    if (asciiLower(d[p + i]!) !== name.charCodeAt(i)) return false;
  }
  return true;
}


/** Field value without the optional whitespace around it (RFC 9110 §5.5, OWS). */
function trimmedValue(d: Uint8Array, p: number, end: number): string {
  while (p < end && (d[p] === SP || d[p] === HT)) p++;
  while (end > p && (d[end - 1] === SP || d[end - 1] === HT)) end--;
  return wireText(d, p, end);
}

/** Where a LineReader delivers the bytes of one direction (`client` says which). */
interface LineSink {
  /** One complete line d[start..end) without CR LF; return true to stop reading this segment. */
  line(client: boolean, d: Uint8Array, start: number, end: number): boolean;
  /** Raw bytes (a message body) to pass over before the next line starts. */
  bodyLeft(client: boolean): number;
  skipped(client: boolean, n: number): void;
}

/**
 * Splits one direction's bytes into lines, in TCP sequence order: retransmitted bytes are skipped;
 * after a gap (a segment missing or still to come) `desync` is set and nothing more is read.
 */
class LineReader {
  private line: Uint8Array = EMPTY;
  private lineLen = 0;
  private readonly stream = new TcpStream();
  desync = false;

  constructor(
    private readonly sink: LineSink,
    private readonly client: boolean,
  ) {}

  /** Read from `seq` on as from the start of a message, forgetting any line in progress. */
  restart(seq: number): void {
    this.desync = false;
    this.lineLen = 0;
    this.stream.start(seq);
  }

  push(buf: Uint8Array, off: number, len: number, seq: number): void {
    if (this.desync) return;
    if (!this.stream.started) this.stream.start(seq);
    const arrival = this.stream.push(buf, off, len, seq);
    if (arrival === Arrival.GAP) {
      this.desync = true;
      return;
    }
    if (arrival !== Arrival.NEXT) return; // a retransmission of bytes already read
    let p = this.stream.fresh;
    const end = off + len;
    const sink = this.sink;
    const client = this.client;
    while (p < end) {
      const skip = sink.bodyLeft(client);
      if (skip > 0) {
        const n = Math.min(skip, end - p);
        sink.skipped(client, n);
        p += n;
        continue;
      }
      let q = p;
      while (q < end && buf[q] !== LF) q++;
      if (q === end) {
        this.keep(buf, p, end);
        return;
      }
      let stop: boolean;
      if (this.lineLen > 0) {
        this.keep(buf, p, q);
        const n = this.lineLen;
        stop = sink.line(client, this.line, 0, this.line[n - 1] === CR ? n - 1 : n);
        this.lineLen = 0;
      } else {
        stop = sink.line(client, buf, p, q > p && buf[q - 1] === CR ? q - 1 : q);
      }
      p = q + 1;
      if (stop) return;
    }
  }

  /** Hold the start of a line split over segments (cut at MAX_LINE_BYTES). */
  private keep(buf: Uint8Array, p: number, end: number): void {
    let n = end - p;
    if (this.lineLen + n > MAX_LINE_BYTES) n = MAX_LINE_BYTES - this.lineLen;
    if (n <= 0) return;
    if (this.line.length < this.lineLen + n) {
      const next = new Uint8Array(Math.min(MAX_LINE_BYTES, Math.max(256, (this.lineLen + n) * 2)));
      next.set(this.line.subarray(0, this.lineLen));
      this.line = next;
    }
    this.line.set(buf.subarray(p, p + n), this.lineLen);
    this.lineLen += n;
  }
}

const Phase = { START: 0, HEADERS: 1, BODY: 2, STOP: 3 } as const;

/** Where a CONNECT tunnel stands (RFC 9110 §9.3.6). */
const Tunnel = {
  NONE: 0,
  /** A 2xx answered the CONNECT; its header section is still being read. */
  OPENING: 1,
  /** Bytes from now on belong to the tunnelled protocol. */
  OPEN: 2,
} as const;

class HttpSession implements ClassifierSession, LineSink {
  app: AppInfo | null = null;
  private readonly clientLines = new LineReader(this, true);
  private readonly serverLines = new LineReader(this, false);
  private feeds = 0;
  private requests = 0;
  private clientPhase: number = Phase.START;
  private serverPhase: number = Phase.START;
  /** Header bytes of the first request read so far. */
  private headerBytes = 0;
  private contentLength = 0;
  private chunked = false;
  private requestBodyLeft = 0;
  private method = '';
  private target = '';
  private host: string | undefined = undefined;
  /** First request's header block fully read (or abandoned). */
  private requestDone = false;
  /** A final (non-1xx) status was seen, or the server side cannot tell us one. */
  private responseDone = false;
  /** A first line that is not HTTP/1.x: not our protocol. */
  private foreign = false;
  private tunnel: number = Tunnel.NONE;
  /** The TLS session reading a CONNECT tunnel's handshake, once one starts. */
  private tunnelTls: ClassifierSession | null = null;
  /**
   * The session did not see the connection from its start: it came after other payloads of the flow,
   * or after bytes that start no message, or the first message was a response without its request.
   * A label found then is 'mid-stream', and bytes that start no message are passed over (a message
   * start is looked for at later segments' starts) instead of ending the session.
   */
  private midStream: boolean;
  /** Which side sends requests is known (from the first message start found). */
  private rolesKnown = false;
  /** The flow's first sender is the HTTP server (a capture that began after the request). */
  private swapped = false;
  /**
   * A direction is looking for a message start at the start of its next segments (rather than reading
   * lines, which would join a request that starts a segment to the unended line of a body before it).
   */
  private clientSearching: boolean;
  private serverSearching: boolean;
  /** A status line was read (the server's stream was in step at least once). */
  private statusSeen = false;

  constructor(midStream: boolean) {
    this.midStream = midStream;
    this.clientSearching = midStream;
    this.serverSearching = midStream;
  }

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.feeds++;
    if (this.tunnel === Tunnel.OPEN) return this.feedTunnel(buf, off, len, ctx);
    if (len > 0 && off >= 0 && off + len <= buf.length) this.take(buf, off, len, ctx);
    if (this.app === null) {
      return this.foreign || this.feeds >= FEED_LIMIT ? Verdict.REJECT : Verdict.MORE;
    }
    if (this.tunnel === Tunnel.OPEN) return Verdict.MORE;
    if ((this.requestDone && this.responseDone && this.tunnel === Tunnel.NONE) || this.feeds >= FEED_LIMIT) {
      this.finishRequest();
      return Verdict.DONE;
    }
    return Verdict.MORE;
  }

  /** One segment to the reader of its sender's role (requests or responses). */
  private take(buf: Uint8Array, off: number, len: number, ctx: DpiContext): void {
    const seq = ctx.seq >>> 0;
    if (!this.rolesKnown && !this.findRoles(buf, off, len, ctx.fromClient)) return;
    if (ctx.fromClient !== this.swapped) {
      if (this.clientPhase === Phase.STOP) return;
      if (this.clientSearching) {
        // RFC 9112 §2.1: a message starts with its start-line; only a segment that begins with one resumes.
        if (!looksLikeRequest(buf, off, len)) return;
        this.clientSearching = false;
        this.clientLines.restart(seq);
      }
      this.clientLines.push(buf, off, len, seq);
      if (this.clientLines.desync) this.stopClient();
    } else {
      if (this.serverPhase === Phase.STOP) return;
      if (this.serverSearching) {
        if (statusCode(buf, off, off + len) < 0) return;
        this.serverSearching = false;
        this.serverLines.restart(seq);
      }
      this.serverLines.push(buf, off, len, seq);
      if (this.serverLines.desync) this.stopServer();
    }
  }

  /**
   * Which side is the client, from the first segment that starts a request or a response (the flow's
   * first sender is the server when the capture began after the request). False while a session that
   * joined mid-stream has found neither.
   */
  private findRoles(buf: Uint8Array, off: number, len: number, fromFirstSender: boolean): boolean {
    if (statusCode(buf, off, off + len) >= 0) {
      this.swapped = fromFirstSender;
      // A response whose request was not seen: the connection was joined after its start, and the
      // client's next bytes may be the rest of a request.
      this.midStream = true;
      this.clientSearching = true;
    } else if (looksLikeRequest(buf, off, len)) {
      this.swapped = !fromFirstSender;
    } else if (this.midStream) {
      return false;
    } else {
      // Seen from its start: the first sender is the client, and its reader decides (a request line
      // may be cut anywhere, even inside the method).
      this.swapped = false;
    }
    this.rolesKnown = true;
    return true;
  }

  /**
   * After a successful CONNECT the connection carries another protocol end to end; when that is
   * TLS (the usual case, a browser behind a proxy) its ClientHello is read too and reported on
   * this connection next to the HTTP fields.
   */
  private feedTunnel(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    let tls = this.tunnelTls;
    if (tls === null) {
      // TLS clients speak first (RFC 8446 §2); anything else in the tunnel we leave alone.
      if (!ctx.fromClient || tlsClassifier.detect(buf, off, len, ctx) !== Score.CONTENT) return Verdict.DONE;
      tls = tlsClassifier.start(Score.CONTENT);
      this.tunnelTls = tls;
    }
    const v = tls.feed(buf, off, len, ctx);
    const inner = tls.app;
    const app = this.app;
    if (inner !== null && app !== null) {
      // Port 443 named in the CONNECT target says HTTPS even without an HTTP ALPN.
      app.protocol = inner.protocol === 'TLS' && this.target.endsWith(':443') ? 'HTTPS' : inner.protocol;
      if (inner.domain !== undefined) app.domain = inner.domain;
      for (const key of Object.keys(inner.details)) app.details[key] = inner.details[key];
    }
    return v === Verdict.MORE ? Verdict.MORE : Verdict.DONE;
  }

  line(client: boolean, d: Uint8Array, s: number, e: number): boolean {
    return client ? this.clientLine(d, s, e) : this.serverLine(d, s, e);
  }

  /** Only requests carry a body we step over (responses are not read past their status line). */
  bodyLeft(client: boolean): number {
    return client && this.clientPhase === Phase.BODY ? this.requestBodyLeft : 0;
  }

  skipped(client: boolean, n: number): void {
    if (!client) return;
    this.requestBodyLeft -= n;
    if (this.requestBodyLeft <= 0) this.clientPhase = Phase.START;
  }

  /** Returns true to stop reading this segment's lines. */
  private clientLine(d: Uint8Array, s: number, e: number): boolean {
    if (this.clientPhase === Phase.START) {
      if (s === e && this.requests > 0) return false; // stray CRLF between pipelined requests
      if (!this.requestLine(d, s, e)) {
        if (this.midStream && this.requests === 0) {
          // Joined mid-stream: this was the middle of a request (a body); look for the next one.
          this.clientSearching = true;
          return true;
        }
        if (this.app === null) this.foreign = true;
        this.stopClient();
        return true;
      }
      this.requests++;
      this.contentLength = 0;
      this.chunked = false;
      this.clientPhase = Phase.HEADERS;
      if (this.requests > 1) this.app!.details.http_requests = this.requests;
      return false;
    }
    // Phase.HEADERS
    const first = this.requests === 1;
    if (first) {
      this.headerBytes += e - s + 2;
      if (this.headerBytes > MAX_HEADER_BYTES) {
        this.stopClient();
        return true;
      }
    }
    if (s === e) {
      if (first) this.finishRequest();
      // RFC 9110 §9.3.6: after CONNECT the client's next bytes belong to the tunnel, not to HTTP.
      if (first && this.method === 'CONNECT') {
        this.clientPhase = Phase.STOP;
        return true;
      }
      // RFC 9112 §6.3: Content-Length tells where the body ends; chunked bodies we do not walk.
      if (this.chunked) {
        this.stopClient();
        return true;
      }
      if (this.contentLength > 0) {
        this.requestBodyLeft = this.contentLength;
        this.clientPhase = Phase.BODY;
      } else {
        this.clientPhase = Phase.START;
      }
      return false;
    }
    // RFC 9110 §5.1: field names are case-insensitive; RFC 9112 §3.2: Host carries the authority.
    if (first && this.host === undefined && isHeader(d, s, e, 'host')) {
      this.host = trimmedValue(d, s + 5, e);
    } else if (isHeader(d, s, e, 'content-length')) {
      let p = s + 15;
      while (p < e && (d[p] === SP || d[p] === HT)) p++;
      let n = 0;
      while (p < e && isDigit(d[p]) && n < 1e12) n = n * 10 + (d[p++]! - 0x30);
      this.contentLength = n;
    } else if (isHeader(d, s, e, 'transfer-encoding')) {
      this.chunked = true;
    }
    return false;
  }

  /** Parse a request line; records the first request's method and target. */
  private requestLine(d: Uint8Array, s: number, e: number): boolean {
    const m = methodLength(d, s, e);
    if (m === 0) return false;
    // The version follows the last SP; the target is everything between (RFC 9112 §3).
    let v = e - 1;
    while (v > s + m && d[v] !== SP) v--;
    if (v <= s + m + 1 || e - (v + 1) !== 8 || !isHttp1Version(d, v + 1, e)) return false;
    if (this.requests > 0) return true;
    this.method = wireToken(d, s, s + m);
    this.target = wireText(d, s + m + 1, v);
    if (this.app === null) this.app = newAppInfo('HTTP', this.midStream ? 'mid-stream' : 'content');
    const det = this.app.details;
    det.http_method = this.method;
    det.http_path = this.target;
    return true;
  }

  private serverLine(d: Uint8Array, s: number, e: number): boolean {
    if (this.serverPhase === Phase.HEADERS) {
      // An interim 1xx response ends with an empty line; the next status line follows (RFC 9110 §15.2).
      // So does the 2xx that opens a CONNECT tunnel, after which the bytes are the tunnel's.
      if (s === e) {
        if (this.tunnel === Tunnel.OPENING) {
          this.tunnel = Tunnel.OPEN;
          this.serverPhase = Phase.STOP;
          return true;
        }
        this.serverPhase = Phase.START;
      }
      return false;
    }
    const code = statusCode(d, s, e);
    if (code < 0) {
      if (this.midStream && !this.statusSeen) {
        // Joined mid-stream: the rest of a response; look for the next status line.
        this.serverSearching = true;
        return true;
      }
      if (this.app === null) this.foreign = true;
      this.stopServer();
      return true;
    }
    this.statusSeen = true;
    if (this.app === null) this.app = newAppInfo('HTTP', this.midStream ? 'mid-stream' : 'content');
    this.app.details.http_status = code;
    if (code >= 200 && code < 300 && this.method === 'CONNECT') {
      this.responseDone = true;
      this.tunnel = Tunnel.OPENING;
      this.serverPhase = Phase.HEADERS;
      return false;
    }
    if (code >= 200) {
      this.responseDone = true;
      this.serverPhase = Phase.STOP;
      return true;
    }
    this.serverPhase = Phase.HEADERS;
    return false;
  }

  /** Settle the first request's Host and domain (once its headers are read or we give up). */
  private finishRequest(): void {
    if (this.requestDone) return;
    this.requestDone = true;
    const app = this.app;
    if (app === null || this.method === '') return;
    let host = this.host;
    if (host === undefined) {
      // RFC 9110 §9.3.6: CONNECT names the authority itself; RFC 9112 §3.2.2: absolute-form carries it.
      if (this.method === 'CONNECT') host = this.target;
      else host = authorityOf(this.target);
    }
    if (host !== undefined && host !== '') {
      app.details.http_host = host;
      app.domain = host;
    }
  }

  private stopClient(): void {
    this.clientPhase = Phase.STOP;
    this.finishRequest();
  }

  private stopServer(): void {
    this.serverPhase = Phase.STOP;
    this.responseDone = true;
  }
}

/** The authority of an absolute-form target such as http://host:port/path, else undefined. */
function authorityOf(target: string): string | undefined {
  const i = target.indexOf('://');
  if (i <= 0) return undefined;
  const scheme = target.slice(0, i).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const rest = target.slice(i + 3);
  let j = 0;
  while (j < rest.length && rest[j] !== '/' && rest[j] !== '?' && rest[j] !== '#') j++;
  const authority = rest.slice(0, j);
  const at = authority.lastIndexOf('@');
  return at >= 0 ? authority.slice(at + 1) : authority;
}

export const httpClassifier: Classifier = {
  id: 'http',
  transports: Transport.TCP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (len <= 0 || off < 0 || off + len > buf.length) return Score.NO;
    if (looksLikeRequest(buf, off, len) || statusCode(buf, off, off + len) >= 0) return Score.CONTENT;
    // On port 80 the session may find a message start a few segments later (a connection joined mid-stream).
    return ctx.srcPort === HTTP_PORT || ctx.dstPort === HTTP_PORT ? Score.PORT : Score.NO;
  },
  start(score?: number, seen?: number): ClassifierSession {
    // Bytes that start no message, or payloads before this one, mean the connection's start was missed.
    return new HttpSession(score === Score.PORT || (seen ?? 0) > 0);
  },
  guess(ctx: DpiContext): AppProtocol | undefined {
    return ctx.srcPort === HTTP_PORT || ctx.dstPort === HTTP_PORT ? 'HTTP' : undefined;
  },
};
