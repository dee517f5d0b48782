// Tests for events built from connection rows: field names, order, omission of absent values, timestamps, closed-event extras.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AppProtocol, DpiConfidence } from '../core/app-info.js';
import { ARP_PROTO, IpProto } from '../core/packet-view.js';
import { Connection, Direction, LastOp, TcpState } from '../tracking/connection.js';
import { buildEvent } from './events.js';
import { connectionRow } from './rows.js';
import { refreshAppTimeout } from '../tracking/timeouts.js';
import { SideTables } from '../core/side-tables.js';
import type { ConnectionEvent, EventType } from '../core/event-sink.js';

const BASE_KEYS = ['timestamp', 'event', 'protocol', 'source_ip', 'source_port', 'destination_ip', 'destination_port'];
/** 2025-01-15T10:30:00Z in microseconds. */
const T0 = Date.UTC(2025, 0, 15, 10, 30, 0) * 1000;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function conn(protocol: number, localPort: number, remotePort: number, family: 4 | 6 = 4): Connection {
  const [l, r] = family === 4 ? ['192.168.1.100', '93.184.216.34'] : ['2001:db8::100', '2606:2800:220:1::1'];
  return new Connection(7, protocol, family, l, localPort, r, remotePort, new Uint32Array(10), true, true, T0);
}

function withApp(
  c: Connection, protocol: AppProtocol, domain: string | undefined, details: Record<string, string | string[]> = {}, state?: string,
  confidence: DpiConfidence = 'content',
): void {
  c.dpi = { app: { protocol, domain, details, state, confidence }, done: true };
  refreshAppTimeout(c);
}

/**
 * The event a session writes for `c`: a new one from its row now, a closed one as if it left the table at
 * `nowMicros`; `side` holds what enrichment learned.
 */
function ev(c: Connection, type: EventType, nowMicros: number, side = new SideTables()): ConnectionEvent {
  if (type === 'connection_closed') {
    c.closedAtMicros = nowMicros;
    c.closeReason = 'closed';
  }
  return buildEvent(connectionRow(c, nowMicros, side), type);
}

function noNulls(e: object): void {
  for (const [k, v] of Object.entries(e)) {
    assert.ok(v !== null && v !== undefined, `${k} is ${String(v)}`);
  }
  assert.ok(!JSON.stringify(e).includes('null'));
}

test('new_connection with nothing known: only the base fields, in order', () => {
  const c = conn(IpProto.TCP, 50_000, 50_001);
  const e = ev(c, 'new_connection', T0 + 9 * 1_000_000);
  assert.deepEqual(Object.keys(e), BASE_KEYS);
  assert.deepEqual(e, {
    timestamp: '2025-01-15T10:30:00.000Z', event: 'new_connection', protocol: 'TCP',
    source_ip: '192.168.1.100', source_port: 50_000, destination_ip: '93.184.216.34', destination_port: 50_001,
  });
  noNulls(e);
});

test('new_connection with everything known: RustNet field order, then hostnames', () => {
  const c = conn(IpProto.TCP, 54_321, 443);
  const side = new SideTables();
  side.setProcess(c.id, { pid: 1234, name: 'curl' });
  c.direction = Direction.OUTGOING;
  side.setHostname(c.localAddr, 'laptop.lan');
  side.setHostname(c.remoteAddr, 'example.com');
  withApp(c, 'HTTPS', 'example.com', { sni: 'example.com' });
  c.bytesSent = 10; // counters never appear in new_connection
  const e = ev(c, 'new_connection', T0, side);
  assert.deepEqual(Object.keys(e), [
    ...BASE_KEYS, 'pid', 'process_name', 'service_name', 'direction', 'dpi_protocol', 'dpi_domain', 'dpi_confidence',
    'source_hostname', 'destination_hostname',
  ]);
  assert.deepEqual(e, {
    timestamp: '2025-01-15T10:30:00.000Z', event: 'new_connection', protocol: 'TCP',
    source_ip: '192.168.1.100', source_port: 54_321, destination_ip: '93.184.216.34', destination_port: 443,
    pid: 1234, process_name: 'curl', service_name: 'https', direction: 'outgoing', dpi_protocol: 'HTTPS', dpi_domain: 'example.com',
    dpi_confidence: 'content', source_hostname: 'laptop.lan', destination_hostname: 'example.com',
  });
  noNulls(e);

  // A process in a container under a systemd unit: the three fields follow the process name.
  const d = conn(IpProto.TCP, 54_322, 443);
  const side2 = new SideTables();
  side2.setProcess(d.id, { pid: 99, name: 'nginx', unit: 'docker-ab12.scope', containerId: 'ab12cd34', containerName: 'web' });
  assert.equal(side2.setProcess(d.id, { pid: 100, name: 'other' }), false, 'attribution is write-once');
  const f = ev(d, 'connection_closed', T0, side2);
  assert.deepEqual(Object.keys(f).slice(7, 12), ['pid', 'process_name', 'process_unit', 'container_id', 'container_name']);
  assert.deepEqual([f.pid, f.process_name, f.process_unit, f.container_id, f.container_name], [99, 'nginx', 'docker-ab12.scope', 'ab12cd34', 'web']);
});

test('absent parts are omitted one by one, never null', () => {
  const c = conn(IpProto.UDP, 5353, 40_000);
  c.direction = Direction.INCOMING;
  withApp(c, 'DNS', undefined);
  const e = ev(c, 'new_connection', T0);
  assert.deepEqual(Object.keys(e), [...BASE_KEYS, 'service_name', 'direction', 'dpi_protocol', 'dpi_confidence']);
  assert.equal(e.service_name, 'mdns'); // no service on the remote port: the local port's name
  assert.equal(e.direction, 'incoming');
  const side = new SideTables();
  side.setProcess(c.id, { pid: 0, name: 'swapper' }); // pid 0 is a real pid: only a missing owner means unknown
  assert.equal(ev(c, 'new_connection', T0, side).pid, 0);
  noNulls(e);
});

test('timestamps: RFC 3339 UTC ending in Z; new events use first-seen time, closed events the given time', () => {
  const c = conn(IpProto.TCP, 50_000, 80);
  const first = T0 + 123_999; // sub-millisecond digits are dropped, not rounded
  const d = new Connection(8, IpProto.TCP, 4, '10.0.0.1', 1, '10.0.0.2', 2, new Uint32Array(10), true, true, first);
  assert.equal(ev(d, 'new_connection', T0 + 5e6).timestamp, '2025-01-15T10:30:00.123Z');
  const closeAt = T0 + 61_500_000;
  const e = ev(c, 'connection_closed', closeAt);
  assert.equal(e.timestamp, '2025-01-15T10:31:01.500Z');
  // Out-of-order seconds (the formatter caches per second) still print right.
  for (const micros of [T0 + 2_000_001, T0 + 1_000, T0 + 2_999_999, T0 + 86_400_000_000 + 7_000]) {
    const ts = ev(c, 'connection_closed', micros).timestamp as string;
    assert.match(ts, RFC3339_UTC);
    assert.equal(Date.parse(ts), Math.floor(micros / 1000), ts);
  }
});

test('connection_closed adds counters, duration and state; TCP adds analytics; details when present', () => {
  const c = conn(IpProto.TCP, 54_321, 443);
  c.direction = Direction.OUTGOING;
  c.tcpState = TcpState.TIME_WAIT;
  c.bytesSent = 1024;
  c.bytesReceived = 4096;
  c.packetsSent = 7;
  c.packetsReceived = 9;
  c.lastSeenMicros = T0 + 5_250_000;
  c.retransmits = 2;
  c.outOfOrder = 1;
  c.fastRetransmits = 0;
  c.dupAcks = 4; // not an event field
  withApp(c, 'HTTPS', 'example.com', { sni: 'example.com', alpn: ['h2'] });
  const e = ev(c, 'connection_closed', T0 + 10_000_000);
  assert.deepEqual(Object.keys(e), [
    ...BASE_KEYS, 'service_name', 'direction', 'dpi_protocol', 'dpi_domain', 'dpi_confidence',
    'bytes_sent', 'bytes_received', 'duration_secs', 'packets_sent', 'packets_received', 'state',
    'tcp_retransmits', 'tcp_out_of_order', 'tcp_fast_retransmits', 'dpi_details',
  ]);
  assert.equal(e.event, 'connection_closed');
  assert.deepEqual(
    [e.bytes_sent, e.bytes_received, e.duration_secs, e.packets_sent, e.packets_received, e.state],
    [1024, 4096, 5.25, 7, 9, 'TIME_WAIT'],
  );
  assert.deepEqual([e.tcp_retransmits, e.tcp_out_of_order, e.tcp_fast_retransmits], [2, 1, 0]);
  assert.deepEqual(e.dpi_details, { sni: 'example.com', alpn: ['h2'] });
  noNulls(e);

  // Established TCP with an application state shows that state.
  c.tcpState = TcpState.ESTABLISHED;
  withApp(c, 'SSH', undefined, {}, 'AUTHENTICATION');
  const ssh = ev(c, 'connection_closed', T0 + 10_000_000);
  assert.equal(ssh.state, 'AUTHENTICATION');
  assert.ok(!('dpi_details' in ssh), 'empty details are omitted');
  assert.ok(!('dpi_domain' in ssh));
});

test('connection_closed for UDP, ICMP and ARP: no TCP analytics; no ports or service without ports', () => {
  const u = conn(IpProto.UDP, 40_000, 53, 6);
  u.lastSeenMicros = T0 + 1_000_000;
  withApp(u, 'DNS', 'example.org', { dns_queries: ['example.org'] }, 'DNS_RESPONSE');
  const e = ev(u, 'connection_closed', T0 + 40_000_000);
  assert.deepEqual(Object.keys(e), [
    ...BASE_KEYS, 'service_name', 'dpi_protocol', 'dpi_domain', 'dpi_confidence',
    'bytes_sent', 'bytes_received', 'duration_secs', 'packets_sent', 'packets_received', 'state', 'dpi_details',
  ]);
  assert.deepEqual([e.protocol, e.source_ip, e.destination_ip, e.state, e.duration_secs], ['UDP', '2001:db8::100', '2606:2800:220:1::1', 'DNS_RESPONSE', 1]);

  const plain = conn(IpProto.UDP, 40_001, 40_002);
  plain.lastSeenMicros = T0;
  assert.equal(ev(plain, 'connection_closed', T0 + 20_000_000).state, 'UDP_IDLE');
  assert.equal(ev(plain, 'connection_closed', T0 + 50_000_000).state, 'UDP_STALE');

  // ICMP rows keep the echo id in the port fields internally; events show 0 and no service.
  const ping = conn(IpProto.ICMP, 443, 443);
  ping.lastOp = LastOp.ECHO_REPLY;
  const p = ev(ping, 'connection_closed', T0);
  assert.deepEqual([p.protocol, p.source_port, p.destination_port, p.state], ['ICMP', 0, 0, 'ECHO_REPLY']);
  assert.ok(!('service_name' in p));
  assert.ok(!Object.keys(p).some((k) => k.startsWith('tcp_')));
  const ping6 = conn(IpProto.ICMPV6, 7, 7, 6);
  assert.equal(ev(ping6, 'new_connection', T0).protocol, 'ICMPv6');

  const arp = conn(ARP_PROTO, 0, 0);
  arp.lastOp = LastOp.ARP_REQUEST;
  const a = ev(arp, 'connection_closed', T0);
  assert.deepEqual([a.protocol, a.source_port, a.state], ['ARP', 0, 'ARP_REQUEST']);
  assert.ok(!Object.keys(a).some((k) => k.startsWith('tcp_')));

  const igmp = conn(IpProto.IGMP, 0, 0);
  assert.deepEqual([ev(igmp, 'connection_closed', T0).protocol, ev(igmp, 'connection_closed', T0).state], ['IGMP', 'ACTIVE']);
});

test('dpi_confidence says how the label was reached, next to dpi_protocol, in both events', () => {
  for (const confidence of ['content', 'mid-stream', 'port'] as const) {
    const c = conn(IpProto.TCP, 54_321, 443);
    withApp(c, 'HTTPS', undefined, {}, undefined, confidence);
    for (const type of ['new_connection', 'connection_closed'] as const) {
      const e = ev(c, type, T0 + 1_000_000);
      assert.equal(e.dpi_protocol, 'HTTPS');
      assert.equal(e.dpi_confidence, confidence, `${type} ${confidence}`);
      const keys = Object.keys(e);
      assert.equal(keys.indexOf('dpi_confidence'), keys.indexOf('dpi_protocol') + 1);
    }
  }
  // A row built by hand without a confidence (older readers of AppRow) counts as content.
  const c = conn(IpProto.UDP, 40_000, 53);
  const row = connectionRow(c, T0, new SideTables());
  const e = buildEvent({ ...row, app: { protocol: 'DNS', domain: undefined, details: {} } }, 'new_connection');
  assert.equal(e.dpi_confidence, 'content');
  // Without a label (or with --no-dpi) there is no confidence either.
  assert.ok(!('dpi_confidence' in ev(conn(IpProto.TCP, 1, 2), 'connection_closed', T0)));
});
