// Test support: the capture corpus in test/corpus (MANIFEST, tshark oracle TSVs) and in-process replay.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReplaySource } from '../../src/capture/replay-source.js';
import type { ConnectionEvent } from '../../src/core/event-sink.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { DpiEngine } from '../../src/dpi/engine.js';
import { defaultClassifiers } from '../../src/dpi/default-classifiers.js';
import type { Monitor } from '../../src/pipeline/monitor.js';
import { Session, type SessionEnd, type SnapshotReader } from '../../src/pipeline/session.js';
import { MemorySink } from './session.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The corpus kept in the repository (see test/corpus/README.md). */
export const CORPUS = path.resolve(here, '../corpus');

export type Row = Record<string, string>;

export function readTsv(file: string): Row[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const head = lines[0]!.split('\t');
  return lines.slice(1).map((l) => {
    const f = l.split('\t');
    const row: Row = {};
    head.forEach((h, i) => { row[h] = f[i] ?? ''; });
    return row;
  });
}

export function manifest(): Row[] {
  return readTsv(path.join(CORPUS, 'MANIFEST.tsv'));
}

/**
 * The classic-pcap form of a capture (what the tests' tiny readers take), by the name MANIFEST gives it
 * in `classic_pcap` or by its file name: the converted copy where the original is pcapng, else the
 * original itself (the repository keeps only the copies that differ).
 */
export function classicPcap(name: string): string {
  const base = path.basename(name).replace(/\.pcapng$/, '.pcap');
  const copy = path.join(CORPUS, 'pcap-classic', base);
  return fs.existsSync(copy) ? copy : path.join(CORPUS, 'pcap', base);
}

/** Every capture of the corpus in classic-pcap form, one per MANIFEST row, in MANIFEST order. */
export function classicPcaps(): string[] {
  return manifest().map((m) => classicPcap(m.classic_pcap!));
}

export function oracle(id: string, name: string): Row[] {
  return readTsv(path.join(CORPUS, 'oracle', id, name));
}

export function summary(id: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(CORPUS, 'oracle', id, 'summary.json'), 'utf8')) as Record<string, unknown>;
}

export interface ReplayResult {
  events: ConnectionEvent[];
  monitor: Monitor;
}

export interface ReplayOptions {
  /** false: no DPI engine (default: the default classifiers). */
  dpi?: boolean;
  /** default true: loopback connections are kept. */
  showLocalhost?: boolean;
}

// One Session over `file` as `--read FILE` sets it up (the same Session and file source), run to the end;
// `readers` are what the TUI would attach (with none, the session skips rate sampling, as --no-tui does).
async function runReplay(
  file: string, opts: ReplayOptions, readers: SnapshotReader[] = [],
): Promise<{ sink: MemorySink; session: Session; end: SessionEnd }> {
  const sink = new MemorySink();
  const session = new Session(new ReplaySource(file, ''), () => [sink], {
    maxConnections: 100_000,
    showLocalhost: opts.showLocalhost ?? true,
    localAddresses: null,
    inspector: opts.dpi === false ? null : new DpiEngine(defaultClassifiers()),
    tickIntervalMs: 1000,
    readers,
  });
  session.open();
  return { sink, session, end: await session.run() };
}

/** Replays a corpus file as `--read FILE --no-tui` does, in-process. */
export async function replay(file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const { sink, session, end } = await runReplay(file, opts);
  if (end.failure !== null) throw end.failure;
  return { events: sink.events, monitor: session.monitor };
}

export interface SnapshotReplay {
  /** Every snapshot the session rendered, in order (what the TUI would have drawn). */
  snaps: Snapshot[];
  sink: MemorySink;
}

/**
 * Replays the corpus capture `name` (a file in test/corpus/pcap) as the TUI does, with a reader keeping
 * every snapshot of its one-second ticks; the replay must end without failure.
 */
export async function replayWithSnapshots(name: string, opts: ReplayOptions = {}): Promise<SnapshotReplay> {
  const snaps: Snapshot[] = [];
  const { sink, end } = await runReplay(path.join(CORPUS, 'pcap', name), opts, [{ render: (s) => snaps.push(s) }]);
  assert.equal(end.failure, null);
  return { snaps, sink };
}
