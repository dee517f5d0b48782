// bench-live: the live monitor's cost on loopback (CPU, RSS, kernel drops) under paced UDP, idle, and through 50 ms stalls.
//
// Needs root (capture) and a build (`npm run build`); compiles scripts/udp-flood.c with cc. Every datagram goes
// to 127.0.0.1, to a port this script binds and never reads; each load is bounded in time. Steps (all by default;
// BENCH_LIVE_STEPS=load,idle,stall,floor picks some):
//   load   64-byte UDP at each rate of BENCH_LIVE_RATES (default 100000,300000) for BENCH_LIVE_SECONDS (10),
//          headless with DPI at the default buffer: the whole monitor's CPU (% of one core), RSS, and whether
//          captured + kernel drops = sent.
//   idle   the monitor at default settings (default interface, no filter) for BENCH_LIVE_IDLE_SECONDS (20)
//          after 5 s of start-up: CPU and RSS.
//   stall  300,000 packets/s while the monitor is frozen (SIGSTOP) for 50 ms every 250 ms, at each ring size
//          of BENCH_LIVE_SIZES MiB (default 1,2,3,4,6,8): drops per size. The default --buffer-size is the
//          smallest that drops nothing.
//   floor  tcpdump -w /dev/null on the first load, for comparison.
// The monitor runs with --no-sandbox (the process measured is the one capturing; the privilege drop would add a
// waiting parent, see docs/performance.md) and with a kernel filter on the generator's port, so other traffic on
// lo (other tests on this machine) neither adds to the cost nor spoils the accounting.
import { execFileSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_LIVE_MAIN: another build's dist/main.js, to compare (e.g. a clone at an older commit).
const MAIN = process.env.BENCH_LIVE_MAIN ?? path.join(root, 'dist/main.js');
const CLK_TCK = 100; // Linux's USER_HZ for /proc/PID/stat times
const env = (name, fallback) => process.env[name] ?? fallback;
const steps = new Set(env('BENCH_LIVE_STEPS', 'load,idle,stall,floor').split(','));
const rates = env('BENCH_LIVE_RATES', '100000,300000').split(',').map(Number);
const seconds = Number(env('BENCH_LIVE_SECONDS', '10'));
const idleSeconds = Number(env('BENCH_LIVE_IDLE_SECONDS', '20'));
const sizes = env('BENCH_LIVE_SIZES', '1,2,3,4,6,8').split(',').map(Number);
const stallSeconds = Number(env('BENCH_LIVE_STALL_SECONDS', '5'));
const stallRate = Number(env('BENCH_LIVE_STALL_RATE', '300000'));
const payload = Number(env('BENCH_LIVE_PAYLOAD', '64'));
/** Extra monitor options for the load step (e.g. --no-dpi). */
const loadExtra = env('BENCH_LIVE_ARGS', '').split(' ').filter((a) => a !== '');

if (process.getuid?.() !== 0) {
  console.error('bench-live: capturing needs root');
  process.exit(2);
}
if (!fs.existsSync(MAIN)) {
  console.error('bench-live: build first (npm run build)');
  process.exit(2);
}

const flood = path.join(os.tmpdir(), `rustnet-udp-flood-${process.pid}`);
execFileSync('cc', ['-O2', '-o', flood, path.join(root, 'scripts/udp-flood.c')], { stdio: 'inherit' });
process.on('exit', () => fs.rmSync(flood, { force: true }));

/** utime + stime of the whole process (all threads) in seconds, and its resident set in MiB. */
function usage(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
}

/** Starts a command and resolves once its stderr contains `ready`; collects its stderr. */
async function start(cmd, args, ready) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s) => { err += s; });
  const exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!err.includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${cmd} ${args.join(' ')} did not start: ${err.trim()}`);
    }
    await delay(20);
  }
  return {
    child,
    stderr: () => err,
    async stop() {
      child.kill('SIGINT');
      const code = await Promise.race([exited, delay(15_000).then(() => 'timeout')]);
      if (code === 'timeout') child.kill('SIGKILL');
      return err;
    },
  };
}

function monitor(extra) {
  return start(MAIN, ['--no-tui', '--no-sandbox', '--json-log', '/dev/null', ...extra], 'capturing on');
}

async function deafPort() {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** Runs the generator; resolves with its report ({ sent, failed, seconds, rate }). */
function generate(port, rate, secs) {
  return new Promise((resolve, reject) => {
    const g = spawn(flood, [String(port), String(rate), String(secs), String(payload)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    g.stdout.setEncoding('utf8').on('data', (s) => { out += s; });
    g.once('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`udp-flood exited ${code}`))));
  });
}

function captureCounts(stderr) {
  const m = /(\d+) frames captured, kernel drops (\d+)/.exec(stderr);
  if (m) return { captured: Number(m[1]), dropped: Number(m[2]) };
  // A build from before the batched binding reports frames seen, and no drops.
  const seen = /(\d+) frames, \d+ decoded/.exec(stderr);
  return { captured: seen ? Number(seen[1]) : NaN, dropped: NaN };
}

const pct = (x) => `${x.toFixed(2)} %`;
const mib = (x) => `${x.toFixed(0)} MiB`;
const n = (x) => Math.round(x).toLocaleString('en-US');

console.log(`bench-live: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
const results = {};

if (steps.has('load')) {
  for (const rate of rates) {
    const sock = await deafPort();
    const port = sock.address().port;
    const m = await monitor(['-i', 'lo', '--show-localhost', '--bpf-filter', `udp and dst port ${port}`, ...loadExtra]);
    await delay(1000);
    const before = usage(m.child.pid);
    const report = await generate(port, rate, seconds);
    await delay(500); // the last kernel block, and the backlog
    const after = usage(m.child.pid);
    const stderr = await m.stop();
    sock.close();
    const { captured, dropped } = captureCounts(stderr);
    const cpuPct = ((after.cpu - before.cpu) / report.seconds) * 100;
    const r = { rate: report.rate, sent: report.sent, captured, dropped, balanced: captured + dropped === report.sent, cpuPct, rssMiB: after.rssMiB };
    results[`load${rate}`] = r;
    console.log(`load ${n(rate)}/s x ${seconds} s, ${payload}-byte UDP on lo (${loadExtra.includes('--no-dpi') ? 'DPI off' : 'DPI on'}${loadExtra.length > 0 ? `, ${loadExtra.join(' ')}` : ''}): sent ${n(report.sent)} (${n(report.rate)}/s), ` +
      `captured ${n(captured)}, kernel drops ${n(dropped)}, captured + dropped = sent: ${r.balanced ? 'yes' : 'NO'}; ` +
      `monitor CPU ${pct(cpuPct)} of one core, RSS ${mib(after.rssMiB)}`);
  }
}

if (steps.has('floor')) {
  const sock = await deafPort();
  const port = sock.address().port;
  const t = await start('tcpdump', ['-i', 'lo', '-n', '-w', '/dev/null', `udp and dst port ${port}`], 'listening on');
  await delay(500);
  const before = usage(t.child.pid);
  const report = await generate(port, rates[0], seconds);
  await delay(500);
  const after = usage(t.child.pid);
  await t.stop();
  sock.close();
  const cpuPct = ((after.cpu - before.cpu) / report.seconds) * 100;
  results.floor = { cpuPct, rssMiB: after.rssMiB };
  console.log(`floor: tcpdump -w /dev/null on the same ${n(rates[0])}/s load: CPU ${pct(cpuPct)} of one core, RSS ${mib(after.rssMiB)}`);
}

if (steps.has('idle')) {
  const m = await monitor([]);
  const iface = /capturing on (\S+)/.exec(m.stderr())?.[1] ?? '?';
  await delay(5000);
  const before = usage(m.child.pid);
  const t0 = performance.now();
  await delay(idleSeconds * 1000);
  const after = usage(m.child.pid);
  const wall = (performance.now() - t0) / 1000;
  await m.stop();
  const cpuPct = ((after.cpu - before.cpu) / wall) * 100;
  results.idle = { iface, cpuPct, rssMiB: after.rssMiB };
  console.log(`idle: default settings (on ${iface}) for ${idleSeconds} s: CPU ${pct(cpuPct)} of one core, RSS ${mib(after.rssMiB)}`);
}

if (steps.has('stall')) {
  const stallMs = 50;
  const everyMs = 250;
  results.stall = [];
  for (const size of sizes) {
    const sock = await deafPort();
    const port = sock.address().port;
    const m = await monitor(['-i', 'lo', '--show-localhost', '--buffer-size', String(size), '--bpf-filter', `udp and dst port ${port}`]);
    await delay(500);
    const pid = m.child.pid;
    const gen = generate(port, stallRate, stallSeconds);
    let stalls = 0;
    let longest = 0;
    let running = true;
    gen.then(() => { running = false; }, () => { running = false; });
    await delay(200);
    while (running) {
      const t0 = performance.now();
      process.kill(pid, 'SIGSTOP');
      await delay(stallMs);
      process.kill(pid, 'SIGCONT');
      longest = Math.max(longest, performance.now() - t0);
      stalls++;
      await delay(everyMs - stallMs);
    }
    const report = await gen;
    await delay(500);
    const stderr = await m.stop();
    sock.close();
    const { captured, dropped } = captureCounts(stderr);
    results.stall.push({ sizeMiB: size, sent: report.sent, rate: report.rate, captured, dropped, stalls, longestMs: longest });
    console.log(`stall: --buffer-size ${size}: ${n(report.rate)}/s for ${stallSeconds} s with ${stalls} stalls of ${stallMs} ms ` +
      `(longest ${longest.toFixed(0)} ms): sent ${n(report.sent)}, captured ${n(captured)}, kernel drops ${n(dropped)}` +
      `${captured + dropped === report.sent ? '' : ' (captured + dropped ≠ sent)'}`);
  }
  const ok = results.stall.filter((s) => s.dropped === 0).map((s) => s.sizeMiB);
  console.log(`stall: smallest ring without drops: ${ok.length > 0 ? `${Math.min(...ok)} MiB` : 'none of those tried'}`);
}

console.log(`BENCH_LIVE ${JSON.stringify(results)}`);
