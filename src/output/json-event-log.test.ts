// JsonEventLog: writes never hold up the caller, slow and failing outputs, draining on close, closing once.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { ConnectionEvent } from '../core/event-sink.js';
import { JsonEventLog, type WriteFn } from './json-event-log.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-jsonlog-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function event(i: number): ConnectionEvent {
  return {
    timestamp: '2026-01-01T00:00:00.000Z', event: 'new_connection', protocol: 'TCP',
    source_ip: '10.77.1.10', source_port: 40_000 + (i % 20_000), destination_ip: '198.18.0.1', destination_port: 443,
    service_name: 'https', dpi_protocol: 'HTTPS', dpi_domain: `host-${i}.example.com`,
  };
}

/** A pretend disk: keeps what is written, answers after `delayMs`, can be told to fail or to say EAGAIN. */
class FakeOutput {
  readonly chunks: Buffer[] = [];
  calls = 0;
  delayMs = 0;
  failWith: string | null = null;
  eagainLeft = 0;
  /** Never answer (a reader that stopped reading a blocking pipe). */
  hang = false;
  /** Most bytes taken per call (a pipe takes 64 KiB). */
  maxPerCall = 65536;
  readonly write: WriteFn = (_fd, buffers, done) => {
    this.calls++;
    if (this.hang) return;
    const answer = (): void => {
      if (this.failWith !== null) return done(Object.assign(new Error(this.failWith), { code: this.failWith }), 0);
      if (this.eagainLeft > 0) {
        this.eagainLeft--;
        return done(Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' }), 0);
      }
      // Take at most 64 KiB per call, as a pipe does.
      const data = Buffer.concat(buffers);
      const n = Math.min(data.length, this.maxPerCall);
      this.chunks.push(Buffer.from(data.subarray(0, n)));
      done(null, n);
    };
    if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else setImmediate(answer);
  };
  lines(): string[] {
    return Buffer.concat(this.chunks).toString('utf8').split('\n').filter((l) => l !== '');
  }
}

function openFake(out: FakeOutput, errors: string[], stallMs?: number): JsonEventLog {
  return JsonEventLog.open(path.join(tmp, `fake-${Math.random()}.jsonl`), (m) => errors.push(m), { write: out.write, stallMs });
}

test('a slow output never holds up a tick: writes and flushes return at once, close drains every event in order', async () => {
  const out = new FakeOutput();
  out.delayMs = 100;
  out.maxPerCall = Infinity;
  const errors: string[] = [];
  const log = openFake(out, errors);
  let worstTickMs = 0;
  const total = 60_000;
  for (let tick = 0; tick < 30; tick++) {
    const t0 = performance.now();
    for (let i = tick * 2000; i < (tick + 1) * 2000; i++) log.write(event(i));
    log.flush();
    worstTickMs = Math.max(worstTickMs, performance.now() - t0);
  }
  // 2,000 events are encoded in a few milliseconds; no tick waits for a 100 ms write.
  assert.ok(worstTickMs < 50, `a tick of 2,000 events took ${worstTickMs.toFixed(1)} ms`);
  assert.ok(out.chunks.length < 5, 'the writes are still under way when the ticks are done');
  await log.close();
  const lines = out.lines();
  assert.equal(lines.length, total);
  lines.forEach((l, i) => assert.equal((JSON.parse(l) as ConnectionEvent).dpi_domain, `host-${i}.example.com`));
  assert.deepEqual(errors, []);
});

test('backlog: above the mark the log says so, and whenWritable() settles once the output caught up', async () => {
  const out = new FakeOutput();
  out.delayMs = 1;
  const log = openFake(out, []);
  let i = 0;
  while (!log.backlogged) log.write(event(i++));
  assert.ok(i > 10_000, `backlogged after ${i} events`);
  let settled = false;
  const writable = log.whenWritable().then(() => { settled = true; });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(settled, false);
  await writable;
  assert.equal(log.backlogged, false);
  await log.close();
  assert.equal(out.lines().length, i);
});

test('a full non-blocking pipe (EAGAIN) is retried without loss or report', async () => {
  const out = new FakeOutput();
  out.eagainLeft = 5;
  const errors: string[] = [];
  const log = openFake(out, errors);
  for (let i = 0; i < 100; i++) log.write(event(i));
  log.flush();
  await log.close();
  assert.equal(out.lines().length, 100);
  assert.deepEqual(errors, []);
});

test('a failing output is reported once; later events are dropped quietly and close still resolves', async () => {
  const out = new FakeOutput();
  out.failWith = 'ENOSPC';
  const errors: string[] = [];
  const log = openFake(out, errors);
  for (let tick = 0; tick < 5; tick++) {
    for (let i = 0; i < 100; i++) log.write(event(i));
    log.flush();
    await new Promise((r) => setImmediate(r));
  }
  await log.close();
  assert.deepEqual(errors, ['JSON log write failed (ENOSPC); further events are not written']);
  assert.equal(out.calls, 1);
});

test('an output that stops taking data: close gives up after the stall limit with one report', async () => {
  const out = new FakeOutput();
  out.hang = true;
  const errors: string[] = [];
  const log = openFake(out, errors, 200);
  for (let i = 0; i < 100; i++) log.write(event(i));
  const t0 = performance.now();
  await log.close();
  const waited = performance.now() - t0;
  assert.ok(waited >= 150 && waited < 2000, `gave up after ${waited.toFixed(0)} ms`);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /stopped taking data/);
});

test('close twice closes the file once: a descriptor reused in between stays open', async () => {
  const file = path.join(tmp, 'twice.jsonl');
  const log = JsonEventLog.open(file, () => {});
  log.write(event(1));
  const first = log.close();
  await first;
  const reused = fs.openSync(path.join(tmp, 'other.txt'), 'w');
  try {
    assert.equal(log.close(), first, 'the same promise');
    await log.close();
    fs.writeSync(reused, 'still open\n');
  } finally {
    fs.closeSync(reused);
  }
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 1);
  log.write(event(2)); // after close: ignored, never thrown
});

test('a real FIFO whose reader is late: the writer does not block, and everything arrives once the reader reads', async () => {
  const fifo = path.join(tmp, 'events.fifo');
  execFileSync('mkfifo', [fifo]);
  // Open the reading end first (non-blocking, so this does not wait for a writer), then the log.
  const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const log = JsonEventLog.open(fifo, () => {});
  const total = 20_000; // about 4 MB, far more than the pipe holds
  const t0 = performance.now();
  for (let i = 0; i < total; i++) log.write(event(i));
  log.flush();
  const spent = performance.now() - t0;
  assert.ok(spent < 200, `queueing took ${spent.toFixed(0)} ms`);
  const closed = log.close();
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  let done = false;
  void closed.then(() => { done = true; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(reader, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    if (n > 0) parts.push(Buffer.from(buf.subarray(0, n)));
    else if (done) break;
    else await new Promise((r) => setTimeout(r, 2));
    assert.ok(Date.now() < deadline, 'drained within 10 s');
  }
  fs.closeSync(reader);
  const lines = Buffer.concat(parts).toString('utf8').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, total);
  assert.equal((JSON.parse(lines.at(-1)!) as ConnectionEvent).dpi_domain, `host-${total - 1}.example.com`);
});
