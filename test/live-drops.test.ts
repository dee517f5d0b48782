// Live capture on lo accounts for every datagram a generator sent: captured plus reported kernel drops = sent.
//
// Needs root and `npm run build`. Traffic goes only to 127.0.0.1, to a port of this test's own; every load is
// bounded in count and time. The second test freezes the monitor (SIGSTOP; --no-sandbox so that the process we
// stop is the one capturing) with a 1 MiB ring while datagrams keep coming, so the kernel must drop some.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI_PATH, readJsonl, startCli, withTimeout, type RunningCli } from './support/cli.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-drops-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

assert.ok(fs.existsSync(CLI_PATH), `${CLI_PATH} is missing: run npm run build first`);

/** A bound socket that never reads (the kernel discards what overflows it; no ICMP errors come back). */
async function deafListener(): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  return s;
}

/** Sends `count` datagrams of `size` bytes to the port, `burst` at a time, one burst per turn of the event loop. */
async function blast(port: number, count: number, size: number, burst = 500): Promise<number> {
  const s = dgram.createSocket('udp4');
  const payload = Buffer.alloc(size, 0x5a);
  let ok = 0;
  try {
    for (let sent = 0; sent < count;) {
      const n = Math.min(burst, count - sent);
      await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
        s.send(payload, port, '127.0.0.1', (err) => {
          if (err === null) ok++;
          resolve();
        });
      })));
      sent += n;
    }
  } finally {
    s.close();
  }
  return ok;
}

/**
 * Sends one marker datagram from a fresh socket (a new flow) every 200 ms until its new_connection is in the
 * log: frames leave the ring in order, so everything sent before it has then been counted. Returns how many
 * markers were sent (each one is a frame to account for).
 */
async function syncOnMarker(port: number, log: string): Promise<number> {
  let markers = 0;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = dgram.createSocket('udp4');
    const sourcePort = await new Promise<number>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)));
    await new Promise<void>((resolve, reject) => s.send(Buffer.alloc(1), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    s.close();
    markers++;
    for (let i = 0; i < 4; i++) {
      await delay(50);
      if (readJsonl(log).some((e) => e.event === 'new_connection' && e.source_port === sourcePort)) return markers;
    }
  }
  throw new Error(`no marker reached ${log} within 10 s`);
}

interface Accounting {
  captured: number;
  dropped: number;
}

/** The closing summary's "N frames captured, kernel drops D". */
function accounting(stderr: string): Accounting {
  const m = /(\d+) frames captured, kernel drops (\d+)/.exec(stderr);
  assert.ok(m !== null, `closing summary with capture counts: ${stderr.trim()}`);
  return { captured: Number(m[1]), dropped: Number(m[2]) };
}

test('lo: every datagram sent is captured or reported dropped (default buffer)', async (t: TestContext) => {
  const listener = await deafListener();
  const port = listener.address().port;
  const log = path.join(TMP, 'plain.jsonl');
  let cli: RunningCli | undefined;
  try {
    cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '--bpf-filter', `udp and dst port ${port}`, '--json-log', log, '-r', '100']);
    const sent = await blast(port, 20_000, 64);
    assert.equal(sent, 20_000, 'the generator sent every datagram');
    const markers = await syncOnMarker(port, log);
    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
    const { captured, dropped } = accounting(exit.stderr);
    t.diagnostic(`sent ${sent} + ${markers} markers; captured ${captured}, kernel drops ${dropped}`);
    assert.equal(captured + dropped, sent + markers, `captured ${captured} + dropped ${dropped} = sent ${sent} + markers ${markers}`);
    // Every frame captured was counted in a flow: the generator's and the markers'.
    const flows = readJsonl(log).filter((e) => e.event === 'connection_closed');
    const packets = flows.reduce((n, e) => n + (e.packets_sent as number) + (e.packets_received as number), 0);
    assert.equal(packets, captured, 'frames captured = packets counted in the flows');
  } finally {
    cli?.kill();
    listener.close();
  }
});

test('lo: a monitor frozen during a burst with a 1 MiB ring reports the drops, and captured + dropped = sent', async (t: TestContext) => {
  const listener = await deafListener();
  const port = listener.address().port;
  const log = path.join(TMP, 'frozen.jsonl');
  let cli: RunningCli | undefined;
  try {
    cli = await startCli(['--no-tui', '--no-sandbox', '-i', 'lo', '--show-localhost', '--buffer-size', '1',
      '--bpf-filter', `udp and dst port ${port}`, '--json-log', log, '-r', '100']);
    const pid = cli.child.pid!;
    // 1 MiB holds a few thousand small frames: 30,000 sent while the monitor cannot read must overflow it.
    process.kill(pid, 'SIGSTOP');
    let sent: number;
    try {
      sent = await withTimeout(blast(port, 30_000, 64), 20_000, 'sending 30,000 datagrams');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.equal(sent, 30_000, 'the generator sent every datagram');
    const markers = await syncOnMarker(port, log);
    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
    const { captured, dropped } = accounting(exit.stderr);
    t.diagnostic(`sent ${sent} + ${markers} markers; captured ${captured}, kernel drops ${dropped}`);
    assert.ok(dropped > 0, `the kernel dropped frames while the monitor was frozen (captured ${captured})`);
    assert.equal(captured + dropped, sent + markers, `captured ${captured} + dropped ${dropped} = sent ${sent} + markers ${markers}`);
    // Headless, the drops were also said as they happened: one warning per tick that saw them change.
    const warnings = [...exit.stderr.matchAll(/warning: the kernel dropped (\d+) frames since the last tick \((\d+) in all/g)];
    assert.ok(warnings.length >= 1, `a drop warning on stderr: ${exit.stderr.trim()}`);
    const perTick = warnings.reduce((n, w) => n + Number(w[1]), 0);
    assert.equal(perTick, dropped, 'the warnings add up to the drops in the summary');
    assert.equal(Number(warnings[warnings.length - 1]![2]), dropped);
  } finally {
    cli?.kill();
    listener.close();
  }
});

test('scripts/bench-live.mjs (short settings) reports load, floor and stall lines that add up', () => {
  const r = spawnSync(process.execPath, [path.join(path.dirname(CLI_PATH), '..', 'scripts', 'bench-live.mjs')], {
    encoding: 'utf8',
    env: {
      ...process.env, BENCH_LIVE_STEPS: 'load,floor,stall', BENCH_LIVE_RATES: '20000', BENCH_LIVE_SECONDS: '1',
      BENCH_LIVE_SIZES: '8', BENCH_LIVE_STALL_SECONDS: '1', BENCH_LIVE_STALL_RATE: '20000',
    },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /load 20,000\/s x 1 s, 64-byte UDP on lo \(DPI on\): sent [\d,]+ \([\d,]+\/s\), captured [\d,]+, kernel drops [\d,]+, captured \+ dropped = sent: yes; monitor CPU [\d.]+ % of one core, RSS \d+ MiB/);
  assert.match(r.stdout, /floor: tcpdump -w \/dev\/null on the same 20,000\/s load: CPU [\d.]+ % of one core, RSS \d+ MiB/);
  assert.match(r.stdout, /stall: --buffer-size 8: [\d,]+\/s for 1 s with \d+ stalls of 50 ms \(longest \d+ ms\): sent [\d,]+, captured [\d,]+, kernel drops [\d,]+\n/);
  const json = /BENCH_LIVE (\{.*\})/.exec(r.stdout);
  assert.ok(json !== null, r.stdout);
  const results = JSON.parse(json[1]!) as { load20000: { sent: number; captured: number; dropped: number }; stall: { sent: number; captured: number; dropped: number }[] };
  assert.equal(results.load20000.captured + results.load20000.dropped, results.load20000.sent);
  for (const s of results.stall) assert.equal(s.captured + s.dropped, s.sent);
});

test('the installed cap is the patched one: its own batch-mode test passes on lo', () => {
  // node_modules/cap/test/test-batch.js comes with patches/cap+0.2.1.patch: layout, timestamps, stats() and the
  // buffer kept alive by the addon while only a weak reference to it remains in JS.
  const script = path.join(path.dirname(CLI_PATH), '..', 'node_modules', 'cap', 'test', 'test-batch.js');
  assert.ok(fs.existsSync(script), `${script} is missing: npm ci applies the patch`);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Finished batch mode: 200 frames in \d+ batches, 200 received/);
});
