// The running screen's idle cost: a capture of N UDP conversations (default 2,000 and 50,000) replayed into the
// UI in tmux, held after its end (the clock stands still, every tick still expires, snapshots and paints as a
// live screen does), and the monitor's CPU time measured over a window at the default 1 s refresh.
// Usage: node scripts/bench-ui-idle.mjs [--seconds 30] [--connections 2000,50000]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
};
const seconds = Number(arg('--seconds', '30'));
const counts = arg('--connections', '2000,50000').split(',').map(Number);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-ui-idle-'));
const session = `rustnet-ui-idle-${process.pid}`;

/** A classic pcap of n UDP conversations (one 60-byte frame each), all within the first second. */
function writeCapture(file, n) {
  const frames = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  frames.push(header);
  for (let i = 0; i < n; i++) {
    const f = Buffer.alloc(14 + 20 + 8 + 18);
    f.writeUInt16BE(0x0800, 12);
    f[14] = 0x45;
    f.writeUInt16BE(46, 16);
    f[22] = 64;
    f[23] = 17;
    f.set([10, 1, (i >> 8) & 255, i & 255], 26);
    f.set([192, 0, 2, 1 + (i >> 16)], 30);
    f.writeUInt16BE(20000 + (i % 40000), 34);
    f.writeUInt16BE(53, 36);
    f.writeUInt16BE(26, 38);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000, 0);
    rec.writeUInt32LE(Math.floor((i / n) * 900_000), 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    frames.push(rec, f);
  }
  fs.writeFileSync(file, Buffer.concat(frames));
}

function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(n) {
  const file = path.join(dir, `udp-${n}.pcap`);
  writeCapture(file, n);
  const pidFile = path.join(dir, `pid-${n}`);
  // --no-sandbox: one process to measure (the privilege drop's parent only waits).
  const cmd = `echo $$ > ${pidFile}; exec env TERM=xterm-256color node ${path.join(root, 'dist/main.js')} --read ${file} --no-sandbox --show-localhost`;
  execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '45', cmd]);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
      if (screen.includes('holding the final state')) break;
      if (Date.now() > deadline) throw new Error(`the replay of ${n} connections did not finish:\n${screen}`);
      await sleep(200);
    }
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await sleep(3000); // let start-up compilation settle
    const before = cpuMs(pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const used = cpuMs(pid) - before;
    const wall = performance.now() - t0;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    const screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    const title = /Active Connections[^─]*/.exec(screen)?.[0]?.trim() ?? '?';
    return { n, percent: (used / wall) * 100, rssMb: rssKb / 1024, title };
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
}

try {
  for (const n of counts) {
    const r = await measure(n);
    console.log(`UI idle with ${n.toLocaleString('en-US')} connections (${r.title}), 160x45, 1 s refresh: ${r.percent.toFixed(2)} % of one core over ${seconds} s, RSS ${r.rssMb.toFixed(0)} MB`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
