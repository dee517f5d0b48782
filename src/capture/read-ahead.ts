// ReadAhead: a worker thread reads a regular file into a ring of shared slots while the replay parses the
// slots already filled, so the kernel's copy of the file runs on another core than the packet path.
//
// Slot n of the file (bytes n*slotBytes onwards) lives in ring slot n % slots. Whoever fills the next slot,
// the thread or the replay itself when it finds the thread behind (at start-up, while the thread is still
// being created), first claims it by advancing the shared fill counter; so neither ever waits on the other
// for long, and a thread that never starts only means the replay reads the file itself.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';

/** Ring slot states (one Int32 per slot). */
const FREE = 0;
const FILLED = 1;
const FAILED = 2;
/** Claimed and being read: a slot is claimed before the fill counter moves, so no two fillers share one. */
const FILLING = 3;

/** Control words after the slot states: the next file slot to claim, the stop flag, the errno of a failed read. */
const FILL_SEQ = 0;
const STOP = 1;
const ERRNO = 2;
const CONTROL_WORDS = 3;

/** How long the replay waits for a slot the thread claimed before it calls the file unreadable. */
const STALL_MS = 60_000;

export interface ReadAheadOptions {
  /** Bytes per slot (default 1 MiB: a slot being parsed stays in the core's cache). */
  slotBytes?: number;
  /** Slots in the ring (default 8). */
  slots?: number;
  /** Tests: do not start the thread (the replay then fills every slot itself). */
  noThread?: boolean;
}

/** A slot handed to the parser: bytes [0, length) of `view` are the file's bytes from `fileOffset`. */
export interface Slot {
  readonly index: number;
  readonly view: Buffer;
  readonly length: number;
  readonly fileOffset: number;
}

/** Raised by next() when the file could not be read; `code` is the errno name (EIO, ...). */
export class ReadAheadError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

interface Layout {
  sab: SharedArrayBuffer;
  slots: number;
  slotBytes: number;
  /** Byte offsets in sab of the Float64 (length, file offset) pairs and of the first slot's data. */
  metaAt: number;
  dataAt: number;
}

/**
 * Claims the next file slot if its ring slot is free and reads it; returns 1 when it filled one, 0 when the
 * ring is full (or another filler was quicker), -1 at the end of the file. Shared by the thread and the
 * replay: it uses nothing from outside its body but the constants above (the thread gets their source text).
 */
function fillNext(fs: typeof import('node:fs'), fd: number, layout: Layout): number {
  const { sab, slots, slotBytes, metaAt, dataAt } = layout;
  const state = new Int32Array(sab, 0, slots + CONTROL_WORDS);
  const seq = Atomics.load(state, slots + FILL_SEQ);
  const s = seq % slots;
  // Take the ring slot first (FREE means its previous file slot was parsed and handed back), then the file
  // slot; a filler that read a counter already moved on gives the ring slot back.
  if (Atomics.compareExchange(state, s, FREE, FILLING) !== FREE) return 0;
  if (Atomics.compareExchange(state, slots + FILL_SEQ, seq, seq + 1) !== seq) {
    Atomics.store(state, s, FREE);
    return 0;
  }
  const meta = new Float64Array(sab, metaAt, slots * 2);
  const data = new Uint8Array(sab, dataAt + s * slotBytes, slotBytes);
  const filePos = seq * slotBytes;
  let got = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, data, got, slotBytes - got, filePos + got);
      if (n === 0) break;
      got += n;
      if (got === slotBytes) break;
    }
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    Atomics.store(state, slots + ERRNO, typeof errno === 'number' ? Math.abs(errno) : 5);
    Atomics.store(state, s, FAILED);
    Atomics.notify(state, s);
    return -1;
  }
  meta[s * 2] = got;
  meta[s * 2 + 1] = filePos;
  Atomics.store(state, s, FILLED);
  Atomics.notify(state, s);
  return got < slotBytes ? -1 : 1;
}

/** The thread: fills slots while there is room, polls (1 ms) while the ring is full, ends at the end of the file. */
function readerThread(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { path, fd: replayFd, layout } = workerData as { path: string; fd: number; layout: Layout };
  const state = new Int32Array(layout.sab, 0, layout.slots + CONTROL_WORDS);
  const stopAt = layout.slots + STOP;
  let fd = -1;
  try {
    // The replay's own file, even if the path was renamed or replaced since it was opened (Linux); else the path.
    try {
      fd = fs.openSync(`/proc/self/fd/${replayFd}`, 'r');
    } catch {
      fd = fs.openSync(path, 'r');
    }
    while (Atomics.load(state, stopAt) === 0) {
      const r = fillNext(fs, fd, layout);
      if (r < 0) return;
      // No notify comes from the replay when it frees a slot (waking a sleeping thread costs it ~80 µs here).
      if (r === 0) Atomics.wait(state, stopAt, 0, 1);
    }
  } catch {
    // Could not open: the replay reads the file itself.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

export class ReadAhead {
  private readonly layout: Layout;
  private readonly fd: number;
  private readonly slots: number;
  private readonly state: Int32Array;
  private readonly meta: Float64Array;
  private readonly views: Buffer[] = [];
  /** File slot the parser takes next. */
  private seq = 0;
  private ended = false;
  private closed = false;

  /** `fd` is the replay's own descriptor for `path` (read at explicit offsets, so its position does not matter). */
  constructor(path: string, fd: number, opts: ReadAheadOptions = {}) {
    const slotBytes = opts.slotBytes ?? 1 << 20;
    const slots = opts.slots ?? 8;
    if (!(slots >= 2) || !(slotBytes >= 1)) throw new RangeError('ReadAhead needs at least 2 slots of 1 byte');
    this.fd = fd;
    this.slots = slots;
    // Int32 states and control words, padding to 8 bytes, Float64 (length, file offset) per slot, then data.
    const metaAt = Math.ceil(((slots + CONTROL_WORDS) * 4) / 8) * 8;
    const dataAt = metaAt + slots * 16;
    const sab = new SharedArrayBuffer(dataAt + slots * slotBytes);
    this.layout = { sab, slots, slotBytes, metaAt, dataAt };
    this.state = new Int32Array(sab, 0, slots + CONTROL_WORDS);
    this.meta = new Float64Array(sab, metaAt, slots * 2);
    for (let s = 0; s < slots; s++) this.views.push(Buffer.from(sab, dataAt + s * slotBytes, slotBytes));
    if (opts.noThread !== true) {
      try {
        // The thread runs both functions from their source text, after the constants they use, so the built
        // program and the tests that run the TypeScript sources start the same code.
        const constants = { FREE, FILLED, FAILED, FILLING, FILL_SEQ, STOP, ERRNO, CONTROL_WORDS };
        const source = `const ${Object.entries(constants).map(([k, v]) => `${k} = ${v}`).join(', ')};\n` +
          `${fillNext.toString()}\n(${readerThread.toString()})()`;
        const worker = new Worker(source, { eval: true, workerData: { path, fd, layout: this.layout } });
        // The thread ends by itself at the end of the file or on stop; it never holds the process open.
        worker.unref();
        worker.on('error', () => {});
      } catch {
        // No thread: next() fills every slot itself.
      }
    }
  }

  /**
   * The next slot of the file, filled by the thread or, when the thread has not claimed it yet, read here;
   * null at the end of the file. It stays the caller's until release(). Throws ReadAheadError on a read error.
   */
  next(): Slot | null {
    if (this.ended || this.closed) return null;
    const s = this.seq % this.slots;
    const state = this.state;
    let waitedMs = 0;
    for (;;) {
      const st = Atomics.load(state, s);
      if (st === FILLED) break;
      if (st === FAILED) {
        this.ended = true;
        throw new ReadAheadError(errnoName(Atomics.load(state, this.slots + ERRNO)));
      }
      // Not filled: fill it here unless the thread already claimed it (then it is being read: wait for it).
      if (st === FREE && Atomics.load(state, this.slots + FILL_SEQ) === this.seq) {
        fillNext(fs, this.fd, this.layout);
      } else {
        // A thread that died holding a claim (it reads a local file: seconds at most) must not hang the replay.
        if (waitedMs >= STALL_MS) {
          this.ended = true;
          throw new ReadAheadError('ETIMEDOUT');
        }
        Atomics.wait(state, s, st, 5);
        waitedMs += 5;
      }
    }
    const length = this.meta[s * 2]!;
    const fileOffset = this.meta[s * 2 + 1]!;
    this.seq++;
    // A short slot is the file's last (one that grows while we read is taken as it was).
    if (length < this.layout.slotBytes) this.ended = true;
    if (length === 0) return null;
    return { index: s, view: this.views[s]!, length, fileOffset };
  }

  /** Hands a slot back to be filled again (its bytes may be overwritten from now on). */
  release(slot: Slot): void {
    Atomics.store(this.state, slot.index, FREE);
  }

  /** Stops the thread (within a millisecond); it closes its own descriptor. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.state, this.slots + STOP, 1);
    Atomics.notify(this.state, this.slots + STOP);
  }
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(os.constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}
