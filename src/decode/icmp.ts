// ICMP (RFC 792) and ICMPv6 (RFC 4443): type, code, and the echo identifier.

import type { PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16 } from '../core/bytes.js';

export function decodeIcmp(b: Uint8Array, off: number, ipEnd: number, end: number, v6: boolean, view: PacketView): number {
  if (end - off < 4) return -Skip.TRUNCATED_TRANSPORT;
  const type = b[off]!;
  view.icmpType = type;
  view.icmpCode = b[off + 1]!;
  const echo = v6 ? type === 128 || type === 129 : type === 8 || type === 0;
  view.icmpId = echo && end - off >= 8 ? u16(b, off + 4) : 0;
  view.srcPort = 0;
  view.dstPort = 0;
  view.payloadOffset = off;
  view.payloadWireLength = Math.max(0, ipEnd - off);
  view.payloadLength = 0; // ICMP bodies are never handed to DPI (quoted headers are not traffic)
  return 0;
}
