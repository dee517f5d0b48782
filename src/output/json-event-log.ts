// JsonEventLog: connection events as JSON lines to a file or stdout, written in the background, drained on close.

import * as fs from 'node:fs';
import { RustnetError } from '../core/errors.js';
import type { ConnectionEvent, EventSink } from '../core/event-sink.js';
import { BackgroundWriter, type WriteFailure, type WriteFn } from './background-writer.js';

/** Events are encoded straight into chunks of this size; a full chunk (or a flush) is queued for writing. */
const CHUNK_BYTES = 1 << 20;
/** Above this much queued, the log reports itself backlogged (a replay then waits for it). */
const HIGH_WATER_BYTES = 8 << 20;
/** Live capture cannot wait: past this much queued the writer is taken as stuck and new events are dropped. */
const MAX_QUEUED_BYTES = 64 << 20;

export type { WriteFn };

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
  private readonly onError: (message: string) => void;
  /** Queued chunks, written in the background; the encoding below stays here, on the hot path. */
  private readonly writer: BackgroundWriter;
  /**
   * Events are encoded here, up to `used`, and copied out to a spare chunk when it is queued. It stays the
   * same buffer for the log's life: swapping it instead cost the encoding about 40 ms over a bench replay
   * (optimised code no longer knows the buffer, and Buffer#write is not inlined into write()).
   */
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private closing: Promise<void> | null = null;
  private waiters: (() => void)[] = [];

  private constructor(fd: number, ownsFd: boolean, onError: (message: string) => void, opts: JsonEventLogOptions) {
    this.onError = onError;
    this.writer = new BackgroundWriter({
      fd, ownsFd, chunkBytes: CHUNK_BYTES, write: opts.write, stallMs: opts.stallMs,
      onFail: (failure) => {
        this.onError(describe(failure));
        this.settle();
      },
      onWritten: () => this.settle(),
    });
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

  /** Bytes the output has taken. */
  get bytesOut(): number {
    return this.writer.bytesOut;
  }

  get backlogged(): boolean {
    return this.writer.queuedBytes + this.used > HIGH_WATER_BYTES && !this.writer.failed;
  }

  write(event: ConnectionEvent): void {
    if (this.writer.failed || this.closing !== null) return;
    if (this.writer.queuedBytes > MAX_QUEUED_BYTES) {
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
      this.writer.enqueue(own, own.length);
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
    await this.writer.close();
  }

  /** Copies what was encoded into a spare chunk (or a new one) and queues that for writing. */
  private queueChunk(): void {
    if (this.used === 0 || this.writer.failed) return;
    const length = this.used;
    const out = this.writer.takeChunk();
    this.chunk.copy(out, 0, 0, length);
    this.used = 0;
    this.writer.enqueue(out, length);
  }

  /** Wakes whoever waits for room (below half the mark). */
  private settle(): void {
    if (this.waiters.length > 0 && (this.writer.failed || this.writer.queuedBytes + this.used <= HIGH_WATER_BYTES / 2)) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }
}

function describe(failure: WriteFailure): string {
  return failure.kind === 'write'
    ? `JSON log write failed (${failure.code}); further events are not written`
    : `JSON log output stopped taking data for ${failure.seconds} s; ${failure.bytes} bytes of events were not written`;
}
