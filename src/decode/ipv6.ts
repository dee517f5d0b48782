// IPv6 header (RFC 8200) and its extension-header chain, including the fragment header.

import { Fragment, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32 } from '../core/bytes.js';

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTH = 51;
const DEST_OPTS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;
/** More extension headers than this is not a real packet. */
const MAX_EXTENSIONS = 10;

/** Decodes an IPv6 header chain at `off`. Returns the upper-layer header offset or minus a Skip code. */
export function decodeIpv6(b: Uint8Array, off: number, end: number, view: PacketView): number {
  if (end - off < 40) return -Skip.TRUNCATED_IP;
  if (b[off]! >> 4 !== 6) return -Skip.BAD_IP_HEADER;
  const plen = u16(b, off + 4);
  // Payload length 0 means a jumbogram or offloaded segment: trust the capture.
  view.ipTotalLength = plen === 0 ? end - off : plen + 40;
  view.ttl = b[off + 7]!;
  view.src0 = u32(b, off + 8); view.src1 = u32(b, off + 12); view.src2 = u32(b, off + 16); view.src3 = u32(b, off + 20);
  view.dst0 = u32(b, off + 24); view.dst1 = u32(b, off + 28); view.dst2 = u32(b, off + 32); view.dst3 = u32(b, off + 36);
  view.fragment = Fragment.NONE;
  view.ipId = 0;
  let next = b[off + 6]!;
  let p = off + 40;
  for (let n = 0; n < MAX_EXTENSIONS; n++) {
    switch (next) {
      case HOP_BY_HOP:
      case ROUTING:
      case DEST_OPTS:
      case MOBILITY:
      case HIP:
      case SHIM6:
        if (end - p < 8) return -Skip.TRUNCATED_IP;
        next = b[p]!;
        p += (b[p + 1]! + 1) << 3;
        continue;
      case AUTH:
        // RFC 4302: length in 4-octet units, minus 2.
        if (end - p < 8) return -Skip.TRUNCATED_IP;
        next = b[p]!;
        p += (b[p + 1]! + 2) << 2;
        continue;
      case FRAGMENT: {
        if (end - p < 8) return -Skip.TRUNCATED_IP;
        next = b[p]!;
        const fo = u16(b, p + 2);
        view.ipId = u32(b, p + 4);
        view.fragment = (fo & 0xfff8) !== 0 ? Fragment.LATER : (fo & 1) !== 0 ? Fragment.FIRST : Fragment.NONE;
        p += 8;
        if (view.fragment === Fragment.LATER) {
          view.ipProto = next;
          return p;
        }
        continue;
      }
      default:
        if (p > end) return -Skip.TRUNCATED_IP;
        view.ipProto = next;
        return p;
    }
  }
  return -Skip.BAD_IP_HEADER;
}
