// Protocol-aware idle timeouts (RustNet's table) and the staleness ratio the UI colours by.

import { IpProto } from '../core/packet-view.js';
import { TcpState, type Connection } from './connection.js';

const S = 1_000_000;
/** Idle time after which an established flow counts as idle rather than active. */
export const ACTIVE_IDLE_MICROS = 60 * S;

function isHttp(alpn: unknown): boolean {
  return Array.isArray(alpn) && alpn.some((p) => p === 'h3' || p === 'h2' || String(p).startsWith('http/') || String(p).startsWith('h3-'));
}

/** How long this connection may stay silent before it is removed, in microseconds. */
export function timeoutMicros(c: Connection, nowMicros: number): number {
  const idle = nowMicros - c.lastSeenMicros;
  const app = c.dpi?.app ?? null;
  if (c.protocol === IpProto.TCP) {
    switch (c.tcpState) {
      case TcpState.NEW:
      case TcpState.ESTABLISHED:
        if (app !== null) {
          if (app.protocol === 'HTTP' || app.protocol === 'HTTPS') return 600 * S;
          if (app.protocol === 'SSH') return 1800 * S;
        }
        return idle < ACTIVE_IDLE_MICROS ? 600 * S : 300 * S;
      case TcpState.TIME_WAIT:
        return 30 * S;
      case TcpState.CLOSED:
        return 5 * S;
      case TcpState.SYN_SENT:
      case TcpState.SYN_RECV:
        return 30 * S;
      default:
        return 60 * S; // FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING
    }
  }
  if (c.protocol === IpProto.UDP && app !== null) {
    switch (app.protocol) {
      case 'QUIC':
        switch (app.state) {
          case 'QUIC_CLOSED':
            return 1 * S;
          case 'QUIC_DRAINING':
            return 10 * S;
          case 'QUIC_CONNECTED':
            if (isHttp(app.details.alpn)) return 600 * S;
            return idle < ACTIVE_IDLE_MICROS ? 600 * S : 300 * S;
          default:
            return 60 * S;
        }
      case 'SSH':
        return 1800 * S;
      case 'DNS':
      case 'mDNS':
      case 'LLMNR':
        return 30 * S;
      default:
        return 60 * S;
    }
  }
  return 60 * S;
}

/** Idle time as a fraction of the timeout: < 0.75 white, 0.75–0.9 yellow, > 0.9 red. */
export function staleness(c: Connection, nowMicros: number): number {
  const t = timeoutMicros(c, nowMicros);
  return t > 0 ? Math.max(0, nowMicros - c.lastSeenMicros) / t : 1;
}
