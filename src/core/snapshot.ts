// Snapshot: plain read-only rows of everything the monitor knows, built once per tick for screens and outputs.

import type { AppDetails, AppProtocol, DpiConfidence } from './app-info.js';

/** What deep packet inspection found, as a row sees it. */
export interface AppRow {
  readonly protocol: AppProtocol;
  /** SNI, else HTTP Host, else the first DNS query name. */
  readonly domain: string | undefined;
  readonly details: Readonly<AppDetails>;
  /**
   * How the label was reached: 'content', 'mid-stream' (framing without a handshake) or 'port' (a guess
   * from the port alone, to be shown as a guess). The pipeline always sets it; absent means 'content'.
   */
  readonly confidence?: DpiConfidence;
}

/** TCP health counters of one connection (RustNet's rules). */
export interface TcpRow {
  readonly retransmits: number;
  readonly outOfOrder: number;
  readonly fastRetransmits: number;
  readonly dupAcks: number;
}

/** One connection as readers see it: tracking's numbers joined with what slow work learned about it. */
export interface ConnectionRow {
  /** Stable for the connection's life, unique within a run. */
  readonly id: number;
  /** 'TCP', 'UDP', 'ICMP', 'ICMPv6', 'ARP', 'IGMP' or 'IP-<number>'. */
  readonly protocol: string;
  readonly family: 4 | 6;
  readonly localAddr: string;
  /** 0 for protocols without ports. */
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly hasPorts: boolean;
  /** TCP state, application state (e.g. QUIC_CONNECTED, BANNER), UDP_ACTIVE/IDLE/STALE, ECHO_*, ARP_*. */
  readonly state: string;
  readonly direction: 'outgoing' | 'incoming' | undefined;
  /** Well-known service of the connection's ports (e.g. https). */
  readonly service: string | undefined;
  /** null when DPI found nothing (or is off). */
  readonly app: AppRow | null;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** Bytes per second over the last few seconds (0 when rates are not sampled, as in headless runs). */
  readonly sendRateBps: number;
  readonly receiveRateBps: number;
  /** TCP only. */
  readonly tcp: TcpRow | null;
  readonly firstSeenMicros: number;
  readonly lastSeenMicros: number;
  /** The idle time after which the connection is removed, for its protocol and state right now. */
  readonly timeoutMicros: number;
  /** Set once the connection has left the table. */
  readonly closedAtMicros: number | undefined;
  /** Why it left: 'timeout', 'closed', 'evicted', 'replaced', 'shutdown', 'end_of_file'. */
  readonly closeReason: string | undefined;
  // Joined from side tables (slow work done off the packet path).
  readonly pid: number | undefined;
  readonly processName: string | undefined;
  readonly processUnit: string | undefined;
  readonly containerId: string | undefined;
  readonly containerName: string | undefined;
  readonly localHostname: string | undefined;
  readonly remoteHostname: string | undefined;
}

/** Frame counts since the start of the run. */
export interface CaptureCounters {
  framesSeen: number;
  framesDecoded: number;
  framesMalformed: number;
  framesSkipped: number;
  /** Count per skip reason name (only non-zero ones). */
  skipped: Record<string, number>;
  /** Live capture: frames the kernel dropped because its capture buffer was full (absent when the source cannot tell). */
  kernelDropped?: number;
  /** Live capture: frames the interface or its driver dropped before capture, where the platform reports it. */
  interfaceDropped?: number;
}

/** Where the packets come from. */
export interface SourceInfo {
  readonly kind: 'live' | 'replay';
  /** Interface name (live) or file path (replay). */
  readonly name: string;
  /** LINKTYPE number of the capture. */
  readonly linkType: number;
  /** e.g. 'Ethernet', 'loopback', 'TUN', or the file format for a replay. */
  readonly description: string;
  readonly filter: string;
}

/** Counters of one network interface (filled by the host layer). */
export interface InterfaceRow {
  readonly name: string;
  readonly captured: boolean;
  readonly up: boolean;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxErrors: number;
  readonly txErrors: number;
  readonly rxDropped: number;
  readonly txDropped: number;
  readonly rxRateBps: number;
  readonly txRateBps: number;
  readonly collisions: number;
  /** The kernel's operational state: 'up', 'down', 'dormant', 'unknown' (loopback), … */
  readonly operState: string;
}

export interface TcpTotals {
  readonly retransmits: number;
  readonly outOfOrder: number;
  readonly fastRetransmits: number;
}

export interface Snapshot {
  /** Changes whenever anything a reader shows may have changed; equal generations mean equal content. */
  readonly generation: number;
  /** Packet time on replay, wall time live, in microseconds. */
  readonly nowMicros: number;
  readonly source: SourceInfo;
  readonly connections: readonly ConnectionRow[];
  /** The most recently closed connections, newest last (bounded). */
  readonly recentlyClosed: readonly ConnectionRow[];
  readonly tcp: TcpTotals;
  readonly capture: Readonly<CaptureCounters>;
  /** Connections created since the start, and how many were evicted at the --max-connections cap. */
  readonly connectionsCreated: number;
  readonly connectionsEvicted: number;
  readonly interfaces: readonly InterfaceRow[];
}
