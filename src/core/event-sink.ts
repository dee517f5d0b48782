// The record connection events travel as, and where they go (JSON log, headless output).

import type { AppDetails, DpiConfidence } from './app-info.js';

export type EventType = 'new_connection' | 'connection_closed';

/**
 * One connection event; field names and order follow RustNet's JSON log. Optional fields are absent
 * (never null) when unknown; the closed-event fields appear on connection_closed only.
 */
export interface ConnectionEvent {
  timestamp: string;
  event: EventType;
  protocol: string;
  source_ip: string;
  source_port: number;
  destination_ip: string;
  destination_port: number;
  pid?: number;
  process_name?: string;
  process_unit?: string;
  container_id?: string;
  container_name?: string;
  service_name?: string;
  direction?: 'outgoing' | 'incoming';
  dpi_protocol?: string;
  dpi_domain?: string;
  /** How dpi_protocol was reached: 'content', 'mid-stream' or 'port' (a guess from the port alone). */
  dpi_confidence?: DpiConfidence;
  source_hostname?: string;
  destination_hostname?: string;
  bytes_sent?: number;
  bytes_received?: number;
  duration_secs?: number;
  packets_sent?: number;
  packets_received?: number;
  state?: string;
  tcp_retransmits?: number;
  tcp_out_of_order?: number;
  tcp_fast_retransmits?: number;
  dpi_details?: Readonly<AppDetails>;
}

/** Receives events in order; implementations report their own failures and never throw. */
export interface EventSink {
  write(event: ConnectionEvent): void;
  /** Hands what was written to the output (the end of a tick); never waits for it. */
  flush(): void;
  /** True while the sink holds more than it wants queued: a source that can wait (a replay) should. */
  readonly backlogged: boolean;
  /** Resolves once the backlog has gone below the mark (at once when there is none). */
  whenWritable(): Promise<void>;
  /** Writes everything still queued, then releases the output. Idempotent: later calls return the same promise. */
  close(): Promise<void>;
}
