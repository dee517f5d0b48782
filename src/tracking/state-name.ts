// The state a user sees for a connection: TCP state, or what DPI, ICMP, ARP or idleness say.

import { ARP_PROTO, IpProto } from '../core/packet-view.js';
import { LastOp, TCP_STATE_NAMES, TcpState, type Connection } from './connection.js';
import { timeoutMicros } from './timeouts.js';

/** UDP counts as active while its last packet is this recent. */
export const UDP_ACTIVE_MICROS = 10_000_000;
/** UDP is idle, not yet stale, until this share of its timeout has passed. */
export const UDP_STALE_FRACTION = 0.75;

export function stateName(c: Connection, nowMicros: number): string {
  const appState = c.dpi?.app?.state;
  switch (c.protocol) {
    case IpProto.TCP:
      // Application states (SSH's BANNER … ESTABLISHED) refine an established TCP connection only.
      if (appState !== undefined && c.tcpState === TcpState.ESTABLISHED) return appState;
      return c.tcpState === TcpState.NEW ? 'ESTABLISHED' : TCP_STATE_NAMES[c.tcpState]!;
    case IpProto.UDP: {
      if (appState !== undefined) return appState;
      const idle = nowMicros - c.lastSeenMicros;
      if (idle < UDP_ACTIVE_MICROS) return 'UDP_ACTIVE';
      return idle < UDP_STALE_FRACTION * timeoutMicros(c, nowMicros) ? 'UDP_IDLE' : 'UDP_STALE';
    }
    case IpProto.ICMP:
    case IpProto.ICMPV6:
      if (c.lastOp === LastOp.ECHO_REQUEST) return 'ECHO_REQUEST';
      if (c.lastOp === LastOp.ECHO_REPLY) return 'ECHO_REPLY';
      return 'ICMP';
    case ARP_PROTO:
      return c.lastOp === LastOp.ARP_REPLY ? 'ARP_REPLY' : 'ARP_REQUEST';
    default:
      return 'ACTIVE';
  }
}

export function protocolName(protocol: number): string {
  switch (protocol) {
    case IpProto.TCP: return 'TCP';
    case IpProto.UDP: return 'UDP';
    case IpProto.ICMP: return 'ICMP';
    case IpProto.ICMPV6: return 'ICMPv6';
    case IpProto.IGMP: return 'IGMP';
    case ARP_PROTO: return 'ARP';
    default: return `IP-${protocol}`;
  }
}
