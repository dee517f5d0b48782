// On the real machine: this test's own loopback sockets, read from /proc, are attributed to this process.

import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { test } from 'node:test';
import { ProcessMatcher, type ConnectionEndpoints } from '../enrich/process-matcher.js';
import { readSocketTables } from './proc-net.js';
import { processName, ProcPids } from './proc-pids.js';

test('TCP on 127.0.0.1 and UDP on ::1 belong to this process, by name', { skip: process.platform !== 'linux' && 'needs /proc', timeout: 10_000 }, async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const udp = dgram.createSocket('udp6');
  try {
    await once(client, 'connect');
    await accepted;
    udp.bind(0, '::1');
    await once(udp, 'listening');
    const udpPort = udp.address().port;
    // Traffic to itself, so the flow is one tracking would see: [::1]:P ↔ [::1]:P.
    const echoed = once(udp, 'message');
    udp.send('ping', udpPort, '::1');
    await echoed;

    const serverPort = (server.address() as net.AddressInfo).port;
    const clientPort = client.localPort!;
    const flows: ConnectionEndpoints[] = [
      { protocol: 'TCP', family: 4, localAddr: '127.0.0.1', localPort: clientPort, remoteAddr: '127.0.0.1', remotePort: serverPort },
      { protocol: 'TCP', family: 4, localAddr: '127.0.0.1', localPort: serverPort, remoteAddr: '127.0.0.1', remotePort: clientPort },
      // A peer with no socket of its own here: the listener answers for it.
      { protocol: 'TCP', family: 4, localAddr: '127.0.0.1', localPort: serverPort, remoteAddr: '127.0.0.1', remotePort: 1 },
      { protocol: 'UDP', family: 6, localAddr: '::1', localPort: udpPort, remoteAddr: '::1', remotePort: udpPort },
    ];

    const pids = new ProcPids('/proc');
    const matcher = new ProcessMatcher(readSocketTables('/proc'), pids);
    const wanted = new Set(flows.flatMap((f) => matcher.unownedInodes(f)));
    assert.equal(wanted.size, 4, 'client, accepted, listener and UDP sockets, none owned before the scan');
    const stats = pids.scanNewFirst(wanted);
    assert.equal(stats.missing, 0);

    const inodes = new Set<number>();
    for (const f of flows) {
      const m = matcher.match(f);
      assert.equal(m?.pid, process.pid, `${f.protocol} ${f.localAddr}:${f.localPort} → ${f.remoteAddr}:${f.remotePort}`);
      inodes.add(m.inode);
    }
    assert.equal(inodes.size, 4, 'each flow found its own socket');

    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    const name = processName('/proc', process.pid);
    assert.ok(name !== null && name.startsWith(comm), `${name} for comm ${comm}`);
    if (comm.length < 15) assert.equal(name, comm);
  } finally {
    client.destroy();
    server.close();
    udp.close();
  }
});
