// Engine tuning, all of it: connection, totals and table fields taken past V8's "never changed yet" state up front.
//
// V8 assumes a field keeps the kind of value it was first given, and that a field never stored twice is
// constant, and compiles the packet path on those assumptions. A field that breaks one long after
// start-up (the first retransmission, FIN, ICMP echo, finished inspection or close) makes V8 throw the
// optimised code away and compile it again. Throwaway objects that store a value of the later kind into
// each such field, and a second store into the table's own, settle this before the packet path runs.
//
// What it buys, measured on the bench capture (session 8, interleaved runs, medians): --no-dpi 1.58 s →
// 1.45 s of CPU time (8 %, mostly compiler work on the second core) and 1.16 s → 1.13 s of wall time (3 %);
// with DPI on, 2.30 s → 2.25 s of CPU time. test/engine-warm-up.test.ts names any field that still
// changes for the first time during a replay: add it here.

import { Connection } from './connection.js';
import type { ConnectionTable } from './connection-table.js';
import { TcpTotals } from './tcp-analytics.js';

/**
 * Every Connection field the packet path changes after start-up, with a value of the kind it will hold:
 * a fraction for numbers that outgrow small integers (times, byte counts, sequence numbers, rates).
 */
const LATE_FIELDS: Partial<Record<keyof Connection, number | boolean | string>> = {
  lastSeenMicros: 1.5,
  bytesSent: 1.5,
  bytesReceived: 1.5,
  packetsSent: 1,
  packetsReceived: 1,
  tcpState: 1,
  direction: 1,
  lastOp: 1,
  localFinEnd: 1.5,
  remoteFinEnd: 1.5,
  outSeen: true,
  outHigh: 1.5,
  inSeen: true,
  inHigh: 1.5,
  inAckSeen: true,
  inLastAck: 1.5,
  inDupRun: 1,
  retransmits: 1,
  outOfOrder: 1,
  dupAcks: 1,
  fastRetransmits: 1,
  rateSampleCount: 1,
  rateSampleHead: 1,
  sendRateBps: 1.5,
  receiveRateBps: 1.5,
  dpiDone: true,
  appTimeout: 1,
  closedAtMicros: 1.5,
  closeReason: 'closed',
  announced: true,
  slot: 1,
};

/** TcpTotals fields: the first retransmission, out-of-order segment or duplicate ACK of the run. */
const TOTALS_LATE_FIELDS: Partial<Record<keyof TcpTotals, number>> = {
  retransmits: 1,
  outOfOrder: 1,
  dupAcks: 1,
  fastRetransmits: 1,
};

/**
 * ConnectionTable fields first changed after start-up: the per-slot arrays (replaced when the table outgrows
 * them) and the counters of connections removed and evicted. Each gets a second store and its value back.
 */
const TABLE_LATE_FIELDS = ['deadlines', 'slotFlags', 'totalRemoved', 'evicted', 'lastTickMicros', 'lastConnection'] as const;

let processDone = false;

/** Called by each table's constructor, before its first packet. */
export function warmUp(table: ConnectionTable): void {
  const t = table as unknown as Record<string, unknown>;
  for (const name of TABLE_LATE_FIELDS) {
    const value = t[name];
    t[name] = value instanceof Float64Array ? new Float64Array(value.length)
      : value instanceof Uint8Array ? new Uint8Array(value.length) : Number(value) + 1;
    t[name] = value;
  }
  if (processDone) return;
  processDone = true;
  const c = new Connection(0, 6, 4, '', 0, '', 0, new Uint32Array(1), true, true, 0.5);
  const fields = c as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(LATE_FIELDS)) fields[name] = value;
  const totals = new TcpTotals() as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(TOTALS_LATE_FIELDS)) totals[name] = value;
}
