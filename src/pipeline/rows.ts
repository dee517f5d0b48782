// Rows: one tracked connection (plus what side tables know of it) as the plain record screens and events read.

import type { AppRow, ConnectionRow, TcpRow } from '../core/snapshot.js';
import type { SideTables } from '../core/side-tables.js';
import { IpProto } from '../core/packet-view.js';
import { Direction, type Connection } from '../tracking/connection.js';
import { protocolName, stateName } from '../tracking/state-name.js';
import { timeoutMicros } from '../tracking/timeouts.js';

function appRow(c: Connection, keep: boolean): AppRow | null {
  const d = c.dpi;
  if (d === null || d.app === null) return null;
  const app = d.app;
  // While a classifier still works on a tracked flow it updates the details in place: a row that is kept
  // gets a copy of this moment. Finished inspection, or a flow that left, never changes them again.
  const details = keep && !d.done && c.slot >= 0 ? copyDetails(app.details) : app.details;
  return { protocol: app.protocol, domain: app.domain, details, confidence: app.confidence };
}

function copyDetails<T extends object>(details: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) out[k] = Array.isArray(v) ? v.slice() : v;
  return out as T;
}

function tcpRow(c: Connection): TcpRow | null {
  if (c.protocol !== IpProto.TCP) return null;
  return { retransmits: c.retransmits, outOfOrder: c.outOfOrder, fastRetransmits: c.fastRetransmits, dupAcks: c.dupAcks };
}

/**
 * The row of one connection at `nowMicros` (for a connection that has left the table, its closing time).
 * `side` holds the results of slow work, joined here; tracking itself never carries them. `keep`: the
 * row outlives this moment (a snapshot), rather than being turned into an event at once.
 */
export function connectionRow(c: Connection, nowMicros: number, side: SideTables, keep = false): ConnectionRow {
  const hasPorts = c.protocol === IpProto.TCP || c.protocol === IpProto.UDP;
  const owner = side.processes.get(c.id);
  const closed = c.slot < 0 && c.closeReason !== '';
  return {
    id: c.id,
    protocol: protocolName(c.protocol),
    family: c.family,
    localAddr: c.localAddr,
    localPort: hasPorts ? c.localPort : 0,
    remoteAddr: c.remoteAddr,
    remotePort: hasPorts ? c.remotePort : 0,
    hasPorts,
    state: stateName(c, nowMicros),
    direction: c.direction === Direction.OUTGOING ? 'outgoing' : c.direction === Direction.INCOMING ? 'incoming' : undefined,
    service: hasPorts ? side.services.forConnection(c.protocol === IpProto.TCP ? 'tcp' : 'udp', c.localPort, c.remotePort) : undefined,
    app: appRow(c, keep),
    bytesSent: c.bytesSent,
    bytesReceived: c.bytesReceived,
    packetsSent: c.packetsSent,
    packetsReceived: c.packetsReceived,
    sendRateBps: c.sendRateBps,
    receiveRateBps: c.receiveRateBps,
    tcp: tcpRow(c),
    firstSeenMicros: c.firstSeenMicros,
    lastSeenMicros: c.lastSeenMicros,
    timeoutMicros: timeoutMicros(c, nowMicros),
    closedAtMicros: closed ? c.closedAtMicros : undefined,
    closeReason: closed ? c.closeReason : undefined,
    pid: owner?.pid,
    processName: owner?.name,
    processUnit: owner?.unit,
    containerId: owner?.containerId,
    containerName: owner?.containerName,
    localHostname: side.hostnames.get(c.localAddr),
    remoteHostname: side.hostnames.get(c.remoteAddr),
  };
}
