// SNMP classifier: version and PDU type of BER-encoded SNMP messages (RFC 1157, RFC 3416, RFC 3412); never the community.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';

const PORT_AGENT = 161;
const PORT_TRAP = 162;

/** X.690 universal tags used by the SNMP message wrapper. */
const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_SEQUENCE = 0x30;
/** RFC 1157 §4.1.6: the v1 Trap-PDU; its first field is an OID, not a request-id. */
const TAG_TRAP_V1 = 0xa4;

/** Context-specific constructed PDU tags 0xa0-0xa8 (RFC 1157 §4.1, RFC 3416 §3). */
const PDU_NAMES: readonly string[] = [
  'get-request', 'get-next-request', 'get-response', 'set-request', 'trap', 'getbulk', 'inform',
  'snmpv2-trap', 'report',
];
/** msgVersion values: 0 = SNMPv1 (RFC 1157), 1 = SNMPv2c (RFC 1901), 3 = SNMPv3 (RFC 3412). */
const VERSION_NAMES: readonly (string | undefined)[] = ['v1', 'v2c', undefined, 'v3'];

// Value bounds of the last readTlv call (module scratch keeps detect allocation-free).
let tlvValue = 0;
let tlvEnd = 0;

/**
 * Reads one BER tag-length header at `p` (X.690 §8.1): single-byte tag, definite length in
 * short form or long form of up to 4 octets. Returns the tag, or -1 when the value would not fit
 * before `end`; sets tlvValue/tlvEnd.
 */
function readTlv(b: Uint8Array, p: number, end: number): number {
  if (p + 2 > end) return -1;
  const tag = b[p]!;
  const first = b[p + 1]!;
  let len: number;
  let v = p + 2;
  if (first < 0x80) {
    len = first;
  } else {
    // 0x80 would be the indefinite form, which SNMP's encoding rules exclude (RFC 3417 §8).
    const n = first & 0x7f;
    if (n === 0 || n > 4 || v + n > end) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[v + i]!;
    v += n;
  }
  if (v + len > end) return -1;
  tlvValue = v;
  tlvEnd = v + len;
  return tag;
}

/** A PDU tag the given version may carry, whose first field has the right type and that ends at `end`. */
function pduAt(b: Uint8Array, p: number, end: number, version: number): number {
  const tag = readTlv(b, p, end);
  if (tag < 0xa0 || tag > 0xa8 || tlvEnd !== end) return -1;
  // Trap-PDU exists only in v1; GetBulk, Inform, SNMPv2-Trap and Report only from v2 on.
  if (version === 0 ? tag > TAG_TRAP_V1 : tag === TAG_TRAP_V1) return -1;
  if (readTlv(b, tlvValue, end) !== (tag === TAG_TRAP_V1 ? TAG_OID : TAG_INTEGER)) return -1;
  return tag;
}

/**
 * Parses the message wrapper of b[off..off+len), which must be exactly one SEQUENCE. Returns
 * (version << 8) | pduTag, with pduTag 0 for an encrypted SNMPv3 PDU, or -1. Allocation-free.
 */
function parse(b: Uint8Array, off: number, len: number): number {
  if (off < 0 || len <= 0 || off + len > b.length) return -1;
  const end = off + len;
  if (readTlv(b, off, end) !== TAG_SEQUENCE || tlvEnd !== end) return -1;
  // RFC 1157 §4.1 / RFC 3412 §6: version INTEGER first.
  if (readTlv(b, tlvValue, end) !== TAG_INTEGER || tlvEnd - tlvValue !== 1) return -1;
  const version = b[tlvValue]!;
  if (VERSION_NAMES[version] === undefined) return -1;
  let p = tlvEnd;
  if (version !== 3) {
    // community OCTET STRING (skipped, never kept), then the PDU.
    if (readTlv(b, p, end) !== TAG_OCTET_STRING) return -1;
    const tag = pduAt(b, tlvEnd, end, version);
    return tag < 0 ? -1 : (version << 8) | tag;
  }
  // SNMPv3: msgGlobalData SEQUENCE, msgSecurityParameters OCTET STRING, then msgData.
  if (readTlv(b, p, end) !== TAG_SEQUENCE) return -1;
  p = tlvEnd;
  if (readTlv(b, p, end) !== TAG_OCTET_STRING) return -1;
  p = tlvEnd;
  const data = readTlv(b, p, end);
  if (data < 0 || tlvEnd !== end) return -1;
  if (data === TAG_OCTET_STRING) return version << 8; // encryptedPDU (RFC 3412 §6, ScopedPduData)
  if (data !== TAG_SEQUENCE) return -1;
  // ScopedPDU: contextEngineID, contextName, PDU.
  if (readTlv(b, tlvValue, end) !== TAG_OCTET_STRING) return -1;
  if (readTlv(b, tlvEnd, end) !== TAG_OCTET_STRING) return -1;
  const tag = pduAt(b, tlvEnd, end, version);
  return tag < 0 ? -1 : (version << 8) | tag;
}

function onSnmpPort(ctx: DpiContext): boolean {
  const s = ctx.srcPort;
  const d = ctx.dstPort;
  return s === PORT_AGENT || s === PORT_TRAP || d === PORT_AGENT || d === PORT_TRAP;
}

class SnmpSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, _ctx: DpiContext): number {
    const r = parse(buf, off, len);
    if (r < 0) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const app = newAppInfo('SNMP');
    app.details.snmp_version = VERSION_NAMES[r >>> 8]!;
    const tag = r & 0xff;
    if (tag !== 0) app.details.snmp_pdu = PDU_NAMES[tag - 0xa0]!;
    this.app = app;
    return Verdict.DONE;
  }
}

/** SNMP over UDP: the nested BER lengths must account for the whole datagram, on 161/162 or elsewhere. */
export const snmpClassifier: Classifier = {
  id: 'snmp',
  transports: Transport.UDP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (parse(buf, off, len) >= 0) return Score.CONTENT;
    return onSnmpPort(ctx) ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new SnmpSession();
  },
};
