// JsonEventLog: connection events as JSON lines to a file or stdout, written in the background, drained on close.

import * as fs from 'node:fs';
import { RustnetError } from '../core/errors.js';
import type { ConnectionEvent, EventSink } from '../core/event-sink.js';

/** Events are encoded straight into chunks of this size; a full chunk (or a flush) is queued for writing. */
const CHUNK_BYTES = 1 << 20;
/**
 * Written chunks kept for reuse. Allocating a fresh megabyte per tick instead counts as external memory,
 * which makes V8 collect garbage more often: about 5 % of a replay's time, measured on the bench capture.
 */
const SPARE_CHUNKS = 4;
/** Above this much queued, the log reports itself backlogged (a replay then waits for it). */
const HIGH_WATER_BYTES = 8 << 20;
/** Live capture cannot wait: past this much queued the writer is taken as stuck and new events are dropped. */
const MAX_QUEUED_BYTES = 64 << 20;
/** How long a full pipe may refuse every byte before we give up on it. */
const STALL_MS = 5000;
/** Retry delay when a non-blocking pipe is full. */
const RETRY_MS = 5;

/** fs.write's shape, replaceable in tests (a slow or failing disk). */
export type WriteFn = (fd: number, buffers: Buffer[], done: (err: NodeJS.ErrnoException | null, written: number) => void) => void;

const fsWrite: WriteFn = (fd, buffers, done) => fs.writev(fd, buffers, null, done);

/** Most queued buffers handed to one writev call (IOV_MAX is 1024 on Linux). */
const MAX_BUFFERS_PER_WRITE = 64;

export interface JsonEventLogOptions {
  write?: WriteFn;
  /** Override the stall limit (tests). */
  stallMs?: number;
}

export class JsonEventLog implements EventSink {
  /** Events accepted since open. */
  written = 0;
  /** Events dropped because the writer was stuck with MAX_QUEUED_BYTES queued. */
  dropped = 0;
  /** Bytes the output has taken. */
  bytesOut = 0;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly onError: (message: string) => void;
  private readonly writeFn: WriteFn;
  private readonly stallMs: number;
  /**
   * Events are encoded here, up to `used`, and copied out to a spare chunk when it is queued. It stays the
   * same buffer for the log's life: swapping it instead cost the encoding about 40 ms over a bench replay
   * (optimised code no longer knows the buffer, and Buffer#write is not inlined into write()).
   */
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly spare: Buffer[] = [];
  /** Buffers waiting to be written and how much of each, the first one possibly in flight from `offset`. */
  private readonly queue: Buffer[] = [];
  private readonly queueLength: number[] = [];
  private offset = 0;
  private queuedBytes = 0;
  private inFlight = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastProgressMs = Date.now();
  private failed = false;
  private fdClosed = false;
  private closing: Promise<void> | null = null;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  private constructor(fd: number, ownsFd: boolean, onError: (message: string) => void, opts: JsonEventLogOptions) {
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.onError = onError;
    this.writeFn = opts.write ?? fsWrite;
    this.stallMs = opts.stallMs ?? STALL_MS;
  }

  /** `-` means standard output. Throws RustnetError OUTPUT when the file cannot be opened. */
  static open(path: string, onError: (message: string) => void, opts: JsonEventLogOptions = {}): JsonEventLog {
    if (path === '-') return new JsonEventLog(1, false, onError, opts);
    try {
      return new JsonEventLog(fs.openSync(path, 'a', 0o640), true, onError, opts);
    } catch (err) {
      throw new RustnetError('OUTPUT', `cannot open JSON log ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  get backlogged(): boolean {
    return this.queuedBytes + this.used > HIGH_WATER_BYTES && !this.failed;
  }

  write(event: ConnectionEvent): void {
    if (this.failed || this.closing !== null) return;
    if (this.queuedBytes > MAX_QUEUED_BYTES) {
      if (this.dropped++ === 0) {
        this.onError(`JSON log output is not keeping up (${MAX_QUEUED_BYTES >> 20} MiB queued); events are dropped until it does`);
      }
      return;
    }
    const line = JSON.stringify(event);
    this.written++;
    // UTF-8 needs at most three bytes per UTF-16 unit; make room first (a huge line gets its own chunk).
    const worst = line.length * 3 + 1;
    if (this.used + worst > CHUNK_BYTES) this.queueChunk();
    if (worst > CHUNK_BYTES) {
      const own = Buffer.from(line + '\n');
      this.enqueue(own, own.length);
      return;
    }
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = 0x0a;
  }

  flush(): void {
    this.queueChunk();
  }

  whenWritable(): Promise<void> {
    if (!this.backlogged) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  private async drainAndClose(): Promise<void> {
    this.queueChunk();
    while (this.queuedBytes > 0 && !this.failed) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        // Wake up to check for a stall even if no write completes.
        timer = setTimeout(resolve, Math.min(this.stallMs, 1000));
      });
      clearTimeout(timer);
      if (this.queuedBytes > 0 && Date.now() - this.lastProgressMs >= this.stallMs) {
        this.fail(`JSON log output stopped taking data for ${Math.round(this.stallMs / 1000)} s; ${this.queuedBytes} bytes of events were not written`);
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

  /** Copies what was encoded into a spare chunk (or a new one) and queues that for writing. */
  private queueChunk(): void {
    if (this.used === 0 || this.failed) return;
    const length = this.used;
    const out = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.chunk.copy(out, 0, 0, length);
    this.used = 0;
    this.enqueue(out, length);
  }

  private enqueue(data: Buffer, length: number): void {
    if (this.failed) return;
    if (this.queuedBytes === 0) this.lastProgressMs = Date.now();
    this.queue.push(data);
    this.queueLength.push(length);
    this.queuedBytes += length;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || this.retryTimer !== null || this.failed) return;
    if (this.queue.length === 0) return;
    // Everything queued goes out in one call: a completion is seen only when the packet path yields (a
    // replay yields once per batch), and one chunk per completion let the queue grow through a replay.
    const buffers: Buffer[] = [];
    const count = Math.min(this.queue.length, MAX_BUFFERS_PER_WRITE);
    for (let i = 0; i < count; i++) {
      buffers.push(this.queue[i]!.subarray(i === 0 ? this.offset : 0, this.queueLength[i]));
    }
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
        this.fail(`JSON log write failed (${err.code ?? String(err)}); further events are not written`);
        return;
      }
      this.lastProgressMs = Date.now();
      this.bytesOut += n;
      this.queuedBytes -= n;
      this.consume(n);
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
      if (head.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(head);
    }
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.queue.length = 0;
    this.queueLength.length = 0;
    this.queuedBytes = 0;
    this.onError(message);
    this.settle();
  }

  /** Wakes whoever waits for room (below half the mark) or for the queue to empty. */
  private settle(): void {
    if (this.waiters.length > 0 && (this.failed || this.queuedBytes + this.used <= HIGH_WATER_BYTES / 2)) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
    if (this.idleWaiters.length > 0 && (this.failed || this.queuedBytes === 0)) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of w) resolve();
    }
  }
}
