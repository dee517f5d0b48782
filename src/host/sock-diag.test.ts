// sock_diag: the addon is built by the set-up, its dumps agree with /proc/net for this test's own sockets, and
// the sockets no process holds (TIME_WAIT) are left out by the kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { once } from 'node:events';
import { decodeRecords, sockDiagAvailable, sockDiagLookup, sockDiagTable } from './sock-diag.js';
import { parseProcNet, readSocketTables, type SocketEntry } from './proc-net.js';

/** The sockets of `table` touching one of `ports`, in a stable order, to compare two readings. */
function mine(entries: readonly SocketEntry[], ports: ReadonlySet<number>): SocketEntry[] {
  return entries
    .filter((e) => ports.has(e.localPort) || ports.has(e.remotePort))
    .map((e) => ({ ...e }))
    .sort((a, b) => a.inode - b.inode);
}

/** A TCP server on `host` that ends its side when the client does (so the client, closing first, keeps the TIME_WAIT). */
async function tcpServer(host: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('end', () => s.end());
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

function procTable(protocol: 'tcp' | 'udp', family: 4 | 6): SocketEntry[] {
  return parseProcNet(fs.readFileSync(`/proc/net/${protocol}${family === 6 ? '6' : ''}`, 'latin1'), protocol, family);
}

test('the set-up built the sock_diag addon, and it loads', () => {
  assert.equal(sockDiagAvailable(), true, 'run npm ci (or npm run build:native) to build src/host/sock-diag');
});

test('sock_diag and /proc/net list the same sockets, field for field', async () => {
  const servers: net.Server[] = [];
  const clients: net.Socket[] = [];
  const udps: dgram.Socket[] = [];
  try {
    const ports = new Set<number>();
    for (const host of ['127.0.0.1', '::1']) {
      const { server, port } = await tcpServer(host);
      servers.push(server);
      ports.add(port);
      const client = net.connect(port, host);
      await once(client, 'connect');
      clients.push(client);
      ports.add(client.localPort!);
      const bound = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
      bound.bind(0, host);
      await once(bound, 'listening');
      udps.push(bound);
      ports.add(bound.address().port);
      const connected = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
      connected.connect(bound.address().port, host);
      await once(connected, 'connect');
      udps.push(connected);
      ports.add(connected.address().port);
    }
    for (const [protocol, family, expected] of [['tcp', 4, 3], ['tcp', 6, 3], ['udp', 4, 2], ['udp', 6, 2]] as const) {
      const viaDiag = sockDiagTable(protocol, family);
      assert.ok(viaDiag !== null, `${protocol}${family} dump`);
      const a = mine(viaDiag, ports);
      const b = mine(procTable(protocol, family), ports);
      // Listener, client and the server's accepted end; a bound and a connected UDP socket.
      assert.equal(a.length, expected, `${protocol}${family}: ${JSON.stringify(a)}`);
      assert.deepEqual(a, b, `${protocol}${family}`);
    }
    // readSocketTables takes TCP and UDP from sock_diag: this process's sockets are there with their inodes.
    const inodes = new Set(fs.readdirSync('/proc/self/fd').map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      } catch {
        return undefined;
      }
    }).filter((x) => x !== undefined).map(Number));
    const listed = mine(readSocketTables('/proc'), ports);
    assert.equal(listed.length, 10);
    assert.ok(listed.every((e) => inodes.has(e.inode) && e.uid === process.getuid!()));
  } finally {
    for (const c of clients) c.destroy();
    for (const s of servers) s.close();
    for (const u of udps) u.close();
  }
});

test('TIME_WAIT sockets are left out by the kernel, as /proc/net leaves them out by their inode 0', async () => {
  const { server, port } = await tcpServer('127.0.0.1');
  try {
    // The side that closes first keeps the TIME_WAIT: here the client.
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    const clientPort = client.localPort!;
    client.end();
    await once(client, 'close');
    const raw = fs.readFileSync('/proc/net/tcp', 'latin1');
    const hexPort = clientPort.toString(16).toUpperCase().padStart(4, '0');
    assert.match(raw, new RegExp(`0100007F:${hexPort} 0100007F:[0-9A-F]{4} 06 `), 'the client socket is in TIME_WAIT');
    const viaDiag = sockDiagTable('tcp', 4);
    assert.ok(viaDiag !== null);
    assert.deepEqual(mine(viaDiag, new Set([clientPort])), []);
  } finally {
    server.close();
  }
});

test('records decode to the address text rows use; inode 0 is skipped', () => {
  const rec = (family: number, state: number, lport: number, rport: number, local: number[], remote: number[], uid: number, inode: number): Buffer => {
    const b = Buffer.alloc(48);
    b[0] = family;
    b[1] = state;
    b.writeUInt16LE(lport, 2);
    b.writeUInt16LE(rport, 4);
    Buffer.from(local).copy(b, 8);
    Buffer.from(remote).copy(b, 24);
    b.writeUInt32LE(uid, 40);
    b.writeUInt32LE(inode, 44);
    return b;
  };
  const v6 = (...groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);
  const out: SocketEntry[] = [];
  decodeRecords(Buffer.concat([rec(2, 1, 443, 51000, [192, 0, 2, 7], [198, 51, 100, 9], 1000, 77)]), 'tcp', 4, out);
  decodeRecords(Buffer.concat([
    rec(10, 10, 8080, 0, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), v6(0, 0, 0, 0, 0, 0, 0, 0), 0, 78),
    rec(10, 1, 53, 40000, v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0207), v6(0, 0, 0, 0, 0, 0xffff, 0xc633, 0x6409), 5, 79),
    rec(10, 6, 1, 2, v6(0, 0, 0, 0, 0, 0, 0, 1), v6(0, 0, 0, 0, 0, 0, 0, 1), 0, 0),
  ]), 'udp', 6, out);
  assert.deepEqual(out.map((e) => [e.protocol, e.family, e.localAddr, e.localPort, e.remoteAddr, e.remotePort, e.state, e.uid, e.inode]), [
    ['tcp', 4, '192.0.2.7', 443, '198.51.100.9', 51000, 1, 1000, 77],
    ['udp', 6, '2001:db8::1', 8080, '::', 0, 10, 0, 78],
    // IPv4-mapped addresses print as IPv4, as tracking prints the IPv4 packets such a socket carries.
    ['udp', 6, '192.0.2.7', 53, '198.51.100.9', 40000, 1, 5, 79],
  ]);
});

test('one connection at a time: the socket the kernel would deliver to, nothing once it is gone', async () => {
  const { server, port } = await tcpServer('127.0.0.1');
  const { server: v6server, port: v6port } = await tcpServer('::1');
  const udp = dgram.createSocket('udp4');
  udp.bind(0, '0.0.0.0');
  await once(udp, 'listening');
  const inodeOf = (fdPath: string): number => Number(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(fdPath))?.[1]);
  const myInodes = (): Set<number> => new Set(fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return inodeOf(`/proc/self/fd/${fd}`);
    } catch {
      return NaN;
    }
  }));
  try {
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    const lp = client.localPort!;
    const tcp = (localPort: number, remotePort: number, family: 4 | 6 = 4) => sockDiagLookup({
      protocol: 'TCP', family, localAddr: family === 4 ? '127.0.0.1' : '::1', localPort,
      remoteAddr: family === 4 ? '127.0.0.1' : '::1', remotePort,
    });
    const own = tcp(lp, port);
    assert.ok(own);
    assert.deepEqual([own.protocol, own.localAddr, own.localPort, own.remoteAddr, own.remotePort, own.state], ['tcp', '127.0.0.1', lp, '127.0.0.1', port, 1]);
    assert.ok(myInodes().has(own.inode), 'the client socket of this process');
    // A connection to the listening port whose own socket is gone: the listener (as for a packet of it).
    const listener = tcp(port, 1);
    assert.equal(listener?.state, 0x0a);
    assert.equal(listener?.localPort, port);
    assert.equal(tcp(1, 2), null, 'no socket at all');
    const v6client = net.connect(v6port, '::1');
    await once(v6client, 'connect');
    assert.equal(tcp(v6client.localPort!, v6port, 6)?.family, 6);
    v6client.destroy();
    // Closed first by the client: its TIME_WAIT socket is nobody's.
    client.end();
    await once(client, 'close');
    assert.equal(tcp(lp, port), null);
    // UDP: a datagram from anywhere to the wildcard-bound socket's port is that socket's.
    const u = sockDiagLookup({ protocol: 'UDP', family: 4, localAddr: '127.0.0.1', localPort: udp.address().port, remoteAddr: '192.0.2.1', remotePort: 5353 });
    assert.equal(u?.localAddr, '0.0.0.0');
    assert.ok(myInodes().has(u!.inode));
    assert.equal(sockDiagLookup({ protocol: 'UDP', family: 4, localAddr: '127.0.0.1', localPort: 1, remoteAddr: '192.0.2.1', remotePort: 5353 }), null);
    assert.equal(sockDiagLookup({ protocol: 'ICMP', family: 4, localAddr: '127.0.0.1', localPort: 1, remoteAddr: '127.0.0.1', remotePort: 1 }), undefined);
  } finally {
    server.close();
    v6server.close();
    udp.close();
  }
});
