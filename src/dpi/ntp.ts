// NTP classifier: protocol version and association mode of UDP port 123 packets (RFC 5905).

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';

const PORT_NTP = 123;
/** RFC 5905 §7.3: the fixed header of modes 1-5. */
const HEADER_LEN = 48;
/** RFC 9327 §2 (mode 6 control messages): 12-byte header, then `count` data octets. */
const CONTROL_HEADER_LEN = 12;
const CONTROL_MAX_DATA = 468;
/** Mode 7 (ntpdc private requests) has an 8-byte header before its data. */
const PRIVATE_HEADER_LEN = 8;
/** RFC 5905 §7.3: stratum 16 means unsynchronised; 17-255 are reserved. */
const MAX_STRATUM = 16;

/** RFC 5905 §7.3 Figure 10 mode names (0 is reserved). */
const MODE_NAMES: readonly string[] = [
  'reserved', 'symmetric-active', 'symmetric-passive', 'client', 'server', 'broadcast', 'control', 'private',
];

/** Returns (version << 3) | mode when the packet has NTP's layout, else -1. Allocation-free. */
function parse(b: Uint8Array, off: number, len: number): number {
  if (off < 0 || len < 1 || off + len > b.length) return -1;
  const first = b[off]!;
  // RFC 5905 §7.3: LI (2 bits), VN (3 bits), Mode (3 bits). Versions 1-4 are defined.
  const version = (first >>> 3) & 7;
  const mode = first & 7;
  if (version < 1 || version > 4 || mode === 0) return -1;
  if (mode <= 5) {
    if (len < HEADER_LEN || b[off + 1]! > MAX_STRATUM) return -1;
    // Whatever follows the header (extension fields, key id + MAC) is a multiple of 4 octets.
    if ((len - HEADER_LEN) % 4 !== 0) return -1;
  } else if (mode === 6) {
    if (len < CONTROL_HEADER_LEN) return -1;
    const count = (b[off + 10]! << 8) | b[off + 11]!;
    if (count > CONTROL_MAX_DATA || CONTROL_HEADER_LEN + count > len) return -1;
  } else if (len < PRIVATE_HEADER_LEN) {
    return -1;
  }
  return (version << 3) | mode;
}

function onNtpPort(ctx: DpiContext): boolean {
  return ctx.srcPort === PORT_NTP || ctx.dstPort === PORT_NTP;
}

class NtpSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, _ctx: DpiContext): number {
    const r = parse(buf, off, len);
    if (r < 0) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const app = newAppInfo('NTP');
    app.details.ntp_version = r >>> 3;
    app.details.ntp_mode = MODE_NAMES[r & 7]!;
    this.app = app;
    return Verdict.DONE;
  }
}

/** NTP (RFC 5905): no magic bytes, so only a packet on port 123 with NTP's layout counts as content. */
export const ntpClassifier: Classifier = {
  id: 'ntp',
  transports: Transport.UDP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (!onNtpPort(ctx)) return Score.NO;
    return parse(buf, off, len) >= 0 ? Score.CONTENT : Score.PORT;
  },
  start(): ClassifierSession {
    return new NtpSession();
  },
};
