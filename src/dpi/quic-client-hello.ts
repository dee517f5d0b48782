// Parses a complete TLS ClientHello handshake message (as QUIC carries it in CRYPTO frames) for SNI, ALPN, versions.

import { MAX_LIST_ENTRIES } from '../core/app-info.js';

/** What the QUIC classifier needs from a ClientHello. */
export interface ClientHelloSummary {
  /** server_name host_name, only when it is a plausible ASCII host name. */
  sni?: string;
  /** application_layer_protocol_negotiation protocol names, in the client's order. */
  alpn: string[];
  /** supported_versions as listed (GREASE values included), else [legacy_version]. */
  versions: number[];
}

const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
const EXT_SUPPORTED_VERSIONS = 0x002b;

/**
 * `bytes` must start at the handshake header: msg_type 1 (client_hello) and a 24-bit length
 * (RFC 8446 §4). Returns null when the message is not a well-formed ClientHello. Never throws.
 */
export function parseClientHello(bytes: Uint8Array): ClientHelloSummary | null {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 1) return null;
  const bodyLen = (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
  const end = 4 + bodyLen;
  if (end > n) return null;
  // RFC 8446 §4.1.2: legacy_version(2) random(32) legacy_session_id<0..32>.
  let p = 4;
  if (p + 35 > end) return null;
  const legacyVersion = (bytes[p]! << 8) | bytes[p + 1]!;
  p += 34;
  const sidLen = bytes[p]!;
  if (sidLen > 32) return null;
  p += 1 + sidLen;
  // cipher_suites<2..2^16-2>: an even, non-empty list.
  if (p + 2 > end) return null;
  const csLen = (bytes[p]! << 8) | bytes[p + 1]!;
  if (csLen < 2 || (csLen & 1) !== 0) return null;
  p += 2 + csLen;
  // legacy_compression_methods<1..2^8-1>.
  if (p + 1 > end) return null;
  const cmLen = bytes[p]!;
  if (cmLen < 1) return null;
  p += 1 + cmLen;
  if (p > end) return null;

  const out: ClientHelloSummary = { alpn: [], versions: [] };
  let supported: number[] | null = null;
  // Extensions are optional only for pre-TLS-1.3 hellos; QUIC always has them, but absence is not malformed.
  if (p < end) {
    if (p + 2 > end) return null;
    const extEnd = p + 2 + ((bytes[p]! << 8) | bytes[p + 1]!);
    if (extEnd > end) return null;
    p += 2;
    while (p + 4 <= extEnd) {
      const type = (bytes[p]! << 8) | bytes[p + 1]!;
      const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
      const d = p + 4;
      const dEnd = d + len;
      if (dEnd > extEnd) return null;
      if (type === EXT_SERVER_NAME) {
        const sni = readServerName(bytes, d, dEnd);
        if (sni !== undefined) out.sni = sni;
      } else if (type === EXT_ALPN) {
        readAlpn(bytes, d, dEnd, out.alpn);
      } else if (type === EXT_SUPPORTED_VERSIONS) {
        supported = readSupportedVersions(bytes, d, dEnd);
      }
      p = dEnd;
    }
    if (p !== extEnd) return null;
  }
  out.versions = supported ?? [legacyVersion];
  return out;
}

/** RFC 6066 §3 ServerNameList: the first host_name (type 0) that is a plausible DNS name. */
function readServerName(b: Uint8Array, p: number, end: number): string | undefined {
  if (p + 2 > end) return undefined;
  const listEnd = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (listEnd > end) return undefined;
  p += 2;
  while (p + 3 <= listEnd) {
    const nameType = b[p]!;
    const len = (b[p + 1]! << 8) | b[p + 2]!;
    p += 3;
    if (p + len > listEnd) return undefined;
    if (nameType === 0) return asciiName(b, p, p + len);
    p += len;
  }
  return undefined;
}

/** RFC 6066 §3: HostName is ASCII without a trailing dot; anything else is not reported as SNI. */
function asciiName(b: Uint8Array, p: number, end: number): string | undefined {
  const len = end - p;
  if (len < 1 || len > 255) return undefined;
  let s = '';
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (c <= 0x20 || c >= 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/** RFC 7301 §3.1 ProtocolNameList; non-printable names are shown as hex so nothing invisible reaches the UI. */
function readAlpn(b: Uint8Array, p: number, end: number, out: string[]): void {
  if (p + 2 > end) return;
  const listEnd = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  if (listEnd > end) return;
  p += 2;
  while (p < listEnd && out.length < MAX_LIST_ENTRIES) {
    const len = b[p]!;
    p++;
    if (len === 0 || p + len > listEnd) return;
    let printable = true;
    for (let i = p; i < p + len; i++) {
      const c = b[i]!;
      if (c < 0x20 || c >= 0x7f) printable = false;
    }
    let s = printable ? '' : '0x';
    for (let i = p; i < p + len; i++) {
      s += printable ? String.fromCharCode(b[i]!) : b[i]!.toString(16).padStart(2, '0');
    }
    out.push(s);
    p += len;
  }
}

/** RFC 8446 §4.2.1: in a ClientHello, supported_versions is a 1-byte-length list of 16-bit versions. */
function readSupportedVersions(b: Uint8Array, p: number, end: number): number[] | null {
  if (p + 1 > end) return null;
  const len = b[p]!;
  if ((len & 1) !== 0 || p + 1 + len > end) return null;
  const out: number[] = [];
  for (let i = p + 1; i + 1 < p + 1 + len && out.length < MAX_LIST_ENTRIES; i += 2) {
    out.push((b[i]! << 8) | b[i + 1]!);
  }
  return out;
}
