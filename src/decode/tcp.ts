// TCP header (RFC 9293): ports, sequence numbers, flags, payload bounds.

import type { PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32 } from '../core/bytes.js';

/** Decodes TCP at `off`; `ipEnd` is where the IP packet ends by its header, `end` where capture ends. */
export function decodeTcp(b: Uint8Array, off: number, ipEnd: number, end: number, view: PacketView): number {
  if (end - off < 20) return -Skip.TRUNCATED_TRANSPORT;
  const hl = (b[off + 12]! >> 4) << 2;
  if (hl < 20 || off + hl > ipEnd) return -Skip.BAD_TRANSPORT_HEADER;
  view.srcPort = u16(b, off);
  view.dstPort = u16(b, off + 2);
  view.seq = u32(b, off + 4);
  view.ack = u32(b, off + 8);
  view.tcpFlags = b[off + 13]!;
  view.window = u16(b, off + 14);
  const payload = off + hl;
  view.payloadOffset = payload;
  view.payloadWireLength = ipEnd - payload;
  view.payloadLength = Math.max(0, Math.min(ipEnd, end) - payload);
  return 0;
}
