// GTP-U (3GPP TS 29.281): find the user IP packet inside a G-PDU carried on UDP port 2152.

export const GTP_U_PORT = 2152;

/** Most extension headers we follow before calling the packet malformed. */
const MAX_EXTENSIONS = 8;

/**
 * For a GTPv1-U G-PDU at b[off, end): the offset of the inner IPv4/IPv6 packet, or -1 when the
 * payload is not a G-PDU carrying IP (echo, error indication, GTP' or garbage).
 */
export function gtpInnerOffset(b: Uint8Array, off: number, end: number): number {
  if (end - off < 8) return -1;
  const flags = b[off]!;
  // Version 1 (top three bits 001) and protocol type GTP (PT bit set); message type 255 = G-PDU.
  if ((flags & 0xf0) !== 0x30 || b[off + 1] !== 0xff) return -1;
  let p = off + 8;
  if ((flags & 0x07) !== 0) {
    // E, S or PN set: sequence number (2), N-PDU number (1), next extension header type (1).
    if (end - p < 4) return -1;
    let next = b[p + 3]!;
    p += 4;
    for (let n = 0; next !== 0; n++) {
      // Each extension header: length in 4-octet units (incl. itself), content, next type (last byte).
      if (n >= MAX_EXTENSIONS || p >= end) return -1;
      const len = b[p]! * 4;
      if (len === 0 || p + len > end) return -1;
      next = b[p + len - 1]!;
      p += len;
    }
  }
  if (p >= end) return -1;
  const version = b[p]! >> 4;
  return version === 4 || version === 6 ? p : -1;
}
