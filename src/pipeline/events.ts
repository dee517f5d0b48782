// Connection events from connection rows (field names and order follow RustNet's JSON log).

import type { ConnectionEvent, EventType } from '../core/event-sink.js';
import type { ConnectionRow } from '../core/snapshot.js';

let isoSecond = -1;
let isoPrefix = '';

/** RFC 3339 UTC with milliseconds; the text up to the second is cached (events arrive in bursts). */
export function isoTimestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
  }
  return `${isoPrefix}${String(ms - sec * 1000).padStart(3, '0')}Z`;
}

/**
 * One event record from a row; absent values are left out, never null. A new_connection event is
 * stamped with the connection's first packet, a closed one with the moment it left the table.
 */
export function buildEvent(row: ConnectionRow, type: EventType): ConnectionEvent {
  const closed = type === 'connection_closed';
  const e: ConnectionEvent = {
    timestamp: isoTimestamp(closed ? (row.closedAtMicros ?? row.lastSeenMicros) : row.firstSeenMicros),
    event: type,
    protocol: row.protocol,
    source_ip: row.localAddr,
    source_port: row.localPort,
    destination_ip: row.remoteAddr,
    destination_port: row.remotePort,
  };
  if (row.pid !== undefined) e.pid = row.pid;
  if (row.processName !== undefined) e.process_name = row.processName;
  if (row.processUnit !== undefined) e.process_unit = row.processUnit;
  if (row.containerId !== undefined) e.container_id = row.containerId;
  if (row.containerName !== undefined) e.container_name = row.containerName;
  if (row.service !== undefined) e.service_name = row.service;
  if (row.direction !== undefined) e.direction = row.direction;
  const app = row.app;
  if (app !== null) {
    e.dpi_protocol = app.protocol;
    if (app.domain !== undefined) e.dpi_domain = app.domain;
    e.dpi_confidence = app.confidence ?? 'content';
  }
  if (row.localHostname !== undefined) e.source_hostname = row.localHostname;
  if (row.remoteHostname !== undefined) e.destination_hostname = row.remoteHostname;
  if (closed) {
    e.bytes_sent = row.bytesSent;
    e.bytes_received = row.bytesReceived;
    e.duration_secs = Math.round(row.lastSeenMicros - row.firstSeenMicros) / 1e6;
    e.packets_sent = row.packetsSent;
    e.packets_received = row.packetsReceived;
    e.state = row.state;
    const tcp = row.tcp;
    if (tcp !== null) {
      e.tcp_retransmits = tcp.retransmits;
      e.tcp_out_of_order = tcp.outOfOrder;
      e.tcp_fast_retransmits = tcp.fastRetransmits;
    }
    if (app !== null && hasAnyKey(app.details)) e.dpi_details = app.details;
  }
  return e;
}

/** True when the object has an own enumerable key (without building the key list). */
function hasAnyKey(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}
