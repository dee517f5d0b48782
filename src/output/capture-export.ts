// CaptureExport: every captured frame to a pcap or pcapng file, copied into a fixed ring on the packet path and
// written in the background; pcapng packets carry a comment naming their connection's process and application.

import * as fs from 'node:fs';
import type { AppInfo } from '../core/app-info.js';
import { RustnetError } from '../core/errors.js';
import type { ConnectionKey, ProcessOwner, SideTables } from '../core/side-tables.js';
import { BackgroundWriter, type WriteFailure, type WriteFn } from './background-writer.js';

export type ExportFormat = 'pcap' | 'pcapng';

/** Largest captured length written (libpcap's own ceiling); longer frames are cut, their original length kept. */
export const EXPORT_SNAPLEN = 262144;

/** Frame bytes held between the packet path and the writer (about 250 k frames of 64 bytes, 11 k of 1500). */
const DEFAULT_RING_BYTES = 16 << 20;
/** Frames held at most (each slot costs 21 bytes of typed arrays plus a reference). */
const DEFAULT_RING_FRAMES = 1 << 16;
/** Records are encoded into chunks of this size; a full chunk (or a tick) is queued for writing. */
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Live: chunks queued for the disk at most; beyond it frames stay in the ring, and once that is full they are dropped. */
const DEFAULT_MAX_QUEUED_CHUNKS = 8;
/** Longest comment kept, in UTF-16 units (process names and SNI are far shorter; this bounds a record). */
const MAX_COMMENT_CHARS = 1024;

const TWO_POW_32 = 4294967296;
const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;

/** fs.writev's shape, replaceable in tests (a slow or failing disk). */
export type ExportWriteFn = WriteFn;

export interface CaptureExportOptions<T> {
  format: ExportFormat;
  /** The capture's link type: the pcap file header's, pcapng's first interface. Negative: taken from the first frame. */
  linkType: number;
  /** pcapng if_name of the captured interface (live capture). */
  interfaceName?: string;
  /** pcapng if_description (e.g. where a replay came from). */
  interfaceDescription?: string;
  /** pcapng shb_userappl, e.g. "rustnet-ts 0.1.0". */
  application?: string;
  /**
   * Timestamp resolution written: 'us' (pcap magic a1b2c3d4, if_tsresol 6) or 'ns' (a1b23c4d, if_tsresol 9;
   * sub-microsecond parts come from observe()'s last argument).
   */
  resolution?: 'us' | 'ns';
  /**
   * A source that can wait (a replay): no frame is ever dropped; a full ring is encoded and written at once,
   * synchronously, which holds the replay back. Live capture (false) writes in the background and drops.
   */
  canWait: boolean;
  /** pcapng: the comment of a frame's connection, asked when the frame is written (not when it arrives). */
  comment?: (token: T) => string | null;
  /** Problems worth one line each (the first dropped frame, a failed write). */
  onWarning: (message: string) => void;
  // Sizes and seams for tests.
  ringBytes?: number;
  ringFrames?: number;
  chunkBytes?: number;
  maxQueuedChunks?: number;
  write?: ExportWriteFn;
  /** Runs `fn` soon, off the packet path (default: setImmediate). */
  defer?: (fn: () => void) => void;
  stallMs?: number;
}

/**
 * The packet path calls observe() for every frame: one copy into the ring and a few typed-array stores (the only
 * allocation is the short-lived view Node 20's Buffer#copy makes for a partial copy; a byte loop instead was
 * slower from ~200 bytes up, measured here: 232 against 88 ns for 200 bytes). The ring is encoded into file
 * records on ticks, and sooner when a quarter of it is used; records go out through an async writev queue
 * (live) or synchronous writes (a replay, which can wait).
 */
export class CaptureExport<T = unknown> {
  readonly path: string;
  readonly format: ExportFormat;
  /** Whether observe() wants its connection token (pcapng comments); false spares the packet path the lookup. */
  readonly wantsConnection: boolean;
  /** Frames encoded into the file. */
  framesWritten = 0;
  /** Frames not exported because the writer fell behind with the ring full (live), or after a write failed. */
  framesDropped = 0;
  /** Classic pcap: frames whose link type differs from the file's (one link type per pcap file). */
  framesOtherLinkType = 0;
  /** Why writing stopped, or null. */
  failure: string | null = null;

  private readonly canWait: boolean;
  private readonly nanos: boolean;
  private readonly comment: ((token: T) => string | null) | null;
  private readonly onWarning: (message: string) => void;
  private readonly defer: (fn: () => void) => void;
  private readonly interfaceName: string | undefined;
  private readonly interfaceDescription: string | undefined;

  // The ring: frame bytes in `ring`, one slot of metadata per frame, oldest at `tail`.
  private readonly ring: Buffer;
  private readonly ringBytes: number;
  private readonly slotMask: number;
  private readonly slotStart: Int32Array;
  private readonly slotCap: Int32Array;
  private readonly slotWire: Float64Array;
  private readonly slotLink: Int32Array;
  private readonly slotTs: Float64Array;
  private readonly slotNanos: Uint16Array;
  private readonly slotToken: (T | null)[];
  private head = 0;
  private tail = 0;
  private count = 0;
  /** Ring bytes: next free byte, start of the oldest frame, and whether the newest frames lie before the oldest. */
  private dataHead = 0;
  private dataTail = 0;
  private wrapped = false;
  private heldBytes = 0;
  private readonly frameMark: number;
  private readonly byteMark: number;
  private drainPending = false;
  private readonly drainSoon = (): void => {
    this.drainPending = false;
    if (this.closing === null) this.drain(false);
  };

  // Encoding: records go into `out` up to `used`; full chunks wait in the writer's queue.
  private readonly chunkBytes: number;
  private readonly maxQueued: number;
  private out: Buffer;
  private used = 0;
  private readonly writer: BackgroundWriter;
  private closing: Promise<void> | null = null;

  /** Classic pcap: the file header's link type once written (-1 before). pcapng: interface ids by link type. */
  private pcapLinkType = -1;
  private readonly interfaces: number[] = [];

  private constructor(path: string, fd: number, opts: CaptureExportOptions<T>) {
    this.path = path;
    this.format = opts.format;
    this.canWait = opts.canWait;
    this.nanos = opts.resolution === 'ns';
    this.comment = opts.format === 'pcapng' ? opts.comment ?? null : null;
    this.wantsConnection = this.comment !== null;
    this.onWarning = opts.onWarning;
    this.defer = opts.defer ?? setImmediate;
    this.interfaceName = opts.interfaceName;
    this.interfaceDescription = opts.interfaceDescription;
    this.ringBytes = Math.max(1, Math.floor(opts.ringBytes ?? DEFAULT_RING_BYTES));
    this.ring = Buffer.allocUnsafe(this.ringBytes);
    // A power of two, so the slot index wraps with a mask.
    let frames = 2;
    while (frames < (opts.ringFrames ?? DEFAULT_RING_FRAMES)) frames *= 2;
    this.slotMask = frames - 1;
    this.slotStart = new Int32Array(frames);
    this.slotCap = new Int32Array(frames);
    this.slotWire = new Float64Array(frames);
    this.slotLink = new Int32Array(frames);
    this.slotTs = new Float64Array(frames);
    this.slotNanos = new Uint16Array(this.nanos ? frames : 0);
    this.slotToken = this.comment !== null ? new Array<T | null>(frames).fill(null) : [];
    this.frameMark = Math.max(1, frames >> 2);
    this.byteMark = Math.max(1, this.ringBytes >> 2);
    this.chunkBytes = Math.max(64, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    this.maxQueued = Math.max(1, opts.maxQueuedChunks ?? DEFAULT_MAX_QUEUED_CHUNKS);
    this.out = Buffer.allocUnsafe(this.chunkBytes);
    this.writer = new BackgroundWriter({
      fd, ownsFd: true, chunkBytes: this.chunkBytes, write: opts.write, stallMs: opts.stallMs,
      onFail: (failure) => this.fail(failure),
      // Room in the queue again: what waited in the ring can be encoded (not at the end: close drains).
      onWritten: () => {
        if (this.count > 0 && this.closing === null && !this.drainPending) {
          this.drainPending = true;
          this.defer(this.drainSoon);
        }
      },
    });
    if (opts.format === 'pcap') {
      if (opts.linkType >= 0) this.writePcapHeader(opts.linkType);
    } else {
      this.writeSectionHeader(opts.application);
      if (opts.linkType >= 0) this.interfaceId(opts.linkType);
    }
    // The header goes out now: a capture stopped before its first frame still leaves a readable file.
    this.flush();
  }

  /**
   * Creates (or truncates) FILE, mode 0600 (packets are private), and writes the file header. Throws
   * RustnetError OUTPUT when it cannot be opened.
   */
  static open<T>(path: string, opts: CaptureExportOptions<T>): CaptureExport<T> {
    let fd: number;
    try {
      fd = fs.openSync(path, 'w', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new RustnetError('OUTPUT', `cannot open ${opts.format} export ${path}: ${code}; choose a file in a folder you can write to`);
    }
    return new CaptureExport<T>(path, fd, opts);
  }

  /**
   * The packet path: copies one frame into the ring. `buf` is borrowed; `token` names the frame's connection
   * (kept until the frame is written, for its comment). Never throws; a frame that finds no room is counted.
   */
  observe(buf: Buffer, offset: number, capLength: number, wireLength: number, linkType: number, tsMicros: number,
    token: T | null, subMicroNanos = 0): void {
    if (this.closing !== null) return;
    if (this.failure !== null) {
      this.framesDropped++;
      return;
    }
    const cap = capLength > EXPORT_SNAPLEN ? EXPORT_SNAPLEN : capLength;
    let at = this.reserve(cap);
    if (at < 0 && this.canWait) {
      // A replay waits for its output: write out everything held, then there is room.
      this.drain(true);
      this.flush();
      at = this.reserve(cap);
    }
    if (at < 0) {
      if (this.framesDropped++ === 0) {
        this.onWarning(`${this.format} export ${this.path} is not keeping up; frames are left out of it (counted in the closing summary)`);
      }
      return;
    }
    if (at !== this.dataHead) this.wrapped = true;
    this.dataHead = at + cap;
    if (cap > 0) buf.copy(this.ring, at, offset, offset + cap);
    const s = this.head;
    this.head = (s + 1) & this.slotMask;
    this.count++;
    this.heldBytes += cap;
    this.slotStart[s] = at;
    this.slotCap[s] = cap;
    this.slotWire[s] = wireLength > cap ? wireLength : cap;
    this.slotLink[s] = linkType;
    this.slotTs[s] = tsMicros;
    if (this.nanos) this.slotNanos[s] = subMicroNanos;
    if (this.comment !== null) this.slotToken[s] = token;
    if (!this.drainPending && (this.count >= this.frameMark || this.heldBytes >= this.byteMark)) {
      this.drainPending = true;
      this.defer(this.drainSoon);
    }
  }

  /**
   * Once per tick (after enrichment results landed, so comments name what was just found): encodes what the
   * ring holds and hands it to the output.
   */
  tick(): void {
    if (this.closing !== null) return;
    this.drain(false);
    this.flush();
  }

  /** Writes everything held, then closes the file. Idempotent: later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  /** Bytes the output has taken. */
  get bytesOut(): number {
    return this.writer.bytesOut;
  }

  /** One line for the closing summary. */
  summary(): string {
    const parts = [`${this.format} export ${this.path}: ${this.framesWritten} frames written`];
    if (this.framesDropped > 0) {
      parts.push(`${this.framesDropped} left out (${this.failure !== null ? 'writing had failed' : 'the writer fell behind'})`);
    }
    if (this.framesOtherLinkType > 0) {
      parts.push(`${this.framesOtherLinkType} of another link type left out (a pcap file holds one; use --pcapng-export)`);
    }
    if (this.failure !== null) parts.push(`failed: ${this.failure}`);
    return parts.join(', ');
  }

  // ---- the ring ----

  /** Where `n` frame bytes fit in the ring, or -1 (no slot or no room). */
  private reserve(n: number): number {
    if (this.count > this.slotMask) return -1;
    if (!this.wrapped) {
      if (this.dataHead + n <= this.ringBytes) return this.dataHead;
      // Wrap to the front when the oldest frame starts far enough in.
      return n <= this.dataTail ? 0 : -1;
    }
    return this.dataHead + n <= this.dataTail ? this.dataHead : -1;
  }

  /** Frees the oldest slot. */
  private release(): void {
    const s = this.tail;
    if (this.comment !== null) this.slotToken[s] = null;
    this.heldBytes -= this.slotCap[s]!;
    this.tail = (s + 1) & this.slotMask;
    this.count--;
    if (this.count === 0) {
      this.dataHead = 0;
      this.dataTail = 0;
      this.wrapped = false;
      return;
    }
    const next = this.slotStart[this.tail]!;
    // The next frame starts before this one: it is the first after the wrap.
    if (next < this.dataTail) this.wrapped = false;
    this.dataTail = next;
  }

  /**
   * Encodes held frames, oldest first. Live, it stops while the writer has its fill queued (frames then wait in
   * the ring); `all` (closing, a replay's full ring) encodes everything.
   */
  private drain(all: boolean): void {
    while (this.count > 0 && this.failure === null) {
      if (!all && this.writer.queuedChunks >= this.maxQueued) return;
      this.encode(this.tail);
      this.release();
    }
  }

  // ---- records ----

  private encode(s: number): void {
    const cap = this.slotCap[s]!;
    const link = this.slotLink[s]!;
    if (this.format === 'pcap') {
      if (this.pcapLinkType < 0) this.writePcapHeader(link);
      if (link !== this.pcapLinkType) {
        this.framesOtherLinkType++;
        return;
      }
      const target = this.room(16 + cap);
      let p = this.used;
      this.writePcapTimes(target, p, s);
      target.writeUInt32LE(cap, p + 8);
      target.writeUInt32LE(this.slotWire[s]!, p + 12);
      p += 16;
      if (cap > 0) this.ring.copy(target, p, this.slotStart[s]!, this.slotStart[s]! + cap);
      this.commit(target, p + cap);
      this.framesWritten++;
      return;
    }
    const id = this.interfaceId(link);
    const token = this.comment !== null ? this.slotToken[s] ?? null : null;
    const said = token !== null ? this.comment!(token) : null;
    // The option length is 16 bits: a comment function that says too much is cut (control characters are its own care).
    const text = said !== null && said.length > MAX_COMMENT_CHARS ? said.slice(0, MAX_COMMENT_CHARS) : said;
    const padded = (cap + 3) & ~3;
    // Comment: option header, UTF-8 text (at most 3 bytes per UTF-16 unit) padded to 4, then the end of options.
    const commentBound = text !== null && text !== '' ? optionBound(text) + 4 : 0;
    const target = this.room(28 + padded + commentBound + 4);
    const start = this.used;
    let p = start;
    target.writeUInt32LE(BLOCK_EPB, p);
    target.writeUInt32LE(id, p + 8);
    this.writePcapngTime(target, p + 12, s);
    target.writeUInt32LE(cap, p + 20);
    target.writeUInt32LE(this.slotWire[s]!, p + 24);
    p += 28;
    if (cap > 0) this.ring.copy(target, p, this.slotStart[s]!, this.slotStart[s]! + cap);
    p = zeroPad(target, p + cap, start + 28 + padded);
    if (commentBound > 0) p = endOptions(target, writeOption(target, p, OPT_COMMENT, text!));
    this.endBlock(target, start, p);
    this.framesWritten++;
  }

  /** µs (or ns) since the epoch as pcap's seconds and fraction, at target[p..p+8). */
  private writePcapTimes(target: Buffer, p: number, s: number): void {
    const ts = this.slotTs[s]!;
    const micros = ts > 0 ? Math.floor(ts) : 0;
    const sec = Math.floor(micros / 1e6);
    const usec = micros - sec * 1e6;
    target.writeUInt32LE(sec >>> 0, p);
    target.writeUInt32LE(this.nanos ? usec * 1000 + this.slotNanos[s]! : usec, p + 4);
  }

  /** The 64-bit timestamp in interface units (high word, low word), every step exact in a double. */
  private writePcapngTime(target: Buffer, p: number, s: number): void {
    const ts = this.slotTs[s]!;
    const micros = ts > 0 ? Math.floor(ts) : 0;
    let high = Math.floor(micros / TWO_POW_32);
    let low = micros - high * TWO_POW_32;
    if (this.nanos) {
      // micros*1000 exceeds 2^53: scale each word and carry, as high*1000*2^32 + (low*1000 + nanos).
      const lowNanos = low * 1000 + this.slotNanos[s]!;
      const carry = Math.floor(lowNanos / TWO_POW_32);
      high = high * 1000 + carry;
      low = lowNanos - carry * TWO_POW_32;
    }
    target.writeUInt32LE(high >>> 0, p);
    target.writeUInt32LE(low >>> 0, p + 4);
  }

  private writePcapHeader(linkType: number): void {
    const target = this.room(24);
    const p = this.used;
    target.writeUInt32LE(this.nanos ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, p);
    target.writeUInt16LE(2, p + 4);
    target.writeUInt16LE(4, p + 6);
    target.writeInt32LE(0, p + 8); // thiszone: timestamps are UTC
    target.writeUInt32LE(0, p + 12); // sigfigs
    target.writeUInt32LE(EXPORT_SNAPLEN, p + 16);
    target.writeUInt32LE(linkType & 0xffff, p + 20);
    this.commit(target, p + 24);
    this.pcapLinkType = linkType;
  }

  private writeSectionHeader(application: string | undefined): void {
    const appl = application !== undefined ? clean(application) : '';
    const target = this.room(28 + (appl !== '' ? optionBound(appl) + 4 : 0) + 4);
    const start = this.used;
    target.writeUInt32LE(BLOCK_SHB, start);
    target.writeUInt32LE(BYTE_ORDER_MAGIC, start + 8);
    target.writeUInt16LE(1, start + 12);
    target.writeUInt16LE(0, start + 14);
    // Section length unknown (-1): we write as we go.
    target.writeUInt32LE(0xffffffff, start + 16);
    target.writeUInt32LE(0xffffffff, start + 20);
    let p = start + 24;
    if (appl !== '') p = endOptions(target, writeOption(target, p, OPT_SHB_USERAPPL, appl));
    this.endBlock(target, start, p);
  }

  /** The pcapng interface of a link type, its Interface Description Block written on first use. */
  private interfaceId(linkType: number): number {
    const interfaces = this.interfaces;
    for (let i = 0; i < interfaces.length; i++) if (interfaces[i] === linkType) return i;
    // The captured interface's name goes on its first interface; any other link type (a replayed pcapng with
    // several interfaces) gets a block of its own without one.
    const name = interfaces.length === 0 && this.interfaceName !== undefined ? clean(this.interfaceName) : '';
    const description = interfaces.length === 0 && this.interfaceDescription !== undefined ? clean(this.interfaceDescription) : '';
    const bound = (t: string): number => (t !== '' ? optionBound(t) : 0);
    const target = this.room(16 + bound(name) + bound(description) + 8 + 4 + 4);
    const start = this.used;
    target.writeUInt32LE(BLOCK_IDB, start);
    target.writeUInt16LE(linkType & 0xffff, start + 8);
    target.writeUInt16LE(0, start + 10);
    target.writeUInt32LE(EXPORT_SNAPLEN, start + 12);
    let p = start + 16;
    if (name !== '') p = writeOption(target, p, OPT_IF_NAME, name);
    if (description !== '') p = writeOption(target, p, OPT_IF_DESCRIPTION, description);
    target.writeUInt16LE(OPT_IF_TSRESOL, p);
    target.writeUInt16LE(1, p + 2);
    target.writeUInt32LE(this.nanos ? 9 : 6, p + 4); // the resolution byte, then three bytes of padding
    this.endBlock(target, start, endOptions(target, p + 8));
    interfaces.push(linkType);
    return interfaces.length - 1;
  }

  /** Ends the pcapng block begun at `start` whose options end at `p`: its total length at both ends, then commit. */
  private endBlock(target: Buffer, start: number, p: number): void {
    const total = p + 4 - start;
    target.writeUInt32LE(total, start + 4);
    target.writeUInt32LE(total, p);
    this.commit(target, p + 4);
  }

  // ---- output ----

  /**
   * A buffer with `n` bytes free from `this.used`: the current chunk, a fresh one once it is full, or (a record
   * bigger than a chunk) one of its own. commit() ends the record.
   */
  private room(n: number): Buffer {
    if (this.used + n > this.out.length) {
      this.flush();
      if (n > this.out.length) {
        this.out = Buffer.allocUnsafe(n);
        this.used = 0;
      }
    }
    return this.out;
  }

  private commit(target: Buffer, end: number): void {
    this.used = end;
    // An oversized record's own buffer goes out at once; the usual chunk comes back for the next record.
    if (target.length !== this.chunkBytes) this.flush();
  }

  /** Hands what was encoded to the output: a synchronous write for a replay, the writer's queue live. */
  private flush(): void {
    if (this.used === 0) return;
    const data = this.out;
    const length = this.used;
    this.used = 0;
    if (this.failure !== null) return;
    if (this.canWait) {
      if (data.length !== this.chunkBytes) this.out = Buffer.allocUnsafe(this.chunkBytes);
      this.writer.writeSync(data, length);
      return;
    }
    this.out = this.writer.takeChunk();
    this.writer.enqueue(data, length);
  }

  /** The writer stopped (it has emptied its queue): frames still held will not reach the file either. */
  private fail(failure: WriteFailure): void {
    const message = failure.kind === 'write'
      ? `write failed (${failure.code})`
      : `the output took nothing for ${failure.seconds} s; ${failure.bytes} bytes were not written`;
    this.failure = message;
    // Frames still held will not reach the file: they count as left out.
    this.framesDropped += this.count;
    while (this.count > 0) this.release();
    this.onWarning(`${this.format} export ${this.path}: ${message}; no further frames are written to it`);
  }

  private async finish(): Promise<void> {
    this.drain(true);
    // A pcap file whose link type never became known (no frame, no header yet) still gets a valid header.
    if (this.format === 'pcap' && this.pcapLinkType < 0) this.writePcapHeader(1);
    this.flush();
    await this.writer.close();
  }
}

/** Writes one option (code, length, UTF-8 value padded to 4) at target[p]; returns the offset after it. */
function writeOption(target: Buffer, p: number, code: number, value: string): number {
  const n = target.write(value, p + 4, 'utf8');
  target.writeUInt16LE(code, p);
  target.writeUInt16LE(n, p + 2);
  return zeroPad(target, p + 4 + n, p + 4 + ((n + 3) & ~3));
}

/** Most bytes an option holding `text` takes: its header and the UTF-8 text (3 bytes per UTF-16 unit at most), padded to 4. */
function optionBound(text: string): number {
  return 4 + ((text.length * 3 + 3) & ~3);
}

/** Writes the end-of-options marker at target[p]; returns the offset after it. */
function endOptions(target: Buffer, p: number): number {
  target.writeUInt32LE(OPT_ENDOFOPT, p);
  return p + 4;
}

function zeroPad(target: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) target[i] = 0;
  return to;
}

/** Text for a pcapng option: control characters (which a terminal would act on) as '?', bounded in length. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  const t = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return t.length > MAX_COMMENT_CHARS ? t.slice(0, MAX_COMMENT_CHARS) : t;
}

/** A comment value: bare when it is one plain word, else in double quotes with `"` and `\` escaped. */
function quote(value: string): string {
  return /^[^\s"\\=]+$/.test(value) ? value : `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

interface CommentMemo {
  /** side.version when the owner was looked up (any change to the side tables bumps it). */
  version: number;
  owner: ProcessOwner | undefined;
  app: AppInfo | null;
  protocol: string | undefined;
  domain: string | undefined;
  confidence: string | undefined;
  text: string | null;
}

/**
 * The pcapng comment of a connection's frames, from what is known when they are written:
 * `proc=NAME pid=N app=PROTOCOL host=DOMAIN`, each part only when known, `conf=mid-stream|port` after the
 * application when DPI did not see its handshake; null when nothing is known. Memoised per connection (weakly:
 * a connection gone is forgotten with it), so frames of a connection whose facts did not change cost one lookup
 * and a few comparisons, and the process table is consulted only after the side tables changed.
 */
export function connectionComment(side: SideTables): (c: ConnectionKey) => string | null {
  const memo = new WeakMap<ConnectionKey, CommentMemo>();
  return (c) => {
    const app = c.dpi?.app ?? null;
    let last = memo.get(c);
    if (last !== undefined && last.app === app && last.protocol === app?.protocol && last.domain === app?.domain &&
        last.confidence === app?.confidence) {
      if (last.version === side.version) return last.text;
      const owner = side.processes.get(c.id);
      if (owner === last.owner) {
        last.version = side.version;
        return last.text;
      }
    }
    const owner = side.processes.get(c.id);
    const parts: string[] = [];
    if (owner !== undefined) {
      parts.push(`proc=${quote(owner.name)}`, `pid=${owner.pid}`);
    }
    if (app !== null) {
      parts.push(`app=${quote(app.protocol)}`);
      if (app.confidence !== 'content') parts.push(`conf=${app.confidence}`);
      if (app.domain !== undefined && app.domain !== '') parts.push(`host=${quote(app.domain)}`);
    }
    const text = parts.length > 0 ? clean(parts.join(' ')) : null;
    last = { version: side.version, owner, app, protocol: app?.protocol, domain: app?.domain, confidence: app?.confidence, text };
    memo.set(c, last);
    return text;
  };
}
