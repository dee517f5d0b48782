// Connection events as JSON records (field names and order follow RustNet's JSON log).

import type { ConnectionEvent, EventType } from '../core/event-sink.js';
import { IpProto } from '../core/packet-view.js';
import { connectionService } from '../core/service-names.js';
import { Direction, type Connection } from '../tracking/connection.js';
import { protocolName, stateName } from '../tracking/state-name.js';

let isoSecond = -1;
let isoPrefix = '';

/** RFC 3339 UTC with milliseconds; the text up to the second is cached (events arrive in bursts). */
function iso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
  }
  return `${isoPrefix}${String(ms - sec * 1000).padStart(3, '0')}Z`;
}

/**
 * Builds one event record; absent values are left out (or undefined, which JSON leaves out), never
 * null. `dpiOn`: DPI runs in this session (only then can a connection have findings).
 */
export function buildEvent(c: Connection, type: EventType, nowMicros: number, dpiOn = false): ConnectionEvent {
  const hasPorts = c.protocol === IpProto.TCP || c.protocol === IpProto.UDP;
  const e: ConnectionEvent = {
    timestamp: iso(type === 'new_connection' ? c.firstSeenMicros : nowMicros),
    event: type,
    protocol: protocolName(c.protocol),
    source_ip: c.localAddr,
    source_port: hasPorts ? c.localPort : 0,
    destination_ip: c.remoteAddr,
    destination_port: hasPorts ? c.remotePort : 0,
  };
  if (c.pid >= 0) e.pid = c.pid;
  if (c.processName !== undefined) e.process_name = c.processName;
  const service = hasPorts ? connectionService(c.localPort, c.remotePort) : undefined;
  if (service !== undefined) e.service_name = service;
  if (c.direction !== Direction.UNKNOWN) e.direction = c.direction === Direction.OUTGOING ? 'outgoing' : 'incoming';
  const app = c.dpi === null ? null : c.dpi.app;
  if (dpiOn) {
    // Both DPI keys are always set, undefined when DPI found nothing (JSON leaves those out): what DPI
    // found then does not multiply the object shapes reaching the stores below, which would turn them
    // from a few cached shapes into generic lookups (and make the optimised code bail out each time a
    // new mix of keys appears).
    e.dpi_protocol = app === null ? undefined : app.protocol;
    e.dpi_domain = app === null ? undefined : app.domain;
  } else if (app !== null) {
    e.dpi_protocol = app.protocol;
    if (app.domain !== undefined) e.dpi_domain = app.domain;
  }
  if (c.localHostname !== undefined) e.source_hostname = c.localHostname;
  if (c.remoteHostname !== undefined) e.destination_hostname = c.remoteHostname;
  if (type === 'connection_closed') {
    e.bytes_sent = c.bytesSent;
    e.bytes_received = c.bytesReceived;
    e.duration_secs = Math.round(c.lastSeenMicros - c.firstSeenMicros) / 1e6;
    e.packets_sent = c.packetsSent;
    e.packets_received = c.packetsReceived;
    e.state = stateName(c, nowMicros);
    if (c.protocol === IpProto.TCP) {
      e.tcp_retransmits = c.retransmits;
      e.tcp_out_of_order = c.outOfOrder;
      e.tcp_fast_retransmits = c.fastRetransmits;
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
