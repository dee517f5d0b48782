// SSDP classifier: HTTP-over-UDP discovery (UPnP Device Architecture 2.0 §1): method, search/notification target, HOST.

import { MAX_WIRE_STRING, newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';

const PORT_SSDP = 1900;
/** Header bytes scanned for ST/USN when a response arrives off port 1900. */
const SCAN_LIMIT = 1024;
/** Header lines parsed per message. */
const MAX_HEADER_LINES = 64;

const KIND_NONE = 0;
const KIND_SEARCH = 1;
const KIND_NOTIFY = 2;
const KIND_RESPONSE = 3;

/** ASCII bytes of a string literal, for allocation-free prefix checks. */
function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// UDA 2.0 §1.3.2 (M-SEARCH), §1.2.2 (NOTIFY) and §1.3.3 (search response) start lines.
const M_SEARCH = bytesOf('M-SEARCH * HTTP/1.');
const NOTIFY = bytesOf('NOTIFY * HTTP/1.');
const RESPONSE = bytesOf('HTTP/1.');
const CRLF_ST = bytesOf('\r\nst:');
const CRLF_USN = bytesOf('\r\nusn:');

function startsWith(b: Uint8Array, off: number, len: number, lit: Uint8Array): boolean {
  if (len < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[off + i] !== lit[i]) return false;
  return true;
}

/** Case-insensitive search of a lowercase ASCII literal in b[off..off+len). */
function containsLower(b: Uint8Array, off: number, len: number, lit: Uint8Array): boolean {
  const last = off + len - lit.length;
  outer: for (let p = off; p <= last; p++) {
    for (let i = 0; i < lit.length; i++) {
      let c = b[p + i]!;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== lit[i]) continue outer;
    }
    return true;
  }
  return false;
}

/** Which SSDP start line the payload has. A response is `HTTP/1.x 200` (UDA 2.0 §1.3.3). */
function kindOf(b: Uint8Array, off: number, len: number): number {
  if (startsWith(b, off, len, M_SEARCH)) return KIND_SEARCH;
  if (startsWith(b, off, len, NOTIFY)) return KIND_NOTIFY;
  if (startsWith(b, off, len, RESPONSE) && len >= 12) {
    const minor = b[off + 7]!;
    if ((minor === 0x30 || minor === 0x31) && b[off + 8] === 0x20 && b[off + 9] === 0x32 && b[off + 10] === 0x30 && b[off + 11] === 0x30) {
      return KIND_RESPONSE;
    }
  }
  return KIND_NONE;
}

function onSsdpPort(ctx: DpiContext): boolean {
  return ctx.srcPort === PORT_SSDP || ctx.dstPort === PORT_SSDP;
}

/** Header value as printable ASCII; other bytes become \xHH so they cannot act on a terminal. */
function headerText(b: Uint8Array, from: number, to: number): string {
  while (from < to && (b[from] === 0x20 || b[from] === 0x09)) from++;
  while (to > from && (b[to - 1] === 0x20 || b[to - 1] === 0x09)) to--;
  let out = '';
  for (let i = from; i < to && out.length < MAX_WIRE_STRING; i++) {
    const c = b[i]!;
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  return out.slice(0, MAX_WIRE_STRING);
}

/** Compares a header name b[from..to) with a lowercase literal, ignoring ASCII case (RFC 9110 §5.1). */
function nameIs(b: Uint8Array, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = b[from + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

class SsdpSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, _ctx: DpiContext): number {
    if (off < 0 || len <= 0 || off + len > buf.length) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const kind = kindOf(buf, off, len);
    if (kind === KIND_NONE) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const app = newAppInfo('SSDP');
    if (kind === KIND_SEARCH) app.details.ssdp_method = 'M-SEARCH';
    else if (kind === KIND_NOTIFY) app.details.ssdp_method = 'NOTIFY';
    else app.details.http_status = 200;
    const end = off + len;
    // Skip the start line, then read "name: value" lines until the blank line (RFC 9112 §2.1).
    let p = off;
    while (p < end && buf[p] !== 0x0a) p++;
    p++;
    for (let lines = 0; p < end && lines < MAX_HEADER_LINES; lines++) {
      let eol = p;
      while (eol < end && buf[eol] !== 0x0a) eol++;
      // A line cut off by the end of the datagram (capture truncation) is not used.
      if (eol === end) break;
      const lineEnd = eol > p && buf[eol - 1] === 0x0d ? eol - 1 : eol;
      if (lineEnd === p) break;
      let colon = p;
      while (colon < lineEnd && buf[colon] !== 0x3a) colon++;
      if (colon < lineEnd) {
        if (nameIs(buf, p, colon, 'host')) app.details.http_host ??= headerText(buf, colon + 1, lineEnd);
        else if (nameIs(buf, p, colon, 'st') || nameIs(buf, p, colon, 'nt')) {
          app.details.ssdp_st ??= headerText(buf, colon + 1, lineEnd);
        }
      }
      p = eol + 1;
    }
    this.app = app;
    return Verdict.DONE;
  }
}

/**
 * SSDP: the M-SEARCH and NOTIFY start lines ("* HTTP/1.1" over UDP) are content on any port; a
 * unicast search response needs port 1900 or an ST/USN header, since HTTP/1.1 200 alone is common.
 */
export const ssdpClassifier: Classifier = {
  id: 'ssdp',
  transports: Transport.UDP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (off < 0 || len <= 0 || off + len > buf.length) return Score.NO;
    const kind = kindOf(buf, off, len);
    const port = onSsdpPort(ctx);
    if (kind === KIND_SEARCH || kind === KIND_NOTIFY) return Score.CONTENT;
    if (kind === KIND_RESPONSE) {
      if (port) return Score.CONTENT;
      const n = Math.min(len, SCAN_LIMIT);
      if (containsLower(buf, off, n, CRLF_ST) || containsLower(buf, off, n, CRLF_USN)) return Score.CONTENT;
    }
    return port ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new SsdpSession();
  },
};
