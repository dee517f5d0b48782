// How a run ends, as users end it: SIGINT, SIGTERM and SIGHUP on a live capture, and end of file on a replay,
// each give a complete log (every connection closed), the summary line, exit 0 and no stack trace.
//
// Needs root (capture on lo) and `npm run build`. Traffic: a few UDP datagrams and one TCP connection on
// 127.0.0.1, made by this process, each step bounded in time.

import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { CORPUS } from './support/corpus.js';
import { readJsonl, runCli, startCli, waitForEvent, withTimeout } from './support/cli.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-lifecycle-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function assertComplete(events: ConnectionEvent[], what: string): void {
  const open = new Map<string, number>();
  for (const e of events) {
    const k = `${e.protocol} ${e.source_ip} ${e.source_port} ${e.destination_ip} ${e.destination_port}`;
    const n = open.get(k) ?? 0;
    if (e.event === 'new_connection') open.set(k, n + 1);
    else {
      assert.ok(n > 0, `${what}: closed before new: ${k}`);
      open.set(k, n - 1);
    }
  }
  assert.deepEqual([...open].filter(([, n]) => n !== 0), [], `${what}: every connection has its closed event`);
}

/** Sends three datagrams to a local UDP port and back; resolves with the client's port. */
async function udpExchange(): Promise<number> {
  const server = dgram.createSocket('udp4');
  const client = dgram.createSocket('udp4');
  try {
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    server.on('message', (m, rinfo) => server.send(m, rinfo.port, rinfo.address));
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    let got = 0;
    const replies = new Promise<void>((resolve) => client.on('message', () => { if (++got === 3) resolve(); }));
    for (let i = 0; i < 3; i++) client.send(Buffer.alloc(50, i), server.address().port, '127.0.0.1');
    await withTimeout(replies, 5000, 'UDP replies');
    return client.address().port;
  } finally {
    client.close();
    server.close();
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} on a live capture: every connection still open is closed in the log, summary, exit 0`, async () => {
    const log = path.join(TMP, `${signal}.jsonl`);
    const server = net.createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '--json-log', log, '-r', '100']);
    const socket = net.connect(port, '127.0.0.1');
    try {
      await withTimeout(new Promise<void>((r) => socket.once('connect', () => r())), 5000, 'TCP connect');
      socket.write('hello');
      const udpPort = await udpExchange();
      // Both connections announced: the TCP one stays open until the signal.
      await waitForEvent(log, (e) => e.event === 'new_connection' && e.protocol === 'TCP' && e.destination_port === port);
      await waitForEvent(log, (e) => e.event === 'new_connection' && e.source_port === udpPort);
      const exit = await cli.stop(signal);
      assert.equal(exit.code, 0, exit.stderr);
      assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack trace');
      assert.match(exit.stderr, /\d+ frames, \d+ decoded/, 'the summary line');
      const events = readJsonl(log);
      assertComplete(events, signal);
      const tcp = events.find((e) => e.event === 'connection_closed' && e.protocol === 'TCP' && e.destination_port === port);
      assert.ok(tcp !== undefined, 'the open TCP connection is closed in the log');
      assert.equal(tcp.state, 'ESTABLISHED');
    } finally {
      cli.kill();
      socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
}

test('end of file on a replay: the same complete log, and a log that is already there is appended to', async () => {
  const log = path.join(TMP, 'eof.jsonl');
  fs.writeFileSync(log, '');
  const file = path.join(CORPUS, 'pcap', 'ndpi__sites.pcapng');
  for (let run = 1; run <= 2; run++) {
    const r = await runCli(['--read', file, '--no-tui', '--json-log', log]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /699 frames, 699 decoded/);
  }
  const events = readJsonl(log);
  assert.ok(events.length > 100);
  assert.equal(events.length % 2, 0);
  const half = events.length / 2;
  assertComplete(events.slice(0, half), 'first run');
  assert.deepEqual(events.slice(half), events.slice(0, half), 'a replay writes the same log every time');
});
