// What kind of interface a capture runs on: TUN/TAP by name (as RustNet does) and by link type.

import { LinkType } from '../core/packet-view.js';

/** A short description for the status line and the log, e.g. "TUN, raw IP" or "Ethernet". */
export function interfaceKind(name: string, linkType: number): string {
  // VPN and tunnel devices: Linux/BSD tunN, macOS utunN, WireGuard wgN, Tailscale tailscaleN.
  if (/^(tun|utun|wg|tailscale)\d*$/.test(name) || /^tun/.test(name)) return 'TUN, raw IP';
  if (/^tap/.test(name)) return 'TAP, Ethernet';
  switch (linkType) {
    case LinkType.ETHERNET: return 'Ethernet';
    case LinkType.LINUX_SLL: return 'Linux cooked capture';
    case LinkType.LINUX_SLL2: return 'Linux cooked capture v2';
    case LinkType.NULL:
    case LinkType.LOOP: return 'BSD loopback';
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.IPV4:
    case LinkType.IPV6: return 'raw IP';
    default: return `link type ${linkType}`;
  }
}
