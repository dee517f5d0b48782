// The contract between connection tracking and deep packet inspection (tracking never imports dpi/).

import type { AppInfo } from './app-info.js';

/** What a classifier knows about the payload it is handed, besides the bytes. */
export interface DpiContext {
  /** IP protocol: 6 (TCP) or 17 (UDP). */
  transport: number;
  /** True when the payload travels from the connection's initiator (SYN sender / first sender). */
  fromClient: boolean;
  srcPort: number;
  dstPort: number;
  /** TCP sequence number of the first payload byte (0 for UDP). */
  seq: number;
  /** Packet time in microseconds. */
  tsMicros: number;
}

/** Per-connection inspection state, owned by the connection and opaque to tracking. */
export interface FlowInspection {
  /** What was learned so far, or null. */
  app: AppInfo | null;
  /** When true the connection's payloads are never inspected again. */
  done: boolean;
}

export interface PayloadInspector {
  begin(): FlowInspection;
  /** Inspect one payload; never throws. `buf` is borrowed: copy what you keep. */
  inspect(flow: FlowInspection, buf: Uint8Array, off: number, len: number, ctx: DpiContext): void;
}
