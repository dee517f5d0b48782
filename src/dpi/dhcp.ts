// DHCP classifier: BOOTP/DHCPv4 message type and client host name (RFC 2131/2132), DHCPv6 on 546/547 (RFC 8415).

import { MAX_WIRE_STRING, newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { u16 } from '../core/bytes.js';

const PORT_SERVER = 67;
const PORT_CLIENT = 68;
const PORT_V6_CLIENT = 546;
const PORT_V6_SERVER = 547;

/** RFC 2131 §2: op … file is 236 octets; the options field starts with the magic cookie. */
const BOOTP_FIXED_LEN = 236;
const OPTIONS_AT = 240;
/** RFC 2132 §2: 99.130.83.99. */
const MAGIC_COOKIE = 0x63825363;
/** RFC 2131 §2: 'sname' (64 octets at 44) and 'file' (128 octets at 108), reusable for options. */
const SNAME_AT = 44;
const SNAME_LEN = 64;
const FILE_AT = 108;
const FILE_LEN = 128;
/** RFC 2131 §2: chaddr is 16 octets. */
const MAX_HLEN = 16;

const OPT_PAD = 0;
const OPT_HOST_NAME = 12;
const OPT_OVERLOAD = 52;
const OPT_MESSAGE_TYPE = 53;
const OPT_END = 255;

/** RFC 2132 §9.6, RFC 3203, RFC 4388 §6.1, RFC 6926 §6.2.1, RFC 7724 §5.2 message types 1-18. */
const V4_TYPES: readonly string[] = [
  '', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM', 'FORCERENEW',
  'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE', 'BULKLEASEQUERY', 'LEASEQUERYDONE',
  'ACTIVELEASEQUERY', 'LEASEQUERYSTATUS', 'TLS',
];

/** RFC 8415 §7.3 message types 1-13. */
const V6_TYPES: readonly string[] = [
  '', 'SOLICIT', 'ADVERTISE', 'REQUEST', 'CONFIRM', 'RENEW', 'REBIND', 'REPLY', 'RELEASE', 'DECLINE',
  'RECONFIGURE', 'INFORMATION-REQUEST', 'RELAY-FORW', 'RELAY-REPL',
];
const V6_RELAY_FORW = 12;
/** RFC 8415 §9: relay messages carry hop-count, link-address and peer-address before options. */
const V6_RELAY_HEADER_LEN = 34;
const V6_HEADER_LEN = 4;
/** RFC 4704 §4: Client FQDN option. */
const V6_OPT_CLIENT_FQDN = 39;


function inBounds(b: Uint8Array, off: number, len: number): boolean {
  return off >= 0 && len > 0 && off + len <= b.length;
}

// ---------------------------------------------------------------------------------------------
// DHCPv4
// ---------------------------------------------------------------------------------------------

/**
 * RFC 2131 §2 fixed fields and the RFC 2132 §2 cookie. `strict` (no DHCP port) also demands
 * that the options walk cleanly to the End option. Allocation-free.
 */
function plausibleV4(b: Uint8Array, off: number, len: number, strict: boolean): boolean {
  if (len < OPTIONS_AT) return false;
  const op = b[off]!;
  if (op !== 1 && op !== 2) return false;
  if (b[off + 2]! > MAX_HLEN) return false;
  const cookie = ((b[off + BOOTP_FIXED_LEN]! << 24) | (b[off + 237]! << 16) | (b[off + 238]! << 8) | b[off + 239]!) >>> 0;
  if (cookie !== MAGIC_COOKIE) return false;
  if (!strict) return true;
  return walkOptions(b, off + OPTIONS_AT, off + len, null) === OPT_END;
}

/**
 * Walks RFC 2132 options in b[p..end). Calls `visit` for each complete option; returns OPT_END
 * when the End option was reached, 0 when the bytes ran out cleanly, -1 when an option overruns.
 */
function walkOptions(
  b: Uint8Array, p: number, end: number, visit: ((code: number, at: number, len: number) => void) | null,
): number {
  while (p < end) {
    const code = b[p]!;
    if (code === OPT_END) return OPT_END;
    if (code === OPT_PAD) {
      p++;
      continue;
    }
    if (p + 2 > end) return -1;
    const n = b[p + 1]!;
    if (p + 2 + n > end) return -1;
    if (visit !== null) visit(code, p + 2, n);
    p += 2 + n;
  }
  return 0;
}

interface V4Fields {
  type: number;
  host: string | undefined;
  overload: number;
  /** The options reached the End option (so a missing type means plain BOOTP, not truncation). */
  complete: boolean;
}

function parseV4(b: Uint8Array, off: number, len: number): V4Fields {
  const f: V4Fields = { type: 0, host: undefined, overload: 0, complete: false };
  const visit = (code: number, at: number, n: number): void => {
    if (code === OPT_MESSAGE_TYPE && n === 1 && f.type === 0) f.type = b[at]!;
    else if (code === OPT_HOST_NAME && n > 0 && f.host === undefined) f.host = asciiText(b, at, n);
    else if (code === OPT_OVERLOAD && n === 1) f.overload = b[at]!;
  };
  f.complete = walkOptions(b, off + OPTIONS_AT, off + len, visit) === OPT_END;
  // RFC 2131 §4.1: with option 52, 'file' and then 'sname' continue the options.
  if ((f.overload & 1) !== 0) walkOptions(b, off + FILE_AT, off + FILE_AT + FILE_LEN, visit);
  if ((f.overload & 2) !== 0) walkOptions(b, off + SNAME_AT, off + SNAME_AT + SNAME_LEN, visit);
  return f;
}

/** Host names are ASCII (RFC 2132 §3.14); anything else is shown as \xHH so it cannot act on a terminal. */
function asciiText(b: Uint8Array, at: number, n: number): string {
  let out = '';
  const end = at + n;
  for (let i = at; i < end && out.length < MAX_WIRE_STRING; i++) {
    const c = b[i]!;
    if (c === 0 && i === end - 1) break; // some clients NUL-terminate the name
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  return out.slice(0, MAX_WIRE_STRING);
}

function v4TypeName(f: V4Fields, op: number): string | undefined {
  if (f.type !== 0) return V4_TYPES[f.type] ?? `TYPE${f.type}`;
  // Plain BOOTP (RFC 951) has no option 53; a cut-off option list says nothing either way.
  if (!f.complete) return undefined;
  return op === 1 ? 'BOOTREQUEST' : 'BOOTREPLY';
}

// ---------------------------------------------------------------------------------------------
// DHCPv6
// ---------------------------------------------------------------------------------------------

/** RFC 8415 §8/§9 header and an option list (§21.1: code, length) ending exactly at the datagram end. */
function plausibleV6(b: Uint8Array, off: number, len: number): boolean {
  const type = b[off]!;
  if (type === 0 || type >= V6_TYPES.length) return false;
  const start = off + (type >= V6_RELAY_FORW ? V6_RELAY_HEADER_LEN : V6_HEADER_LEN);
  const end = off + len;
  // Every message carries options (a Client Identifier at the least, or a Relay Message).
  if (start + 4 > end) return false;
  let p = start;
  while (p + 4 <= end) p += 4 + u16(b, p + 2);
  return p === end;
}

/** The RFC 4704 §4.2 domain name of a Client FQDN option: DNS wire labels, possibly without the root. */
function v6ClientFqdn(b: Uint8Array, off: number, len: number): string | undefined {
  const end = off + len;
  let p = off + (b[off]! >= V6_RELAY_FORW ? V6_RELAY_HEADER_LEN : V6_HEADER_LEN);
  while (p + 4 <= end) {
    const code = u16(b, p);
    const n = u16(b, p + 2);
    if (p + 4 + n > end) return undefined;
    if (code === V6_OPT_CLIENT_FQDN && n > 1) {
      const labels: string[] = [];
      let q = p + 5; // after the flags octet
      const stop = p + 4 + n;
      while (q < stop && b[q] !== 0) {
        const l = b[q]!;
        if (l > 63 || q + 1 + l > stop) return undefined;
        labels.push(asciiText(b, q + 1, l));
        q += 1 + l;
      }
      const name = labels.join('.');
      return name === '' ? undefined : name.slice(0, MAX_WIRE_STRING);
    }
    p += 4 + n;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Classifier
// ---------------------------------------------------------------------------------------------

function v4Port(ctx: DpiContext): boolean {
  const s = ctx.srcPort;
  const d = ctx.dstPort;
  return s === PORT_SERVER || s === PORT_CLIENT || d === PORT_SERVER || d === PORT_CLIENT;
}

function v6Port(ctx: DpiContext): boolean {
  const s = ctx.srcPort;
  const d = ctx.dstPort;
  return s === PORT_V6_CLIENT || s === PORT_V6_SERVER || d === PORT_V6_CLIENT || d === PORT_V6_SERVER;
}

class DhcpSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (!inBounds(buf, off, len)) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    let type: string | undefined;
    let host: string | undefined;
    if (plausibleV4(buf, off, len, !v4Port(ctx))) {
      const f = parseV4(buf, off, len);
      type = v4TypeName(f, buf[off]!);
      host = f.host;
    } else if (v6Port(ctx) && plausibleV6(buf, off, len)) {
      type = V6_TYPES[buf[off]!]!;
      host = v6ClientFqdn(buf, off, len);
    } else {
      return this.app === null ? Verdict.REJECT : Verdict.DONE;
    }
    const app = newAppInfo('DHCP');
    if (type !== undefined) app.details.dhcp_message_type = type;
    if (host !== undefined && host !== '') app.details.dhcp_hostname = host;
    this.app = app;
    return Verdict.DONE;
  }
}

/** DHCP: the BOOTP cookie is content anywhere; DHCPv6 has no magic, so it needs its ports. */
export const dhcpClassifier: Classifier = {
  id: 'dhcp',
  transports: Transport.UDP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (!inBounds(buf, off, len)) return Score.NO;
    const onV4 = v4Port(ctx);
    if (plausibleV4(buf, off, len, !onV4)) return Score.CONTENT;
    const onV6 = v6Port(ctx);
    if (onV6 && plausibleV6(buf, off, len)) return Score.CONTENT;
    return onV4 || onV6 ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new DhcpSession();
  },
};
