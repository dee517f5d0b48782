// FrameBatchReader: the frames of one batch from the patched cap binding, read out of its shared buffer.
//
// Layout (patches/cap+0.2.1.patch): per frame a 16-byte header of uint32 in host byte order (timestamp
// seconds, nanoseconds, captured length, original length), then the captured bytes; the next frame starts at
// the next multiple of 8 from the start of the buffer.

import * as os from 'node:os';
import type { FrameSink } from '../core/packet-source.js';

export const BATCH_HEADER_BYTES = 16;
export const BATCH_ALIGNMENT = 8;

const NANOS_PER_SECOND = 1_000_000_000;

/** Where the frame after one of `capLength` bytes starting at `offset` (its header's offset) begins. */
export function nextFrameOffset(offset: number, capLength: number): number {
  const end = offset + BATCH_HEADER_BYTES + capLength;
  return end + ((BATCH_ALIGNMENT - (end % BATCH_ALIGNMENT)) % BATCH_ALIGNMENT);
}

export class FrameBatchReader {
  /** Frames handed to the sink. */
  framesRead = 0;
  /** Of those, frames cut short (captured length below the original length). */
  framesTruncated = 0;
  /** Batches whose headers did not add up (a binding fault): their frames from the first bad header on are lost. */
  badBatches = 0;
  private readonly littleEndian: boolean;

  constructor(littleEndian = os.endianness() === 'LE') {
    this.littleEndian = littleEndian;
  }

  /**
   * Hands each of the `frames` frames in buf[0, bytes) to `sink`, stamped with its kernel timestamp in
   * microseconds. A header that points past `bytes` (or nanoseconds ≥ 1 s) ends the batch: nothing past a
   * broken header can be trusted. Returns the number of frames delivered.
   */
  read(buf: Buffer, frames: number, bytes: number, linkType: number, sink: FrameSink): number {
    const le = this.littleEndian;
    const limit = Math.min(bytes, buf.length);
    let offset = 0;
    let delivered = 0;
    for (let i = 0; i < frames; i++) {
      if (offset + BATCH_HEADER_BYTES > limit) break;
      const seconds = le ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset);
      const nanos = le ? buf.readUInt32LE(offset + 4) : buf.readUInt32BE(offset + 4);
      const capLength = le ? buf.readUInt32LE(offset + 8) : buf.readUInt32BE(offset + 8);
      const wireLength = le ? buf.readUInt32LE(offset + 12) : buf.readUInt32BE(offset + 12);
      const start = offset + BATCH_HEADER_BYTES;
      if (start + capLength > limit || nanos >= NANOS_PER_SECOND) break;
      if (capLength < wireLength) this.framesTruncated++;
      delivered++;
      sink(buf, start, capLength, wireLength, linkType, seconds * 1_000_000 + Math.floor(nanos / 1000));
      offset = nextFrameOffset(offset, capLength);
    }
    this.framesRead += delivered;
    // Fewer frames than announced, or bytes left over after the last one: the batch did not add up.
    if (delivered !== frames || offset !== bytes) this.badBatches++;
    return delivered;
  }
}

/** Totals of a 32-bit counter that wraps (libpcap's pcap_stats), from successive readings. */
export class WrappingCounter {
  private last = 0;
  private sum = 0;

  /** Takes a reading (0 … 2³²−1) and returns the total since the first reading of 0. */
  update(raw: number): number {
    this.sum += (raw - this.last + 0x1_0000_0000) % 0x1_0000_0000;
    this.last = raw;
    return this.sum;
  }

  get total(): number {
    return this.sum;
  }
}
