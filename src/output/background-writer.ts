// BackgroundWriter: encoded chunks queued for an async writev on one descriptor, paced, reused, drained on close.

import * as fs from 'node:fs';

/** fs.writev's shape, replaceable in tests (a slow or failing disk). */
export type WriteFn = (fd: number, buffers: Buffer[], done: (err: NodeJS.ErrnoException | null, written: number) => void) => void;

/** Why writing stopped: a write's error code, or an output that took nothing for `seconds` while closing. */
export type WriteFailure =
  | { kind: 'write'; code: string }
  | { kind: 'stall'; seconds: number; bytes: number };

export interface BackgroundWriterOptions {
  fd: number;
  /** Close the descriptor at the end (false for standard output). */
  ownsFd: boolean;
  /** The owner's chunk size: written buffers of exactly this length are kept as spares. */
  chunkBytes: number;
  /** Called once, when writing stops for good (the queue is already emptied). */
  onFail: (failure: WriteFailure) => void;
  /** Called after each completed write, before the next one starts (the owner's pacing). */
  onWritten?: () => void;
  write?: WriteFn;
  /** How long the output may take nothing before it is given up (default 5 s). */
  stallMs?: number;
}

const fsWritev: WriteFn = (fd, buffers, done) => fs.writev(fd, buffers, null, done);

/**
 * Written chunks kept for reuse. Allocating a fresh megabyte per flush instead counts as external memory,
 * which makes V8 collect garbage more often: about 5 % of a replay's time, measured on the bench capture.
 */
const SPARE_CHUNKS = 4;
/** How long a full pipe may refuse every byte before we give up on it. */
const STALL_MS = 5000;
/** Retry delay when a non-blocking pipe is full. */
const RETRY_MS = 5;
/** Most queued buffers handed to one writev call (IOV_MAX is 1024 on Linux). */
const MAX_BUFFERS_PER_WRITE = 64;

/**
 * The cold half of an output. Owners encode into their own buffers (that hot path stays in the owner, see
 * docs/performance.md on Buffer#write inlining) and hand finished chunks to enqueue(); at most one write is
 * in flight; a full non-blocking pipe is retried; a failure empties the queue and is reported once.
 */
export class BackgroundWriter {
  private bytesOutCount = 0;
  private queued = 0;
  private stopped = false;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly chunkBytes: number;
  private readonly onFail: (failure: WriteFailure) => void;
  private readonly onWritten: (() => void) | null;
  private readonly writeFn: WriteFn;
  private readonly stallMs: number;
  private readonly spare: Buffer[] = [];
  /** Buffers waiting to be written and how much of each, the first one possibly in flight from `offset`. */
  private readonly queue: Buffer[] = [];
  private readonly queueLength: number[] = [];
  private offset = 0;
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastProgressMs = Date.now();
  private idleWaiters: (() => void)[] = [];
  private fdClosed = false;

  constructor(opts: BackgroundWriterOptions) {
    this.fd = opts.fd;
    this.ownsFd = opts.ownsFd;
    this.chunkBytes = opts.chunkBytes;
    this.onFail = opts.onFail;
    this.onWritten = opts.onWritten ?? null;
    this.writeFn = opts.write ?? fsWritev;
    this.stallMs = opts.stallMs ?? STALL_MS;
  }

  /** Bytes the output has taken. */
  get bytesOut(): number {
    return this.bytesOutCount;
  }

  /** Bytes queued and not yet written. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Whether writing stopped (a write failed, or the output stalled while closing). */
  get failed(): boolean {
    return this.stopped;
  }

  /** Buffers queued (the first possibly part written). */
  get queuedChunks(): number {
    return this.queue.length;
  }

  /** A chunk to encode into: a written one kept for reuse, or a new one. */
  takeChunk(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
  }

  /** Queues `data[0, length)` for writing; `data` belongs to the writer until written (or dropped on failure). */
  enqueue(data: Buffer, length: number): void {
    if (this.stopped) return;
    if (this.queued === 0) this.lastProgressMs = Date.now();
    this.queue.push(data);
    this.queueLength.push(length);
    this.queued += length;
    this.pump();
  }

  /** Writes `data[0, length)` at once, synchronously (for a source that can wait); a failure is reported as from a write. */
  writeSync(data: Buffer, length: number): void {
    if (this.stopped) return;
    let done = 0;
    try {
      while (done < length) done += fs.writeSync(this.fd, data, done, length - done);
      this.bytesOutCount += done;
    } catch (err) {
      this.fail({ kind: 'write', code: (err as NodeJS.ErrnoException).code ?? String(err) });
    }
  }

  /**
   * Waits until everything queued is written (or the output took nothing for the stall limit), then closes the
   * descriptor if it is ours. The owner queues its last chunk first.
   */
  async close(): Promise<void> {
    while (this.queued > 0 && !this.stopped) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        // Wake up to check for a stall even if no write completes.
        timer = setTimeout(resolve, Math.min(this.stallMs, 1000));
      });
      clearTimeout(timer);
      if (this.queued > 0 && Date.now() - this.lastProgressMs >= this.stallMs) {
        this.fail({ kind: 'stall', seconds: Math.round(this.stallMs / 1000), bytes: this.queued });
      }
    }
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    // A write still in flight (a reader that stopped reading) holds the descriptor: leave it to the exit.
    if (this.ownsFd && !this.fdClosed && !this.inFlight) {
      this.fdClosed = true;
      try {
        fs.closeSync(this.fd);
      } catch {
        // Closing after a failed write can fail again; the error was already reported once.
      }
    }
  }

  private pump(): void {
    if (this.inFlight || this.retryTimer !== null || this.stopped || this.queue.length === 0) return;
    // Everything queued goes out in one call: a completion is seen only when the packet path yields (a
    // replay yields once per batch), and one chunk per completion let the queue grow through a replay.
    const buffers: Buffer[] = [];
    const count = Math.min(this.queue.length, MAX_BUFFERS_PER_WRITE);
    for (let i = 0; i < count; i++) buffers.push(this.queue[i]!.subarray(i === 0 ? this.offset : 0, this.queueLength[i]));
    this.inFlight = true;
    this.writeFn(this.fd, buffers, (err, n) => {
      this.inFlight = false;
      if (err !== null) {
        if (err.code === 'EAGAIN' && Date.now() - this.lastProgressMs < this.stallMs) {
          // A non-blocking pipe is full: try again shortly, without holding anything up meanwhile.
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.pump();
          }, RETRY_MS);
          return;
        }
        this.fail({ kind: 'write', code: err.code ?? String(err) });
        return;
      }
      this.lastProgressMs = Date.now();
      this.bytesOutCount += n;
      this.queued -= n;
      this.consume(n);
      if (this.onWritten !== null) this.onWritten();
      this.settle();
      this.pump();
    });
  }

  /** Drops `n` written bytes from the front of the queue; whole chunks go back to the spares. */
  private consume(n: number): void {
    let left = n;
    while (left > 0) {
      const head = this.queue[0];
      const length = this.queueLength[0];
      if (head === undefined || length === undefined) return;
      const rest = length - this.offset;
      if (left < rest) {
        this.offset += left;
        return;
      }
      left -= rest;
      this.queue.shift();
      this.queueLength.shift();
      this.offset = 0;
      if (head.length === this.chunkBytes && this.spare.length < SPARE_CHUNKS) this.spare.push(head);
    }
  }

  private fail(failure: WriteFailure): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.length = 0;
    this.queueLength.length = 0;
    this.queued = 0;
    this.onFail(failure);
    this.settle();
  }

  /** Wakes close() once the queue is empty (or writing failed). */
  private settle(): void {
    if (this.idleWaiters.length > 0 && (this.stopped || this.queued === 0)) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of w) resolve();
    }
  }
}
