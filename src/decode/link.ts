// Link layers: find where the network header starts and which network protocol it is, through VLAN tags, PPPoE and MPLS.

import { LinkType, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { u16, u32, u32le } from '../core/bytes.js';

export const EtherType = {
  IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, VLAN_OLD: 0x9100,
  PPPOE_DISCOVERY: 0x8863, PPPOE_SESSION: 0x8864, MPLS_UNICAST: 0x8847, MPLS_MULTICAST: 0x8848,
} as const;

/** PPP protocol numbers (RFC 1661 and the IANA registry) a PPPoE session may carry that lead to IP. */
export const PppProtocol = { IPV4: 0x0021, IPV6: 0x0057, MPLS_UNICAST: 0x0281, MPLS_MULTICAST: 0x0283 } as const;

/**
 * Most stacked VLAN tags walked. QinQ uses two and real networks rarely more than three; the bound keeps
 * a frame of repeated TPIDs from costing more than a few reads, and beyond it the frame is malformed.
 */
export const MAX_VLAN_TAGS = 8;
/** Most MPLS labels walked before the bottom of the stack (real stacks hold two to five). */
export const MAX_MPLS_LABELS = 16;

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
      // 16-byte cooked header; protocol (ethertype) in the last two bytes. Cooked captures of
      // non-Ethernet devices use small protocol numbers there (e.g. 4 = 802.2): unsupported below.
      if (end - off < 16) return -Skip.TRUNCATED_LINK;
      return encapsulated(b, off, off + 16, end, u16(b, off + 14), view);
    case LinkType.LINUX_SLL2:
      // 20-byte cooked header v2; protocol first.
      if (end - off < 20) return -Skip.TRUNCATED_LINK;
      return encapsulated(b, off, off + 20, end, u16(b, off), view);
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

function ethernet(b: Uint8Array, frameStart: number, off: number, end: number, view: PacketView): number {
  if (end - off < 14) return -Skip.TRUNCATED_LINK;
  const type = u16(b, off + 12);
  // Untagged IP, nearly every frame: no walk.
  if (type === EtherType.IPV4 || type === EtherType.IPV6) {
    view.linkHeaderLength = off + 14 - frameStart;
    return type;
  }
  return encapsulated(b, frameStart, off + 14, end, type, view);
}

/**
 * Walks what may follow an ethertype at `p`: any number of VLAN tags (802.1Q, 802.1ad QinQ, the old
 * 0x9100), then a PPPoE session header and its PPP protocol, then an MPLS label stack, in that order
 * (each optional). Sets view.linkHeaderLength to everything from `frameStart` up to the network header
 * (so connection byte counts keep including the whole link header) and returns the network ethertype,
 * or minus the Skip code. Allocation-free: numbers only.
 */
function encapsulated(b: Uint8Array, frameStart: number, p: number, end: number, type: number, view: PacketView): number {
  for (let tags = 0; type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.VLAN_OLD; tags++) {
    if (tags === MAX_VLAN_TAGS) return -Skip.BAD_LINK_HEADER;
    if (end - p < 4) return -Skip.TRUNCATED_LINK;
    // The outer tag names the VLAN (the service tag under QinQ).
    if (tags === 0) view.vlanId = u16(b, p) & 0x0fff;
    type = u16(b, p + 2);
    p += 4;
  }
  if (type === EtherType.PPPOE_SESSION) {
    // RFC 2516: version/type, code, session id, length (6 bytes), then the PPP protocol field. The
    // version, code and length are not checked, as tshark does not: the IP header is checked instead.
    if (end - p < 7) return -Skip.TRUNCATED_LINK;
    let proto = b[p + 6]!;
    if ((proto & 1) !== 0) {
      // Protocol field compression (RFC 1661 6.5): an odd first byte is the whole, one-byte field.
      p += 7;
    } else {
      if (end - p < 8) return -Skip.TRUNCATED_LINK;
      proto = u16(b, p + 6);
      p += 8;
    }
    if (proto === PppProtocol.IPV4) type = EtherType.IPV4;
    else if (proto === PppProtocol.IPV6) type = EtherType.IPV6;
    else if (proto === PppProtocol.MPLS_UNICAST || proto === PppProtocol.MPLS_MULTICAST) type = EtherType.MPLS_UNICAST;
    else return -Skip.UNSUPPORTED_PPP_PROTOCOL;
  } else if (type === EtherType.PPPOE_DISCOVERY) {
    return -Skip.PPPOE_DISCOVERY;
  }
  if (type === EtherType.MPLS_UNICAST || type === EtherType.MPLS_MULTICAST) {
    // RFC 3032: 4-byte entries (label 20 bits, traffic class 3, bottom-of-stack 1, TTL 8).
    for (let labels = 0; ; labels++) {
      if (labels === MAX_MPLS_LABELS) return -Skip.BAD_LINK_HEADER;
      if (end - p < 4) return -Skip.TRUNCATED_LINK;
      const bottom = b[p + 2]! & 1;
      p += 4;
      if (bottom !== 0) break;
    }
    // MPLS does not say what it carries (a router knows from the label's binding); like tshark, take
    // the first nibble of what follows: IPv4 or IPv6, else a pseudowire or something else we skip.
    if (p >= end) return -Skip.TRUNCATED_IP;
    const version = b[p]! >> 4;
    if (version === 4) type = EtherType.IPV4;
    else if (version === 6) type = EtherType.IPV6;
    else return -Skip.UNSUPPORTED_MPLS_PAYLOAD;
  }
  view.linkHeaderLength = p - frameStart;
  if (type < 0x0600) return -Skip.UNSUPPORTED_ETHERTYPE; // 802.3 length field (LLC/SNAP)
  return type;
}
