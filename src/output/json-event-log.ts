// JsonEventLog: connection events as JSON lines to a file or stdout, flushed each tick and on exit.

import * as fs from 'node:fs';
import { RustnetError } from '../core/errors.js';
import type { ConnectionEvent, EventSink } from '../core/event-sink.js';

/** Output buffer: events are encoded straight into it and written when it fills or on flush(). */
const BUFFER_BYTES = 1 << 20;
/** How long a full pipe may hold us up per flush before we give up on it. */
const MAX_BLOCKED_MS = 5000;

export class JsonEventLog implements EventSink {
  /** Events written since open. */
  written = 0;
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly out = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private failed = false;
  private readonly onError: (message: string) => void;

  private constructor(fd: number, ownsFd: boolean, onError: (message: string) => void) {
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.onError = onError;
  }

  /** `-` means standard output. Throws RustnetError OUTPUT when the file cannot be opened. */
  static open(path: string, onError: (message: string) => void): JsonEventLog {
    if (path === '-') return new JsonEventLog(1, false, onError);
    try {
      return new JsonEventLog(fs.openSync(path, 'a', 0o640), true, onError);
    } catch (err) {
      throw new RustnetError('OUTPUT', `cannot open JSON log ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  write(event: ConnectionEvent): void {
    if (this.failed) return;
    const line = JSON.stringify(event);
    this.written++;
    // UTF-8 needs at most three bytes per UTF-16 unit; make room first (a huge line gets its own write).
    const worst = line.length * 3 + 1;
    if (this.used + worst > BUFFER_BYTES) this.flush();
    if (worst > BUFFER_BYTES) {
      this.writeAll(Buffer.from(line + '\n'));
      return;
    }
    this.used += this.out.write(line, this.used);
    this.out[this.used++] = 0x0a;
  }

  flush(): void {
    if (this.used === 0 || this.failed) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.out.subarray(0, n));
  }

  private writeAll(data: Buffer): void {
    if (this.failed) return;
    let off = 0;
    let blockedMs = 0;
    while (off < data.length) {
      try {
        off += fs.writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && blockedMs < MAX_BLOCKED_MS) {
          // Non-blocking stdout pipe is full: wait for the reader briefly.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          blockedMs += 5;
          continue;
        }
        this.failed = true;
        this.onError(`JSON log write failed (${code ?? String(err)}); further events are not written`);
        return;
      }
    }
  }

  close(): void {
    this.flush();
    if (this.ownsFd) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Closing after a failed write can fail again; the error was already reported once.
      }
    }
  }
}
