// IPv4 header (RFC 791): addresses, protocol, lengths, fragments; options skipped by IHL.

import { Fragment, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32 } from '../core/bytes.js';

/**
 * Decodes an IPv4 header at `off`. Returns the offset of the transport header (> 0) or minus a Skip
 * code. Sets view.transportEnd-equivalent through ipTotalLength; the caller computes payload bounds.
 */
export function decodeIpv4(b: Uint8Array, off: number, end: number, view: PacketView): number {
  if (end - off < 20) return -Skip.TRUNCATED_IP;
  const vihl = b[off]!;
  if (vihl >> 4 !== 4) return -Skip.BAD_IP_HEADER;
  const hl = (vihl & 0x0f) << 2;
  if (hl < 20) return -Skip.BAD_IP_HEADER;
  if (end - off < hl) return -Skip.TRUNCATED_IP;
  let total = u16(b, off + 2);
  // A zero total length appears with TCP segmentation offload on the capturing host: trust the capture.
  if (total === 0) total = end - off;
  if (total < hl) return -Skip.BAD_IP_HEADER;
  view.ipTotalLength = total;
  view.ipId = u16(b, off + 4);
  const frag = u16(b, off + 6);
  const fragOffset = frag & 0x1fff;
  const more = (frag & 0x2000) !== 0;
  view.fragment = fragOffset !== 0 ? Fragment.LATER : more ? Fragment.FIRST : Fragment.NONE;
  view.ttl = b[off + 8]!;
  view.ipProto = b[off + 9]!;
  view.src0 = 0; view.src1 = 0; view.src2 = 0xffff; view.src3 = u32(b, off + 12);
  view.dst0 = 0; view.dst1 = 0; view.dst2 = 0xffff; view.dst3 = u32(b, off + 16);
  return off + hl;
}
