// ARP over Ethernet for IPv4 (RFC 826): operation and the two protocol addresses.

import type { PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32 } from '../core/bytes.js';

export const ARP_LENGTH = 28;

export function decodeArp(b: Uint8Array, off: number, end: number, view: PacketView): number {
  if (end - off < 8) return -Skip.BAD_ARP;
  const hlen = b[off + 4]!;
  const plen = b[off + 5]!;
  // Only IPv4-over-anything ARP carries addresses we can key a row by.
  if (u16(b, off + 2) !== 0x0800 || plen !== 4) return -Skip.BAD_ARP;
  const need = 8 + 2 * hlen + 8;
  if (end - off < need) return -Skip.BAD_ARP;
  view.arpOp = u16(b, off + 6);
  view.ipTotalLength = need;
  view.ipProto = 0;
  view.src0 = 0; view.src1 = 0; view.src2 = 0xffff; view.src3 = u32(b, off + 8 + hlen);
  view.dst0 = 0; view.dst1 = 0; view.dst2 = 0xffff; view.dst3 = u32(b, off + 8 + 2 * hlen + 4);
  view.srcPort = 0;
  view.dstPort = 0;
  view.payloadLength = 0;
  view.payloadWireLength = 0;
  view.fragment = 0;
  return 0;
}
