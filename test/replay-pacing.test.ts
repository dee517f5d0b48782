// Replay at the capture's own pace (the UI's --read): frames arrive when their time is due, and a session that
// holds at the end keeps its final state until it is stopped.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ReplaySource } from '../src/capture/replay-source.js';
import { Session } from '../src/pipeline/session.js';
import type { Snapshot } from '../src/core/snapshot.js';
import { CORPUS } from './support/corpus.js';
import { ManualScheduler, MemorySink } from './support/session.js';

const FILE = path.join(CORPUS, 'pcap', 'ndpi__443-curl.pcap');

interface Seen { ts: number; atMs: number; bytes: string }

/** Every frame of FILE as the fast replay delivers it. */
async function fastFrames(): Promise<Seen[]> {
  const src = new ReplaySource(FILE, '');
  src.open();
  const seen: Seen[] = [];
  await src.run((buf, off, len, _wire, _lt, ts) => seen.push({ ts, atMs: 0, bytes: buf.subarray(off, off + len).toString('hex') }), async () => {});
  src.close();
  return seen;
}

/** A fake wall clock that moves only when the source sleeps. */
function fakeTime(): { wallMs: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let now = 1000;
  const slept: number[] = [];
  return {
    wallMs: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    slept,
  };
}

for (const speed of [1, 4]) {
  test(`paced replay at ${speed}x delivers every frame, in order, when its capture time is due`, async () => {
    const expected = await fastFrames();
    const time = fakeTime();
    const src = new ReplaySource(FILE, '', { speed, wallMs: time.wallMs, sleep: time.sleep });
    assert.equal(src.packetClock, false, 'a paced replay is clocked by clock(), not by packet time');
    src.open();
    const seen: Seen[] = [];
    await src.run((buf, off, len, _wire, _lt, ts) => seen.push({ ts, atMs: time.wallMs(), bytes: buf.subarray(off, off + len).toString('hex') }), async () => {});
    assert.equal(seen.length, expected.length);
    assert.deepEqual(seen.map((s) => s.bytes), expected.map((s) => s.bytes), 'the same bytes, in the same order');
    const first = seen[0]!;
    for (const s of seen) {
      const dueMs = first.atMs + (s.ts - first.ts) / 1000 / speed;
      assert.ok(s.atMs >= dueMs - 0.001, `frame at ${s.ts} delivered ${dueMs - s.atMs} ms early`);
      assert.ok(s.atMs <= dueMs + 0.001, `frame at ${s.ts} delivered ${s.atMs - dueMs} ms late`);
    }
    const spanMs = (seen.at(-1)!.ts - first.ts) / 1000 / speed;
    const sleptMs = time.slept.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sleptMs - spanMs) < 0.01, `slept ${sleptMs} ms for a ${spanMs} ms replay`);
    assert.ok(time.slept.every((ms) => ms <= 100), 'sleeps are short, so a stop is honoured promptly');
    const p = src.progress();
    assert.equal(p.ended, true);
    assert.equal(p.fraction, 1);
    assert.equal(src.clock(), seen.at(-1)!.ts, 'after the end the clock holds at the last frame');
    src.close();
  });
}

test('paced replay: stop() during a long wait ends the run within one short sleep', async () => {
  const time = fakeTime();
  let src: ReplaySource | null = null;
  let delivered = 0;
  src = new ReplaySource(FILE, '', {
    speed: 0.01, // a hundred times slower: the second frame is due seconds later
    wallMs: time.wallMs,
    sleep: (ms) => {
      if (time.slept.length === 3) src!.stop();
      return time.sleep(ms);
    },
  });
  src.open();
  await src.run(() => { delivered++; }, async () => {});
  assert.equal(delivered, 1);
  assert.equal(time.slept.length, 4);
  assert.equal(src.progress().ended, false, 'stopped, not ended');
  src.close();
});

test('paced replay: a quiet stretch longer than 5 s is cut to 5 s, and the capture clock jumps across it', async () => {
  const expected = await fastFrames();
  const time = fakeTime();
  // A millionth of the speed turns every gap between frames into minutes or more.
  const src = new ReplaySource(FILE, '', { speed: 0.000001, wallMs: time.wallMs, sleep: time.sleep });
  src.open();
  const seen: Seen[] = [];
  await src.run((buf, off, len, _wire, _lt, ts) => seen.push({ ts, atMs: time.wallMs(), bytes: '' }), async () => {});
  assert.deepEqual(seen.map((s) => s.ts), expected.map((s) => s.ts));
  // At this speed a gap of more than 5 µs of capture time would take over 5 s.
  const gaps = expected.slice(1).filter((f, i) => f.ts - expected[i]!.ts > 5).length;
  assert.ok(gaps > 50);
  for (let i = 1; i < seen.length; i++) {
    const waited = seen[i]!.atMs - seen[i - 1]!.atMs;
    assert.ok(waited <= 5000 + 0.001, `waited ${waited} ms between two frames`);
  }
  assert.equal(src.progress().gapsShortened, gaps, 'every gap over 5 s at this speed was shortened, and no other');
  assert.equal(src.clock(), expected.at(-1)!.ts);
  src.close();
});

test('a session that holds at the end shows the final state until stop(), then closes as end of file', async () => {
  const sink = new MemorySink();
  const snapshots: Snapshot[] = [];
  const session = new Session(new ReplaySource(FILE, ''), () => [sink], {
    maxConnections: 1000, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000,
    scheduler: new ManualScheduler(), readers: [{ render: (s) => snapshots.push(s) }], holdAtEnd: true,
  });
  session.open();
  let settled = false;
  const done = session.run().then((end) => { settled = true; return end; });
  for (let i = 0; i < 20 && snapshots.length === 0; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'the run holds after the input ended');
  const last = snapshots.at(-1)!;
  assert.ok(last.connections.length > 0, 'the final state still lists the open connections');
  assert.equal(last.capture.framesSeen, 109, 'every frame of the file is in the held state');
  assert.equal(sink.events.filter((e) => e.event === 'connection_closed').length, 0);
  session.stop();
  const end = await done;
  assert.equal(end.reason, 'end_of_file');
  assert.equal(sink.events.filter((e) => e.event === 'connection_closed').length, last.connections.length);
  const final = snapshots.at(-1)!;
  assert.equal(final.connections.length, 0);
  const held = new Set(last.connections.map((r) => r.id));
  const closedNow = final.recentlyClosed.filter((r) => held.has(r.id));
  assert.equal(closedNow.length, held.size);
  for (const r of closedNow) assert.equal(r.closeReason, 'end_of_file');
});
