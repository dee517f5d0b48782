// ProcessMatcher: every lookup level on the captured socket tables, then precedence and disagreement on hand-made ones.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProcNet, type SocketEntry, type SocketProtocol } from '../host/proc-net.js';
import { ProcessMatcher, type ConnectionEndpoints, type SocketOwners } from './process-matcher.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
const TABLES: [string, SocketProtocol, 4 | 6][] = [
  ['tcp', 'tcp', 4], ['tcp6', 'tcp', 6], ['udp', 'udp', 4], ['udp6', 'udp', 6], ['icmp', 'icmp', 4], ['icmp6', 'icmp', 6],
];
const CAPTURED: SocketEntry[] = TABLES.flatMap(([file, protocol, family]) =>
  parseProcNet(fs.readFileSync(FIXTURES + file, 'utf8'), protocol, family, true));

/** The capture process was pid 4512; the ping sockets came from another one. */
const CAPTURED_OWNERS: SocketOwners = {
  inodePids: new Map(CAPTURED.map((s) => [s.inode, s.protocol === 'icmp' ? 77 : 4512])),
};

function conn(protocol: ConnectionEndpoints['protocol'], local: string, localPort: number, remote: string, remotePort: number): ConnectionEndpoints {
  return { protocol, family: local.includes(':') ? 6 : 4, localAddr: local, localPort, remoteAddr: remote, remotePort };
}

/** The inode the captured tables attribute c to (every captured socket has a known owner), or null. */
function inodeFor(c: ConnectionEndpoints): number | null {
  return new ProcessMatcher(CAPTURED, CAPTURED_OWNERS).match(c)?.inode ?? null;
}

test('TCP: each end of an established connection is its own socket', () => {
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 56244, '127.0.0.1', 38565)), 100260);
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 38565, '127.0.0.1', 56244)), 100261);
  assert.equal(inodeFor(conn('TCP', '::1', 48420, '::1', 38295)), 100263);
  assert.equal(inodeFor(conn('TCP', '::1', 38295, '::1', 48420)), 100264);
  const m = new ProcessMatcher(CAPTURED, CAPTURED_OWNERS).match(conn('TCP', '127.0.0.1', 56244, '127.0.0.1', 38565));
  assert.deepEqual(m, { pid: 4512, inode: 100260 });
});

test('TCP: an IPv4 connection accepted by a dual-stack listener is found in tcp6 under its mapped address', () => {
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 36871, '127.0.0.1', 44288)), 100267);
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 44288, '127.0.0.1', 36871)), 100266);
});

test('TCP: with no socket of its own (SYN_RECV, TIME_WAIT), a connection goes to the listener that serves it', () => {
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 38565, '127.0.0.1', 40000)), 100259);
  assert.equal(inodeFor(conn('TCP', '::1', 38295, '::1', 40000)), 100262);
  // The [::]:36871 listener serves IPv6 and, dual-stack, IPv4 on any address.
  assert.equal(inodeFor(conn('TCP', '::1', 36871, '::1', 40000)), 100265);
  assert.equal(inodeFor(conn('TCP', '192.0.2.2', 36871, '198.51.100.7', 40000)), 100265);
  // A listener bound to another address, or another port: nothing.
  assert.equal(inodeFor(conn('TCP', '192.0.2.2', 38565, '198.51.100.7', 40000)), null);
  assert.equal(inodeFor(conn('TCP', '::1', 38565, '::1', 40000)), null, 'a 127.0.0.1 listener does not serve ::1');
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 1, '127.0.0.1', 40000)), null);
});

test('TCP: a client socket is not a listener for other peers', () => {
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 56244, '127.0.0.1', 9999)), null);
});

test('UDP: connected, bound to the address, bound to the wildcard, dual-stack', () => {
  assert.equal(inodeFor(conn('UDP', '127.0.0.1', 36077, '127.0.0.1', 46071)), 100272);
  assert.equal(inodeFor(conn('UDP', '127.0.0.1', 46071, '127.0.0.1', 36077)), 100268);
  assert.equal(inodeFor(conn('UDP', '::1', 35292, '::1', 5353)), 100269);
  assert.equal(inodeFor(conn('UDP', '192.0.2.2', 41721, '8.8.8.8', 53)), 100270);
  assert.equal(inodeFor(conn('UDP', '127.0.0.1', 45546, '127.0.0.1', 1234)), 100271, 'IPv4 served by the [::] socket');
  assert.equal(inodeFor(conn('UDP', 'fd00::2', 45546, 'fd00::9', 1234)), 100271);
});

test('UDP: what a socket cannot receive does not match it', () => {
  assert.equal(inodeFor(conn('UDP', '127.0.0.1', 36077, '127.0.0.1', 9999)), null, 'connected to another peer');
  assert.equal(inodeFor(conn('UDP', 'fd00::2', 41721, 'fd00::9', 53)), null, 'an IPv4 wildcard does not serve IPv6');
  assert.equal(inodeFor(conn('UDP', '192.0.2.2', 46071, '127.0.0.1', 9)), null, 'bound to another address');
  assert.equal(inodeFor(conn('TCP', '127.0.0.1', 46071, '127.0.0.1', 9)), null, 'a UDP socket for a TCP connection');
  assert.equal(inodeFor(conn('UDP', '127.0.0.1', 38565, '127.0.0.1', 9)), null, 'a TCP listener for UDP');
});

test('ICMP: ping sockets by echo id, unbound or connected; ICMPv6 sockets only for IPv6', () => {
  assert.equal(inodeFor(conn('ICMP', '127.0.0.1', 56181, '127.0.0.1', 56181)), 110924);
  assert.equal(inodeFor(conn('ICMP', '127.0.0.1', 56182, '127.0.0.1', 56182)), 110925);
  assert.equal(inodeFor(conn('ICMP', '127.0.0.1', 56182, '192.0.2.9', 56182)), null, 'connected to another host');
  assert.equal(inodeFor(conn('ICMP', '::1', 56183, '::1', 56183)), 110926);
  assert.equal(inodeFor(conn('ICMP', '::1', 56184, '::1', 56184)), 110927);
  assert.equal(inodeFor(conn('ICMP', '127.0.0.1', 56183, '127.0.0.1', 56183)), null);
  assert.deepEqual(new ProcessMatcher(CAPTURED, CAPTURED_OWNERS).match(conn('ICMP', '::1', 56184, '::1', 56184)), { pid: 77, inode: 110927 });
});

let nextInode = 1;
function sock(protocol: SocketProtocol, family: 4 | 6, local: string, localPort: number, remote: string, remotePort: number, state: number): SocketEntry {
  return { protocol, family, localAddr: local, localPort, remoteAddr: remote, remotePort, state, inode: nextInode++, uid: 0 };
}
function owned(...pairs: [SocketEntry, number][]): SocketOwners {
  return { inodePids: new Map(pairs.map(([s, pid]) => [s.inode, pid])) };
}
const LISTEN = 0x0a;
const UNCONN = 7;
const EST = 1;

test('the more specific level wins over a less specific one held by another process', () => {
  const c = conn('TCP', '10.0.0.1', 80, '10.0.0.2', 5000);
  const accepted = sock('tcp', 4, '10.0.0.1', 80, '10.0.0.2', 5000, EST);
  const listener = sock('tcp', 4, '0.0.0.0', 80, '0.0.0.0', 0, LISTEN);
  const addressListener = sock('tcp', 4, '10.0.0.1', 80, '0.0.0.0', 0, LISTEN);
  assert.equal(new ProcessMatcher([listener, accepted], owned([listener, 1], [accepted, 2])).match(c)?.pid, 2);
  assert.equal(new ProcessMatcher([listener, addressListener], owned([listener, 1], [addressListener, 3])).match(c)?.pid, 3);

  const u = conn('UDP', '10.0.0.1', 53, '10.0.0.2', 5000);
  const connected = sock('udp', 4, '10.0.0.1', 53, '10.0.0.2', 5000, EST);
  const bound = sock('udp', 4, '10.0.0.1', 53, '0.0.0.0', 0, UNCONN);
  const wildConnected = sock('udp', 4, '0.0.0.0', 53, '10.0.0.2', 5000, EST);
  const wild = sock('udp', 4, '0.0.0.0', 53, '0.0.0.0', 0, UNCONN);
  const all = owned([connected, 1], [bound, 2], [wildConnected, 3], [wild, 4]);
  assert.equal(new ProcessMatcher([wild, wildConnected, bound, connected], all).match(u)?.pid, 1);
  assert.equal(new ProcessMatcher([wild, wildConnected, bound], all).match(u)?.pid, 2);
  assert.equal(new ProcessMatcher([wild, wildConnected], all).match(u)?.pid, 3);
  assert.equal(new ProcessMatcher([wild], all).match(u)?.pid, 4);
});

test('for IPv4, a v4 socket is preferred to a dual-stack v6 one on the same port (the kernel scores it higher)', () => {
  const c = conn('UDP', '10.0.0.1', 5353, '10.0.0.2', 5353);
  const v4 = sock('udp', 4, '0.0.0.0', 5353, '0.0.0.0', 0, UNCONN);
  const v6 = sock('udp', 6, '::', 5353, '::', 0, UNCONN);
  const owners = owned([v4, 10], [v6, 20]);
  assert.equal(new ProcessMatcher([v6, v4], owners).match(c)?.pid, 10);
  assert.equal(new ProcessMatcher([v6, v4], owners).match(conn('UDP', 'fd00::1', 5353, 'fd00::2', 5353))?.pid, 20);
  assert.equal(new ProcessMatcher([v6], owners).match(c)?.pid, 20);
});

test('candidates at the same level in different processes: null, never a guess', () => {
  const c = conn('UDP', '10.0.0.1', 443, '10.0.0.2', 5000);
  // SO_REUSEPORT: two processes bound to the same port.
  const a = sock('udp', 4, '0.0.0.0', 443, '0.0.0.0', 0, UNCONN);
  const b = sock('udp', 4, '0.0.0.0', 443, '0.0.0.0', 0, UNCONN);
  assert.equal(new ProcessMatcher([a, b], owned([a, 1], [b, 2])).match(c), null);
  assert.deepEqual(new ProcessMatcher([a, b], owned([a, 1], [b, 1])).match(c), { pid: 1, inode: a.inode }, 'same process: fine');

  const t = conn('TCP', '10.0.0.1', 8080, '10.0.0.2', 5000);
  const l1 = sock('tcp', 4, '0.0.0.0', 8080, '0.0.0.0', 0, LISTEN);
  const l2 = sock('tcp', 6, '::', 8080, '::', 0, LISTEN);
  const l3 = sock('tcp', 4, '0.0.0.0', 8080, '0.0.0.0', 0, LISTEN);
  assert.equal(new ProcessMatcher([l1, l3], owned([l1, 1], [l3, 2])).match(t), null);
  assert.equal(new ProcessMatcher([l1, l2], owned([l1, 1], [l2, 2])).match(t)?.pid, 1, 'different levels do not disagree');
});

test('a socket several processes hold, or one whose owner is not known, gives null; unownedInodes names the latter', () => {
  const c = conn('TCP', '10.0.0.1', 22, '10.0.0.2', 5000);
  const s = sock('tcp', 4, '10.0.0.1', 22, '10.0.0.2', 5000, EST);
  const listener = sock('tcp', 4, '0.0.0.0', 22, '0.0.0.0', 0, LISTEN);
  const shared: SocketOwners = { inodePids: new Map([[listener.inode, 1]]), sharedInodes: new Set([s.inode]) };
  const m = new ProcessMatcher([s, listener], shared);
  assert.equal(m.match(c), null, 'not the listener either: the connection has its own socket');
  assert.deepEqual(m.unownedInodes(c), []);

  const unknown = new ProcessMatcher([s, listener], owned([listener, 1]));
  assert.equal(unknown.match(c), null);
  assert.deepEqual(unknown.unownedInodes(c), [s.inode]);
  assert.deepEqual(unknown.unownedInodes(conn('TCP', '10.0.0.1', 23, '10.0.0.2', 5000)), []);
  // hasSocket: is there anything for a pid scan to find at all?
  assert.equal(unknown.hasSocket(c), true);
  assert.equal(m.hasSocket(c), true, 'a shared socket is still a socket');
  assert.equal(unknown.hasSocket(conn('TCP', '10.0.0.1', 23, '10.0.0.2', 5000)), false);
  assert.equal(unknown.hasSocket(conn('TCP', '10.9.9.9', 22, '10.0.0.2', 5000)), true, 'the wildcard listener serves any address');
  assert.equal(unknown.hasSocket(conn('UDP', '10.0.0.1', 22, '10.0.0.2', 5000)), false, 'another protocol on the port');
  // matchOwnSocket: only the connection's very own socket counts.
  const ownedBoth = new ProcessMatcher([s, listener], owned([s, 5], [listener, 1]));
  assert.deepEqual(ownedBoth.matchOwnSocket(c), { pid: 5, inode: s.inode });
  assert.equal(ownedBoth.matchOwnSocket(conn('TCP', '10.0.0.1', 22, '10.0.0.3', 6000)), null, 'served by the listener only');
  assert.equal(ownedBoth.match(conn('TCP', '10.0.0.1', 22, '10.0.0.3', 6000))?.pid, 1);
  assert.equal(unknown.matchOwnSocket(c), null, 'its own socket, owner unknown');
  const mapped = sock('tcp', 6, '10.0.0.1', 22, '10.0.0.2', 5001, EST); // accepted by a dual-stack listener
  assert.equal(new ProcessMatcher([mapped], owned([mapped, 9])).matchOwnSocket(conn('TCP', '10.0.0.1', 22, '10.0.0.2', 5001))?.pid, 9);
});

test('owners are read at match time, so a pid scan after building the matcher counts', () => {
  const s = sock('udp', 4, '127.0.0.1', 9000, '0.0.0.0', 0, UNCONN);
  const inodePids = new Map<number, number>();
  const m = new ProcessMatcher([s], { inodePids });
  const c = conn('UDP', '127.0.0.1', 9000, '127.0.0.1', 9001);
  assert.equal(m.match(c), null);
  inodePids.set(s.inode, 42);
  assert.deepEqual(m.match(c), { pid: 42, inode: s.inode });
});

test('a bound TCP socket that neither listens nor connects carries no traffic and matches nothing', () => {
  const closed = sock('tcp', 4, '10.0.0.1', 7000, '0.0.0.0', 0, 7);
  const listener = sock('tcp', 4, '0.0.0.0', 7000, '0.0.0.0', 0, LISTEN);
  const c = conn('TCP', '10.0.0.1', 7000, '10.0.0.2', 5000);
  assert.equal(new ProcessMatcher([closed, listener], owned([closed, 1], [listener, 2])).match(c)?.pid, 2);
  assert.equal(new ProcessMatcher([closed], owned([closed, 1])).match(c), null);
});

test('an IPv6-mapped wildcard (::ffff:0.0.0.0) serves IPv4 only', () => {
  const mapped = sock('udp', 6, '0.0.0.0', 6000, '0.0.0.0', 0, UNCONN);
  const m = new ProcessMatcher([mapped], owned([mapped, 5]));
  assert.equal(m.match(conn('UDP', '10.0.0.1', 6000, '10.0.0.2', 1))?.pid, 5);
  assert.equal(m.match(conn('UDP', 'fd00::1', 6000, 'fd00::2', 1)), null);
});
