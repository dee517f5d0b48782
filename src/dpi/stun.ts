// STUN/TURN classifier: method and class of STUN messages (RFC 8489), legacy RFC 3489 ones on port 3478.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { u16 } from '../core/bytes.js';

/** RFC 8489 §18.4 (stun, turn), RFC 3489 §8.1. */
const PORT_STUN = 3478;
const HEADER_LEN = 20;
/** RFC 8489 §5: fixed value at offset 4 that sets RFC 5389+ STUN apart from everything else. */
const MAGIC_COOKIE = 0x2112a442;
const TRANSPORT_TCP = 6;

/** IANA STUN methods (RFC 8489 §18.2, RFC 8656 §17, RFC 6062 §6.1). */
const METHOD_NAMES: ReadonlyMap<number, string> = new Map([
  [0x001, 'Binding'],
  [0x002, 'SharedSecret'],
  [0x003, 'Allocate'],
  [0x004, 'Refresh'],
  [0x006, 'Send'],
  [0x007, 'Data'],
  [0x008, 'CreatePermission'],
  [0x009, 'ChannelBind'],
  [0x00a, 'Connect'],
  [0x00b, 'ConnectionBind'],
  [0x00c, 'ConnectionAttempt'],
]);
const CLASS_NAMES: readonly string[] = ['request', 'indication', 'success', 'error'];


/**
 * Checks a STUN message at b[off..off+len). `legacy` accepts RFC 3489's 128-bit transaction id in
 * place of the cookie. UDP carries exactly one message; over TCP (RFC 8489 §7.2.2) the first
 * message may continue in later segments. Allocation-free.
 */
function plausible(b: Uint8Array, off: number, len: number, legacy: boolean, tcp: boolean): boolean {
  if (off < 0 || len < HEADER_LEN || off + len > b.length) return false;
  const type = u16(b, off);
  const bodyLen = u16(b, off + 2);
  // RFC 8489 §5: the two most significant bits are zero; the length excludes the header and,
  // attributes being padded to 4 bytes, is a multiple of 4.
  if ((type & 0xc000) !== 0 || (bodyLen & 3) !== 0) return false;
  const cookie = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
  if (cookie !== MAGIC_COOKIE && !legacy) return false;
  const msgEnd = off + HEADER_LEN + bodyLen;
  const end = off + len;
  if (!tcp && msgEnd !== end) return false;
  // RFC 8489 §14: attributes are type, length, value padded to a multiple of 4, and together
  // fill the message exactly. Over TCP only the attributes present so far can be checked.
  const stop = Math.min(msgEnd, end);
  let p = off + HEADER_LEN;
  while (p + 4 <= stop) p += 4 + ((u16(b, p + 2) + 3) & ~3);
  return msgEnd <= end ? p === msgEnd : p <= msgEnd;
}

/** RFC 8489 §5 Figure 3: method bits M0-M11 interleaved with the class bits C0 (bit 4) and C1 (bit 8). */
function methodOf(type: number): number {
  return (type & 0x000f) | ((type >>> 1) & 0x0070) | ((type >>> 2) & 0x0f80);
}

function classOf(type: number): number {
  return ((type >>> 4) & 1) | ((type >>> 7) & 2);
}

function onStunPort(ctx: DpiContext): boolean {
  return ctx.srcPort === PORT_STUN || ctx.dstPort === PORT_STUN;
}

class StunSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const tcp = ctx.transport === TRANSPORT_TCP;
    if (!plausible(buf, off, len, onStunPort(ctx), tcp)) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const type = u16(buf, off);
    const method = methodOf(type);
    const app = newAppInfo('STUN');
    app.details.stun_method = METHOD_NAMES.get(method) ?? `0x${method.toString(16).padStart(3, '0')}`;
    app.details.stun_class = CLASS_NAMES[classOf(type)]!;
    this.app = app;
    return Verdict.DONE;
  }
}

/** STUN (RFC 8489): the magic cookie makes it content on any port; RFC 3489 messages lack it. */
export const stunClassifier: Classifier = {
  id: 'stun',
  transports: Transport.BOTH,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const tcp = ctx.transport === TRANSPORT_TCP;
    if (plausible(buf, off, len, false, tcp)) return Score.CONTENT;
    return onStunPort(ctx) ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new StunSession();
  },
};
