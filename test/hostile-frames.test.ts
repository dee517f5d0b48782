// Hostile input end to end: mutated real frames through decode, tracking and every DPI classifier.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CaptureFileReader } from '../src/capture/capture-file.js';
import { DpiEngine } from '../src/dpi/engine.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { CORPUS, manifest } from './support/corpus.js';
import { prng } from './support/prng.js';
import { runManual } from './support/session.js';

test('mutated corpus frames never make our code throw (no internal_error), and every event pairs up', async () => {
  const rand = prng(20261127);
  const engine = new DpiEngine(defaultClassifiers());
  const { session, source, sink, done } = runManual({ maxConnections: 5000, inspector: engine });
  let fed = 0;
  for (const m of manifest()) {
    const reader = CaptureFileReader.open(path.join(CORPUS, m.file!));
    const frames: { bytes: Buffer; linkType: number; ts: number }[] = [];
    try {
      reader.read((buf, off, cap, _wire, linkType, ts) => {
        frames.push({ bytes: Buffer.from(buf.subarray(off, off + cap)), linkType, ts });
      }, 1000);
    } finally {
      reader.close();
    }
    for (const f of frames) {
      // Each frame three ways: a few flipped bytes, cut short, and overwritten with noise past the headers.
      for (let variant = 0; variant < 3; variant++) {
        const b = Buffer.from(f.bytes);
        let len = b.length;
        if (variant === 0) {
          for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        } else if (variant === 1) {
          len = Math.floor(rand() * b.length);
        } else {
          for (let i = Math.min(b.length, 40 + Math.floor(rand() * 40)); i < b.length; i++) b[i] = Math.floor(rand() * 256);
        }
        source.feedRaw(b, 0, len, f.bytes.length, f.linkType, f.ts);
        fed++;
      }
    }
  }
  source.end();
  assert.equal((await done).failure, null);
  const c = session.monitor.counters();
  assert.equal(c.framesSeen, fed);
  assert.ok(fed > 10_000, `only ${fed} frames fed`);
  assert.equal(c.skipped.internal_error, undefined, 'no frame made decoding or tracking throw');
  assert.equal(engine.classifierErrors, 0, 'no classifier threw');
  const opened = sink.events.filter((e) => e.event === 'new_connection').length;
  assert.equal(sink.events.length, opened * 2, 'each new_connection has its connection_closed');
});
