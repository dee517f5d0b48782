// UDP header (RFC 768): ports and payload bounds.

import type { PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16 } from '../core/bytes.js';

export function decodeUdp(b: Uint8Array, off: number, ipEnd: number, end: number, view: PacketView): number {
  if (end - off < 8) return -Skip.TRUNCATED_TRANSPORT;
  view.srcPort = u16(b, off);
  view.dstPort = u16(b, off + 2);
  const len = u16(b, off + 4);
  const payload = off + 8;
  // The UDP length wins when it is sane; 0 is legal for IPv6 jumbograms; otherwise the IP length.
  const udpEnd = len >= 8 && off + len <= ipEnd ? off + len : ipEnd;
  view.payloadOffset = payload;
  view.payloadWireLength = Math.max(0, udpEnd - payload);
  view.payloadLength = Math.max(0, Math.min(udpEnd, end) - payload);
  return 0;
}
