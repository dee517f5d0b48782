// Protocol-aware idle timeouts (RustNet's table) and the staleness ratio the UI colours by.

import { IpProto } from '../core/packet-view.js';
import type { AppInfo } from '../core/app-info.js';
import { TcpState, type Connection } from './connection.js';

const S = 1_000_000;
/** Idle time after which an established flow counts as idle rather than active. */
export const ACTIVE_IDLE_MICROS = 60 * S;

/**
 * What DPI's findings mean for a connection's timeout, as a small number kept on the connection:
 * the sweep reads it for every connection it re-evaluates, and looking into the DPI objects each
 * time (two more objects per connection, string comparisons) cost more than the sweep itself.
 */
export const AppTimeout = {
  NONE: 0,
  HTTP: 1,
  SSH: 2,
  DNS: 3,
  QUIC_CLOSED: 4,
  QUIC_DRAINING: 5,
  QUIC_CONNECTED_HTTP: 6,
  QUIC_CONNECTED: 7,
  QUIC_OTHER: 8,
  OTHER: 9,
} as const;

function isHttp(alpn: unknown): boolean {
  return Array.isArray(alpn) && alpn.some((p) => p === 'h3' || p === 'h2' || String(p).startsWith('http/') || String(p).startsWith('h3-'));
}

function appTimeoutOf(app: AppInfo | null): number {
  // A guess from the port alone is not a detection: it leaves the transport's timeout.
  if (app === null || app.confidence === 'port') return AppTimeout.NONE;
  switch (app.protocol) {
    case 'HTTP':
    case 'HTTPS':
      return AppTimeout.HTTP;
    case 'SSH':
      return AppTimeout.SSH;
    case 'DNS':
    case 'mDNS':
    case 'LLMNR':
      return AppTimeout.DNS;
    case 'QUIC':
      switch (app.state) {
        case 'QUIC_CLOSED':
          return AppTimeout.QUIC_CLOSED;
        case 'QUIC_DRAINING':
          return AppTimeout.QUIC_DRAINING;
        case 'QUIC_CONNECTED':
          return isHttp(app.details.alpn) ? AppTimeout.QUIC_CONNECTED_HTTP : AppTimeout.QUIC_CONNECTED;
        default:
          return AppTimeout.QUIC_OTHER;
      }
    default:
      return AppTimeout.OTHER;
  }
}

/** Re-read the connection's DPI findings into c.appTimeout; call after they may have changed. */
export function refreshAppTimeout(c: Connection): void {
  c.appTimeout = appTimeoutOf(c.dpi?.app ?? null);
}

/** How long this connection may stay silent before it is removed, in microseconds. */
export function timeoutMicros(c: Connection, nowMicros: number): number {
  const idle = nowMicros - c.lastSeenMicros;
  const app = c.appTimeout;
  if (c.protocol === IpProto.TCP) {
    switch (c.tcpState) {
      case TcpState.NEW:
      case TcpState.ESTABLISHED:
        if (app === AppTimeout.HTTP) return 600 * S;
        if (app === AppTimeout.SSH) return 1800 * S;
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
  if (c.protocol === IpProto.UDP) {
    switch (app) {
      case AppTimeout.NONE:
        return 60 * S;
      case AppTimeout.QUIC_CLOSED:
        return 1 * S;
      case AppTimeout.QUIC_DRAINING:
        return 10 * S;
      case AppTimeout.QUIC_CONNECTED_HTTP:
        return 600 * S;
      case AppTimeout.QUIC_CONNECTED:
        return idle < ACTIVE_IDLE_MICROS ? 600 * S : 300 * S;
      case AppTimeout.SSH:
        return 1800 * S;
      case AppTimeout.DNS:
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
