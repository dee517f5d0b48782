// CPU cost of process attribution with 2,000 established loopback sockets held by 20 processes (issue 14, H1).
//
//   node scripts/bench-attribution.mjs [--seconds 30] [--procs 20] [--sockets 2000] [--no-unowned] [--no-monitor]
//                                      [--dist DIR]
//
// Needs root (the monitor captures on lo; /proc/PID/fd of every process) and a build (dist/). Phases, one
// after the other so they do not share the CPU:
//   1. attribution alone, driven as the live monitor drives it (src/pipeline/session.ts): the connections
//      appear over the first second (each socket sends once a second), a coalesced noticeNew per turn of
//      the event loop while new ones arrive, apply() on every 1 s tick (which starts the 2 s full refresh);
//   2. the same with one new connection per tick that no local socket owns (forwarded traffic, another
//      network namespace such as a container's): those stay unowned for 10 s, so the full refresh really
//      rereads the socket tables and every process's fds every 2 s;
//   3. the whole monitor, `dist/main.js -i lo --show-localhost --no-tui --json-log /dev/null`, its CPU (with
//      the child it continues in after dropping privileges) read from /proc/PID/stat over the same window;
//      it has no switch to turn attribution off.
// Every child is killed on exit, on SIGINT/SIGTERM and on an error; children also exit by themselves when
// this process goes away (their IPC channel closes) or after a bounded lifetime.

import { fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '..');
/** Another build to measure (e.g. to compare two trees): a folder like dist/, with node_modules reachable from it. */
const distIndex = process.argv.indexOf('--dist');
const dist = distIndex > 0 ? path.resolve(process.argv[distIndex + 1] ?? 'dist') : path.join(root, 'dist');

// ---------------------------------------------------------------------------------------------------------
// Child: one server, `count` client sockets to another child's server, a few bytes per socket each second.

function runChild() {
  const lifetimeMs = Number(process.argv[3]);
  // Bounded in time whatever happens to the parent; and gone as soon as the parent is.
  setTimeout(() => process.exit(0), lifetimeMs);
  process.on('disconnect', () => process.exit(0));
  const clients = [];
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d)); // echo: traffic both ways
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
  process.on('message', (m) => {
    if (m.type !== 'connect') return;
    let open = 0;
    for (let i = 0; i < m.count; i++) {
      const s = net.connect(m.port, '127.0.0.1', () => {
        if (++open === m.count) {
          process.send({ type: 'ready', localPorts: clients.map((c) => c.localPort) });
          startTraffic();
        }
      });
      s.setNoDelay(true);
      s.on('data', () => {});
      s.on('error', () => {});
      clients.push(s);
    }
  });
  const payload = Buffer.from('ping1234');
  function startTraffic() {
    // Ten groups, one every 100 ms: each socket sends 8 bytes once a second, spread over the second.
    let group = 0;
    setInterval(() => {
      for (let i = group; i < clients.length; i += 10) clients[i].write(payload);
      group = (group + 1) % 10;
    }, 100);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parent

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench-attribution: ${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in microseconds (clock ticks from /proc/PID/stat). */
function processCpuMicros(pid, clkTck) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / clkTck;
}

/**
 * CPU of a process and all its descendants now alive, in microseconds: the monitor started as root runs
 * on in a child with fewer privileges (src/privilege-drop.ts), so its own pid alone would miss the work.
 */
function treeCpuMicros(pid, clkTck) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop();
    try {
      total += processCpuMicros(p, clkTck);
    } catch {
      continue;
    }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

function clockTicks() {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/** Established IPv4 sockets in /proc/net/tcp with one end on one of `ports`. */
function establishedOn(ports) {
  let n = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01') continue;
    const local = parseInt(f[1].split(':')[1], 16);
    const remote = parseInt(f[2].split(':')[1], 16);
    if (ports.has(local) || ports.has(remote)) n++;
  }
  return n;
}

const pct = (cpuMicros, wallMicros) => ((100 * cpuMicros) / wallMicros).toFixed(2);

async function main() {
  const seconds = option('--seconds', 30);
  const procs = option('--procs', 20);
  const sockets = option('--sockets', 2000);
  const withUnowned = !process.argv.includes('--no-unowned');
  const withMonitor = !process.argv.includes('--no-monitor');
  const perChild = Math.round(sockets / 2 / procs); // each connection is two sockets on loopback
  const windowMs = seconds * 1000;
  const phases = 1 + (withUnowned ? 1 : 0) + (withMonitor ? 1 : 0);
  const lifetimeMs = phases * (windowMs + 15_000) + 60_000;

  for (const f of ['enrich/process-attribution.js', 'host/process-host.js', 'core/side-tables.js', 'main.js']) {
    if (!fs.existsSync(path.join(dist, f))) {
      console.error(`bench-attribution: ${path.join(dist, f)} is missing; build first (npx tsc -p tsconfig.json)`);
      process.exit(2);
    }
  }
  const { ProcessAttribution } = await import(pathToFileURL(path.join(dist, 'enrich/process-attribution.js')).href);
  const { linuxProcessHost } = await import(pathToFileURL(path.join(dist, 'host/process-host.js')).href);
  const { SideTables } = await import(pathToFileURL(path.join(dist, 'core/side-tables.js')).href);

  // Cleanup first: whatever happens from here, no child outlives us.
  const children = [];
  let monitor = null;
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (monitor !== null && monitor.exitCode === null && monitor.signalCode === null) monitor.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });

  // --- load: procs children, sockets established sockets
  console.log(`starting ${procs} processes holding ${perChild * 2 * procs} established loopback sockets …`);
  const ports = [];
  await Promise.all(Array.from({ length: procs }, () => new Promise((resolve, reject) => {
    const c = fork(self, ['--child', String(lifetimeMs)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(c);
    c.once('error', reject);
    c.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    c.once('message', (m) => {
      ports[children.indexOf(c)] = m.port;
      resolve();
    });
  })));
  /** Connection keys the way tracking makes them: the side that sent first (the client) is local. */
  const expected = [];
  await Promise.all(children.map((c, i) => new Promise((resolve) => {
    const target = ports[(i + 1) % procs];
    c.once('message', (m) => {
      for (const localPort of m.localPorts) expected.push({ pid: c.pid, localPort, remotePort: target });
      resolve();
    });
    c.send({ type: 'connect', port: target, count: perChild });
  })));
  await sleep(1500); // traffic running everywhere
  const established = establishedOn(new Set(ports));
  console.log(`established sockets on the children's ports (/proc/net/tcp): ${established}`);
  const clkTck = clockTicks();
  const childrenCpu = () => children.reduce((sum, c) => sum + processCpuMicros(c.pid, clkTck), 0);

  // --- attribution alone, as the session drives it
  async function attributionWindow(unownedPerTick) {
    const attribution = new ProcessAttribution(linuxProcessHost());
    const side = new SideTables();
    const list = [];
    let nextId = 1;
    let noticeScheduled = false;
    // src/pipeline/session.ts scheduleNotice: one noticeNew per turn of the event loop, with the whole list.
    const notice = () => {
      if (noticeScheduled) return;
      noticeScheduled = true;
      setImmediate(() => {
        noticeScheduled = false;
        attribution.noticeNew(list);
      });
    };
    const key = (e) => ({ id: nextId++, dpi: null, protocol: 6, family: 4, localAddr: '127.0.0.1', localPort: e.localPort, remoteAddr: '127.0.0.1', remotePort: e.remotePort });
    const byId = new Map();
    const wall0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const kids0 = childrenCpu();
    const elapsedMicros = () => Number(process.hrtime.bigint() - wall0) / 1000;
    // Tracking sees each connection when its first packet of the window arrives: spread over the first second.
    // 20 processes × 10 groups send at 200 moments a second: the monitor meets the connections over as many
    // turns of its event loop, each with a notice of its own.
    const batchSize = Math.ceil(expected.length / 200);
    let next = 0;
    const arrivals = setInterval(() => {
      if (next >= expected.length) {
        clearInterval(arrivals); // a timer every 5 ms costs about 1 % of a core by itself
        return;
      }
      for (const e of expected.slice(next, next + batchSize)) {
        const k = key(e);
        byId.set(k.id, e);
        list.push(k);
      }
      next += batchSize;
      notice();
    }, 5);
    let unowned = 0;
    let cpuAt2s = null;
    // Half-way between ticks, as packets of a new flow arrive whenever they do.
    let unownedTimer = null;
    const firstUnowned = setTimeout(() => {
      unownedTimer = setInterval(() => {
        for (let i = 0; i < unownedPerTick; i++) {
          // An address no socket here has: TEST-NET-2 on the local side, benchmarking space remote (RFC 5737, 2544).
          const n = unowned++;
          list.push({ id: nextId++, dpi: null, protocol: 6, family: 4, localAddr: '198.51.100.7', localPort: 40000 + (n % 20000), remoteAddr: '198.18.0.1', remotePort: 443 });
          notice();
        }
      }, 1000);
    }, 500);
    const ticks = setInterval(() => {
      attribution.apply(elapsedMicros(), side, list);
      if (cpuAt2s === null && elapsedMicros() >= 2_000_000) cpuAt2s = { cpu: process.cpuUsage(cpu0), wall: elapsedMicros() };
    }, 1000);
    await sleep(windowMs);
    clearInterval(ticks);
    clearInterval(arrivals);
    clearTimeout(firstUnowned);
    if (unownedTimer !== null) clearInterval(unownedTimer);
    const cpu = process.cpuUsage(cpu0);
    const wall = elapsedMicros();
    const kids = childrenCpu() - kids0;
    let right = 0;
    let wrong = 0;
    for (const [id, e] of byId) {
      const owner = side.processes.get(id);
      if (owner === undefined) continue;
      if (owner.pid === e.pid) right++;
      else wrong++;
    }
    const total = cpu.user + cpu.system;
    const startup = cpuAt2s === null ? null : cpuAt2s.cpu.user + cpuAt2s.cpu.system;
    return { wall, total, user: cpu.user, system: cpu.system, startup, steadyWall: cpuAt2s === null ? null : wall - cpuAt2s.wall, right, wrong, connections: byId.size, kids };
  }

  function report(label, r) {
    console.log(`\n${label}`);
    console.log(`  attributed to the right pid: ${r.right}/${r.connections} (wrong: ${r.wrong})`);
    console.log(`  CPU over ${(r.wall / 1e6).toFixed(1)} s: ${(r.total / 1000).toFixed(0)} ms = ${pct(r.total, r.wall)} % of one core (user ${(r.user / 1000).toFixed(0)} ms, system ${(r.system / 1000).toFixed(0)} ms)`);
    if (r.startup !== null) {
      console.log(`  first 2 s (every connection new): ${(r.startup / 1000).toFixed(0)} ms; after it: ${pct(r.total - r.startup, r.steadyWall)} % of one core`);
    }
    console.log(`  load generator (${procs} processes) meanwhile: ${pct(r.kids, r.wall)} % of one core`);
  }

  console.log(`\nmeasuring ${seconds} s per phase`);
  report('attribution alone, as the monitor drives it:', await attributionWindow(0));
  if (withUnowned) {
    await sleep(1000);
    report('attribution alone, plus one connection per tick that no local socket owns (full refresh every 2 s):', await attributionWindow(1));
  }

  if (withMonitor) {
    await sleep(1000);
    // As the executable runs: with the runtime options of its first line (#!/usr/bin/env -S node …).
    const shebang = fs.readFileSync(path.join(dist, 'main.js'), 'utf8').split('\n', 1)[0] ?? '';
    const runtimeOptions = /^#!.*\bnode\b(.*)$/.exec(shebang)?.[1]?.trim().split(/\s+/).filter((o) => o !== '') ?? [];
    monitor = spawn(process.execPath, [...runtimeOptions, path.join(dist, 'main.js'), '-i', 'lo', '--show-localhost', '--no-tui', '--json-log', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    monitor.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const started = await new Promise((resolve) => {
      const poll = setInterval(() => {
        if (/capturing on/.test(stderr) || monitor.exitCode !== null) {
          clearInterval(poll);
          resolve(monitor.exitCode === null);
        }
      }, 20);
    });
    if (!started) {
      console.error(`\nthe monitor did not start:\n${stderr}`);
      process.exitCode = 1;
    } else {
      const cpu0 = treeCpuMicros(monitor.pid, clkTck);
      const kids0 = childrenCpu();
      const t0 = process.hrtime.bigint();
      await sleep(windowMs);
      const cpu = treeCpuMicros(monitor.pid, clkTck) - cpu0;
      const wall = Number(process.hrtime.bigint() - t0) / 1000;
      const kids = childrenCpu() - kids0;
      monitor.kill('SIGINT');
      const code = await new Promise((r) => monitor.once('exit', (c) => r(c)));
      const summary = stderr.split('\n').filter((l) => l !== '' && !/capturing on/.test(l)).join('; ');
      console.log(`\nwhole monitor (${path.relative(process.cwd(), path.join(dist, 'main.js')) || 'main.js'} -i lo --show-localhost --no-tui --json-log /dev/null), exit ${code}:`);
      console.log(`  CPU over ${(wall / 1e6).toFixed(1)} s: ${(cpu / 1000).toFixed(0)} ms = ${pct(cpu, wall)} % of one core`);
      console.log(`  load generator meanwhile: ${pct(kids, wall)} % of one core`);
      if (summary !== '') console.log(`  its summary: ${summary}`);
    }
  }
  killAll();
}

if (process.argv[2] === '--child') runChild();
else await main();
