// Where the IP header starts in a classic-pcap frame, by link type: for scripts and the tests' own pcap reader.

/** Big-endian 16 bits at d[p]. */
const be16 = (d, p) => (d[p] << 8) | d[p + 1];

/** Little-endian 32 bits at d[p]. */
const le32 = (d, p) => (d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> 0;

/**
 * Offset of the IP header in the frame d[s, e) of link type `linkType`, or -1 when it carries no IP (or the
 * link type is not known here): Ethernet (VLAN and QinQ tags skipped), BSD loopback (0), raw IP (12, 101, 228,
 * 229), Linux SLL (113) and SLL2 (276), PKTAP (258: its header's length and inner link type, little-endian,
 * lead it). A truncated frame can give an offset at or past `e`: callers check before reading the header.
 *
 * @param {Uint8Array} d
 * @param {number} s
 * @param {number} e
 * @param {number} linkType
 * @returns {number}
 */
export function ipStart(d, s, e, linkType) {
  switch (linkType) {
    case 1: {
      let p = s + 12;
      while (p + 2 <= e && (be16(d, p) === 0x8100 || be16(d, p) === 0x88a8)) p += 4;
      if (p + 2 > e) return -1;
      const type = be16(d, p);
      return type === 0x0800 || type === 0x86dd ? p + 2 : -1;
    }
    case 0:
      return s + 4;
    case 12:
    case 101:
    case 228:
    case 229:
      return s;
    case 113:
      return s + 16;
    case 276:
      return s + 20;
    case 258: {
      if (s + 8 > e) return -1;
      const length = le32(d, s);
      // A header shorter than its own two fields would never end (or loop on itself).
      if (length < 8 || s + length > e) return -1;
      return ipStart(d, s + length, e, le32(d, s + 4));
    }
    default:
      return -1;
  }
}
