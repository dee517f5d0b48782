// ReplaySource: a pcap or pcapng file (optionally through a BPF filter) as a PacketSource, as fast as outputs take it.

import type { FrameSink, PacketSource } from '../core/packet-source.js';
import type { SourceInfo } from '../core/snapshot.js';
import { CaptureFileReader } from './capture-file.js';
import { filterCaptureFile, type FilteredFile } from './filtered-file.js';

/** Frames replayed between yields to the event loop (so signals and output writes get their turn). */
const REPLAY_BATCH = 65536;

export class ReplaySource implements PacketSource {
  readonly packetClock = true;
  private readonly file: string;
  private readonly filter: string;
  private reader: CaptureFileReader | null = null;
  private filtered: FilteredFile | null = null;
  private stopped = false;
  private framesRead = 0;

  constructor(file: string, filter: string) {
    this.file = file;
    this.filter = filter;
  }

  open(): SourceInfo {
    let path = this.file;
    if (this.filter !== '') {
      this.filtered = filterCaptureFile(this.file, this.filter);
      path = this.filtered.path;
    }
    try {
      this.reader = CaptureFileReader.open(path);
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
    while (!this.stopped && reader.read(sink, REPLAY_BATCH) > 0) {
      await pace();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stopped = true;
    if (this.reader !== null) this.framesRead = this.reader.framesRead;
    this.reader?.close();
    this.reader = null;
    this.filtered?.dispose();
    this.filtered = null;
  }

  stats(): { received: number; dropped: number | null } {
    return { received: this.reader?.framesRead ?? this.framesRead, dropped: null };
  }
}
