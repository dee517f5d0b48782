// Tests for ConnectionTable: local side, TCP states, analytics, timeouts, rates, caps.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { DpiContext, FlowInspection, PayloadInspector } from '../core/dpi-port.js';
import type { AppProtocol } from '../core/app-info.js';
import { ARP_PROTO, IpProto, LinkType, PacketView, TcpFlag } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { decodeFrame } from '../decode/decode-frame.js';
import { ConnectionTable, type TableOptions } from './connection-table.js';
import { Direction, TcpState, type Connection } from './connection.js';
import { stateName } from './state-name.js';
import { refreshAppTimeout, staleness, timeoutMicros } from './timeouts.js';
import { FakeLocalAddresses, arpFrame, icmpFrame, ipFrame, tcpFrame, udpFrame, udpSegment, type Endpoint } from '../../test/support/frames.js';

const S = 1_000_000;
const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/** A table fed with decoded frames; `t` is the packet clock in microseconds. */
class Net {
  readonly table: ConnectionTable;
  t = 1_000 * S;
  private readonly view = new PacketView();

  constructor(opts: Partial<TableOptions> = {}) {
    this.table = new ConnectionTable({ maxConnections: 10_000, showLocalhost: false, localAddresses: null, inspector: null, ...opts });
  }

  /** Decodes and ingests one frame at the current time, then advances the clock 1 ms. */
  feed(frame: Uint8Array): number {
    const code = decodeFrame(frame, 0, frame.length, frame.length, LinkType.ETHERNET, this.t, this.view);
    this.t += 1000;
    return code === Skip.OK ? this.table.ingest(this.view, frame) : code;
  }

  feedOk(frame: Uint8Array): void {
    assert.equal(this.feed(frame), Skip.OK);
  }

  /** Connections that left the table since the last call. */
  takeClosed(): Connection[] {
    const out: Connection[] = [];
    this.table.drainClosed((c) => out.push(c));
    return out;
  }

  only(): Connection {
    assert.equal(this.table.list.length, 1, 'exactly one connection');
    return this.table.list[0]!;
  }

  find(pred: (c: Connection) => boolean): Connection {
    const c = this.table.list.find(pred);
    assert.ok(c, 'connection found');
    return c;
  }
}

/** A TCP conversation that keeps each side's next sequence number. */
class Session {
  cSeq: number;
  sSeq: number;

  constructor(readonly net: Net, readonly client: Endpoint, readonly server: Endpoint, cIsn = 1000, sIsn = 50_000) {
    this.cSeq = cIsn;
    this.sSeq = sIsn;
  }

  /** The client sends `flags` with `len` payload bytes (ACKing the server's next sequence). */
  c(flags: number, len = 0): Connection {
    this.net.feedOk(tcpFrame(this.client, this.server, flags, this.cSeq, (flags & ACK) !== 0 ? this.sSeq : 0, len));
    this.cSeq = (this.cSeq + len + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0)) >>> 0;
    return this.conn();
  }

  s(flags: number, len = 0): Connection {
    this.net.feedOk(tcpFrame(this.server, this.client, flags, this.sSeq, (flags & ACK) !== 0 ? this.cSeq : 0, len));
    this.sSeq = (this.sSeq + len + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0)) >>> 0;
    return this.conn();
  }

  /** This conversation's row (either end may be the local one). */
  conn(): Connection {
    const [a, b] = [this.client, this.server];
    return this.net.find((c) =>
      (c.localAddr === a[0] && c.localPort === a[1] && c.remoteAddr === b[0] && c.remotePort === b[1]) ||
      (c.localAddr === b[0] && c.localPort === b[1] && c.remoteAddr === a[0] && c.remotePort === a[1]));
  }

  handshake(): Connection {
    this.c(SYN);
    this.s(SYN | ACK);
    return this.c(ACK);
  }
}

const st = (c: Connection): string => ['NEW', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'CLOSED'][c.tcpState]!;

function fakeDpi(c: Connection, protocol: AppProtocol, state?: string): void {
  c.dpi = { app: { protocol, domain: undefined, details: {}, state, confidence: 'content' }, done: true };
  refreshAppTimeout(c);
}

const CLIENT: Endpoint = ['10.0.0.9', 50_000];
const SERVER: Endpoint = ['10.0.0.1', 443];
/** Frame bytes of a bare TCP segment over Ethernet + IPv4 (on-wire: link header + IP total length). */
const TCP_FRAME = 14 + 20 + 20;

// ---------------------------------------------------------------------------------------------
// Local side and direction
// ---------------------------------------------------------------------------------------------

test('offline: the SYN sender is local, whichever address sorts first', () => {
  for (const [client, server] of [[CLIENT, SERVER], [SERVER, CLIENT]] as const) {
    const net = new Net();
    const s = new Session(net, client, server);
    let c = s.c(SYN);
    assert.deepEqual([c.localAddr, c.localPort, c.remoteAddr, c.remotePort], [client[0], client[1], server[0], server[1]]);
    assert.equal(c.direction, Direction.OUTGOING);
    assert.equal(c.localIsClient, true);
    assert.equal(st(c), 'SYN_SENT');
    c = s.s(SYN | ACK, 0);
    c = s.c(ACK, 100);
    assert.equal(st(c), 'ESTABLISHED');
    assert.deepEqual([c.packetsSent, c.packetsReceived], [2, 1]);
    assert.deepEqual([c.bytesSent, c.bytesReceived], [2 * TCP_FRAME + 100, TCP_FRAME]);
  }
});

test('offline: a SYN-ACK seen first makes its receiver the local side', () => {
  const net = new Net();
  net.feedOk(tcpFrame(SERVER, CLIENT, SYN | ACK, 7000, 1001));
  let c = net.only();
  assert.deepEqual([c.localAddr, c.localPort, c.remoteAddr, c.remotePort], [CLIENT[0], CLIENT[1], SERVER[0], SERVER[1]]);
  assert.equal(st(c), 'SYN_SENT');
  assert.equal(c.direction, Direction.OUTGOING);
  assert.deepEqual([c.packetsSent, c.packetsReceived, c.bytesReceived], [0, 1, TCP_FRAME]);
  net.feedOk(tcpFrame(CLIENT, SERVER, ACK, 1001, 7001));
  c = net.only();
  assert.equal(st(c), 'ESTABLISHED');
  assert.equal(c.packetsSent, 1);
});

test('offline: the first UDP sender is local; replies join the same row', () => {
  const net = new Net();
  net.feedOk(udpFrame(['192.168.1.50', 5353], ['8.8.8.8', 53], 30));
  net.feedOk(udpFrame(['8.8.8.8', 53], ['192.168.1.50', 5353], 90));
  const c = net.only();
  assert.deepEqual([c.localAddr, c.localPort, c.remoteAddr, c.remotePort], ['192.168.1.50', 5353, '8.8.8.8', 53]);
  assert.deepEqual([c.bytesSent, c.bytesReceived, c.packetsSent, c.packetsReceived], [14 + 28 + 30, 14 + 28 + 90, 1, 1]);
  assert.equal(c.family, 4);

  // The rule is "first sender", not "well-known port": a capture that starts with the reply flips it.
  const net2 = new Net();
  net2.feedOk(udpFrame(['8.8.8.8', 53], ['192.168.1.50', 5353]));
  assert.equal(net2.only().localAddr, '8.8.8.8');
});

test('live: this host\'s address is local whichever side sends first', () => {
  const local = new FakeLocalAddresses(['10.0.0.5', '10.0.0.6', '2001:db8::5']);
  const net = new Net({ localAddresses: local });

  net.feedOk(udpFrame(['1.2.3.4', 5000], ['10.0.0.5', 53]));
  let c = net.only();
  assert.deepEqual([c.localAddr, c.localPort, c.remoteAddr, c.remotePort], ['10.0.0.5', 53, '1.2.3.4', 5000]);
  assert.deepEqual([c.packetsSent, c.packetsReceived], [0, 1]);
  assert.equal(c.localIsClient, false);

  const v6 = new Net({ localAddresses: local });
  v6.feedOk(udpFrame(['2001:db8::99', 443], ['2001:db8::5', 40000]));
  c = v6.only();
  assert.deepEqual([c.localAddr, c.localPort, c.remoteAddr, c.family], ['2001:db8::5', 40000, '2001:db8::99', 6]);

  // Both ends local (or neither): fall back to the initiator.
  const both = new Net({ localAddresses: local });
  both.feedOk(udpFrame(['10.0.0.6', 7000], ['10.0.0.5', 7001]));
  assert.equal(both.only().localAddr, '10.0.0.6');
  const neither = new Net({ localAddresses: local });
  neither.feedOk(udpFrame(['172.16.0.9', 7000], ['172.16.0.2', 7001]));
  assert.equal(neither.only().localAddr, '172.16.0.9');
});

test('live: an incoming SYN gives SYN_RECV → ESTABLISHED and direction incoming', () => {
  const net = new Net({ localAddresses: new FakeLocalAddresses(['10.0.0.5']) });
  const s = new Session(net, ['203.0.113.7', 61000], ['10.0.0.5', 22]);
  let c = s.c(SYN);
  assert.deepEqual([c.localAddr, c.localPort, c.remotePort], ['10.0.0.5', 22, 61000]);
  assert.equal(st(c), 'SYN_RECV');
  assert.equal(c.direction, Direction.INCOMING);
  c = s.s(SYN | ACK);
  assert.equal(st(c), 'SYN_RECV');
  c = s.c(ACK);
  assert.equal(st(c), 'ESTABLISHED');
  assert.equal(c.direction, Direction.INCOMING);

  // Capture starting at our own SYN-ACK: we are the server.
  const late = new Net({ localAddresses: new FakeLocalAddresses(['10.0.0.5']) });
  late.feedOk(tcpFrame(['10.0.0.5', 22], ['203.0.113.7', 61001], SYN | ACK, 10, 20));
  c = late.only();
  assert.equal(st(c), 'SYN_RECV');
  assert.equal(c.direction, Direction.INCOMING);
  assert.equal(c.localIsClient, false);
});

// ---------------------------------------------------------------------------------------------
// TCP state machine
// ---------------------------------------------------------------------------------------------

test('TCP client close: SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT', () => {
  const s = new Session(new Net(), CLIENT, SERVER);
  assert.equal(st(s.c(SYN)), 'SYN_SENT');
  assert.equal(st(s.s(SYN | ACK)), 'ESTABLISHED');
  assert.equal(st(s.c(ACK)), 'ESTABLISHED');
  s.c(PSH | ACK, 200);
  const beforeFin = s.cSeq;
  assert.equal(st(s.c(FIN | ACK)), 'FIN_WAIT1');
  // An ACK of data sent before the FIN does not acknowledge the FIN.
  s.net.feedOk(tcpFrame(SERVER, CLIENT, ACK, s.sSeq, beforeFin));
  assert.equal(st(s.net.only()), 'FIN_WAIT1');
  assert.equal(st(s.s(ACK)), 'FIN_WAIT2');
  s.s(PSH | ACK, 50); // the peer may still send data
  assert.equal(st(s.net.only()), 'FIN_WAIT2');
  assert.equal(st(s.s(FIN | ACK)), 'TIME_WAIT');
  assert.equal(st(s.c(ACK)), 'TIME_WAIT');
});

test('TCP server-side close: CLOSE_WAIT → LAST_ACK → CLOSED', () => {
  const s = new Session(new Net(), CLIENT, SERVER);
  s.handshake();
  assert.equal(st(s.s(FIN | ACK)), 'CLOSE_WAIT');
  assert.equal(st(s.c(ACK)), 'CLOSE_WAIT');
  assert.equal(st(s.c(FIN | ACK)), 'LAST_ACK');
  s.net.feedOk(tcpFrame(SERVER, CLIENT, ACK, s.sSeq, (s.cSeq - 1) >>> 0)); // not yet our FIN
  assert.equal(st(s.net.only()), 'LAST_ACK');
  assert.equal(st(s.s(ACK)), 'CLOSED');
});

test('TCP simultaneous close: FIN_WAIT1 → CLOSING → TIME_WAIT', () => {
  const s = new Session(new Net(), CLIENT, SERVER);
  s.handshake();
  const ourFin = s.cSeq;
  assert.equal(st(s.c(FIN | ACK)), 'FIN_WAIT1');
  // The peer's FIN crosses ours: it acknowledges only what came before our FIN.
  s.net.feedOk(tcpFrame(SERVER, CLIENT, FIN | ACK, s.sSeq, ourFin));
  s.sSeq++;
  assert.equal(st(s.net.only()), 'CLOSING');
  assert.equal(st(s.c(ACK)), 'CLOSING');
  assert.equal(st(s.s(ACK)), 'TIME_WAIT');
});

test('TCP RST from either side closes; a capture joined mid-stream is ESTABLISHED', () => {
  let s = new Session(new Net(), CLIENT, SERVER);
  s.handshake();
  s.c(PSH | ACK, 10);
  assert.equal(st(s.s(RST | ACK)), 'CLOSED');

  s = new Session(new Net(), CLIENT, SERVER);
  s.c(SYN);
  assert.equal(st(s.c(RST)), 'CLOSED');

  const net = new Net();
  net.feedOk(tcpFrame(CLIENT, SERVER, PSH | ACK, 123_456, 789, 300));
  const c = net.only();
  assert.equal(st(c), 'ESTABLISHED');
  assert.equal(c.direction, Direction.UNKNOWN);
  assert.equal(stateName(c, net.t), 'ESTABLISHED');
});

test('a new SYN on a CLOSED or TIME_WAIT tuple starts a new connection; the old one is replaced', () => {
  for (const finish of ['rst', 'time_wait'] as const) {
    const net = new Net();
    const s = new Session(net, CLIENT, SERVER);
    s.handshake();
    if (finish === 'rst') s.c(RST);
    else { s.c(FIN | ACK); s.s(FIN | ACK); s.c(ACK); }
    const old = net.only();
    assert.equal(st(old), finish === 'rst' ? 'CLOSED' : 'TIME_WAIT');
    net.takeClosed();

    const again = new Session(net, CLIENT, SERVER, 900_000);
    const c = again.c(SYN);
    assert.notEqual(c.id, old.id);
    assert.equal(st(c), 'SYN_SENT');
    assert.deepEqual([c.packetsSent, c.packetsReceived], [1, 0]);
    assert.deepEqual(net.takeClosed().map((x) => [x.id, x.closeReason]), [[old.id, 'replaced']]);
    assert.equal(old.slot, -1);
    assert.equal(net.table.totalCreated, 2);
  }

  // A retransmitted SYN, or a SYN on a live connection, is the same connection.
  const net = new Net();
  const s = new Session(net, CLIENT, SERVER);
  const first = s.c(SYN);
  net.feedOk(tcpFrame(CLIENT, SERVER, SYN, 1000, 0));
  assert.equal(net.only().id, first.id);
  assert.equal(first.packetsSent, 2);
  s.s(SYN | ACK);
  s.c(ACK);
  net.feedOk(tcpFrame(CLIENT, SERVER, SYN, 5, 0));
  assert.equal(net.only().id, first.id);
  assert.equal(net.takeClosed().length, 0);
});

// ---------------------------------------------------------------------------------------------
// TCP analytics
// ---------------------------------------------------------------------------------------------

test('outbound rewind is a retransmit, inbound rewind is out-of-order', () => {
  const net = new Net();
  const s = new Session(net, CLIENT, SERVER);
  s.handshake();
  const c0 = s.cSeq;
  s.c(PSH | ACK, 100);
  s.c(PSH | ACK, 100);
  net.feedOk(tcpFrame(CLIENT, SERVER, PSH | ACK, c0, s.sSeq, 100)); // resend the first segment
  let c = net.only();
  assert.deepEqual([c.retransmits, c.outOfOrder], [1, 0]);
  // A segment reaching past the highest end is new data, even if it starts inside old data.
  net.feedOk(tcpFrame(CLIENT, SERVER, PSH | ACK, (c0 + 150) >>> 0, s.sSeq, 100));
  assert.equal(c.retransmits, 1);

  const s0 = s.sSeq;
  s.s(PSH | ACK, 100);
  s.s(PSH | ACK, 100);
  net.feedOk(tcpFrame(SERVER, CLIENT, PSH | ACK, (s0 + 100) >>> 0, s.cSeq, 50)); // arrives late
  c = net.only();
  assert.deepEqual([c.retransmits, c.outOfOrder], [1, 1]);
  // Pure ACKs occupy no sequence space and are never rewinds.
  for (let i = 0; i < 3; i++) net.feedOk(tcpFrame(CLIENT, SERVER, ACK, c0, s.sSeq));
  assert.deepEqual([c.retransmits, c.outOfOrder], [1, 1]);
  assert.deepEqual([net.table.totals.retransmits, net.table.totals.outOfOrder], [1, 1]);
});

test('the third duplicate inbound pure ACK is one fast retransmit; a forward ACK restarts the run', () => {
  const net = new Net();
  const s = new Session(net, CLIENT, SERVER);
  s.handshake();
  s.c(PSH | ACK, 1000);
  const dupAck = (): void => net.feedOk(tcpFrame(SERVER, CLIENT, ACK, s.sSeq, (s.cSeq - 500) >>> 0));
  const c = net.only();
  dupAck(); // the original ACK
  dupAck();
  dupAck();
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [2, 0]);
  dupAck(); // third duplicate
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [3, 1]);
  dupAck();
  dupAck();
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [5, 1]);
  // Data from the peer carrying the same ACK does not end the run.
  s.s(PSH | ACK, 10);
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [5, 1]);

  s.s(ACK); // acknowledges everything: forward
  s.s(ACK);
  s.s(ACK);
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [7, 1]);
  s.s(ACK);
  assert.deepEqual([c.dupAcks, c.fastRetransmits], [8, 2]);

  // Our own duplicate ACKs are not counted.
  for (let i = 0; i < 5; i++) s.c(ACK);
  assert.deepEqual([c.dupAcks, c.fastRetransmits, net.table.totals.dupAcks, net.table.totals.fastRetransmits], [8, 2, 8, 2]);
});

test('sequence numbers wrapping past 2^32 are not rewinds', () => {
  const net = new Net();
  const s = new Session(net, CLIENT, SERVER, 0xffffff00, 0xfffffff0);
  s.handshake();
  const beforeWrap = s.cSeq;
  s.c(PSH | ACK, 0x100); // ends past zero
  assert.ok(s.cSeq < beforeWrap, 'client sequence wrapped');
  s.c(PSH | ACK, 100);
  s.s(PSH | ACK, 100); // the server's data wraps too
  s.s(PSH | ACK, 100);
  const c = net.only();
  assert.deepEqual([c.retransmits, c.outOfOrder], [0, 0]);
  net.feedOk(tcpFrame(CLIENT, SERVER, PSH | ACK, beforeWrap, s.sSeq, 0x100)); // the wrapped segment again
  assert.deepEqual([c.retransmits, c.outOfOrder], [1, 0]);

  // A duplicate-ACK run that straddles the wrap: the forward ACK past zero starts a new run.
  const net2 = new Net();
  const t = new Session(net2, CLIENT, SERVER);
  t.handshake();
  const ack = (a: number): void => net2.feedOk(tcpFrame(SERVER, CLIENT, ACK, t.sSeq, a));
  ack(0xfffffff0); ack(0xfffffff0); ack(0xfffffff0);
  ack(0x10); ack(0x10); ack(0x10); ack(0x10);
  const d = net2.only();
  assert.deepEqual([d.dupAcks, d.fastRetransmits], [5, 1]);
});

test('TCP totals aggregate over connections', () => {
  const net = new Net();
  const a = new Session(net, CLIENT, SERVER);
  const b = new Session(net, ['10.0.0.9', 50_001], SERVER);
  for (const s of [a, b]) {
    s.c(SYN); s.s(SYN | ACK); s.c(ACK);
  }
  const retransmit = (s: Session, n: number): void => {
    const seq = s.cSeq;
    s.c(PSH | ACK, 10);
    for (let i = 0; i < n; i++) net.feedOk(tcpFrame(s.client, s.server, PSH | ACK, seq, s.sSeq, 10));
  };
  retransmit(a, 2);
  retransmit(b, 3);
  const seq = b.sSeq;
  b.s(PSH | ACK, 10);
  net.feedOk(tcpFrame(b.server, b.client, PSH | ACK, seq, b.cSeq, 10));
  const [ca, cb] = [net.find((c) => c.localPort === 50_000), net.find((c) => c.localPort === 50_001)];
  assert.deepEqual([ca.retransmits, cb.retransmits, cb.outOfOrder], [2, 3, 1]);
  assert.deepEqual({ ...net.table.totals }, { retransmits: 5, outOfOrder: 1, dupAcks: 0, fastRetransmits: 0 });
});

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

/** Ticks at `idle` seconds after the connection's last packet; true while it is still tracked. */
function aliveAfter(net: Net, c: Connection, idleSecs: number): boolean {
  net.table.tick(c.lastSeenMicros + Math.round(idleSecs * S));
  return c.slot >= 0;
}

/** Ticks every `stepSecs` after the last packet until the connection is gone; returns the idle seconds then. */
function removedAfter(net: Net, c: Connection, stepSecs: number, maxSecs: number): number {
  const last = c.lastSeenMicros;
  for (let k = 1; k * stepSecs <= maxSecs; k++) {
    net.table.tick(last + k * stepSecs * S);
    if (c.slot < 0) return k * stepSecs;
  }
  return Infinity;
}

test('UDP is removed after 60 s idle, not at 59 s', () => {
  const net = new Net();
  net.feedOk(udpFrame(['10.0.0.1', 4000], ['10.0.0.2', 4001]));
  const c = net.only();
  assert.equal(aliveAfter(net, c, 59), true);
  assert.equal(aliveAfter(net, c, 60.001), false);
  assert.equal(c.closeReason, 'timeout');
  assert.deepEqual(net.takeClosed(), [c]);
  assert.equal(net.table.list.length, 0);

  const net2 = new Net();
  net2.feedOk(udpFrame(['10.0.0.1', 4000], ['10.0.0.2', 4001]));
  assert.equal(removedAfter(net2, net2.only(), 1, 120), 61);
});

test('DNS flows use 30 s only when DPI says DNS', () => {
  const net = new Net();
  net.feedOk(udpFrame(['10.0.0.1', 40000], ['8.8.8.8', 53]));
  net.feedOk(udpFrame(['10.0.0.1', 40001], ['8.8.8.8', 53]));
  const dns = net.find((c) => c.localPort === 40000);
  const plain = net.find((c) => c.localPort === 40001);
  fakeDpi(dns, 'DNS', 'DNS_QUERY');
  assert.equal(timeoutMicros(dns, dns.lastSeenMicros), 30 * S);
  assert.equal(timeoutMicros(plain, plain.lastSeenMicros), 60 * S);
  assert.equal(aliveAfter(net, dns, 29), true);
  assert.equal(aliveAfter(net, dns, 30.01), false);
  assert.equal(plain.slot >= 0, true, 'port 53 alone does not shorten the timeout');
  assert.equal(aliveAfter(net, plain, 59), true);
});

test('established TCP: 10 min while active, 5 min once idle over a minute', () => {
  const net = new Net();
  const c = new Session(net, CLIENT, SERVER).handshake();
  assert.equal(timeoutMicros(c, c.lastSeenMicros + 30 * S), 600 * S);
  assert.equal(timeoutMicros(c, c.lastSeenMicros + 61 * S), 300 * S);
  assert.equal(aliveAfter(net, c, 299), true);
  assert.equal(aliveAfter(net, c, 300.01), false);
  assert.equal(c.closeReason, 'timeout');

  // Ticking all along (through the 1 min active/idle boundary) removes it on the first tick past 5 min.
  const net2 = new Net();
  const d = new Session(net2, CLIENT, SERVER).handshake();
  assert.equal(removedAfter(net2, d, 0.5, 1200), 300.5);
});

test('a sweep every second removes each flow on the first tick past its own timeout', () => {
  const net = new Net();
  const start = net.t;
  // 40 UDP flows whose last packets are spread over 20 s; every third one is DNS by DPI (30 s).
  for (let i = 0; i < 40; i++) {
    net.t = start + i * 500_000;
    net.feedOk(udpFrame(['10.0.0.1', 20_000 + i], ['10.0.0.2', 53]));
    if (i % 3 === 0) fakeDpi(net.table.list[net.table.list.length - 1]!, 'DNS');
  }
  const flows = net.table.list.slice();
  const goneAt = new Map<Connection, number>();
  for (let sec = 1; sec <= 90; sec++) {
    const now = start + sec * S;
    net.table.tick(now);
    for (const c of flows) if (c.slot < 0 && !goneAt.has(c)) goneAt.set(c, now);
  }
  for (const c of flows) {
    const timeout = (c.localPort - 20_000) % 3 === 0 ? 30 * S : 60 * S;
    const expected = start + Math.floor((c.lastSeenMicros + timeout - start) / S + 1) * S; // first whole-second tick past it
    assert.equal(goneAt.get(c), expected, `flow ${c.localPort}`);
  }
  assert.equal(net.table.list.length, 0);
});

test('TIME_WAIT 30 s, CLOSED 5 s (reason closed), SYN_SENT 30 s, FIN_WAIT2 60 s', () => {
  let net = new Net();
  let s = new Session(net, CLIENT, SERVER);
  s.handshake(); s.c(FIN | ACK); s.s(FIN | ACK);
  let c = s.c(ACK);
  assert.equal(st(c), 'TIME_WAIT');
  assert.equal(aliveAfter(net, c, 29), true);
  assert.equal(aliveAfter(net, c, 30.01), false);
  assert.equal(c.closeReason, 'timeout');

  net = new Net();
  s = new Session(net, CLIENT, SERVER);
  s.handshake();
  c = s.s(RST);
  assert.equal(aliveAfter(net, c, 4.9), true);
  assert.equal(aliveAfter(net, c, 5.01), false);
  assert.equal(c.closeReason, 'closed');

  net = new Net();
  c = new Session(net, CLIENT, SERVER).c(SYN);
  assert.equal(aliveAfter(net, c, 29), true);
  assert.equal(aliveAfter(net, c, 30.01), false);

  net = new Net();
  s = new Session(net, CLIENT, SERVER);
  s.handshake(); s.c(FIN | ACK);
  c = s.s(ACK);
  assert.equal(st(c), 'FIN_WAIT2');
  assert.equal(aliveAfter(net, c, 59), true);
  assert.equal(aliveAfter(net, c, 60.01), false);
});

test('HTTP/HTTPS keep 10 min and SSH 30 min even when idle', () => {
  for (const [proto, secs] of [['HTTP', 600], ['HTTPS', 600], ['SSH', 1800]] as const) {
    const net = new Net();
    const c = new Session(net, CLIENT, SERVER).handshake();
    fakeDpi(c, proto);
    assert.equal(aliveAfter(net, c, secs - 1), true, `${proto} at ${secs - 1} s`);
    assert.equal(aliveAfter(net, c, secs + 0.01), false, `${proto} after ${secs} s`);
  }
});

test('staleness ratio: idle time over the protocol timeout, crossing 0.75 and 0.9 where it should', () => {
  const net = new Net();
  net.feedOk(udpFrame(['10.0.0.1', 4000], ['10.0.0.2', 4001]));
  net.feedOk(udpFrame(['10.0.0.1', 4002], ['10.0.0.2', 53]));
  const udp = net.find((c) => c.localPort === 4000);
  const dns = net.find((c) => c.localPort === 4002);
  fakeDpi(dns, 'DNS');
  const at = (c: Connection, secs: number): number => staleness(c, c.lastSeenMicros + secs * S);
  assert.ok(at(udp, 44) < 0.75);
  assert.ok(at(udp, 46) >= 0.75 && at(udp, 46) <= 0.9);
  assert.ok(at(udp, 55) > 0.9);
  assert.equal(at(udp, 30), 0.5);
  // The same idle time is far staler on a 30 s DNS flow.
  assert.equal(at(dns, 30), 1);
  assert.ok(at(dns, 23) > 0.75 && at(dns, 23) < 0.9);
  assert.equal(stateName(udp, udp.lastSeenMicros + 5 * S), 'UDP_ACTIVE');
  assert.equal(stateName(udp, udp.lastSeenMicros + 44 * S), 'UDP_IDLE');
  assert.equal(stateName(udp, udp.lastSeenMicros + 46 * S), 'UDP_STALE');

  const t = new Session(net, CLIENT, SERVER);
  t.c(SYN); t.s(SYN | ACK);
  const c = t.c(ACK);
  assert.equal(at(c, 240), 0.8); // 4 min of a 5 min idle timeout
  assert.ok(at(c, 276) > 0.9);
  assert.equal(at(c, 30), 0.05); // active: 10 min timeout
});

// ---------------------------------------------------------------------------------------------
// Rates
// ---------------------------------------------------------------------------------------------

test('rates follow the last ~3 s of traffic and fall to 0 within the window after it stops', () => {
  const net = new Net();
  const t0 = net.t;
  const frameBytes = 1000;
  const frame = udpFrame(['10.0.0.1', 4000], ['10.0.0.2', 4001], frameBytes - 14 - 28);
  const rates: number[] = [];
  for (let k = 0; k < 50; k++) {
    net.t = t0 + 50_000 + k * 100_000; // 10 frames per second for 5 s
    net.feedOk(frame);
    if (k % 10 === 9) {
      net.table.tick(t0 + ((k + 1) / 10) * S);
      rates.push(net.only().sendRateBps);
    }
  }
  const c = net.only();
  assert.equal(c.bytesSent, 50 * frameBytes);
  assert.equal(c.receiveRateBps, 0);
  for (const r of rates.slice(2)) assert.ok(Math.abs(r - 10_000) < 500, `steady rate ${r}`);
  assert.equal(rates[4], 10_000);

  // Traffic stopped at 5 s: the rate decays tick by tick and is 0 once the window holds no traffic.
  const after: number[] = [];
  for (let sec = 6; sec <= 8; sec++) {
    net.table.tick(t0 + sec * S);
    after.push(c.sendRateBps);
  }
  assert.ok(after[0]! < 10_000 && after[0]! > after[1]! && after[1]! > 0, `decaying ${after.join()}`);
  assert.equal(after[2], 0);

  // Faster ticks: the same steady rate, and still 0 within the window.
  const net2 = new Net();
  const u0 = net2.t;
  for (let k = 0; k < 40; k++) {
    net2.t = u0 + 50_000 + k * 100_000;
    net2.feedOk(frame);
    if (k % 5 === 4) net2.table.tick(u0 + ((k + 1) / 10) * S);
  }
  const d = net2.only();
  assert.ok(Math.abs(d.sendRateBps - 10_000) < 500, `steady rate ${d.sendRateBps}`);
  for (let k = 1; k <= 7; k++) net2.table.tick(u0 + 4 * S + k * 500_000);
  assert.equal(d.sendRateBps, 0);
});

test('idle connections take no rate samples, and traffic after a long pause is spread over the window as before', () => {
  const net = new Net();
  const t0 = net.t;
  const frame = udpFrame(['10.0.0.1', 4000], ['10.0.0.2', 4001], 1000 - 14 - 28);
  net.feedOk(frame);
  const c = net.only();
  for (let sec = 1; sec <= 5; sec++) net.table.tick(t0 + sec * S);
  assert.equal(c.sendRateBps, 0, 'quiet again after the first frame');
  const head = c.rateSampleHead;
  for (let sec = 6; sec <= 12; sec++) net.table.tick(t0 + sec * S);
  assert.equal(c.rateSampleHead, head, 'no samples while idle with zero rates');
  // Three frames in the 13th second: with a sample every tick, the bytes of 10, 11 and 12 s were equal,
  // so the rate is 3,000 bytes over the 3 s window.
  for (let k = 0; k < 3; k++) {
    net.t = t0 + 12 * S + 200_000 + k * 100_000;
    net.feedOk(frame);
  }
  net.table.tick(t0 + 13 * S);
  assert.equal(c.sendRateBps, 1000);
  net.table.tick(t0 + 14 * S);
  assert.equal(c.sendRateBps, 1000, 'the burst stays in the window');
  for (let sec = 15; sec <= 17; sec++) net.table.tick(t0 + sec * S);
  assert.equal(c.sendRateBps, 0);
});

// ---------------------------------------------------------------------------------------------
// Connection cap, localhost, fragments, ICMP, ARP
// ---------------------------------------------------------------------------------------------

test('localhost traffic is filtered unless showLocalhost', () => {
  for (const [src, dst] of [['127.0.0.1', '127.0.0.1'], ['127.0.0.53', '10.0.0.1'], ['::1', '::1']] as const) {
    const hidden = new Net();
    assert.equal(hidden.feed(udpFrame([src, 5000], [dst, 53])), Skip.LOCALHOST_FILTERED, `${src} → ${dst}`);
    assert.equal(hidden.table.list.length, 0);
    const shown = new Net({ showLocalhost: true });
    shown.feedOk(udpFrame([src, 5000], [dst, 53]));
    assert.equal(shown.only().localAddr, src);
  }
});

test('later IP fragments count toward the first fragment\'s flow; unmatched ones are skipped', () => {
  for (const [a, b] of [['10.0.0.1', '10.0.0.2'], ['2001:db8::1', '2001:db8::2']] as const) {
    const net = new Net();
    const first = ipFrame(a, b, IpProto.UDP, udpSegment(5000, 6000, 1472), { id: 77, moreFragments: true });
    const later = ipFrame(a, b, IpProto.UDP, new Array<number>(600).fill(0), { id: 77, fragOffset: 185 });
    net.feedOk(first);
    net.feedOk(later);
    const c = net.only();
    assert.equal(c.packetsSent, 2, a);
    assert.equal(c.bytesSent, first.length + later.length, a);
    assert.equal(net.feed(ipFrame(a, b, IpProto.UDP, new Array<number>(100).fill(0), { id: 78, fragOffset: 185 })), Skip.UNMATCHED_FRAGMENT);
    // Same id from the other direction is a different datagram.
    assert.equal(net.feed(ipFrame(b, a, IpProto.UDP, new Array<number>(100).fill(0), { id: 77, fragOffset: 185 })), Skip.UNMATCHED_FRAGMENT);
    // Once the flow is gone, its fragments no longer match.
    net.table.tick(c.lastSeenMicros + 61 * S);
    assert.equal(net.feed(later), Skip.UNMATCHED_FRAGMENT);
  }
});

test('ICMP echo rows are keyed by identifier; ARP rows by IP pair with request/reply state', () => {
  const net = new Net();
  net.feedOk(icmpFrame('10.0.0.1', '8.8.8.8', 8, 1));
  net.feedOk(icmpFrame('10.0.0.1', '8.8.8.8', 8, 2));
  net.feedOk(icmpFrame('8.8.8.8', '10.0.0.1', 0, 1));
  assert.equal(net.table.list.length, 2);
  const p1 = net.find((c) => c.localPort === 1);
  const p2 = net.find((c) => c.localPort === 2);
  assert.deepEqual([p1.protocol, p1.localAddr, p1.remoteAddr, p1.packetsSent, p1.packetsReceived], [IpProto.ICMP, '10.0.0.1', '8.8.8.8', 1, 1]);
  assert.equal(stateName(p1, net.t), 'ECHO_REPLY');
  assert.equal(stateName(p2, net.t), 'ECHO_REQUEST');
  net.feedOk(icmpFrame('2001:db8::1', '2001:db8::2', 128, 1));
  assert.equal(net.table.list.length, 3, 'ICMPv6 echo is its own row');

  const arp = new Net();
  arp.feedOk(arpFrame(1, '192.168.1.10', '192.168.1.1'));
  const c = arp.only();
  assert.deepEqual([c.protocol, c.localAddr, c.remoteAddr], [ARP_PROTO, '192.168.1.10', '192.168.1.1']);
  assert.equal(stateName(c, arp.t), 'ARP_REQUEST');
  arp.feedOk(arpFrame(2, '192.168.1.1', '192.168.1.10'));
  assert.equal(arp.only(), c);
  assert.equal(stateName(c, arp.t), 'ARP_REPLY');
  assert.deepEqual([c.packetsSent, c.packetsReceived, c.bytesSent], [1, 1, 14 + 28]);
  arp.feedOk(arpFrame(1, '192.168.1.10', '192.168.1.2'));
  assert.equal(arp.table.list.length, 2);
});

test('payloads go to the inspector with the client side marked, until it is done', () => {
  const calls: [number, boolean, number][] = [];
  const inspector: PayloadInspector = {
    begin: (): FlowInspection => ({ app: null, done: false }),
    inspect(flow: FlowInspection, buf: Uint8Array, off: number, len: number, ctx: DpiContext): void {
      assert.equal(buf[off], 0x61);
      calls.push([len, ctx.fromClient, ctx.srcPort]);
      if (calls.length === 2) flow.done = true;
    },
  };
  const net = new Net({ inspector });
  const s = new Session(net, CLIENT, SERVER);
  s.handshake();
  s.c(PSH | ACK, 30);
  s.s(PSH | ACK, 40);
  s.c(PSH | ACK, 50);
  assert.deepEqual(calls, [[30, true, CLIENT[1]], [40, false, SERVER[1]]]);
  assert.equal(net.only().tcpState, TcpState.ESTABLISHED);
});

test('what the inspector learns while it inspects sets the timeout: DNS 30 s, then a QUIC close 1 s', () => {
  let protocol: AppProtocol = 'DNS';
  let state: string | undefined;
  const inspector: PayloadInspector = {
    begin: (): FlowInspection => ({ app: null, done: false }),
    inspect(flow: FlowInspection): void {
      flow.app = { protocol, domain: undefined, details: {}, state, confidence: 'content' };
    },
  };
  const net = new Net({ inspector });
  net.feedOk(udpFrame(['10.0.0.1', 40000], ['8.8.8.8', 53]));
  const dns = net.only();
  assert.equal(aliveAfter(net, dns, 29), true);
  assert.equal(aliveAfter(net, dns, 30.001), false, 'DNS: 30 s');

  const net2 = new Net({ inspector });
  protocol = 'QUIC';
  state = 'QUIC_INITIAL';
  net2.feedOk(udpFrame(['10.0.0.1', 40002], ['192.0.2.9', 443]));
  const quic = net2.only();
  assert.equal(aliveAfter(net2, quic, 30.001), true, 'QUIC before closing: 60 s');
  state = 'QUIC_CLOSED';
  net2.feedOk(udpFrame(['192.0.2.9', 443], ['10.0.0.1', 40002]));
  assert.equal(aliveAfter(net2, quic, 1.001), false, 'a CONNECTION_CLOSE seen while inspecting: 1 s');
});
