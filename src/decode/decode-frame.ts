// decodeFrame: one frame's bytes → the reused PacketView, or the reason it cannot be tracked.

import { Fragment, IpProto, L3, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { decodeArp } from './arp.js';
import { decodeIcmp } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeLink, EtherType, LINK_BY_VERSION } from './link.js';
import { decodeTcp } from './tcp.js';
import { decodeUdp } from './udp.js';

/**
 * Decodes the frame b[off, off+capLength). Returns Skip.OK with `view` filled, or the Skip code that
 * says why the frame is not tracked. Pure, allocation-free, and never throws for any bytes.
 */
export function decodeFrame(
  b: Uint8Array, off: number, capLength: number, wireLength: number, linkType: number, tsMicros: number, view: PacketView,
): number {
  const end = off + capLength;
  view.tsMicros = tsMicros;
  view.capLength = capLength;
  view.wireLength = wireLength;
  view.tcpFlags = 0;
  view.seq = 0;
  view.ack = 0;
  view.srcPort = 0;
  view.dstPort = 0;
  view.icmpType = 0;
  view.icmpCode = 0;
  view.icmpId = 0;
  view.arpOp = 0;
  view.vlanId = 0; // only a VLAN tag sets it; untagged frames must not inherit the last tagged one's
  view.payloadOffset = 0;
  view.payloadLength = 0;
  view.payloadWireLength = 0;
  view.l3 = L3.NONE;

  let type = decodeLink(b, off, end, linkType, view);
  if (type < 0) return -type;
  const l3 = off + view.linkHeaderLength;
  if (type === LINK_BY_VERSION) {
    if (l3 >= end) return Skip.TRUNCATED_IP;
    const version = b[l3]! >> 4;
    type = version === 4 ? EtherType.IPV4 : version === 6 ? EtherType.IPV6 : 0;
    if (type === 0) return Skip.BAD_IP_HEADER;
  }
  let t: number;
  if (type === EtherType.IPV4) {
    view.l3 = L3.IPV4;
    t = decodeIpv4(b, l3, end, view);
  } else if (type === EtherType.IPV6) {
    view.l3 = L3.IPV6;
    t = decodeIpv6(b, l3, end, view);
  } else if (type === EtherType.ARP) {
    view.l3 = L3.ARP;
    // `0 - x`, not `-x`: negating 0 gives -0, which is not Object.is-equal to Skip.OK.
    return 0 - decodeArp(b, l3, end, view);
  } else {
    return Skip.UNSUPPORTED_ETHERTYPE;
  }
  if (t < 0) return -t;
  // Later fragments carry no transport header; tracking attributes them to the first fragment's flow.
  if (view.fragment === Fragment.LATER) return Skip.OK;
  const ipEnd = l3 + view.ipTotalLength;
  let r = 0;
  switch (view.ipProto) {
    case IpProto.TCP:
      r = decodeTcp(b, t, ipEnd, end, view);
      break;
    case IpProto.UDP:
      r = decodeUdp(b, t, ipEnd, end, view);
      break;
    case IpProto.ICMP:
      if (view.l3 === L3.IPV4) r = decodeIcmp(b, t, ipEnd, end, false, view);
      break;
    case IpProto.ICMPV6:
      if (view.l3 === L3.IPV6) r = decodeIcmp(b, t, ipEnd, end, true, view);
      break;
    default:
      // IGMP and other protocols: tracked by address pair only.
      break;
  }
  return 0 - r;
}
