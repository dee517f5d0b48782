// npm run bench's script, on a small corpus capture: it must keep running and report what docs/performance.md records.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CORPUS } from './support/corpus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the bench script replays a capture with and without DPI and reports throughput, RSS, DPI cost, the floor and the UI tick', () => {
  const file = path.join(CORPUS, 'pcap', 'ndpi__sites.pcapng');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/bench.mjs')], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_FILE: file, BENCH_RUNS: '2', BENCH_UI_CONNECTIONS: '5000' },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /full pipeline \(DPI on\)\s+[\d,]+ packets\/s\s+[\d.]+ s\s+peak RSS \d+ MB/);
  assert.match(r.stdout, /--no-dpi\s+[\d,]+ packets\/s\s+[\d.]+ s\s+peak RSS \d+ MB/);
  assert.match(r.stdout, /DPI cost: -?[\d.]+ % of throughput/);
  assert.match(r.stdout, /spread: DPI on [\d.]+–[\d.]+ s \(median [\d.]+\), --no-dpi [\d.]+–[\d.]+ s \(median [\d.]+\); DPI cost from the medians -?[\d.]+ %/);
  assert.match(r.stdout, /DPI adds -?[\d.]+ s per replay \(difference of the medians\)/);
  assert.match(r.stdout, /tcpdump -r FILE -w \/dev\/null\s+[\d,]+ packets\/s/);
  assert.match(r.stdout, /699 packets/, 'the capture named and its packet count');
  assert.match(r.stdout, /UI tick with 5,000 connections at 160x45 \(sorted by Down\/Up\): median [\d.]+ ms, max [\d.]+ ms over \d+ ticks/);
});
