// DNS (RFC 1035), mDNS (RFC 6762) and LLMNR (RFC 4795) classifier: query names, A/AAAA/PTR/CNAME answers, rcode.

import { MAX_LIST_ENTRIES, MAX_WIRE_STRING, newAppInfo, type AppInfo, type AppProtocol } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { formatAddress } from '../core/address.js';
import { isIpv4Mapped } from '../core/packet-view.js';
import { latin1String, u16, u32 } from '../core/bytes.js';

const PORT_DNS = 53;
const PORT_MDNS = 5353;
const PORT_LLMNR = 5355;
/** NetBIOS Name Service reuses the DNS message format (RFC 1002 §4.2); the netbios classifier owns it. */
const PORT_NBNS = 137;

const TRANSPORT_TCP = 6;

/** RFC 1035 §4.1.1: fixed header size. */
const HEADER_LEN = 12;
/** Smallest question: root name (1) + QTYPE + QCLASS (RFC 1035 §4.1.2). */
const MIN_QUESTION_LEN = 5;
/** Smallest resource record: root name (1) + TYPE, CLASS, TTL, RDLENGTH (RFC 1035 §4.1.3). */
const MIN_RECORD_LEN = 11;
/** RFC 1035 §2.3.4: names are 255 octets or less (labels' 63 follows from the length byte's top bits being 00). */
const MAX_NAME_WIRE_LEN = 255;
/** Compression pointers followed per name; legitimate names need a handful. */
const MAX_POINTER_JUMPS = 32;
/** mDNS queries list many questions at once (RFC 6762 §5); more than this is not a real message. */
const MAX_QUESTIONS = 64;
/** Records walked per message; the rest of a huge response adds nothing we keep. */
const MAX_RECORDS = 256;
/** Records a message without a known port may carry and still count as structurally plain DNS. */
const MAX_RECORDS_STRICT = 64;
/** Messages inspected per flow before the session stops. */
const MAX_MESSAGES = 32;
/** Bytes of one TCP-framed message we keep; longer messages are parsed from this prefix. */
const TCP_BUFFER_CAP = 16 * 1024;
/**
 * TCP payloads a session may take without finding a message before it gives up: a connection joined
 * mid-stream shows the rest of a message first, and the next one starts at a later segment.
 */
const TCP_SEARCH_FEEDS = 6;

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_PTR = 12;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const CLASS_IN = 1;

/** IANA DNS RCODE registry names (RFC 6895 §2.3); 16 only arrives through the OPT record. */
const RCODE_NAMES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET',
  'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI',
];
const RCODE_BADVERS = 16;

function rcodeName(rcode: number): string {
  if (rcode < RCODE_NAMES.length) return RCODE_NAMES[rcode]!;
  if (rcode === RCODE_BADVERS) return 'BADVERS';
  return `RCODE${rcode}`;
}

/** Which well-known port the flow uses: 53, 5353, 5355, or 0 for none (53 wins: plain DNS). */
function dnsPort(ctx: DpiContext): number {
  const s = ctx.srcPort;
  const d = ctx.dstPort;
  if (s === PORT_DNS || d === PORT_DNS) return PORT_DNS;
  if (s === PORT_MDNS || d === PORT_MDNS) return PORT_MDNS;
  if (s === PORT_LLMNR || d === PORT_LLMNR) return PORT_LLMNR;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Names (RFC 1035 §3.1, §4.1.4)
// ---------------------------------------------------------------------------------------------

/** Offsets of the labels of the name last walked (a 255-byte name has at most 127 labels). */
const labelAt = new Int32Array(128);
/** Offset just past the name last walked, where it starts (after its first pointer, if any). */
let walkedEnd = -1;
/** Plain names are copied here, dots included, and decoded in one call. */
const nameBytes = Buffer.allocUnsafe(MAX_NAME_WIRE_LEN);

/**
 * Walks the (possibly compressed) name at `pos`, recording where each label's length byte is in
 * labelAt and setting walkedEnd. Returns the number of labels, or -1 when malformed. Allocation-free.
 */
function walkName(b: Uint8Array, msg: number, end: number, pos: number): number {
  let p = pos;
  // Start of the label run being read: every pointer must land strictly before it, so the walk
  // always moves backwards through the message and cannot loop (RFC 1035 §4.1.4 says a pointer
  // refers to a *prior* occurrence of a name).
  let runStart = pos;
  let jumps = 0;
  let wireLen = 1; // the terminating root label
  let after = -1;
  let n = 0;
  for (;;) {
    if (p >= end) return -1;
    const c = b[p]!;
    if (c === 0) {
      walkedEnd = after >= 0 ? after : p + 1;
      return n;
    }
    const kind = c & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) return -1;
      const target = msg + (((c & 0x3f) << 8) | b[p + 1]!);
      // A pointer into the fixed header can never be a prior name.
      if (target < msg + HEADER_LEN || target >= runStart || ++jumps > MAX_POINTER_JUMPS) return -1;
      if (after < 0) after = p + 2;
      p = target;
      runStart = target;
      continue;
    }
    // 0x40 (extended label, RFC 6891 §5 retired it) and 0x80 are not in use.
    if (kind !== 0) return -1;
    wireLen += c + 1;
    if (wireLen > MAX_NAME_WIRE_LEN || p + 1 + c > end) return -1;
    labelAt[n++] = p;
    p += 1 + c;
  }
}

/** Offset just past the name at `pos` (after its first pointer, if any), or -1 when malformed. */
function skipName(b: Uint8Array, msg: number, end: number, pos: number): number {
  return walkName(b, msg, end, pos) < 0 ? -1 : walkedEnd;
}

/**
 * The name just walked (walkName returned `labels` > 0) as presentation text: labels joined by '.'.
 * Allocates: sessions only.
 */
function nameText(b: Uint8Array, labels: number): string {
  // Common case: every label is printable ASCII needing no escape, so the text is the bytes with dots.
  let len = 0;
  let plain = true;
  for (let i = 0; i < labels && plain; i++) {
    const at = labelAt[i]!;
    const c = b[at]!;
    if (i > 0) nameBytes[len++] = 0x2e;
    for (let k = at + 1; k <= at + c; k++) {
      const x = b[k]!;
      if (x < 0x21 || x > 0x7e || x === 0x2e || x === 0x5c) {
        plain = false;
        break;
      }
      nameBytes[len++] = x;
    }
  }
  if (plain) return clip(latin1String(nameBytes, 0, len));
  const parts: string[] = [];
  for (let i = 0; i < labels; i++) {
    const at = labelAt[i]!;
    parts.push(labelText(b, at + 1, at + 1 + b[at]!));
  }
  return clip(parts.join('.'));
}

/**
 * Whether the name just walked (`labels` > 0) equals an entry of `list`, ignoring ASCII case
 * (RFC 4343 §3). Only names of plain printable ASCII are compared; others answer false and are
 * decoded (withDistinct then compares the text). Allocation-free.
 */
function isListed(list: string[] | undefined, b: Uint8Array, labels: number): boolean {
  if (list === undefined) return false;
  let len = labels - 1;
  for (let i = 0; i < labels; i++) len += b[labelAt[i]!]!;
  for (let n = 0; n < list.length; n++) {
    const v = list[n]!;
    if (v.length !== len) continue;
    let k = 0;
    let same = true;
    for (let i = 0; i < labels && same; i++) {
      const at = labelAt[i]!;
      if (i > 0 && v.charCodeAt(k++) !== 0x2e) same = false;
      for (let j = at + 1; j <= at + b[at]! && same; j++) {
        const x = b[j]!;
        if (x < 0x21 || x > 0x7e || x === 0x2e || x === 0x5c) return false;
        let y = v.charCodeAt(k++);
        if (y >= 65 && y <= 90) y += 32;
        if ((x >= 65 && x <= 90 ? x + 32 : x) !== y) same = false;
      }
    }
    if (same) return true;
  }
  return false;
}

/** Cuts a string to MAX_WIRE_STRING code units without splitting a surrogate pair. */
function clip(s: string): string {
  if (s.length <= MAX_WIRE_STRING) return s;
  let n = MAX_WIRE_STRING;
  const last = s.charCodeAt(n - 1);
  if (last >= 0xd800 && last <= 0xdbff) n--;
  return s.slice(0, n);
}

/**
 * One label as text. Names are bytes (RFC 1035 §3.1); mDNS names are UTF-8 (RFC 6762 §16), so a
 * label that is valid UTF-8 without control characters is shown as such. Otherwise the master
 * file escapes of RFC 1035 §5.1 apply: '\.' and '\\' for the delimiters, '\DDD' for any byte
 * that is not printable ASCII, which also keeps terminal control sequences out of the output.
 */
function labelText(b: Uint8Array, from: number, to: number): string {
  let ascii = true;
  for (let i = from; i < to; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    const text = utf8Text(b, from, to);
    if (text !== null) return text;
  }
  let out = '';
  for (let i = from; i < to; i++) out += escapedByte(b[i]!);
  return out;
}

function escapedByte(c: number): string {
  if (c === 0x2e || c === 0x5c) return '\\' + String.fromCharCode(c);
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return '\\' + String(c).padStart(3, '0');
}

/**
 * Strict UTF-8 decode (no overlongs, no surrogates, max U+10FFFF); null when invalid or when a
 * control character (C0, DEL, C1) is present, so the caller falls back to byte escapes.
 */
function utf8Text(b: Uint8Array, from: number, to: number): string | null {
  let out = '';
  let i = from;
  while (i < to) {
    const c = b[i]!;
    let cp: number;
    let n: number;
    if (c < 0x80) {
      if (c < 0x20 || c === 0x7f) return null;
      out += c === 0x2e || c === 0x5c ? '\\' + String.fromCharCode(c) : String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      cp = c & 0x1f;
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      cp = c & 0x0f;
      n = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      cp = c & 0x07;
      n = 3;
    } else {
      return null;
    }
    if (i + n >= to) return null;
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n === 2 && cp < 0x800) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff))) return null;
    if (cp >= 0xd800 && cp <= 0xdfff) return null;
    if (cp < 0xa0) return null;
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

/**
 * Dotted-quad text, built in a scratch buffer: one flat string (concatenation would leave a rope that
 * the JSON writer has to flatten again).
 */
function ipv4Text(b: Uint8Array, p: number): string {
  const t = nameBytes;
  let n = 0;
  for (let i = 0; i < 4; i++) {
    if (i > 0) t[n++] = 0x2e;
    const v = b[p + i]!;
    if (v >= 100) t[n++] = 0x30 + ((v / 100) | 0);
    if (v >= 10) t[n++] = 0x30 + (((v / 10) | 0) % 10);
    t[n++] = 0x30 + (v % 10);
  }
  return latin1String(t, 0, n);
}

/** IPv6 text in the RFC 5952 canonical form (mapped IPv4 as ::ffff:a.b.c.d, RFC 5952 §5). */
function ipv6Text(b: Uint8Array, p: number): string {
  const w0 = u32(b, p);
  const w1 = u32(b, p + 4);
  const w2 = u32(b, p + 8);
  if (isIpv4Mapped(w0, w1, w2)) return `::ffff:${ipv4Text(b, p + 12)}`;
  return formatAddress(w0, w1, w2, u32(b, p + 12));
}

// ---------------------------------------------------------------------------------------------
// Structure checks (allocation-free, for detect)
// ---------------------------------------------------------------------------------------------

/** RFC 1035 §3.2.4 classes plus QCLASS NONE/ANY (RFC 2136, §3.2.5); the top bit is mDNS's QU/cache-flush bit. */
function plausibleClass(cls: number): boolean {
  const c = cls & 0x7fff;
  return c === CLASS_IN || c === 3 || c === 4 || c === 254 || c === 255;
}

/**
 * Checks a message that starts at `s`, of declared length `msgLen`, of which the bytes up to
 * `avail` are present. `strict` (no DNS port to go by) demands a single standard query or
 * response whose sections account for every byte; otherwise the header and the first question
 * (or first record of a question-less mDNS response) must parse.
 */
function plausibleMessage(b: Uint8Array, s: number, avail: number, msgLen: number, strict: boolean): boolean {
  if (msgLen < HEADER_LEN || avail - s < HEADER_LEN) return false;
  const flags = u16(b, s + 2);
  const qr = flags >>> 15;
  const opcode = (flags >>> 11) & 0xf;
  const rcode = flags & 0xf;
  const qd = u16(b, s + 4);
  const rr = u16(b, s + 6) + u16(b, s + 8) + u16(b, s + 10);
  // RFC 1035 §4.1.1: opcodes QUERY, IQUERY (obsolete), STATUS; NOTIFY (RFC 1996), UPDATE (RFC 2136).
  if (opcode === 3 || opcode > 5) return false;
  // A query carries no response code (RFC 1035 §4.1.1: RCODE "is set as part of responses").
  if (qr === 0 && rcode !== 0) return false;
  if (qd > MAX_QUESTIONS) return false;
  if (HEADER_LEN + qd * MIN_QUESTION_LEN + rr * MIN_RECORD_LEN > msgLen) return false;
  const end = Math.min(avail, s + msgLen);
  if (strict) {
    // RFC 1035 §4.1.1: the Z bit must be zero; real resolvers ask exactly one question.
    if ((flags & 0x0040) !== 0 || opcode !== 0 || qd !== 1 || rr > MAX_RECORDS_STRICT) return false;
    if (end - s !== msgLen) return false;
  }
  let p = s + HEADER_LEN;
  if (qd === 0) {
    // Only responses go without a question: mDNS announcements (RFC 6762 §6) and FORMERR replies.
    if (qr === 0) return false;
    if (rr === 0) return rcode !== 0;
  }
  for (let i = 0; i < qd; i++) {
    p = skipName(b, s, end, p);
    if (p < 0 || p + 4 > end) return false;
    if (u16(b, p) === 0 || !plausibleClass(u16(b, p + 2))) return false;
    p += 4;
    if (!strict) return true;
  }
  const records = strict ? rr : 1;
  for (let i = 0; i < records; i++) {
    p = skipName(b, s, end, p);
    if (p < 0 || p + 10 > end) return false;
    const type = u16(b, p);
    if (type === 0) return false;
    if (type !== TYPE_OPT && !plausibleClass(u16(b, p + 2))) return false;
    p += 10 + u16(b, p + 8);
    if (p > end) return false;
  }
  return !strict || p === end;
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

/** One direction of a TCP connection: RFC 1035 §4.2.2 frames each message with a 2-byte length. */
class TcpDirection {
  /** The direction's bytes, read where they lie; after a gap reading picks up again. */
  readonly stream = new TcpStream();
  /** Framing lost after a gap: wait for a segment that plainly starts a message. */
  lost = false;
  /** First byte of a length prefix split across segments, or -1. */
  lenHigh = -1;
  /** Declared length of the message being collected, or -1 while reading the prefix. */
  msgLen = -1;
  /** Bytes of the current message consumed so far (stored or not). */
  got = 0;
  /** Bytes of the current message kept (at most TCP_BUFFER_CAP). */
  stored = 0;
  store: Uint8Array | null = null;

  resetMessage(): void {
    this.lenHigh = -1;
    this.msgLen = -1;
    this.got = 0;
    this.stored = 0;
  }
}

class DnsSession implements ClassifierSession {
  app: AppInfo | null = null;
  private messages = 0;
  private failed = false;
  /** Per direction (client, server), created on the first TCP payload: UDP flows never need them. */
  private tcp: [TcpDirection | null, TcpDirection | null] | null = null;
  /** detect() found the first datagram plausible: its checks need not run again on the same bytes. */
  private firstChecked: boolean;
  /** The session came after other payloads of the flow (over TCP: the stream's start was missed). */
  private readonly joinedLate: boolean;
  /** TCP: bytes before the first message could not be framed, and a later segment start was taken as a boundary. */
  private resynced = false;
  /** TCP payloads taken while nothing was recognised. */
  private tcpSearched = 0;

  constructor(firstChecked: boolean, joinedLate: boolean) {
    this.firstChecked = firstChecked;
    this.joinedLate = joinedLate;
  }

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const checked = this.firstChecked;
    this.firstChecked = false;
    if (off < 0 || len <= 0 || off + len > buf.length) return this.verdict();
    if (ctx.transport === TRANSPORT_TCP) {
      // Only payloads that leave framing lost count against the search: a message trickling in byte by
      // byte is progress.
      if (this.feedTcp(buf, off, off + len, ctx) && this.app === null && ++this.tcpSearched >= TCP_SEARCH_FEEDS) {
        this.failed = true;
      }
    } else if (!this.message(buf, off, off + len, len, ctx, checked) && this.app === null) {
      this.failed = true;
    }
    return this.verdict();
  }

  private verdict(): number {
    if (this.app === null) return this.failed ? Verdict.REJECT : Verdict.MORE;
    if (this.messages >= MAX_MESSAGES) return Verdict.DONE;
    const d = this.app.details;
    if ((d.dns_queries?.length ?? 0) >= MAX_LIST_ENTRIES && (d.dns_answers?.length ?? 0) >= MAX_LIST_ENTRIES) {
      return Verdict.DONE;
    }
    return Verdict.MORE;
  }

  /** One TCP segment; true when the direction's framing is lost after it (a message start is looked for). */
  private feedTcp(b: Uint8Array, start: number, end: number, ctx: DpiContext): boolean {
    const which = ctx.fromClient ? 0 : 1;
    const tcp = (this.tcp ??= [null, null]);
    let dir = tcp[which];
    if (dir === null) dir = tcp[which] = new TcpDirection();
    const stream = dir.stream;
    if (!stream.started) stream.start(ctx.seq);
    // Retransmission or overlap: only bytes past what we already took are new.
    const arrival = stream.push(b, start, end - start, ctx.seq);
    if (arrival === Arrival.OLD) return dir.lost;
    if (arrival === Arrival.GAP) {
      // Bytes missing: the message in progress cannot be completed and framing is unknown.
      this.loseFraming(dir);
    }
    const p = stream.fresh;
    if (dir.lost) {
      if (end - p < 2 || !plausibleMessage(b, p + 2, end, u16(b, p), false)) return true;
      dir.lost = false;
    }
    this.frames(dir, b, p, end, ctx);
    return dir.lost;
  }

  /** Splits a TCP byte run into length-prefixed messages (RFC 1035 §4.2.2). */
  private frames(dir: TcpDirection, b: Uint8Array, start: number, end: number, ctx: DpiContext): void {
    let p = start;
    while (p < end) {
      if (dir.msgLen < 0) {
        let declared: number;
        if (dir.lenHigh >= 0) {
          declared = (dir.lenHigh << 8) | b[p]!;
          dir.lenHigh = -1;
          p += 1;
        } else if (end - p >= 2) {
          declared = u16(b, p);
          p += 2;
        } else {
          dir.lenHigh = b[p]!;
          return;
        }
        if (declared < HEADER_LEN) {
          // Not a DNS frame: framing is lost until a segment starts a message again.
          this.loseFraming(dir);
          return;
        }
        dir.msgLen = declared;
        dir.got = 0;
        dir.stored = 0;
        continue;
      }
      const want = dir.msgLen - dir.got;
      if (dir.got === 0 && end - p >= want) {
        // Whole message in this segment: parse it where it lies.
        if (!this.message(b, p, p + want, want, ctx, false) && this.app === null) {
          this.loseFraming(dir);
          return;
        }
        p += want;
        dir.resetMessage();
        continue;
      }
      const take = Math.min(want, end - p);
      const keep = Math.min(dir.msgLen, TCP_BUFFER_CAP);
      const room = keep - dir.stored;
      if (room > 0) {
        if (dir.store === null || dir.store.length < keep) {
          const grown = new Uint8Array(Math.max(keep, 512));
          if (dir.store !== null) grown.set(dir.store.subarray(0, dir.stored));
          dir.store = grown;
        }
        const n = Math.min(take, room);
        dir.store.set(b.subarray(p, p + n), dir.stored);
        dir.stored += n;
      }
      dir.got += take;
      p += take;
      if (dir.got === dir.msgLen) {
        if (!this.message(dir.store!, 0, dir.stored, dir.msgLen, ctx, false) && this.app === null) {
          this.loseFraming(dir);
          return;
        }
        dir.resetMessage();
      } else if (this.app === null && dir.stored >= HEADER_LEN && !plausibleHeader(dir.store!, dir.msgLen)) {
        this.loseFraming(dir);
        return;
      }
    }
  }

  /**
   * The bytes did not frame as a message: before anything was recognised this is a connection joined
   * mid-stream (or not DNS). Either way the next boundary is looked for at a later segment's start
   * (RFC 1035 §4.2.2: each message is its 2-byte length, then the message), within TCP_SEARCH_FEEDS.
   */
  private loseFraming(dir: TcpDirection): void {
    dir.resetMessage();
    dir.lost = true;
    if (this.app === null) this.resynced = true;
  }

  /**
   * One message at b[s..end) (end < s + msgLen when only a prefix was kept); false when it is not a
   * plausible message (callers decide what that means before and after the first valid one).
   */
  private message(b: Uint8Array, s: number, end: number, msgLen: number, ctx: DpiContext, checked: boolean): boolean {
    this.messages++;
    if (!checked && !plausibleMessage(b, s, end, msgLen, false)) return false;
    const flags = u16(b, s + 2);
    const qr = flags >>> 15;
    let app = this.app;
    if (app === null) {
      const port = dnsPort(ctx);
      const protocol: AppProtocol = port === PORT_MDNS ? 'mDNS' : port === PORT_LLMNR ? 'LLMNR' : 'DNS';
      // Over TCP the client's query opens the stream (RFC 7766 §6.2.1): a boundary found after other
      // bytes, a session that came late, or a response first all mean the stream's start was missed.
      const late = ctx.transport === TRANSPORT_TCP && (this.joinedLate || this.resynced || qr === 1);
      app = this.app = newAppInfo(protocol, late ? 'mid-stream' : 'content');
    }
    let rcode = flags & 0xf;
    const qd = u16(b, s + 4);
    const an = u16(b, s + 6);
    const total = Math.min(an + u16(b, s + 8) + u16(b, s + 10), MAX_RECORDS);
    let p = s + HEADER_LEN;
    let ok = true;
    for (let i = 0; i < qd; i++) {
      const labels = walkName(b, s, end, p);
      const nameEnd = walkedEnd;
      if (labels < 0 || nameEnd + 4 > end) {
        ok = false;
        break;
      }
      // A response repeats the query's question: recognise a name already listed without making it again.
      if (labels > 0 && !isListed(app.details.dns_queries, b, labels)) {
        const name = nameText(b, labels);
        if (app.domain === undefined) app.domain = name;
        app.details.dns_queries = withDistinct(app.details.dns_queries, name);
      }
      p = nameEnd + 4;
    }
    for (let i = 0; ok && i < total; i++) {
      const nameEnd = skipName(b, s, end, p);
      if (nameEnd < 0 || nameEnd + 10 > end) break;
      const type = u16(b, nameEnd);
      const cls = u16(b, nameEnd + 2) & 0x7fff;
      const rdStart = nameEnd + 10;
      const rdEnd = rdStart + u16(b, nameEnd + 8);
      if (rdEnd > end) break;
      if (type === TYPE_OPT) {
        // RFC 6891 §6.1.3: the OPT TTL's top byte holds the upper 8 bits of a 12-bit RCODE.
        if (i >= an) rcode |= b[nameEnd + 4]! << 4;
      } else if (cls === CLASS_IN) {
        // Records of every section count: glue addresses in the additional section are also what the
        // resolver learned (tshark's dns.a/dns.aaaa read all sections the same way).
        this.answer(b, s, type, rdStart, rdEnd);
      }
      p = rdEnd;
    }
    app.state = qr === 1 ? 'DNS_RESPONSE' : 'DNS_QUERY';
    if (qr === 1) app.details.dns_rcode = rcodeName(rcode);
    return true;
  }

  private answer(b: Uint8Array, s: number, type: number, rdStart: number, rdEnd: number): void {
    const app = this.app!;
    const rdLen = rdEnd - rdStart;
    if (type === TYPE_A) {
      if (rdLen === 4) app.details.dns_answers = withDistinct(app.details.dns_answers, ipv4Text(b, rdStart));
    } else if (type === TYPE_AAAA) {
      if (rdLen === 16) app.details.dns_answers = withDistinct(app.details.dns_answers, ipv6Text(b, rdStart));
    } else if (type === TYPE_PTR || type === TYPE_CNAME) {
      // The target name must end inside RDATA; its pointers may reach earlier bytes of the message.
      const labels = walkName(b, s, rdEnd, rdStart);
      if (labels <= 0 || walkedEnd !== rdEnd) return;
      app.details.dns_answers = withDistinct(app.details.dns_answers, nameText(b, labels));
    }
  }
}

/** Header-only test for a TCP message still being collected (the first one decides the session). */
function plausibleHeader(b: Uint8Array, msgLen: number): boolean {
  const flags = u16(b, 2);
  const opcode = (flags >>> 11) & 0xf;
  if (opcode === 3 || opcode > 5) return false;
  if ((flags >>> 15) === 0 && (flags & 0xf) !== 0) return false;
  const qd = u16(b, 4);
  const rr = u16(b, 6) + u16(b, 8) + u16(b, 10);
  return qd <= MAX_QUESTIONS && HEADER_LEN + qd * MIN_QUESTION_LEN + rr * MIN_RECORD_LEN <= msgLen;
}

/**
 * `list` with `value` appended unless present (names compare case-insensitively, RFC 4343 §3) or
 * full. Callers store the result under a fixed property name: a store keyed by a variable name
 * would be generic (and slow) at the one site every list shares.
 */
function withDistinct(list: string[] | undefined, value: string): string[] {
  // Most flows keep one entry: a literal holds exactly it, where push() onto [] reserves 17 slots
  // for the life of the connection.
  if (list === undefined) return [value];
  if (list.length >= MAX_LIST_ENTRIES) return list;
  for (let i = 0; i < list.length; i++) if (equalIgnoringAsciiCase(list[i]!, value)) return list;
  list.push(value);
  return list;
}

/** DNS names compare case-insensitively for ASCII letters only (RFC 4343 §3). No allocation. */
function equalIgnoringAsciiCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

function detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
  if (off < 0 || len <= 0 || off + len > buf.length) return Score.NO;
  const port = dnsPort(ctx);
  // Without a DNS port only a structurally complete message counts, and never on NetBIOS's port.
  const strict = port === 0;
  if (strict && (ctx.srcPort === PORT_NBNS || ctx.dstPort === PORT_NBNS)) return Score.NO;
  const end = off + len;
  let ok: boolean;
  if (ctx.transport === TRANSPORT_TCP) {
    if (len < 2) return strict ? Score.NO : Score.PORT;
    const msgLen = u16(buf, off);
    if (strict && msgLen !== len - 2) return Score.NO;
    ok = plausibleMessage(buf, off + 2, end, msgLen, strict);
  } else {
    ok = plausibleMessage(buf, off, end, len, strict);
  }
  if (ok) return Score.CONTENT;
  return strict ? Score.NO : Score.PORT;
}

/** DNS (RFC 1035) over UDP and TCP, mDNS (RFC 6762) and LLMNR (RFC 4795). */
export const dnsClassifier: Classifier = {
  id: 'dns',
  transports: Transport.BOTH,
  detect,
  start(score?: number, seen?: number): ClassifierSession {
    return new DnsSession(score === Score.CONTENT, (seen ?? 0) > 0);
  },
  guess(ctx: DpiContext): AppProtocol | undefined {
    const port = dnsPort(ctx);
    return port === PORT_DNS ? 'DNS' : port === PORT_MDNS ? 'mDNS' : port === PORT_LLMNR ? 'LLMNR' : undefined;
  },
};
