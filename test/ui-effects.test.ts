// The screen's effects on the world: copying the remote address (desktop clipboard, else OSC 52 through the
// terminal) and the mouse (click selects, double-click opens details, wheel scrolls).

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { clipboardyWrite, copyText, osc52 } from '../src/ui/clipboard.js';
import { CORPUS } from './support/corpus.js';
import { ScreenHarness } from './support/screen.js';

const IPHONE = path.join(CORPUS, 'pcap', 'ndpi__iphone.pcap');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('copyText: without a display the terminal gets OSC 52; with one the desktop clipboard is used, and its failure falls back', async () => {
  const written: string[] = [];
  const desktop: string[] = [];
  const deps = (env: NodeJS.ProcessEnv, fail = false) => ({
    env,
    desktopWrite: async (t: string) => {
      if (fail) throw new Error('xsel: Can\'t open display\nmore');
      desktop.push(t);
    },
    terminalWrite: (bytes: string) => { written.push(bytes); },
  });
  let r = await copyText('192.0.2.7', deps({}));
  assert.equal(r.ok, true);
  assert.deepEqual(written, [`\x1b]52;c;${b64('192.0.2.7')}\x07`]);
  assert.deepEqual(desktop, []);
  assert.match(r.message, /OSC 52; no display/);

  written.length = 0;
  r = await copyText('example.org', deps({ DISPLAY: ':9' }));
  assert.deepEqual(desktop, ['example.org']);
  assert.deepEqual(written, []);
  assert.equal(r.message, 'copied example.org to the clipboard');

  r = await copyText('example.org', deps({ WAYLAND_DISPLAY: 'wayland-0' }, true));
  assert.deepEqual(written, [`\x1b]52;c;${b64('example.org')}\x07`]);
  assert.match(r.message, /OSC 52; clipboard tool failed: xsel: Can't open display\)$/, 'the first line of the reason');
});

test('osc52 inside tmux is wrapped for passthrough (every ESC doubled)', () => {
  assert.equal(osc52('a', { TMUX: '/tmp/tmux-0/default,1,0' }), `\x1bPtmux;\x1b\x1b]52;c;${b64('a')}\x07\x1b\\`);
  assert.equal(osc52('a', { TMUX: '' }), `\x1b]52;c;${b64('a')}\x07`);
});

test('c on the screen: the selected connection\'s remote address goes out as OSC 52, and the status line says so', async () => {
  const saved = { DISPLAY: process.env.DISPLAY, WAYLAND_DISPLAY: process.env.WAYLAND_DISPLAY, TMUX: process.env.TMUX };
  delete process.env.DISPLAY;
  delete process.env.WAYLAND_DISPLAY;
  delete process.env.TMUX;
  const h = await ScreenHarness.open(IPHONE, { columns: 160, rows: 45, realCopy: true });
  try {
    const remote = h.snapshots.at(-1)!.connections[0]!.remoteAddr;
    await h.press('c');
    for (let i = 0; i < 50 && !h.text()[44]!.includes('OSC 52'); i++) await h.flush();
    assert.ok(h.output.latin1().includes(`\x1b]52;c;${b64(remote)}\x07`), `the OSC 52 sequence was written; status: ${h.text()[44]}`);
    assert.match(h.text()[44]!, new RegExp(`^sent ${remote.replace(/\./g, '\\.')} to the terminal's clipboard \\(OSC 52`));
  } finally {
    await h.close();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
});

test('the desktop clipboard for real: clipboardy with Xvfb and xsel', async (t) => {
  if (spawnSync('Xvfb', ['-help']).error !== undefined || spawnSync('xsel', ['--version']).error !== undefined) {
    t.skip('Xvfb or xsel is not installed (scripts/setup.sh installs both)');
    return;
  }
  const display = `:${90 + (process.pid % 9)}`;
  const xvfb: ChildProcess = spawn('Xvfb', [display, '-nolisten', 'tcp'], { stdio: 'ignore' });
  const saved = process.env.DISPLAY;
  try {
    process.env.DISPLAY = display;
    // Bounded wait for the X server to accept clients.
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = spawnSync('xsel', ['-b', '-o'], { env: process.env, timeout: 2000 }).status === 0;
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ready, 'Xvfb came up');
    const r = await copyText('203.0.113.9', { env: process.env, desktopWrite: clipboardyWrite, terminalWrite: () => assert.fail('no OSC 52 with a display') });
    assert.equal(r.message, 'copied 203.0.113.9 to the clipboard');
    const back = spawnSync('xsel', ['-b', '-o'], { env: process.env, encoding: 'utf8', timeout: 2000 });
    assert.equal(back.stdout, '203.0.113.9');
  } finally {
    if (saved === undefined) delete process.env.DISPLAY; else process.env.DISPLAY = saved;
    xvfb.kill();
  }
});

test('mouse: a click selects a row, a double click opens its details, the wheel scrolls', async () => {
  const h = await ScreenHarness.open(IPHONE, { columns: 160, rows: 45 });
  // xterm SGR mouse reports (1-based column;row): press then release.
  const click = async (x: number, y: number): Promise<void> => {
    h.input.write(`\x1b[<0;${x};${y}M`);
    h.input.write(`\x1b[<0;${x};${y}m`);
    for (let i = 0; i < 5; i++) await h.flush();
  };
  try {
    assert.deepEqual(h.inverseRows(1, 115), [3], 'the first row is selected');
    // Screen row 8 (0-based 7) is the fifth table row: border and header are rows 1 and 2.
    await click(10, 8);
    assert.deepEqual(h.inverseRows(1, 115), [7], 'the clicked row is selected');
    const fifth = h.text()[7]!;
    await click(10, 8);
    assert.match(h.text()[1]!, /^┌─ Details /, 'a second click on the same row opens its details');
    const remote = /^│\S+ +(\S+)/.exec(fifth)![1]!;
    assert.ok(h.text().some((l) => l.includes(remote.replace(/:\d+$/, ''))), `details of ${remote}`);
    h.input.write('\x1b');
    for (let i = 0; i < 5; i++) await h.flush();
    // The table's part of each line (the panels beside it differ row by row).
    const table = (): string[] => h.text().map((l) => l.slice(0, 116));
    const before = table();
    h.input.write('\x1b[<65;10;10M'); // wheel down
    for (let i = 0; i < 5; i++) await h.flush();
    const after = table();
    assert.equal(after[3], before[6], 'the wheel scrolled the table three rows');
    assert.deepEqual(h.inverseRows(1, 115), [7], 'and the selection with it: the same place on screen');
    assert.equal(after[7], before[10], 'on the connection three rows further');
  } finally {
    await h.close();
  }
});
