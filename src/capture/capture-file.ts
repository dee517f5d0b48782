// Replays pcap and pcapng capture files frame by frame from one reusable buffer, for offline mode.

import { u32, u32le } from '../core/bytes.js';
import * as fs from 'node:fs';
import { RustnetError, type ErrorCode } from '../core/errors.js';
import type { FrameSink } from '../core/packet-source.js';
import { ReadAhead, ReadAheadError, type ReadAheadOptions, type Slot } from './read-ahead.js';

export interface CaptureFileOptions {
  /** Bytes requested per read call. The buffer only grows past this for a record that does not fit. */
  chunkSize?: number;
  /**
   * Read a regular file of at least `minFileBytes` (default 32 MiB) on a thread of its own (ReadAhead) and
   * parse its bytes where that thread put them. Smaller files, pipes and devices are read in place.
   */
  readAhead?: ReadAheadOptions & { minFileBytes?: number };
}

/** 1 MiB: small enough that the bytes just read are still in the core's cache when they are parsed. */
const DEFAULT_CHUNK_SIZE = 1024 * 1024;
const READ_AHEAD_MIN_FILE_BYTES = 32 * 1024 * 1024;
/** First size of the buffer a record that spans two read-ahead slots is copied into. */
const STITCH_BYTES = 64 * 1024;

/** Largest captured length accepted; libpcap's own ceiling, so anything above is a damaged length field. */
export const MAX_CAPTURED_LENGTH = 262144;

/**
 * Largest pcapng block we hold in memory whole (section, interface and packet blocks). A bigger
 * length on those is far more likely damage than data, and trusting it would allocate gigabytes.
 */
const MAX_BUFFERED_BLOCK = 16 * 1024 * 1024;

const PCAP_HEADER_LENGTH = 24;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2; // obsolete Packet Block, still written by old tools
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

const TWO_POW_32 = 4294967296;

/** First four bytes of every format we read, little-endian view, to tell a truncated header from garbage. */
const KNOWN_MAGICS = [
  0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1, BLOCK_SHB,
];

function noopSink(): void {}

/** One pcapng interface description: its link type and how to turn its timestamps into microseconds. */
interface PcapngInterface {
  linkType: number;
  offsetMicros: number;
  /** Timestamp units per microsecond, split so high*2^32+low never has to exist as a float: see tsOf. */
  div: number;
  quot: number;
  rem: number;
  /** Raw if_tsresol byte when the fast split cannot be used (power of 2, coarser than µs, finer than ps); else -1. */
  slowRes: number;
}

export class CaptureFileReader {
  private readonly path: string;
  private fd: number;
  /** The bytes being parsed: the reusable read buffer, or (read-ahead) a slot's view or the stitch buffer. */
  private buf: Buffer;
  /** Next unread byte in buf. */
  private pos = 0;
  /** End of the valid bytes in buf. */
  private end = 0;
  /** File offset of buf[0]; base + pos is the file offset of the next record, used in error messages. */
  private base = 0;
  private eof = false;
  private closed = false;
  /** Our own parse errors are sticky so a caller that retries cannot skip past damage silently. */
  private failed: RustnetError | null = null;
  private fileFormat: 'pcap' | 'pcapng' = 'pcap';
  private firstLinkType = -1;
  private frames = 0;
  private le = true;

  // Classic pcap.
  private nanos = false;
  private recordHeaderLength = 16;

  /** pcapng interfaces of the current section, indexed by interface id. */
  private readonly interfaces: PcapngInterface[] = [];
  /** Simple Packet Blocks carry no timestamp; they inherit the previous packet's. */
  private lastTs = 0;

  // Read-ahead (null when the file is read in place).
  private readonly ahead: ReadAhead | null;
  /** The slot parsed in place, or the one a stitch is being completed from. */
  private slot: Slot | null = null;
  /** Bytes of `slot` already taken into the stitch buffer: where parsing resumes in the slot. */
  private slotPos = 0;
  /** buf is the stitch buffer: a record that began in one slot and ends in the next. */
  private inStitch: boolean;
  /** Where records spanning two slots are copied (grown as needed); buf while inStitch. */
  private stitchBuffer: Buffer;

  private constructor(path: string, fd: number, chunkSize: number, ahead: ReadAhead | null) {
    this.path = path;
    this.fd = fd;
    this.ahead = ahead;
    this.inStitch = ahead !== null;
    this.buf = Buffer.allocUnsafe(ahead !== null ? STITCH_BYTES : chunkSize);
    this.stitchBuffer = this.buf;
  }

  /** Opens and reads the file header; throws RustnetError (codes FILE_NOT_FOUND, FILE_UNREADABLE, FILE_FORMAT, FILE_TRUNCATED) with a one-line message naming the file. */
  static open(path: string, options: CaptureFileOptions = {}): CaptureFileReader {
    const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? DEFAULT_CHUNK_SIZE));
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw openError(path, e);
    }
    try {
      // Linux lets us open a directory read-only; the read would then fail with a less helpful EISDIR.
      const stat = fs.fstatSync(fd);
      if (stat.isDirectory()) {
        throw new RustnetError('FILE_UNREADABLE', `${path}: is a directory, not a capture file`);
      }
      const ra = options.readAhead;
      // Read-ahead reads from offset 0 at explicit offsets: not for /dev/stdin and the like, even when they
      // stand for a regular file (the shell's `< file`), whose offset is the caller's.
      const ahead = ra !== undefined && stat.isFile() && !/^\/(dev|proc)\//.test(path) &&
        stat.size >= (ra.minFileBytes ?? READ_AHEAD_MIN_FILE_BYTES)
        ? new ReadAhead(path, fd, ra)
        : null;
      const reader = new CaptureFileReader(path, fd, chunkSize, ahead);
      try {
        reader.readFileHeader();
      } catch (e) {
        ahead?.close();
        throw e;
      }
      return reader;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  get format(): 'pcap' | 'pcapng' {
    return this.fileFormat;
  }

  /** Link type of the first interface (pcap: header link type); -1 for a pcapng file that defines no interface. */
  get linkType(): number {
    return this.firstLinkType;
  }

  /** Frames delivered so far. */
  get framesRead(): number {
    return this.frames;
  }

  /** Whether the file is read by a ReadAhead thread (options.readAhead and a large enough regular file). */
  get readsAhead(): boolean {
    return this.ahead !== null;
  }

  /** File offset of the next record (how far a replay has come, against the file's size). */
  get bytesConsumed(): number {
    return this.base + this.pos;
  }

  /** Delivers up to maxFrames frames to sink, returns how many were delivered (0 = end of file). On a truncated or corrupt record it first delivers every valid frame before it, then throws RustnetError FILE_TRUNCATED or FILE_CORRUPT (message says the byte offset and what is wrong). */
  read(sink: FrameSink, maxFrames: number): number {
    if (this.failed !== null) throw this.failed;
    if (this.closed) throw new RustnetError('FILE_UNREADABLE', `${this.path}: read after close`);
    if (!(maxFrames > 0)) return 0;
    return this.fileFormat === 'pcap' ? this.readPcap(sink, maxFrames) : this.readPcapng(sink, maxFrames);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ahead?.close();
    fs.closeSync(this.fd);
  }

  // ---- buffer management ----

  /**
   * Makes at least n unread bytes available at buf[pos]; false if the file ends first (whatever
   * was there stays readable). Moves the partial record to the front and grows only when n > buffer.
   */
  private fill(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.ahead !== null) return this.fillAhead(this.ahead, n);
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(n);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    while (this.end < n && !this.eof) {
      let got: number;
      try {
        // Position null: read sequentially, so pipes and /dev/stdin work as well as regular files.
        got = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      } catch (e) {
        this.fail('FILE_UNREADABLE', this.base + this.end, `read failed (${errorText(e)})`);
      }
      if (got === 0) this.eof = true;
      else this.end += got;
    }
    return this.end >= n;
  }

  /**
   * fill() for read-ahead. Records are parsed where they lie in a slot; one that runs past its slot's end is
   * copied to the stitch buffer (its start, then the rest from the next slot), and parsing returns to that
   * slot, in place, once the stitched record is consumed.
   */
  private fillAhead(ahead: ReadAhead, n: number): boolean {
    if (this.inStitch && this.pos === this.end && this.slot !== null) {
      this.inStitch = false;
      this.buf = this.slot.view;
      this.base = this.slot.fileOffset;
      this.pos = this.slotPos;
      this.end = this.slot.length;
      if (this.end - this.pos >= n) return true;
    }
    const have = this.end - this.pos;
    if (!this.inStitch || this.pos > 0 || n > this.buf.length) {
      let stitch = this.stitchBuffer;
      if (n > stitch.length) stitch = Buffer.allocUnsafe(Math.max(n, stitch.length * 2));
      this.buf.copy(stitch, 0, this.pos, this.end);
      this.base += this.pos;
      this.pos = 0;
      this.end = have;
      this.buf = stitch;
      this.stitchBuffer = stitch;
      if (!this.inStitch && this.slot !== null) {
        // Everything of this slot before the record was delivered; the record's start is now in the stitch.
        ahead.release(this.slot);
        this.slot = null;
      }
      this.inStitch = true;
    }
    while (this.end < n && !this.eof) {
      let slot = this.slot;
      if (slot === null || this.slotPos === slot.length) {
        if (slot !== null) ahead.release(slot);
        this.slot = null;
        try {
          slot = ahead.next();
        } catch (e) {
          this.fail('FILE_UNREADABLE', this.base + this.end, `read failed (${e instanceof ReadAheadError ? e.code : errorText(e)})`);
        }
        if (slot === null) {
          this.eof = true;
          break;
        }
        this.slot = slot;
        this.slotPos = 0;
      }
      const take = Math.min(n - this.end, slot.length - this.slotPos);
      slot.view.copy(this.buf, this.end, this.slotPos, this.slotPos + take);
      this.end += take;
      this.slotPos += take;
    }
    return this.end >= n;
  }

  /** Skips n bytes without holding them in memory (for large blocks we do not parse); false at early end of file. */
  private discard(n: number): boolean {
    for (;;) {
      const take = Math.min(n, this.end - this.pos);
      this.pos += take;
      n -= take;
      if (n === 0) return true;
      if (!this.fill(Math.min(n, this.buf.length)) && this.end === this.pos) return false;
    }
  }

  private fail(code: ErrorCode, offset: number, what: string): never {
    const err = new RustnetError(code, `${this.path}: ${what} at byte ${offset}`);
    this.failed = err;
    throw err;
  }

  private u16(buf: Buffer, at: number): number {
    return this.le ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  private u32(buf: Buffer, at: number): number {
    return this.le ? u32le(buf, at) : u32(buf, at);
  }

  // ---- file header ----

  private readFileHeader(): void {
    if (!this.fill(4)) {
      const have = this.end;
      if (have === 0) {
        throw new RustnetError('FILE_FORMAT', `${this.path}: file is empty (0 bytes), not a pcap or pcapng capture`);
      }
      const head = this.buf.subarray(0, have);
      const isPrefix = KNOWN_MAGICS.some((m) => {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(m);
        return b.subarray(0, have).equals(head);
      });
      throw new RustnetError(
        isPrefix ? 'FILE_TRUNCATED' : 'FILE_FORMAT',
        isPrefix
          ? `${this.path}: file header cut short (${have} bytes)`
          : `${this.path}: not a pcap or pcapng capture (only ${have} bytes)`,
      );
    }
    const magic = this.buf.readUInt32LE(0);
    switch (magic) {
      case 0xa1b2c3d4: return this.readPcapHeader(true, false, 16);
      case 0xd4c3b2a1: return this.readPcapHeader(false, false, 16);
      case 0xa1b23c4d: return this.readPcapHeader(true, true, 16);
      case 0x4d3cb2a1: return this.readPcapHeader(false, true, 16);
      // Kuznetzov's modified pcap (old Red Hat tcpdump): 8 more bytes per record header.
      case 0xa1b2cd34: return this.readPcapHeader(true, false, 24);
      case 0x34cdb2a1: return this.readPcapHeader(false, false, 24);
      case BLOCK_SHB: return this.readPcapngStart();
      default: {
        const hex = this.buf.subarray(0, 4).toString('hex');
        const hint = this.buf[0] === 0x1f && this.buf[1] === 0x8b ? '; it looks gzip-compressed, decompress it first' : '';
        throw new RustnetError('FILE_FORMAT', `${this.path}: not a pcap or pcapng capture (starts with 0x${hex})${hint}`);
      }
    }
  }

  private readPcapHeader(le: boolean, nanos: boolean, recordHeaderLength: number): void {
    this.fileFormat = 'pcap';
    this.le = le;
    this.nanos = nanos;
    this.recordHeaderLength = recordHeaderLength;
    if (!this.fill(PCAP_HEADER_LENGTH)) {
      throw new RustnetError(
        'FILE_TRUNCATED',
        `${this.path}: pcap file header cut short (${this.end} of ${PCAP_HEADER_LENGTH} bytes)`,
      );
    }
    // The upper bits of the link-type field hold FCS flags, not the link type.
    this.firstLinkType = this.u32(this.buf, 20) & 0xffff;
    this.pos = PCAP_HEADER_LENGTH;
  }

  private readPcapngStart(): void {
    this.fileFormat = 'pcapng';
    try {
      this.ngBlock(noopSink);
    } catch (e) {
      // A bad first section header means the file is not usable pcapng at all.
      if (e instanceof RustnetError && e.code === 'FILE_CORRUPT') {
        throw new RustnetError('FILE_FORMAT', e.message.replace(/ at byte 0$/, ' (section header)'));
      }
      throw e;
    }
    // Look ahead to the first interface so linkType is known before any packet is read. Damage found
    // here is kept for read(), which reports it in order after the (zero) frames before it.
    try {
      while (this.interfaces.length === 0) {
        if (!this.fill(8)) break;
        const type = this.u32(this.buf, this.pos);
        if (type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_OPB) break;
        if (this.ngBlock(noopSink) < 0) break;
      }
    } catch (e) {
      if (!(e instanceof RustnetError)) throw e;
    }
    const first = this.interfaces[0];
    if (first !== undefined) this.firstLinkType = first.linkType;
  }

  // ---- classic pcap ----

  private readPcap(sink: FrameSink, maxFrames: number): number {
    const hdr = this.recordHeaderLength;
    const le = this.le;
    const nanos = this.nanos;
    const linkType = this.firstLinkType;
    let n = 0;
    while (n < maxFrames) {
      if (this.end - this.pos < hdr && !this.fill(hdr)) {
        if (this.end === this.pos) break;
        this.fail(
          'FILE_TRUNCATED',
          this.base + this.pos,
          `pcap record header cut short (${this.end - this.pos} of ${hdr} bytes before end of file)`,
        );
      }
      let buf = this.buf;
      let p = this.pos;
      const capLength = le ? u32le(buf, p + 8) : u32(buf, p + 8);
      if (capLength > MAX_CAPTURED_LENGTH) {
        this.fail(
          'FILE_CORRUPT',
          this.base + p,
          `pcap record claims ${capLength} captured bytes (limit ${MAX_CAPTURED_LENGTH})`,
        );
      }
      const total = hdr + capLength;
      if (this.end - p < total) {
        if (!this.fill(total)) {
          this.fail(
            'FILE_TRUNCATED',
            this.base + this.pos,
            `pcap record cut short (${this.end - this.pos - hdr} of ${capLength} captured bytes before end of file)`,
          );
        }
        buf = this.buf;
        p = this.pos;
      }
      const sec = le ? u32le(buf, p) : u32(buf, p);
      const frac = le ? u32le(buf, p + 4) : u32(buf, p + 4);
      const origLength = le ? u32le(buf, p + 12) : u32(buf, p + 12);
      this.pos = p + total;
      this.frames++;
      n++;
      sink(
        buf,
        p + hdr,
        capLength,
        // Some writers store orig_len < incl_len; downstream code relies on wire >= captured.
        origLength < capLength ? capLength : origLength,
        linkType,
        sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      );
    }
    return n;
  }

  // ---- pcapng ----

  private readPcapng(sink: FrameSink, maxFrames: number): number {
    let n = 0;
    while (n < maxFrames) {
      const r = this.ngBlock(sink);
      if (r < 0) break;
      n += r;
    }
    return n;
  }

  /** Consumes one block: 1 if it delivered a frame, 0 for any other block, -1 at a clean end of file. */
  private ngBlock(sink: FrameSink): number {
    if (this.end - this.pos < 12 && !this.fill(12)) {
      if (this.end === this.pos) return -1;
      this.fail(
        'FILE_TRUNCATED',
        this.base + this.pos,
        `pcapng block header cut short (${this.end - this.pos} bytes before end of file)`,
      );
    }
    let buf = this.buf;
    let p = this.pos;
    const at = this.base + p;
    // The section header type reads the same in both byte orders; its byte-order magic decides how
    // to read everything after it, including its own length.
    const type = this.u32(buf, p);
    if (type === BLOCK_SHB) {
      const bom = buf.readUInt32LE(p + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else this.fail('FILE_CORRUPT', at, `pcapng section header has bad byte-order magic 0x${bom.toString(16)}`);
    }
    const len = this.u32(buf, p + 4);
    if (len < 12 || (len & 3) !== 0) {
      this.fail('FILE_CORRUPT', at, `pcapng block length ${len} is invalid (must be a multiple of 4 and at least 12)`);
    }
    const parsed =
      type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_IDB || type === BLOCK_SHB || type === BLOCK_OPB;
    if (!parsed && len > this.buf.length) {
      // Skip blocks we do not parse (name resolution, statistics, custom, ...) without buffering them.
      if (!this.discard(len - 4) || !this.fill(4)) {
        this.fail('FILE_TRUNCATED', at, `pcapng block of ${len} bytes cut short by end of file`);
      }
      const trailer = this.u32(this.buf, this.pos);
      if (trailer !== len) {
        this.fail('FILE_CORRUPT', at, `pcapng block trailing length ${trailer} does not match leading length ${len}`);
      }
      this.pos += 4;
      return 0;
    }
    if (parsed && len > MAX_BUFFERED_BLOCK) {
      this.fail('FILE_CORRUPT', at, `pcapng block length ${len} is implausibly large`);
    }
    if (this.end - p < len) {
      if (!this.fill(len)) {
        this.fail(
          'FILE_TRUNCATED',
          at,
          `pcapng block cut short (${this.end - this.pos} of ${len} bytes before end of file)`,
        );
      }
      buf = this.buf;
      p = this.pos;
    }
    const trailer = this.u32(buf, p + len - 4);
    if (trailer !== len) {
      this.fail('FILE_CORRUPT', at, `pcapng block trailing length ${trailer} does not match leading length ${len}`);
    }
    this.pos = p + len;

    if (type === BLOCK_EPB || type === BLOCK_OPB) {
      if (len < 32) this.fail('FILE_CORRUPT', at, `pcapng packet block too short (${len} bytes)`);
      const ifId = type === BLOCK_EPB ? this.u32(buf, p + 8) : this.u16(buf, p + 8);
      const itf = this.interfaces[ifId];
      if (itf === undefined) {
        this.fail(
          'FILE_CORRUPT',
          at,
          `pcapng packet block names interface ${ifId}, but its section defines ${this.interfaces.length}`,
        );
      }
      const capLength = this.u32(buf, p + 20);
      if (capLength > len - 32 || capLength > MAX_CAPTURED_LENGTH) {
        this.fail('FILE_CORRUPT', at, `pcapng packet block claims ${capLength} captured bytes in a ${len}-byte block`);
      }
      const origLength = this.u32(buf, p + 24);
      const ts = this.tsOf(itf, this.u32(buf, p + 12), this.u32(buf, p + 16));
      this.lastTs = ts;
      this.frames++;
      sink(buf, p + 28, capLength, origLength < capLength ? capLength : origLength, itf.linkType, ts);
      return 1;
    }
    if (type === BLOCK_SPB) {
      if (len < 16) this.fail('FILE_CORRUPT', at, `pcapng simple packet block too short (${len} bytes)`);
      const itf = this.interfaces[0];
      if (itf === undefined) {
        this.fail('FILE_CORRUPT', at, 'pcapng simple packet block before any interface description');
      }
      const origLength = this.u32(buf, p + 8);
      const capLength = Math.min(origLength, len - 16);
      if (capLength > MAX_CAPTURED_LENGTH) {
        this.fail('FILE_CORRUPT', at, `pcapng simple packet block claims ${capLength} captured bytes`);
      }
      this.frames++;
      sink(buf, p + 12, capLength, origLength, itf.linkType, this.lastTs);
      return 1;
    }
    if (type === BLOCK_IDB) {
      if (len < 20) this.fail('FILE_CORRUPT', at, `pcapng interface description block too short (${len} bytes)`);
      this.addInterface(buf, p, len, at);
      return 0;
    }
    if (type === BLOCK_SHB) {
      if (len < 28) this.fail('FILE_CORRUPT', at, `pcapng section header too short (${len} bytes)`);
      const major = this.u16(buf, p + 12);
      if (major !== 1) this.fail('FILE_CORRUPT', at, `unsupported pcapng version ${major}.${this.u16(buf, p + 14)}`);
      // Interface ids are per section.
      this.interfaces.length = 0;
      return 0;
    }
    return 0; // another block type that fit in the buffer: skipped
  }

  private addInterface(buf: Buffer, p: number, len: number, at: number): void {
    const linkType = this.u16(buf, p + 8);
    let res = 6;
    let offsetSeconds = 0;
    let o = p + 16;
    const optEnd = p + len - 4;
    while (o + 4 <= optEnd) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      if (code === OPT_END) break;
      if (o + 4 + olen > optEnd) {
        this.fail('FILE_CORRUPT', at, `pcapng interface option ${code} runs past the end of its block`);
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        res = buf.readUInt8(o + 4);
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        offsetSeconds = Number(this.le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4));
      }
      o += 4 + ((olen + 3) & ~3);
    }
    const itf: PcapngInterface = { linkType, offsetMicros: offsetSeconds * 1e6, div: 1, quot: 0, rem: 0, slowRes: res };
    if ((res & 0x80) === 0 && res >= 6 && res <= 12) {
      itf.div = 10 ** (res - 6);
      itf.quot = Math.floor(TWO_POW_32 / itf.div);
      itf.rem = TWO_POW_32 - itf.quot * itf.div;
      itf.slowRes = -1;
    }
    this.interfaces.push(itf);
  }

  /**
   * Microseconds since the epoch from a 64-bit timestamp in interface units. For 10^-6..10^-12 it
   * uses 2^32 = quot*div + rem, so floor((high*2^32 + low)/div) = high*quot + floor((high*rem + low)/div)
   * with every term exact in a double; nanosecond values themselves exceed 2^53.
   */
  private tsOf(itf: PcapngInterface, high: number, low: number): number {
    const slowRes = itf.slowRes;
    if (slowRes < 0) {
      const div = itf.div;
      const whole = div === 1 ? high * TWO_POW_32 + low : high * itf.quot + Math.floor((high * itf.rem + low) / div);
      return whole + itf.offsetMicros;
    }
    const units = (BigInt(high) << 32n) | BigInt(low);
    let micros: bigint;
    if ((slowRes & 0x80) !== 0) micros = (units * 1000000n) >> BigInt(slowRes & 0x7f);
    else if (slowRes < 6) micros = units * 10n ** BigInt(6 - slowRes);
    else micros = units / 10n ** BigInt(slowRes - 6);
    return Number(micros) + itf.offsetMicros;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function openError(path: string, e: unknown): RustnetError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new RustnetError('FILE_NOT_FOUND', `${path}: no such file`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new RustnetError('FILE_UNREADABLE', `${path}: permission denied`);
  }
  if (code === 'EISDIR') {
    return new RustnetError('FILE_UNREADABLE', `${path}: is a directory, not a capture file`);
  }
  return new RustnetError('FILE_UNREADABLE', `${path}: cannot open (${errorText(e)})`);
}
