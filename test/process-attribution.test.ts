// Process attribution live: child processes with known pids open TCP connections on loopback that live 1.5 s,
// 250 ms, 50 ms and as short as possible; the log must name the right pid for every one living ≥ 250 ms.
// The share for the shorter ones is reported (test diagnostics). Needs root and `npm run build`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { readJsonl, startCli, withTimeout } from './support/cli.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-attr-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** A child that connects, sends one line, keeps the connection `holdMs`, closes, and prints its local port. */
const CLIENT = `
const net = require('node:net');
const [port, holdMs] = process.argv.slice(1).map(Number);
const s = net.connect(port, '127.0.0.1', () => {
  s.write('hello\\n');
  setTimeout(() => { console.log(s.localPort); s.end(); }, holdMs);
});
s.on('close', () => process.exit(0));
s.on('error', () => process.exit(1));`;

function runClient(port: number, holdMs: number): Promise<{ pid: number; localPort: number }> {
  const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return withTimeout(new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve({ pid: child.pid!, localPort: Number(out.trim()) }) : reject(new Error(`client exit ${code}`))));
  }), 10_000, 'client');
}

test('connections living ≥ 250 ms are attributed to their own process; shorter ones are reported', async (t) => {
  const server = net.createServer((s) => s.on('data', () => {}).on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const log = path.join(TMP, 'events.jsonl');
  const cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '--json-log', log, '-r', '100']);
  const lifetimes = [1500, 250, 50, 0];
  const runs: { holdMs: number; pid: number; localPort: number }[] = [];
  try {
    for (const holdMs of lifetimes) {
      for (let i = 0; i < 4; i++) runs.push({ holdMs, ...(await runClient(port, holdMs)) });
    }
    await new Promise((r) => setTimeout(r, 300));
    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
  } finally {
    cli.kill();
    await new Promise<void>((r) => server.close(() => r()));
  }
  const closed = readJsonl(log).filter((e) => e.event === 'connection_closed' && e.protocol === 'TCP' && e.destination_port === port);
  for (const holdMs of lifetimes) {
    const mine = runs.filter((r) => r.holdMs === holdMs);
    const right = mine.filter((r) => closed.some((e) => e.source_port === r.localPort && e.pid === r.pid && e.process_name === 'node'));
    t.diagnostic(`lifetime ${holdMs} ms: ${right.length}/${mine.length} attributed to the right pid`);
    if (holdMs >= 250) assert.equal(right.length, mine.length, `every connection living ${holdMs} ms`);
    // Never the wrong process.
    for (const r of mine) {
      const e = closed.find((x) => x.source_port === r.localPort);
      if (e?.pid !== undefined) assert.equal(e.pid, r.pid, `port ${r.localPort}`);
    }
  }
});
