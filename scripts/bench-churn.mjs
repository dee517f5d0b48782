// bench-churn: the live monitor's memory under flow churn on loopback (a new short TCP or UDP flow every 2 ms).
//
// Needs root (capture) and a build (`npm run build`). Starts the monitor headless on lo, then for --seconds opens a
// new flow every --interval-ms on 127.0.0.1, alternating a TCP connection (connect, send 64 bytes, close) to a
// server this script runs and a UDP datagram from a fresh source port to a socket this script binds; samples the
// monitor's RSS and CPU every second and prints one line per 5 s, then a verdict: RSS once the first flows have
// timed out (the UDP timeout, 60 s, is the longest one the churn meets; TCP flows leave 30 s after TIME_WAIT)
// against RSS at the end (medians of 15 s each), flat = within 10 %. With --max-connections N it also checks
// that the tracked connections never exceed N. The default 150 s leaves 85 s past the first UDP timeouts.
//
//   node scripts/bench-churn.mjs [--seconds 150] [--interval-ms 2] [--max-connections N] [--no-filter]
//                                [--trace-gc] [--node-flags='--cpu-prof --cpu-prof-dir=DIR']
//
// The monitor runs as `dist/main.js -i lo --show-localhost --no-tui --no-sandbox --json-log FIFO`: connections
// tracked are counted from its own event log (new_connection − connection_closed) read from a FIFO, the same
// events it would encode and write to /dev/null, so the same work. --trace-gc adds the live heap (after each
// full collection) to the curve, the steadier measure of retained state. A kernel filter on the two ports keeps
// other traffic on lo (other tests on this machine) out of the figures; --no-filter runs it on all of lo.
// Each UDP flow binds the next port of the ephemeral range in turn (28,232 ports last 113 s at 250 flows a
// second): the kernel's random choice would reuse a port still tracked about half the time at this pace, merging
// flows. TCP ports are the kernel's: on loopback it reuses a port in TIME_WAIT (tcp_tw_reuse=2), for about one
// connection in seven within the 30 s the monitor keeps a TIME_WAIT connection; the monitor counts the new SYN
// as a new connection and ends the old one then ("replaced"), so fewer TCP connections are tracked at once
// than 30 s of them. Binding TCP source ports too made one connect in six fail (ports still in TIME_WAIT).
// Load is bounded: at most MAX_IN_FLIGHT flows open at once, and a pacing loop that falls behind drops the flows
// it missed rather than bursting (both counted and reported). Every child and socket goes on exit and on SIGINT.
import { execFileSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = process.env.BENCH_CHURN_MAIN ?? path.join(root, 'dist/main.js');
const CLK_TCK = 100; // Linux's USER_HZ for /proc/PID/stat times
/** The longest timeout the churn's flows meet: a UDP flow with nothing detected (src/tracking/timeouts.ts). */
const UDP_TIMEOUT_S = 60;
/** RSS is taken as settled this long after the first UDP flows timed out (the sweep runs once a second). */
const SETTLE_S = 5;
const MAX_IN_FLIGHT = 256;
/** Behind by more than this many flows, the pacer skips ahead instead of bursting to catch up. */
const MAX_CATCH_UP = 25;
const REPORT_EVERY_S = 5;
/** The event stream silent this long: the latest tick's events have all been read. */
const QUIET_MS = 250;
const FLAT = 0.10;
/** Each end of the flatness comparison is the median RSS over this many seconds. */
const WINDOW_S = 15;

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '150' },
    'interval-ms': { type: 'string', default: '2' },
    'max-connections': { type: 'string' },
    'no-filter': { type: 'boolean', default: false },
    'trace-gc': { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    payload: { type: 'string', default: '64' },
  },
});
const seconds = Number(opts.seconds);
const intervalMs = Number(opts['interval-ms']);
const maxConnections = opts['max-connections'] === undefined ? null : Number(opts['max-connections']);
const payload = Buffer.alloc(Number(opts.payload), 0x61);
if (!(seconds > 0) || !(intervalMs > 0) || (maxConnections !== null && !(maxConnections > 0))) {
  console.error('bench-churn: --seconds, --interval-ms and --max-connections take positive numbers');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench-churn: capturing needs root');
  process.exit(2);
}
if (!fs.existsSync(MAIN)) {
  console.error('bench-churn: build first (npm run build)');
  process.exit(2);
}

let timer = null;
let generating = false;

// ---- cleanup: every child and socket, on a normal end, an error and SIGINT/SIGTERM ----
const children = new Set();
const closers = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`bench-churn: ${sig}, stopping`);
    void shutdown().finally(() => process.exit(130));
  });
}
async function shutdown() {
  stopGenerator();
  for (const close of closers.splice(0)) {
    try { close(); } catch { /* already closed */ }
  }
  await Promise.all([...children].map((c) => stopChild(c)));
}
function stopChild(c) {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    c.once('close', () => { clearTimeout(t); resolve(); });
    c.kill('SIGINT');
  });
}

/** utime + stime of the whole process in seconds, and its resident set in MiB. */
function usage(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpu, rssMiB: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return null; // exited
  }
}

// ---- the local peers: a TCP server that reads and closes, a UDP socket that reads and drops ----
const server = net.createServer((s) => {
  s.on('data', () => {});
  s.on('end', () => s.end());
  s.on('error', () => {});
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
closers.push(() => server.close());
const tcpPort = server.address().port;
const sink = dgram.createSocket('udp4');
sink.on('message', () => {});
await new Promise((resolve) => sink.bind(0, '127.0.0.1', resolve));
closers.push(() => sink.close());
const udpPort = sink.address().port;

const [portLow, portHigh] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
/** UDP source ports walk the ephemeral range in turn (see the top). */
let nextUdpPort = portLow + Math.floor(Math.random() * (portHigh - portLow));

/** Start of the churn (performance.now()); every time in the results counts from it. */
let genStart = performance.now();

// ---- the monitor ----
// Events come through a FIFO of their own: standard output is left to V8's --trace-gc lines, which would
// otherwise land between the events' writes (Node's stdio pipes are sockets, which /dev/fd/N cannot reopen).
const fifo = path.join(os.tmpdir(), `rustnet-churn-events-${process.pid}`);
execFileSync('mkfifo', ['-m', '0600', fifo]);
process.on('exit', () => fs.rmSync(fifo, { force: true }));
const eventStream = fs.createReadStream(fifo);
const args = ['-i', 'lo', '--show-localhost', '--no-tui', '--no-sandbox', '--json-log', fifo];
if (maxConnections !== null) args.push('--max-connections', String(maxConnections));
if (!opts['no-filter']) args.push('--bpf-filter', `tcp port ${tcpPort} or udp port ${udpPort}`);
// --trace-gc: V8 reports each collection on the monitor's standard output, beside the events; the heap left after
// each full (mark-compact) collection is the live heap, a steadier measure of retained state than RSS. Node takes
// such flags (and --node-flags='--cpu-prof --cpu-prof-dir=DIR', say) only on its command line: node is then
// started with the flags of main.js's #! line, and these.
const nodeFlags = [...(opts['trace-gc'] ? ['--trace-gc'] : []), ...opts['node-flags'].split(' ').filter((f) => f !== '')];
const shebangFlags = (/^#!.*\bnode\b(.*)$/m.exec(fs.readFileSync(MAIN, 'utf8').split('\n', 1)[0])?.[1] ?? '').trim().split(/\s+/).filter((f) => f !== '');
const monitor = nodeFlags.length > 0
  ? spawn(process.execPath, [...shebangFlags, ...nodeFlags, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  : spawn(MAIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
children.add(monitor);
let stderr = '';
monitor.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
const monitorClosed = new Promise((resolve) => monitor.once('close', (code, signal) => resolve({ code, signal })));

/**
 * Connections tracked, from the event stream. Within one tick the monitor writes the new connections' events
 * before the closed ones', so a count read mid-batch can run ahead of the table; it is settled (the table's
 * size at the end of a tick) just before a new_connection that follows a connection_closed.
 */
const events = { created: 0, closed: 0, settled: null, maxSettled: 0, lastWasClosed: false, closedBy: new Map(), lastEventMs: 0 };
/** --trace-gc: the heap after each full collection (V8's MB), by churn time, and the collections by kind. */
const fullGcs = [];
const gcKinds = new Map();
eachLine(monitor.stdout, (line) => {
  const m = /ms: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-sweep)(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
  if (m === null) return;
  // Why V8 collected: the words after its mutator-utilisation figures.
  const why = /current mu = [\d.]+\) (.*)$/.exec(line)?.[1].trim() ?? '';
  const kind = m[1] === 'Mark-Compact' ? `${m[1]} (${why})` : m[1];
  gcKinds.set(kind, (gcKinds.get(kind) ?? 0) + 1);
  if (m[1] === 'Mark-Compact') fullGcs.push({ t: (performance.now() - genStart) / 1000, heapMiB: Number(m[2]) });
});
eachLine(eventStream, (line) => {
  events.lastEventMs = performance.now();
  if (line.includes('"event":"new_connection"')) {
    if (events.lastWasClosed) settle();
    events.created++;
    events.lastWasClosed = false;
  } else if (line.includes('"event":"connection_closed"')) {
    events.closed++;
    const state = /"protocol":"(\w+)".*"state":"(\w+)"/.exec(line);
    const key = state === null ? '?' : `${state[1]} ${state[2]}`;
    events.closedBy.set(key, (events.closedBy.get(key) ?? 0) + 1);
    events.lastWasClosed = true;
  }
});
/** Calls `visit` with each complete line of a stream. */
function eachLine(stream, visit) {
  let partial = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    const text = partial + chunk;
    const end = text.lastIndexOf('\n');
    partial = text.slice(end + 1);
    let i = 0;
    while (i <= end) {
      const nl = text.indexOf('\n', i);
      visit(text.slice(i, nl));
      i = nl + 1;
    }
  });
}
/**
 * The table's size at the end of the latest tick read: every connection created until the first one left; then
 * the count when the stream has been quiet for a while (a tick's events are written together, once a second), or
 * else the last settled count. Only settled counts go into the verdict's maximum.
 */
function tracked() {
  const quiet = performance.now() - events.lastEventMs > QUIET_MS;
  if (events.closed === 0) {
    // Before any connection left, a count read mid-batch is short of the table, never over it: safe to keep.
    if (quiet && events.created > events.maxSettled) events.maxSettled = events.created;
    return events.created;
  }
  return quiet ? events.created - events.closed : events.settled;
}
function settle() {
  events.settled = events.created - events.closed;
  if (events.settled > events.maxSettled) events.maxSettled = events.settled;
}

const startDeadline = Date.now() + 15_000;
while (!stderr.includes('capturing on')) {
  if (monitor.exitCode !== null || Date.now() > startDeadline) {
    console.error(`bench-churn: the monitor did not start: ${stderr.trim()}`);
    await shutdown();
    process.exit(1);
  }
  await delay(20);
}
const pid = monitor.pid;
await delay(1000);

// ---- the generator: a paced loop, one flow per interval, TCP and UDP in turn ----
const gen = { opened: 0, tcp: 0, udp: 0, failed: 0, skipped: 0, portsBusy: 0, inFlight: 0, maxInFlight: 0, maxLagMs: 0 };
function stopGenerator() {
  generating = false;
  if (timer !== null) clearTimeout(timer);
  timer = null;
}
function done() {
  gen.inFlight--;
}
function openTcp() {
  gen.inFlight++;
  gen.tcp++;
  const s = net.connect({ port: tcpPort, host: '127.0.0.1' });
  s.on('connect', () => s.end(payload));
  s.on('data', () => {});
  s.on('error', () => { gen.failed++; });
  s.on('close', done);
}
function openUdp() {
  gen.inFlight++;
  gen.udp++;
  const u = dgram.createSocket('udp4');
  const port = nextUdpPort;
  nextUdpPort = nextUdpPort >= portHigh ? portLow : nextUdpPort + 1;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    try { u.close(); } catch { /* already closed */ }
    done();
  };
  u.on('error', (err) => {
    if (err.code === 'EADDRINUSE') gen.portsBusy++;
    else gen.failed++;
    finish();
  });
  u.bind(port, '127.0.0.1', () => {
    u.send(payload, udpPort, '127.0.0.1', (err) => {
      if (err) gen.failed++;
      finish();
    });
  });
}
let genEnd = 0;
const generated = new Promise((resolve) => {
  genStart = performance.now();
  generating = true;
  let due = 0; // flows that should have been opened by now
  const step = () => {
    if (!generating) return resolve();
    const now = performance.now();
    const elapsed = now - genStart;
    if (elapsed >= seconds * 1000) {
      genEnd = now;
      generating = false;
      return resolve();
    }
    const target = Math.floor(elapsed / intervalMs) + 1;
    gen.maxLagMs = Math.max(gen.maxLagMs, (target - due - 1) * intervalMs);
    if (target - due > MAX_CATCH_UP) {
      gen.skipped += target - due - MAX_CATCH_UP;
      due = target - MAX_CATCH_UP;
    }
    while (due < target) {
      due++;
      if (gen.inFlight >= MAX_IN_FLIGHT) {
        gen.skipped++;
        continue;
      }
      if (gen.opened % 2 === 0) openTcp();
      else openUdp();
      gen.opened++;
      if (gen.inFlight > gen.maxInFlight) gen.maxInFlight = gen.inFlight;
    }
    timer = setTimeout(step, Math.max(0, intervalMs - (performance.now() - genStart - (due - 1) * intervalMs)));
  };
  step();
});

// ---- sampling: RSS and CPU every second ----
const samples = [];
const u0 = usage(pid);
samples.push({ t: 0, opened: 0, rssMiB: u0.rssMiB, cpu: u0.cpu, tracked: tracked() });
const sampler = setInterval(() => {
  const u = usage(pid);
  if (u === null) return;
  samples.push({ t: (performance.now() - genStart) / 1000, opened: gen.opened, rssMiB: u.rssMiB, cpu: u.cpu, tracked: tracked() });
}, 1000);
closers.push(() => clearInterval(sampler));

const load0 = os.loadavg();
console.log(`bench-churn: ${os.cpus().length} cores, load average ${load0.map((l) => l.toFixed(2)).join(' ')}, node ${process.version}; ` +
  `monitor ${args.join(' ')}`);
console.log(`one flow every ${intervalMs} ms for ${seconds} s (TCP to :${tcpPort} and UDP to :${udpPort} in turn, ${payload.length}-byte payload)`);
console.log(`     t  flows opened  rate/s   RSS MiB  CPU %  tracked${opts['trace-gc'] ? '  heap after full GC' : ''}`);
let lastReport = { t: 0, opened: 0, cpu: u0.cpu };
const reporter = setInterval(() => {
  const s = samples.at(-1);
  if (s === undefined || s.t - lastReport.t < REPORT_EVERY_S - 0.5) return;
  const dt = s.t - lastReport.t;
  console.log(`${s.t.toFixed(0).padStart(6)}  ${String(s.opened).padStart(12)}  ${((s.opened - lastReport.opened) / dt).toFixed(0).padStart(6)}  ` +
    `${s.rssMiB.toFixed(1).padStart(8)}  ${(((s.cpu - lastReport.cpu) / dt) * 100).toFixed(1).padStart(5)}  ${String(s.tracked ?? '-').padStart(7)}` +
    (opts['trace-gc'] ? `  ${fullGcs.at(-1)?.heapMiB.toFixed(1).padStart(18) ?? '                 -'}` : ''));
  lastReport = s;
}, 1000);
closers.push(() => clearInterval(reporter));

await Promise.race([generated, monitorClosed]);
// On SIGINT the handler stops everything and exits.
if (interrupted) await new Promise(() => {});
if (monitor.exitCode !== null) {
  console.error(`bench-churn: the monitor exited early: ${stderr.trim()}`);
  await shutdown();
  process.exit(1);
}
// Let the last flows finish and the last tick's events arrive.
const drainDeadline = Date.now() + 5000;
while (gen.inFlight > 0 && Date.now() < drainDeadline) await delay(50);
await delay(1500);
clearInterval(sampler);
clearInterval(reporter);
const last = usage(pid);
const load1 = os.loadavg();
await stopChild(monitor);
await shutdown();
await monitorClosed;

// ---- results ----
const wall = (genEnd - genStart) / 1000;
const during = samples.filter((s) => s.t <= wall + 0.5);
const end = during.at(-1);
const refT = UDP_TIMEOUT_S + SETTLE_S;
const ref = during.find((s) => s.t >= refT + WINDOW_S) === undefined ? undefined : during.find((s) => s.t >= refT);
const peak = Math.max(...samples.map((s) => s.rssMiB));
const cpuPct = ((end.cpu - samples[0].cpu) / end.t) * 100;
console.log(`generator: ${gen.opened} flows in ${wall.toFixed(1)} s = ${(gen.opened / wall).toFixed(0)}/s (target ${(1000 / intervalMs).toFixed(0)}/s): ` +
  `${gen.tcp} TCP, ${gen.udp} UDP; failed ${gen.failed}, UDP port busy ${gen.portsBusy}, skipped by the pacer ${gen.skipped} ` +
  `(longest lag ${gen.maxLagMs} ms), at most ${gen.maxInFlight} in flight`);
console.log(`load average ${load1.map((l) => l.toFixed(2)).join(' ')} at the end`);
const summary = stderr.split('\n').find((l) => / connections[;,]/.test(l)) ?? '(no closing summary)';
console.log(`monitor: CPU ${cpuPct.toFixed(1)} % of one core over the churn, RSS at the end ${end.rssMiB.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB` +
  (last !== null ? `, ${last.rssMiB.toFixed(1)} MiB after the drain` : ''));
console.log(`monitor: connections tracked at most ${events.maxSettled} (new_connection ${events.created}, connection_closed ${events.closed})`);
console.log(`monitor: closed events by protocol and last state: ${[...events.closedBy].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`monitor: ${summary.replace(/^rustnet-ts: /, '')}`);
const warnings = stderr.split('\n').filter((l) => l.includes('warning') || l.includes('not keeping up'));
if (warnings.length > 0) console.log(`monitor warnings: ${warnings.length} (first: ${warnings[0]})`);

if (opts['trace-gc']) console.log(`collections: ${[...gcKinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
const result = { seconds: wall, flows: gen.opened, ratePerS: gen.opened / wall, cpuPct, rssEndMiB: end.rssMiB, peakMiB: peak, trackedMax: events.maxSettled };
if (ref === undefined) {
  console.log(`verdict: the churn ran ${wall.toFixed(0)} s, not ${WINDOW_S} s past the first UDP timeouts (${refT} s): no flatness verdict`);
} else {
  const tail = during.filter((s) => s.t >= refT);
  const slope = fitSlope(tail.map((s) => [s.t, s.rssMiB])) * 60;
  // RSS swings by tens of MiB from one second to the next (the socket tables read for process attribution
  // are megabytes of text under this churn): each end of the span is the median of WINDOW_S samples.
  const first = median(tail.filter((s) => s.t < refT + WINDOW_S).map((s) => s.rssMiB));
  const lastMedian = median(tail.filter((s) => s.t > end.t - WINDOW_S).map((s) => s.rssMiB));
  const change = (lastMedian - first) / first;
  const flat = Math.abs(change) <= FLAT;
  const low = Math.min(...tail.map((s) => s.rssMiB));
  const high = Math.max(...tail.map((s) => s.rssMiB));
  Object.assign(result, { rssAfterTimeoutsMiB: first, rssLastMiB: lastMedian, rssChangePct: change * 100, rssRangeMiB: [low, high], slopeMiBPerMin: slope, flat });
  const gcs = fullGcs.filter((g) => g.t >= refT && g.t <= wall + 0.5);
  if (gcs.length >= 2) {
    const heapSlope = fitSlope(gcs.map((g) => [g.t, g.heapMiB])) * 60;
    Object.assign(result, { fullGcs: gcs.length, heapAfterGcFirstMiB: gcs[0].heapMiB, heapAfterGcLastMiB: gcs.at(-1).heapMiB, heapSlopeMiBPerMin: heapSlope });
    console.log(`heap after full GC: ${gcs.length} collections after ${refT} s, ${gcs[0].heapMiB.toFixed(1)} MB at ${gcs[0].t.toFixed(0)} s → ` +
      `${gcs.at(-1).heapMiB.toFixed(1)} MB at ${gcs.at(-1).t.toFixed(0)} s (trend ${heapSlope >= 0 ? '+' : ''}${heapSlope.toFixed(2)} MB/min)`);
  } else if (opts['trace-gc']) {
    console.log(`heap after full GC: ${gcs.length} full collections after ${refT} s, no trend`);
  }
  console.log(`verdict: RSS (medians of ${WINDOW_S} s) ${first.toFixed(1)} MiB from ${refT} s (the first UDP flows timed out at ${UDP_TIMEOUT_S} s), ` +
    `${lastMedian.toFixed(1)} MiB over the last ${WINDOW_S} s: ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} % ` +
    `(range ${low.toFixed(0)}–${high.toFixed(0)} MiB, trend ${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MiB/min): ${flat ? 'FLAT' : 'NOT FLAT'} (within ${FLAT * 100} %)`);
}
if (maxConnections !== null) {
  const evicted = /(\d+) evicted at the --max-connections cap/.exec(stderr);
  const ok = events.maxSettled <= maxConnections;
  Object.assign(result, { maxConnections, evicted: evicted ? Number(evicted[1]) : 0, capHeld: ok });
  console.log(`verdict: --max-connections ${maxConnections}: tracked at most ${events.maxSettled}, ` +
    `${evicted ? evicted[1] : 0} evicted: ${ok ? 'never above the cap' : 'ABOVE THE CAP'}`);
}
console.log(`BENCH_CHURN ${JSON.stringify(result)}`);
if (interrupted) process.exit(130);

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Least-squares slope of y over x. */
function fitSlope(points) {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
  const d = n * sxx - sx * sx;
  return d === 0 ? 0 : (n * sxy - sx * sy) / d;
}
