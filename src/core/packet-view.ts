// PacketView: the one reused, numbers-only record a decoder fills for each frame.

/** Link-layer types we decode (pcap LINKTYPE_* numbers). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_OPENBSD: 12,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  PKTAP_DARWIN: 149,
  IPV4: 228,
  IPV6: 229,
  PKTAP: 258,
  LINUX_SLL2: 276,
} as const;

/** Network layer found in a frame. */
export const L3 = { NONE: 0, IPV4: 4, IPV6: 6, ARP: 1 } as const;

/** IP protocol numbers we care about. */
export const IpProto = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** Protocol code of a tracked connection: the IP protocol number, or ARP. */
export const ARP_PROTO = 0x100;

/** TCP flag bits. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** Fragment position of an IP packet. */
export const Fragment = { NONE: 0, FIRST: 1, LATER: 2 } as const;

/**
 * Decoded header fields of one frame. Addresses are four 32-bit words each (IPv4 is stored as
 * ::ffff:a.b.c.d, so one comparison rule serves both families). The frame buffer itself is borrowed:
 * payloadOffset/payloadLength index into the buffer passed to the decoder and are only valid until
 * the next frame arrives.
 */
export class PacketView {
  tsMicros = 0;
  /** Captured bytes available in the buffer. */
  capLength = 0;
  /** Original frame length on the wire (>= capLength). */
  wireLength = 0;
  /** Bytes before the network header (link header, VLAN tags, pseudo headers). */
  linkHeaderLength = 0;
  l3 = 0;
  /** IP total length as the header states it (IPv6: payload length + 40); ARP: 28. */
  ipTotalLength = 0;
  ipProto = 0;
  ipId = 0;
  fragment = 0;
  ttl = 0;
  src0 = 0; src1 = 0; src2 = 0; src3 = 0;
  dst0 = 0; dst1 = 0; dst2 = 0; dst3 = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  icmpType = 0;
  icmpCode = 0;
  /** ICMP echo identifier, or 0 for other ICMP messages. */
  icmpId = 0;
  arpOp = 0;
  vlanId = 0;
  payloadOffset = 0;
  /** Payload bytes present in the buffer (clamped to what was captured). */
  payloadLength = 0;
  /** Payload length the headers announce (may exceed payloadLength on truncated captures). */
  payloadWireLength = 0;
}

export function isIpv4Mapped(w0: number, w1: number, w2: number): boolean {
  return w0 === 0 && w1 === 0 && w2 === 0xffff;
}
