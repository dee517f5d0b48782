// TCP health counters per connection, with RustNet's rules: retransmits, out-of-order, fast retransmits.

import { TcpFlag } from '../core/packet-view.js';
import type { Connection } from './connection.js';

/** a < b in sequence space (RFC 9293 §3.4). */
function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Running totals since start, across all connections. */
export class TcpTotals {
  retransmits = 0;
  outOfOrder = 0;
  dupAcks = 0;
  fastRetransmits = 0;
}

/**
 * Counts one segment. A segment that occupies sequence space (payload + SYN + FIN) and ends at or
 * below the highest end already seen in its direction rewinds: outbound that is a retransmit,
 * inbound an out-of-order arrival. An inbound pure ACK repeating the previous ACK is a duplicate;
 * the third duplicate in a run is one fast retransmit (RFC 5681 §3.2). Only a forward-moving ACK
 * ends a run.
 */
export function analyzeTcpSegment(
  c: Connection, fromLocal: boolean, flags: number, seq: number, ack: number, payloadLength: number, totals: TcpTotals,
): void {
  const space = payloadLength + ((flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
  if (space > 0) {
    const end = (seq + space) >>> 0;
    if (fromLocal) {
      if (!c.outSeen) {
        c.outSeen = true;
        c.outHigh = end;
      } else if (!seqLt(c.outHigh, end)) {
        c.retransmits++;
        totals.retransmits++;
      } else {
        c.outHigh = end;
      }
    } else if (!c.inSeen) {
      c.inSeen = true;
      c.inHigh = end;
    } else if (!seqLt(c.inHigh, end)) {
      c.outOfOrder++;
      totals.outOfOrder++;
    } else {
      c.inHigh = end;
    }
  } else if (!fromLocal && (flags & TcpFlag.ACK) !== 0) {
    if (!c.inAckSeen) {
      c.inAckSeen = true;
      c.inLastAck = ack;
    } else if (ack === c.inLastAck) {
      c.dupAcks++;
      totals.dupAcks++;
      if (++c.inDupRun === 3) {
        c.fastRetransmits++;
        totals.fastRetransmits++;
      }
    } else if (seqLt(c.inLastAck, ack)) {
      c.inLastAck = ack;
      c.inDupRun = 0;
    }
  }
}
