// The UI's tick at scale: N connections (default 100,000) in a session with a screen on in-memory streams;
// times one tick (expire, snapshot, filter, sort, table of the visible rows, panels, blessed's paint) while
// traffic keeps every snapshot fresh. Run by `npm run bench` after the replays; alone: node scripts/bench-ui.mjs.
import { PassThrough, Writable } from 'node:stream';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(path.join(root, 'dist', p)).href);
const { Session } = await load('pipeline/session.js');
const { TerminalUi } = await load('ui/terminal-ui.js');

const connections = Number(process.env.BENCH_UI_CONNECTIONS ?? 100_000);
const ticks = Number(process.env.BENCH_UI_TICKS ?? 20);
const [width, height] = (process.env.BENCH_UI_SIZE ?? '160x45').split('x').map(Number);

/** Ethernet + IPv4 + UDP frame from 10.a.b.c:port to 192.0.2.1:53 (each i a connection of its own). */
function frame(i, payload = 32) {
  const b = Buffer.alloc(14 + 20 + 8 + payload);
  b.writeUInt16BE(0x0800, 12);
  const ip = 14;
  b[ip] = 0x45;
  b.writeUInt16BE(20 + 8 + payload, ip + 2);
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  b.set([10, (i >> 16) & 255, (i >> 8) & 255, i & 255], ip + 12);
  b.set([192, 0, 2, 1], ip + 16);
  const udp = ip + 20;
  b.writeUInt16BE(1024 + (i % 60000), udp);
  b.writeUInt16BE(53, udp + 2);
  b.writeUInt16BE(8 + payload, udp + 4);
  return b;
}

class BenchSource {
  packetClock = true;
  sink = null;
  open() { return { kind: 'replay', name: 'bench', linkType: 1, description: 'synthetic', filter: '' }; }
  run(sink) { this.sink = sink; return new Promise((resolve) => { this.end = resolve; }); }
  stop() { this.end?.(); }
  close() {}
  stats() { return { received: 0, dropped: null }; }
}

const output = new Writable({ write(_c, _e, cb) { cb(); } });
Object.assign(output, { columns: width, rows: height, isTTY: true });
const input = new PassThrough();
let ui = null;
const source = new BenchSource();
const session = new Session(source, () => [], {
  maxConnections: connections + 10, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000,
  readers: [{ render: (s) => ui.render(s) }],
  scheduler: { every: () => () => {} },
});
const facts = { processDetection: 'bench', privileges: 'bench', localhostHidden: false, kernelDrops: null, replay: null };
ui = new TerminalUi({ color: true, refreshIntervalMs: 1000, facts: () => facts, onQuit: () => {}, input, output });
session.open();
const done = session.run();
const frames = Array.from({ length: connections }, (_, i) => frame(i));
let now = 1_700_000_000_000_000;
for (const f of frames) source.sink(f, 0, f.length, f.length, 1, now);
const times = [];
session.tick(now);
// Sorting by bandwidth is the heaviest order (every row's rate); press s until Down/Up.
for (let i = 0; i < 7; i++) input.write('s');
for (let i = 0; i < 20 && !ui.text()[1]?.includes('Sort: Down/Up'); i++) await new Promise((r) => setImmediate(r));
if (!ui.text()[1]?.includes('Sort: Down/Up')) {
  console.error(`bench-ui: the sort keys did not reach the screen:\n${ui.text().slice(0, 3).join('\n')}`);
  process.exit(1);
}
for (let t = 0; t < ticks; t++) {
  now += 1_000_000;
  // Traffic on a thousand connections each second: rates change, so no snapshot is reused.
  for (let k = 0; k < 1000; k++) {
    const f = frames[(t * 1000 + k) % connections];
    source.sink(f, 0, f.length, f.length, 1, now);
  }
  const t0 = performance.now();
  session.tick(now);
  times.push(performance.now() - t0);
}
source.stop();
session.stop();
await done;
ui.destroy();
times.sort((a, b) => a - b);
const median = times[times.length >> 1];
console.log(`UI tick with ${connections.toLocaleString('en-US')} connections at ${width}x${height} (sorted by Down/Up): median ${median.toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms over ${ticks} ticks (target ≤ 50 ms)`);
process.exit(0);
