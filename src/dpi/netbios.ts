// NetBIOS Name Service classifier: the queried or registered NetBIOS name (RFC 1002 §4.2, UDP 137).

import { MAX_WIRE_STRING, newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { u16 } from '../core/bytes.js';

const PORT_NBNS = 137;
/** RFC 1002 §4.2.1.1: the DNS-style header. */
const HEADER_LEN = 12;
/** RFC 1001 §14.1: first-level encoding turns the 16-byte name into 32 letters 'A'..'P'. */
const ENCODED_LEN = 32;
const NAME_BYTES = 16;
/** RFC 1002 §4.2.1.2: question type NB (0x20) or NBSTAT (0x21), class IN. */
const TYPE_NB = 0x0020;
const TYPE_NBSTAT = 0x0021;
const CLASS_IN = 0x0001;
/** RFC 1035 §2.3.4 limits, which the scope id inherits. */
const MAX_LABEL_LEN = 63;
const MAX_NAME_WIRE_LEN = 255;

const LETTER_A = 0x41;
const LETTER_P = 0x50;


/**
 * Offset just past the encoded name (plus scope labels) at `p`, or -1. The first label is
 * exactly 32 letters in 'A'..'P' (RFC 1001 §14.1); scope labels follow (RFC 1001 §14.2).
 */
function skipEncodedName(b: Uint8Array, p: number, end: number): number {
  if (p + 1 + ENCODED_LEN > end || b[p] !== ENCODED_LEN) return -1;
  for (let i = 1; i <= ENCODED_LEN; i++) {
    const c = b[p + i]!;
    if (c < LETTER_A || c > LETTER_P) return -1;
  }
  let q = p + 1 + ENCODED_LEN;
  let wire = 2 + ENCODED_LEN;
  for (;;) {
    if (q >= end) return -1;
    const l = b[q]!;
    if (l === 0) return q + 1;
    if (l > MAX_LABEL_LEN) return -1;
    wire += l + 1;
    if (wire > MAX_NAME_WIRE_LEN || q + 1 + l > end) return -1;
    q += 1 + l;
  }
}

/**
 * RFC 1002 §4.2.1: header counts and opcode, and the name at offset 12 (the question, or the
 * answer of a response without one) followed by type NB/NBSTAT and class IN. Allocation-free.
 */
function plausible(b: Uint8Array, off: number, len: number): boolean {
  if (off < 0 || len < HEADER_LEN || off + len > b.length) return false;
  const flags = u16(b, off + 2);
  // OPCODE: 0 query, 5 registration, 6 release, 7 WACK, 8 refresh (RFC 1002 §4.2.1.1); stacks
  // in the field also send 9 for refresh and 15 for multi-homed registration.
  const opcode = (flags >>> 11) & 0xf;
  if (opcode !== 0 && opcode !== 15 && (opcode < 5 || opcode > 9)) return false;
  const qd = u16(b, off + 4);
  const an = u16(b, off + 6);
  const ns = u16(b, off + 8);
  const ar = u16(b, off + 10);
  // Name service packets carry at most one entry per section, and a question or an answer.
  if (qd > 1 || an > 1 || ns > 1 || ar > 1 || qd + an === 0) return false;
  const end = off + len;
  const p = skipEncodedName(b, off + HEADER_LEN, end);
  if (p < 0 || p + 4 > end) return false;
  const type = u16(b, p);
  return (type === TYPE_NB || type === TYPE_NBSTAT) && u16(b, p + 2) === CLASS_IN;
}

/** "NAME<xx>" from the 16 decoded bytes: 15 name bytes (trailing blanks dropped) and the suffix. */
function decodeName(b: Uint8Array, p: number, end: number): string {
  const raw: number[] = [];
  for (let i = 0; i < NAME_BYTES; i++) {
    raw.push(((b[p + 1 + 2 * i]! - LETTER_A) << 4) | (b[p + 2 + 2 * i]! - LETTER_A));
  }
  let n = NAME_BYTES - 1;
  // RFC 1001 §14.1 pads with blanks; the '*' wildcard name is padded with zero bytes.
  while (n > 0 && (raw[n - 1] === 0x20 || raw[n - 1] === 0x00)) n--;
  let out = '';
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
  }
  out += `<${raw[NAME_BYTES - 1]!.toString(16).padStart(2, '0')}>`;
  // Scope id labels, if any, follow as a DNS-style suffix.
  let q = p + 1 + ENCODED_LEN;
  while (q < end && b[q] !== 0) {
    const l = b[q]!;
    out += '.';
    for (let i = q + 1; i <= q + l && i < end; i++) {
      const c = b[i]!;
      out += c > 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0');
    }
    q += 1 + l;
  }
  return out.slice(0, MAX_WIRE_STRING);
}

class NetbiosSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, _ctx: DpiContext): number {
    if (!plausible(buf, off, len)) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const app = newAppInfo('NetBIOS');
    app.details.netbios_name = decodeName(buf, off + HEADER_LEN, off + len);
    this.app = app;
    return Verdict.DONE;
  }
}

/** NetBIOS Name Service: the 32-letter encoded name is a strong signature, on 137 or elsewhere. */
export const netbiosClassifier: Classifier = {
  id: 'netbios',
  transports: Transport.UDP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (plausible(buf, off, len)) return Score.CONTENT;
    return ctx.srcPort === PORT_NBNS || ctx.dstPort === PORT_NBNS ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new NetbiosSession();
  },
};
