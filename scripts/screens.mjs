// Text screenshots of the terminal UI for the docs: the built monitor replays corpus captures in tmux at 140×40,
// keys open each screen, and the pane's text is written to docs/screens/<name>.txt.
//
//   node scripts/screens.mjs [--out DIR] [--only NAME[,NAME…]]
//
// Needs a build (dist/) and tmux. Replays run at --replay-speed 0 and hold their final state, so the screens
// come out the same on every run (the Statistics panel's privilege line depends on who runs it: as root the
// monitor continues as nobody). Each screen gets its own tmux session, killed when done, on an error and on
// SIGINT/SIGTERM; every wait is bounded.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WIDTH = 140;
const HEIGHT = 40;
const FINAL = 'finished, holding the final state';
const IPHONE = 'test/corpus/pcap/ndpi__iphone.pcap';

/**
 * Each screen: the capture, then steps of keys and the text that shows they took effect. Keys are tmux
 * send-keys names; `{ text }` types literally.
 */
const SCREENS = [
  { name: 'overview', capture: IPHONE, steps: [] },
  {
    name: 'overview-filter',
    capture: IPHONE,
    steps: [[['/', { text: 'sni:icloud' }], 'of 54'], [['Enter'], 'Filter: sni:icloud']],
  },
  {
    // The busiest connection: sort by Down/Up (the seventh column), select the top row, open it.
    name: 'details',
    capture: IPHONE,
    steps: [[['s', 's', 's', 's', 's', 's', 's'], 'Sort: Down/Up ↓'], [['g'], 'Sort: Down/Up ↓'], [['Enter'], '┌─ Details ']],
  },
  { name: 'interfaces', capture: IPHONE, steps: [[['i'], 'Interface counters are live-only: a replay has none.']] },
  { name: 'graph', capture: IPHONE, steps: [[['4'], '┌─ Graph ']] },
  { name: 'help', capture: IPHONE, steps: [[['h'], '┌─ Help ']] },
  { name: 'grouped', capture: IPHONE, steps: [[['a'], '1 group by process'], [['Enter'], '▾ —']] },
];

function parseArgs(argv) {
  const opts = { out: path.join(ROOT, 'docs', 'screens'), only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--only') opts.only = new Set(argv[++i].split(','));
    else throw new Error(`unknown argument ${a} (usage: node scripts/screens.mjs [--out DIR] [--only NAME,…])`);
  }
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tmux(...args) {
  return execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * new-session, again when it meets a server that is just exiting (its last session was killed a moment ago):
 * tmux says "server exited unexpectedly" then, and a new server starts normally a little later.
 */
async function newSession(...args) {
  for (let attempt = 1; ; attempt++) {
    try {
      return tmux('new-session', ...args);
    } catch (err) {
      if (attempt >= 5 || !/server exited unexpectedly|lost server|no server running/.test(String(err.stderr ?? ''))) throw err;
      await sleep(100 * attempt);
    }
  }
}

const live = new Set();
function killAll() {
  for (const name of live) spawnSync('tmux', ['kill-session', '-t', name]);
  live.clear();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

function capture(name) {
  return tmux('capture-pane', '-p', '-t', name).split('\n').map((l) => l.replace(/\s+$/, ''));
}

async function waitForText(name, text, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = capture(name);
    if (lines.some((l) => l.includes(text))) return;
    const dead = tmux('display-message', '-p', '-t', name, '#{pane_dead}').trim() === '1';
    if (dead || Date.now() > deadline) throw new Error(`${dead ? 'the monitor ended' : 'timed out'} waiting for ${what} ("${text}"); screen:\n${lines.join('\n')}`);
    await sleep(50);
  }
}

/** The pane once two captures a little apart agree (the UI repaints every tick; the held state does not change). */
async function settled(name, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let last = capture(name).join('\n');
  for (;;) {
    await sleep(300);
    const now = capture(name).join('\n');
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}

let counter = 0;

async function shoot(screen, outDir) {
  const name = `rustnet-screens-${process.pid}-${++counter}`;
  const command = [process.execPath, path.join(ROOT, 'dist', 'main.js'), '--read', screen.capture, '--replay-speed', '0']
    .map(shellQuote).join(' ');
  const env = 'TERM=xterm-256color NCURSES_NO_UTF8_ACS=1 LANG=C.UTF-8';
  live.add(name);
  try {
    // The relative capture path is what the Statistics panel shows: run from the repository's root.
    await newSession('-d', '-s', name, '-x', String(WIDTH), '-y', String(HEIGHT), '-c', ROOT, `env ${env} ${command}`,
      ';', 'set-option', '-t', name, 'remain-on-exit', 'on');
    await waitForText(name, FINAL, 'the replay to finish');
    for (const [keys, expect] of screen.steps) {
      for (const k of keys) {
        if (typeof k === 'string') tmux('send-keys', '-t', name, k);
        else tmux('send-keys', '-t', name, '-l', k.text);
      }
      await waitForText(name, expect, `${screen.name}: ${JSON.stringify(keys)}`);
    }
    const text = await settled(name);
    const file = path.join(outDir, `${screen.name}.txt`);
    fs.writeFileSync(file, `${text.replace(/\n+$/, '')}\n`);
    return file;
  } finally {
    spawnSync('tmux', ['kill-session', '-t', name]);
    live.delete(name);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: build first (npm run build)');
  if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux is not installed');
  fs.mkdirSync(opts.out, { recursive: true });
  for (const screen of SCREENS) {
    if (opts.only !== null && !opts.only.has(screen.name)) continue;
    const file = await shoot(screen, opts.out);
    process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
  }
}

main().catch((err) => {
  killAll();
  process.stderr.write(`screens: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
