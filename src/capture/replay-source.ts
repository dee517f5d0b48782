// ReplaySource: a pcap or pcapng file (optionally through a BPF filter) as a PacketSource, as fast as outputs
// take it, or paced at the capture's own speed (times N) for a screen.

import * as fs from 'node:fs';
import type { FrameSink, PacketSource } from '../core/packet-source.js';
import type { SourceInfo } from '../core/snapshot.js';
import { CaptureFileReader } from './capture-file.js';
import { filterCaptureFile, type FilteredFile } from './filtered-file.js';

/** Frames replayed between yields to the event loop (so signals and output writes get their turn). */
const REPLAY_BATCH = 65536;
/** Paced replay: frames read at once while the capture is behind its schedule. */
const PACED_BATCH = 256;
/** Paced replay: the longest single sleep, so stop() is honoured promptly during long gaps in a capture. */
const MAX_SLEEP_MS = 100;
/**
 * Paced replay: the longest quiet stretch waited out in full (wall time). Captures can hold gaps of hours
 * or years between frames; such a gap is shortened to this, and the capture's clock jumps across it (so
 * connections still time out as they would have).
 */
const MAX_GAP_MS = 5000;

export interface ReplayOptions {
  /**
   * 0 (default): as fast as outputs take it, and packet time drives the session's clock.
   * N > 0: N times the capture's own pace; the session's clock is then `clock()`, the capture time now due.
   */
  speed?: number;
  /** Wall clock in milliseconds (tests inject one). */
  wallMs?: () => number;
  /** Waits `ms` (tests inject one). */
  sleep?: (ms: number) => Promise<void>;
}

/** How far a replay has come. */
export interface ReplayProgress {
  /** Share of the file read, 0..1. */
  readonly fraction: number;
  readonly framesRead: number;
  /** Paced replays: capture time of the first frame and of the latest one delivered (microseconds; NaN before any). */
  readonly firstMicros: number;
  readonly latestMicros: number;
  readonly ended: boolean;
  /** Paced replays: quiet stretches longer than 5 s of wall time that were cut short. */
  readonly gapsShortened: number;
}

export class ReplaySource implements PacketSource {
  readonly packetClock: boolean;
  private readonly file: string;
  private readonly filter: string;
  private readonly speed: number;
  private readonly wallMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private reader: CaptureFileReader | null = null;
  private filtered: FilteredFile | null = null;
  private fileBytes = 0;
  private stopped = false;
  private ended = false;
  private framesRead = 0;
  private gapsShortened = 0;
  private bytesRead = 0;
  private firstMicros = NaN;
  private latestMicros = NaN;
  /** Paced: wall time (ms) at which the first frame was due. */
  private startWallMs = NaN;
  /** Paced: the frame read but not yet due (copied, since the reader's buffer is borrowed). */
  private held: { buf: Buffer; wireLength: number; linkType: number; tsMicros: number } | null = null;

  constructor(file: string, filter: string, opts: ReplayOptions = {}) {
    this.file = file;
    this.filter = filter;
    this.speed = opts.speed ?? 0;
    this.packetClock = this.speed === 0;
    this.wallMs = opts.wallMs ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  open(): SourceInfo {
    let path = this.file;
    if (this.filter !== '') {
      this.filtered = filterCaptureFile(this.file, this.filter);
      path = this.filtered.path;
    }
    try {
      // A fast replay of a large file reads it on a second thread (the kernel's copy costs as much as decoding).
      this.reader = CaptureFileReader.open(path, this.speed === 0 ? { readAhead: {} } : {});
      this.fileBytes = fs.statSync(path).size;
    } catch (err) {
      this.close();
      throw err;
    }
    const r = this.reader;
    return { kind: 'replay', name: this.file, linkType: r.linkType, description: `${r.format} file`, filter: this.filter };
  }

  async run(sink: FrameSink, pace: () => Promise<void>): Promise<void> {
    const reader = this.reader;
    if (reader === null) throw new Error('ReplaySource.run before open');
    if (this.speed > 0) {
      await this.runPaced(reader, sink, pace);
    } else {
      // The sink is handed over as it is: this is the replay's hot path (packet time lives in the session).
      while (!this.stopped && reader.read(sink, REPLAY_BATCH) > 0) {
        this.bytesRead = reader.bytesConsumed;
        await pace();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    this.bytesRead = reader.bytesConsumed;
    if (!this.stopped) this.ended = true;
  }

  /**
   * Capture time now due on a paced replay: the first frame's time plus the wall time since, times the
   * speed; it stops at the last frame once the file has ended (the screen holds the final state).
   */
  clock(): number {
    if (Number.isNaN(this.firstMicros)) return 0;
    if (this.ended) return this.latestMicros;
    const due = this.firstMicros + (this.wallMs() - this.startWallMs) * 1000 * this.speed;
    return Math.max(due, this.latestMicros);
  }

  progress(): ReplayProgress {
    const bytes = this.reader?.bytesConsumed ?? this.bytesRead;
    return {
      fraction: this.ended ? 1 : this.fileBytes > 0 ? Math.min(1, bytes / this.fileBytes) : 0,
      framesRead: this.reader?.framesRead ?? this.framesRead,
      firstMicros: this.firstMicros,
      latestMicros: this.latestMicros,
      ended: this.ended,
      gapsShortened: this.gapsShortened,
    };
  }

  private note(tsMicros: number): void {
    if (Number.isNaN(this.firstMicros)) this.firstMicros = tsMicros;
    if (!(tsMicros <= this.latestMicros)) this.latestMicros = tsMicros;
  }

  /** Delivers each frame when its capture time is due, holding the first one that is not yet. */
  private async runPaced(reader: CaptureFileReader, sink: FrameSink, pace: () => Promise<void>): Promise<void> {
    const dueOrHold: FrameSink = (buf, offset, capLength, wireLength, linkType, tsMicros) => {
      if (Number.isNaN(this.firstMicros)) {
        this.firstMicros = tsMicros;
        this.startWallMs = this.wallMs();
      }
      if (this.held === null && tsMicros <= this.clock()) {
        this.note(tsMicros);
        sink(buf, offset, capLength, wireLength, linkType, tsMicros);
      } else {
        // Reading stops at the first frame not yet due (one frame per read call while one is held).
        this.held = { buf: Buffer.from(buf.subarray(offset, offset + capLength)), wireLength, linkType, tsMicros };
      }
    };
    while (!this.stopped) {
      const held = this.held;
      if (held !== null) {
        let waitMs = (held.tsMicros - this.clock()) / 1000 / this.speed;
        if (waitMs > MAX_GAP_MS) {
          this.startWallMs -= waitMs - MAX_GAP_MS;
          waitMs = MAX_GAP_MS;
          this.gapsShortened++;
        }
        if (waitMs > 0) {
          await this.sleep(Math.min(waitMs, MAX_SLEEP_MS));
          continue;
        }
        this.held = null;
        this.note(held.tsMicros);
        sink(held.buf, 0, held.buf.length, held.wireLength, held.linkType, held.tsMicros);
      }
      // One frame at a time, so that at most one frame is ever read ahead of its time.
      let n = 0;
      while (n < PACED_BATCH && this.held === null && reader.read(dueOrHold, 1) > 0) n++;
      if (n === 0 && this.held === null) break;
      await pace();
      if (this.held === null) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stopped = true;
    if (this.reader !== null) {
      this.framesRead = this.reader.framesRead;
      this.bytesRead = this.reader.bytesConsumed;
    }
    this.reader?.close();
    this.reader = null;
    this.filtered?.dispose();
    this.filtered = null;
  }

  stats(): { received: number; dropped: number | null } {
    return { received: this.reader?.framesRead ?? this.framesRead, dropped: null };
  }
}
