// Link layers: find where the network header starts and which network protocol it is.

import { LinkType, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32, u32le } from '../core/bytes.js';

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, VLAN_OLD: 0x9100 } as const;

/** Pseudo ethertypes for link layers that announce the network protocol some other way. */
const BY_VERSION = 1;

/**
 * Decodes the link header of a frame at `off` (frame ends at `end`). On success sets
 * view.linkHeaderLength and returns the ethertype of the network layer (or LINK_BY_VERSION when the
 * first nibble decides); on failure returns minus the Skip code.
 */
export function decodeLink(b: Uint8Array, off: number, end: number, linkType: number, view: PacketView): number {
  switch (linkType) {
    case LinkType.ETHERNET:
      return ethernet(b, off, off, end, view);
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
      view.linkHeaderLength = 0;
      return BY_VERSION;
    case LinkType.IPV4:
      view.linkHeaderLength = 0;
      return EtherType.IPV4;
    case LinkType.IPV6:
      view.linkHeaderLength = 0;
      return EtherType.IPV6;
    case LinkType.NULL:
    case LinkType.LOOP: {
      // 4-byte address family: host byte order for NULL, network order for LOOP. Accept either.
      if (end - off < 4) return -Skip.TRUNCATED_LINK;
      view.linkHeaderLength = 4;
      const le = u32le(b, off);
      const family = le < 0x10000 ? le : u32(b, off);
      if (family === 2) return EtherType.IPV4;
      // AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS.
      if (family === 10 || family === 24 || family === 28 || family === 30) return EtherType.IPV6;
      return -Skip.UNSUPPORTED_ETHERTYPE;
    }
    case LinkType.LINUX_SLL:
      // 16-byte cooked header; protocol (ethertype) in the last two bytes.
      if (end - off < 16) return -Skip.TRUNCATED_LINK;
      view.linkHeaderLength = 16;
      return sllProtocol(u16(b, off + 14));
    case LinkType.LINUX_SLL2:
      // 20-byte cooked header v2; protocol first.
      if (end - off < 20) return -Skip.TRUNCATED_LINK;
      view.linkHeaderLength = 20;
      return sllProtocol(u16(b, off));
    case LinkType.PKTAP:
    case LinkType.PKTAP_DARWIN: {
      // Apple PKTAP: little-endian header length, then the inner DLT; inner frame follows.
      if (end - off < 8) return -Skip.TRUNCATED_LINK;
      const hdrLen = u32le(b, off);
      const inner = u32le(b, off + 4);
      if (hdrLen < 8 || off + hdrLen > end) return -Skip.TRUNCATED_LINK;
      if (inner === LinkType.ETHERNET) return ethernet(b, off, off + hdrLen, end, view);
      if (inner === LinkType.RAW || inner === LinkType.RAW_OPENBSD) {
        view.linkHeaderLength = hdrLen;
        return BY_VERSION;
      }
      return -Skip.UNSUPPORTED_LINK;
    }
    default:
      return -Skip.UNSUPPORTED_LINK;
  }
}

export const LINK_BY_VERSION = BY_VERSION;

function sllProtocol(proto: number): number {
  // Cooked captures of non-Ethernet devices use small protocol numbers (e.g. 4 = 802.2); only
  // ethertypes are network layers we decode.
  return proto >= 0x0600 ? proto : -Skip.UNSUPPORTED_ETHERTYPE;
}

function ethernet(b: Uint8Array, frameStart: number, off: number, end: number, view: PacketView): number {
  if (end - off < 14) return -Skip.TRUNCATED_LINK;
  let p = off + 12;
  let type = u16(b, p);
  p += 2;
  view.vlanId = 0;
  // 802.1Q / 802.1ad tags (QinQ): skip up to four.
  for (let tags = 0; (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.VLAN_OLD) && tags < 4; tags++) {
    if (end - p < 4) return -Skip.TRUNCATED_LINK;
    if (tags === 0) view.vlanId = u16(b, p) & 0x0fff;
    type = u16(b, p + 2);
    p += 4;
  }
  view.linkHeaderLength = p - frameStart;
  if (type < 0x0600) return -Skip.UNSUPPORTED_ETHERTYPE; // 802.3 length field (LLC/SNAP)
  return type;
}
