// Connection: the mutable record of one flow, owned by the connection table.

import type { FlowInspection } from '../core/dpi-port.js';

/** TCP states (RFC 9293 names) plus NEW before the first packet is applied. */
export const TcpState = {
  NEW: 0, SYN_SENT: 1, SYN_RECV: 2, ESTABLISHED: 3, FIN_WAIT1: 4, FIN_WAIT2: 5, TIME_WAIT: 6,
  CLOSE_WAIT: 7, LAST_ACK: 8, CLOSING: 9, CLOSED: 10,
} as const;

export const TCP_STATE_NAMES: readonly string[] = [
  'NEW', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
  'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'CLOSED',
];

export const Direction = { UNKNOWN: 0, OUTGOING: 1, INCOMING: 2 } as const;

/** Last ICMP echo / ARP operation seen, for ECHO_* and ARP_* states. */
export const LastOp = { NONE: 0, ECHO_REQUEST: 1, ECHO_REPLY: 2, ARP_REQUEST: 3, ARP_REPLY: 4 } as const;

/** Rate samples kept per connection (ring). */
export const RATE_SAMPLES = 8;

export class Connection {
  readonly id: number;
  /** IP protocol number, or ARP_PROTO. */
  readonly protocol: number;
  readonly family: 4 | 6;
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** The flow key (canonical endpoint order) and whether the local endpoint is its side A. */
  readonly key: Uint32Array;
  readonly localIsA: boolean;
  /** True when the local side started the connection (SYN sender / first sender). */
  readonly localIsClient: boolean;
  readonly firstSeenMicros: number;
  lastSeenMicros: number;

  bytesSent = 0;
  bytesReceived = 0;
  packetsSent = 0;
  packetsReceived = 0;

  tcpState: number = TcpState.NEW;
  direction: number = Direction.UNKNOWN;
  lastOp: number = LastOp.NONE;
  /** Sequence number just past our FIN / the peer's FIN, or NaN while none was sent (NaN >= 0 is false). */
  localFinEnd = NaN;
  remoteFinEnd = NaN;

  // TCP analytics (RustNet's rules): highest sequence end seen each way; inbound pure-ACK runs.
  outSeen = false;
  outHigh = 0;
  inSeen = false;
  inHigh = 0;
  inAckSeen = false;
  inLastAck = 0;
  inDupRun = 0;
  retransmits = 0;
  outOfOrder = 0;
  dupAcks = 0;
  fastRetransmits = 0;

  /** Ring of rate samples: [timeMicros, bytesSent, bytesReceived] × RATE_SAMPLES; allocated on first sample. */
  rateSamples: Float64Array | null = null;
  rateSampleCount = 0;
  rateSampleHead = 0;
  sendRateBps = 0;
  receiveRateBps = 0;

  dpi: FlowInspection | null = null;
  /** Copy of dpi.done on the connection itself: most packets come after inspection ended, and this
   * spares them a look into another object. */
  dpiDone = false;
  /** AppTimeout class of what DPI found (see timeouts.ts), kept up to date by the table. */
  appTimeout = 0;

  /** Time it left the table (0 while tracked). */
  closedAtMicros = 0;
  /** Why it left: 'timeout', 'closed', 'evicted', 'replaced', 'shutdown'. */
  closeReason = '';
  /** Set once its new_connection event went out (so only announced connections get a closed event). */
  announced = false;
  /** Index in the table's connection list (for O(1) removal). */
  slot = -1;

  constructor(
    id: number, protocol: number, family: 4 | 6, localAddr: string, localPort: number, remoteAddr: string, remotePort: number,
    key: Uint32Array, localIsA: boolean, localIsClient: boolean, nowMicros: number,
  ) {
    this.id = id;
    this.protocol = protocol;
    this.family = family;
    this.localAddr = localAddr;
    this.localPort = localPort;
    this.remoteAddr = remoteAddr;
    this.remotePort = remotePort;
    this.key = key;
    this.localIsA = localIsA;
    this.localIsClient = localIsClient;
    this.firstSeenMicros = nowMicros;
    this.lastSeenMicros = nowMicros;
  }
}
