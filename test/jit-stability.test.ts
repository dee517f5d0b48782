// The packet path's optimised code must survive the moments that come long after start-up (first
// close, first retransmission, the connection list outgrowing its first deadline array): V8 throws
// optimised code away when a field it believed constant changes, and compiling it again costs the
// replay tens of milliseconds of slow packets. Checked on the built program, as users run it, over
// a capture from the bench generator with enough flows that over 1,024 connections are live at once.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Connection } from '../src/tracking/connection.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generator = path.resolve(root, '../shared/bench/synth_flows.py');

let traced: string | undefined;
/** V8's trace of one replay: deoptimisations and field generalisations (printed on stdout). */
function trace(): string {
  if (traced !== undefined) return traced;
  const capture = path.join(os.tmpdir(), 'rustnet-jit-3000.pcap');
  if (!fs.existsSync(capture)) {
    const g = spawnSync('python3', [generator, '-o', capture, '--flows', '3000', '--seed', '7', '--size-scale', '0.7'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(g.status, 0, `generating the capture failed: ${g.stderr}`);
  }
  const r = spawnSync(process.execPath, ['--min-semi-space-size=16', '--trace-deopt', '--trace-generalization',
    path.join(root, 'dist/main.js'), '--no-tui', '--read', capture, '--json-log', '/dev/null'],
  { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\d+ frames, \d+ decoded/, 'the replay ran to its summary');
  traced = r.stdout;
  return traced;
}

test('a replay of a few thousand flows discards no optimised code because a dependency changed', () => {
  const dropped = trace().split('\n').filter((l) => l.includes('marking dependent code') && l.includes('code dependencies'));
  assert.deepEqual(dropped, [], 'optimised code discarded because a field or map it relied on changed');
});

test('connection fields stop being "constant" while the modules load, not mid-replay', () => {
  const fields = new Set(Object.keys(new Connection(6, 4, '', 0, '', 0, new Uint32Array(10), true, true, 1.5)));
  assert.ok(fields.has('closeReason') && fields.has('retransmits'), 'the field list was read from a real connection');
  // `dpi` is first set at a flow's first payload, before anything is optimised; the rest must be
  // made mutable at load (module top level, shown as `~+offset`) or in a constructor (`new ~`).
  const late = trace().split('\n').filter((l) => {
    const m = /^\[generalizing\](\w+):\w\{[^}]*;const\}->\w\{[^}]*;mutable\}.*\[(new )?~(\w*)\+\d+ at file:\S*\/dist\/tracking\//.exec(l);
    return m !== null && fields.has(m[1]!) && m[1] !== 'dpi' && m[2] === undefined && m[3] !== '';
  });
  assert.deepEqual(late, [], 'fields first changed by the packet path during the replay');
});
