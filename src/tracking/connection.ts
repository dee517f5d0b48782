// Connection: the mutable record of one flow, owned by the connection table.

import type { FlowInspection } from '../core/dpi-port.js';
import { DOUBLE_ZERO } from '../core/packet-view.js';

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

let nextId = 1;

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

  bytesSent = DOUBLE_ZERO;
  bytesReceived = DOUBLE_ZERO;
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
  outHigh = DOUBLE_ZERO;
  inSeen = false;
  inHigh = DOUBLE_ZERO;
  inAckSeen = false;
  inLastAck = DOUBLE_ZERO;
  inDupRun = 0;
  retransmits = 0;
  outOfOrder = 0;
  dupAcks = 0;
  fastRetransmits = 0;

  /** Ring of rate samples: [timeMicros, bytesSent, bytesReceived] × RATE_SAMPLES; allocated on first sample. */
  rateSamples: Float64Array | null = null;
  rateSampleCount = 0;
  rateSampleHead = 0;
  sendRateBps = DOUBLE_ZERO;
  receiveRateBps = DOUBLE_ZERO;

  dpi: FlowInspection | null = null;
  /** Copy of dpi.done on the connection itself: most packets come after inspection ended, and this
   * spares them a look into another object. */
  dpiDone = false;
  /** AppTimeout class of what DPI found (see timeouts.ts), kept up to date by the table. */
  appTimeout = 0;

  // Host enrichment, filled on ticks.
  pid = -1;
  processName: string | undefined = undefined;
  localHostname: string | undefined = undefined;
  remoteHostname: string | undefined = undefined;

  /** Time it left the table (0 while tracked). */
  closedAtMicros = DOUBLE_ZERO;
  /** Why it left: 'timeout', 'closed', 'evicted', 'replaced', 'shutdown'. */
  closeReason = '';
  /** Set once its new_connection event went out (so only announced connections get a closed event). */
  announced = false;
  /** Index in the table's connection list (for O(1) removal). */
  slot = -1;

  constructor(
    protocol: number, family: 4 | 6, localAddr: string, localPort: number, remoteAddr: string, remotePort: number,
    key: Uint32Array, localIsA: boolean, localIsClient: boolean, nowMicros: number,
  ) {
    this.id = nextId++;
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

// V8 keeps a field "constant" until some object of the class stores to it a second time, and
// optimised code that relied on that is thrown away at that moment. Several fields here change for
// the first time long after start-up (the first retransmission, FIN, ICMP packet, finished
// inspection, close), and each such moment used to discard the optimised packet path mid-replay and
// queue it for compiling again. One throwaway connection takes those fields past that point at load.
{
  const c = new Connection(6, 4, '', 0, '', 0, new Uint32Array(1), true, true, 0.5);
  c.lastSeenMicros = 1.5;
  c.bytesSent = 1.5;
  c.bytesReceived = 1.5;
  c.packetsSent = 1;
  c.packetsReceived = 1;
  c.tcpState = TcpState.CLOSED;
  c.direction = Direction.OUTGOING;
  c.lastOp = LastOp.ECHO_REPLY;
  c.localFinEnd = 1.5;
  c.remoteFinEnd = 1.5;
  c.outSeen = true;
  c.outHigh = 1.5;
  c.inSeen = true;
  c.inHigh = 1.5;
  c.inAckSeen = true;
  c.inLastAck = 1.5;
  c.inDupRun = 1;
  c.retransmits = 1;
  c.outOfOrder = 1;
  c.dupAcks = 1;
  c.fastRetransmits = 1;
  c.rateSampleCount = 1;
  c.rateSampleHead = 1;
  c.sendRateBps = 1.5;
  c.receiveRateBps = 1.5;
  c.dpiDone = true;
  c.appTimeout = 1;
  c.pid = 1;
  c.closedAtMicros = 1.5;
  c.closeReason = 'closed';
  c.announced = true;
  c.slot = 1;
  nextId = 1;
}
