// TCP connection state from the flags seen in each direction, from the local host's point of view.

import { TcpFlag } from '../core/packet-view.js';
import { Direction, TcpState, type Connection } from './connection.js';

/** Sequence comparison modulo 2^32 (RFC 9293 §3.4): true when a is at or after b. */
export function seqGte(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * Applies one segment's flags. `seqEnd` is the sequence number just past this segment's data
 * (and its SYN/FIN), used to recognise the ACK of a FIN.
 */
export function advanceTcpState(c: Connection, flags: number, fromLocal: boolean, seqEnd: number, ack: number): void {
  const syn = (flags & TcpFlag.SYN) !== 0;
  const hasAck = (flags & TcpFlag.ACK) !== 0;
  const fin = (flags & TcpFlag.FIN) !== 0;
  if ((flags & TcpFlag.RST) !== 0) {
    c.tcpState = TcpState.CLOSED;
    return;
  }
  let s = c.tcpState;
  switch (s) {
    case TcpState.NEW:
      if (syn && !hasAck) {
        s = fromLocal ? TcpState.SYN_SENT : TcpState.SYN_RECV;
        c.direction = fromLocal ? Direction.OUTGOING : Direction.INCOMING;
      } else if (syn) {
        // Capture began after the SYN: the SYN-ACK's sender is the server.
        s = fromLocal ? TcpState.SYN_RECV : TcpState.SYN_SENT;
        c.direction = fromLocal ? Direction.INCOMING : Direction.OUTGOING;
      } else {
        s = TcpState.ESTABLISHED; // joined mid-stream
      }
      break;
    case TcpState.SYN_SENT:
      if (syn && !fromLocal) s = hasAck ? TcpState.ESTABLISHED : TcpState.SYN_RECV;
      else if (!syn && hasAck) s = TcpState.ESTABLISHED;
      break;
    case TcpState.SYN_RECV:
      if (!syn && hasAck) s = TcpState.ESTABLISHED;
      break;
    case TcpState.FIN_WAIT1:
      if (!fromLocal && hasAck && c.localFinEnd >= 0 && seqGte(ack, c.localFinEnd)) s = TcpState.FIN_WAIT2;
      break;
    case TcpState.CLOSING:
      if (!fromLocal && hasAck && c.localFinEnd >= 0 && seqGte(ack, c.localFinEnd)) s = TcpState.TIME_WAIT;
      break;
    case TcpState.LAST_ACK:
      if (!fromLocal && hasAck && c.localFinEnd >= 0 && seqGte(ack, c.localFinEnd)) s = TcpState.CLOSED;
      break;
    default:
      break;
  }
  if (fin) {
    if (fromLocal) {
      c.localFinEnd = seqEnd;
      if (s === TcpState.ESTABLISHED || s === TcpState.SYN_RECV || s === TcpState.SYN_SENT) s = TcpState.FIN_WAIT1;
      else if (s === TcpState.CLOSE_WAIT) s = TcpState.LAST_ACK;
    } else {
      c.remoteFinEnd = seqEnd;
      if (s === TcpState.ESTABLISHED || s === TcpState.SYN_RECV || s === TcpState.SYN_SENT) s = TcpState.CLOSE_WAIT;
      else if (s === TcpState.FIN_WAIT2) s = TcpState.TIME_WAIT;
      else if (s === TcpState.FIN_WAIT1) s = TcpState.CLOSING;
    }
  }
  c.tcpState = s;
}
