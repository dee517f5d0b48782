// PacketSource: what a session runs, live capture or file replay alike; FrameSink: what it delivers frames to.

import type { SourceInfo } from './snapshot.js';

/** Receives one frame. `buf` is borrowed (valid only during the call); the frame is buf[offset, offset+capLength). */
export type FrameSink = (
  buf: Buffer,
  offset: number,
  capLength: number,
  wireLength: number,
  linkType: number,
  tsMicros: number,
) => void;

export interface PacketSource {
  /** Packet timestamps drive the session's clock (replay), or the wall clock does (live). */
  readonly packetClock: boolean;
  /** Opens the input; throws RustnetError with a message that says what to do. */
  open(): SourceInfo;
  /**
   * Delivers frames to `sink` until the input ends or stop() is called. A source that can wait (a file)
   * awaits `pace()` between batches, so slow outputs hold it back instead of filling memory. Rejects
   * with a RustnetError on damaged input, after every frame before the damage was delivered.
   */
  run(sink: FrameSink, pace: () => Promise<void>): Promise<void>;
  /** Makes run() resolve soon; idempotent. */
  stop(): void;
  /** Releases the input; idempotent. */
  close(): void;
  /**
   * Frames taken from the capture layer, how many the kernel dropped (null: it cannot tell), and how many the
   * interface dropped before capture (live, where the platform says; absent or null otherwise).
   */
  stats(): { received: number; dropped: number | null; interfaceDropped?: number | null };
}
