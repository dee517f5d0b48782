// The engine warm-up (src/tracking/engine-warm-up.ts) must cover every Connection, ConnectionTable and TcpTotals field
// the packet path changes for the first time long after start-up: such a change makes V8 discard the
// optimised packet path mid-replay. Checked on the built program, as users run it, over a generated capture
// with enough flows that over 1,024 connections are live at once (the table's deadline array grows).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Connection } from '../src/tracking/connection.js';
import { ConnectionTable } from '../src/tracking/connection-table.js';
import { TcpTotals } from '../src/tracking/tcp-analytics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-warmup-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** V8's record of one replay: where each field of each class was first stored a second time or widened. */
function trace(): string {
  const capture = path.join(dir, 'flows-3000.pcap');
  const g = spawnSync(process.execPath, [path.join(root, 'scripts/synth-capture.mjs'), '-o', capture, '--flows', '3000', '--seed', '7', '--size-scale', '0.7'],
    { encoding: 'utf8', timeout: 60_000 });
  assert.equal(g.status, 0, `generating the capture failed: ${g.stderr}`);
  // --no-sparkplug: Node 20's V8 aborts when --trace-generalization prints a frame of baseline code.
  const r = spawnSync(process.execPath, ['--min-semi-space-size=16', '--no-sparkplug', '--trace-generalization',
    path.join(root, 'dist/main.js'), '--no-tui', '--read', capture, '--json-log', '/dev/null'],
  { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stderr, /105006 frames, 105006 decoded.*3001 connections/, 'the replay ran to its summary');
  return r.stdout;
}

test('no Connection, ConnectionTable or TcpTotals field changes for the first time during a replay (else: add it to the warm-up)', () => {
  const connection = new Connection(1, 6, 4, '', 0, '', 0, new Uint32Array(10), true, true, 1.5);
  const table = new ConnectionTable({ maxConnections: 10, showLocalhost: true, localAddresses: null, inspector: null });
  const fields = new Set([...Object.keys(connection), ...Object.keys(table), ...Object.keys(new TcpTotals())]);
  assert.ok(fields.has('closeReason') && fields.has('retransmits') && fields.has('deadlines'), 'the field lists come from real objects');
  // Fields first stored while the first packets arrive (before anything is optimised) are fine; so are
  // constructors, module top level (`~+offset`) and the warm-up itself. Anything later is a discarded compile.
  const early = new Set(['nextId', 'totalCreated', 'dpi', 'lastSeenMicros']);
  // A Connection's readonly fields are stored by its constructor only (TypeScript forbids any other store). V8
  // still widens them once while it settles the class's layout, at the first connections; when `create` has
  // been optimised by then, the constructor is inlined and the frame names `create`. Not a later change.
  const source = fs.readFileSync(path.join(root, 'src/tracking/connection.ts'), 'utf8');
  const constructedOnly = new Set([...source.slice(source.indexOf('export class Connection')).matchAll(/^ {2}readonly (\w+):/gm)].map((m) => m[1]!));
  assert.ok(constructedOnly.has('localPort') && constructedOnly.has('firstSeenMicros'), 'readonly fields read from the source');
  const late: string[] = [];
  for (const line of trace().split('\n')) {
    const m = /^\[generalizing\](\w+):.*\[(new )?[~^*]?(\w*)\+\d+ at file:\S*\/dist\/(tracking\/[\w-]+)\.js/.exec(line);
    if (m === null) continue;
    const [, field, ctor, fn, file] = m as unknown as [string, string, string | undefined, string, string];
    if (!fields.has(field) || ctor !== undefined || fn === '' || file === 'tracking/engine-warm-up' || early.has(field)) continue;
    if (constructedOnly.has(field) && fn === 'create' && file === 'tracking/connection-table') continue;
    late.push(`${field} (first changed in ${fn}, ${file}.ts)`);
  }
  assert.deepEqual([...new Set(late)], [], 'fields to add to src/tracking/engine-warm-up.ts');
});
