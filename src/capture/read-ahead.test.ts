// Tests for ReadAhead: the bytes come back whole and in order whoever fills the slots, ends are exact, errors surface.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReadAhead, ReadAheadError, type ReadAheadOptions } from './read-ahead.js';
import { prng } from '../../test/support/prng.js';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-read-ahead-'));
after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

function randomFile(name: string, size: number, seed: number): { file: string; data: Buffer } {
  const rnd = prng(seed);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = Math.floor(rnd() * 256);
  const file = path.join(tmpDir, name);
  fs.writeFileSync(file, data);
  return { file, data };
}

/** Every slot to the end, copied out (a slot's bytes are overwritten once released), with the offsets seen. */
function readThrough(file: string, opts: ReadAheadOptions): { bytes: Buffer; offsets: number[]; slots: number } {
  const fd = fs.openSync(file, 'r');
  const ra = new ReadAhead(file, fd, opts);
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  try {
    for (let slot = ra.next(); slot !== null; slot = ra.next()) {
      assert.ok(slot.length > 0 && slot.length <= slot.view.length);
      offsets.push(slot.fileOffset);
      parts.push(Buffer.from(slot.view.subarray(0, slot.length)));
      ra.release(slot);
    }
    assert.equal(ra.next(), null, 'the end stays the end');
  } finally {
    ra.close();
    fs.closeSync(fd);
  }
  return { bytes: Buffer.concat(parts), offsets, slots: parts.length };
}

test('slots come back whole and in order, with and without the thread, at any slot size', () => {
  const { file, data } = randomFile('random.bin', 200_003, 7);
  for (const opts of [
    { slotBytes: 1 << 20 }, { slotBytes: 4096, slots: 2 }, { slotBytes: 1000, slots: 5 }, { slotBytes: 17, slots: 3 },
    { slotBytes: 4096, noThread: true }, { slotBytes: 1, slots: 2, noThread: true },
  ]) {
    const got = readThrough(file, opts);
    assert.ok(got.bytes.equals(data), JSON.stringify(opts));
    assert.deepEqual(got.offsets, got.offsets.map((_, i) => i * opts.slotBytes), 'each slot says where it lies');
  }
});

test('a file that ends on a slot boundary, and an empty one, end cleanly', () => {
  const { file, data } = randomFile('exact.bin', 4 * 512, 11);
  for (const noThread of [false, true]) {
    const got = readThrough(file, { slotBytes: 512, slots: 3, noThread });
    assert.ok(got.bytes.equals(data));
    assert.equal(got.slots, 4);
  }
  const empty = path.join(tmpDir, 'empty.bin');
  fs.writeFileSync(empty, '');
  assert.equal(readThrough(empty, { slotBytes: 64 }).slots, 0);
});

test('the thread and the reader racing for tiny slots never hand out a slot twice or out of order', () => {
  // Two slots of 64 bytes over 2 MB: some 30,000 hand-overs a round, filled by whichever side is quicker.
  const { file, data } = randomFile('race.bin', 2_000_000, 23);
  for (let round = 0; round < 4; round++) {
    const got = readThrough(file, { slotBytes: 64, slots: 2 });
    assert.ok(got.bytes.equals(data), `round ${round}`);
  }
});

test('a read error surfaces as ReadAheadError with its errno name', () => {
  // A directory opens read-only on Linux, and reading it fails with EISDIR: the same path as an I/O error.
  const fd = fs.openSync(tmpDir, 'r');
  for (const noThread of [true, false]) {
    const ra = new ReadAhead(tmpDir, fd, { slotBytes: 64, noThread });
    assert.throws(() => ra.next(), (e: unknown) => e instanceof ReadAheadError && e.code === 'EISDIR');
    assert.equal(ra.next(), null, 'after a failure there is nothing more');
    ra.close();
  }
  fs.closeSync(fd);
});

test('closing half-way stops handing out slots and can be repeated', () => {
  const { file } = randomFile('half.bin', 100_000, 5);
  const fd = fs.openSync(file, 'r');
  const ra = new ReadAhead(file, fd, { slotBytes: 1000, slots: 2 });
  const first = ra.next();
  assert.ok(first !== null);
  ra.release(first);
  ra.close();
  ra.close();
  assert.equal(ra.next(), null);
  fs.closeSync(fd);
});

test('the thread reads the file the replay opened, even when its path now names another', () => {
  const { file, data } = randomFile('renamed.bin', 3_000_000, 31);
  const fd = fs.openSync(file, 'r');
  const ra = new ReadAhead(file, fd, { slotBytes: 4096, slots: 4 });
  // Replace the path at once, before the thread (still starting) opens anything.
  fs.renameSync(file, `${file}.old`);
  fs.writeFileSync(file, Buffer.alloc(data.length, 0xee));
  // Give the thread time to start and fill the ring before this side takes (and might fill) any slot.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  const parts: Buffer[] = [];
  try {
    for (let slot = ra.next(); slot !== null; slot = ra.next()) {
      parts.push(Buffer.from(slot.view.subarray(0, slot.length)));
      ra.release(slot);
    }
  } finally {
    ra.close();
    fs.closeSync(fd);
  }
  assert.ok(Buffer.concat(parts).equals(data));
});
