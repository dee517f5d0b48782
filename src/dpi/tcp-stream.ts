// TcpStream: one direction's TCP payload put back in sequence order, with retransmissions dropped and overlaps trimmed.


const EMPTY = new Uint8Array(0);

/** What push() made of one segment. */
export const Arrival = {
  /** Nothing new: every byte was received before (a retransmission), or a full stream has no room. */
  OLD: 0,
  /** New in-order bytes; in the pushed buffer they start at `fresh` (an overlap before it was trimmed). */
  NEXT: 1,
  /** Early: bytes before it are missing, and it is held until they arrive. */
  HELD: 2,
  /** Early and not held; see TcpStream for what happens to the stream. */
  GAP: 3,
} as const;

interface Early {
  seq: number;
  bytes: Uint8Array;
}

/**
 * One direction of a TCP connection as a byte stream. Sequence numbers compare as the signed
 * difference modulo 2^32 (RFC 9293 §3.4), so the stream follows them across the wrap.
 *
 * With `keep` = 0 it is a cursor for readers that parse each segment where it lies: push() says
 * which bytes of the segment are new. Such a reader cannot wait for missing bytes, so after a gap
 * the stream goes on from the segment that arrived (push() says GAP; `fresh` is its first byte).
 *
 * With `keep` > 0 the first `keep` stream bytes are copied to `data` in order and nothing past them
 * is taken. The stream waits for missing bytes: up to `hold` early segments (and `keep` bytes of
 * them) are held until the gap before them fills; what cannot be held is dropped (GAP).
 *
 * The stream starts at the sequence number given to start(); segments pushed before that are
 * held like early ones (so with `hold` = 0 they are dropped).
 */
export class TcpStream {
  /** Kept stream bytes are data[0..kept); the reader may rewrite them in place, the stream only appends. */
  data: Uint8Array = EMPTY;
  kept = 0;
  started = false;
  /** After push() returned NEXT, or GAP on a stream with `keep` = 0: where the new bytes start in the pushed buffer. */
  fresh = 0;
  /** Sequence number of the next in-order byte. */
  private next = 0;
  private early: Early[] = [];
  private earlyBytes = 0;

  constructor(
    private readonly keep = 0,
    private readonly hold = 0,
  ) {}

  /** A keeping stream that took all it may. */
  get full(): boolean {
    return this.keep > 0 && this.kept >= this.keep;
  }

  /** Begin (or begin again) at `seq`: bytes before it are old; held segments after it are taken in. */
  start(seq: number): void {
    this.started = true;
    this.next = seq >>> 0;
    this.takeEarly();
  }

  /** Take one segment: buf[off..off+len) starting at sequence number `seq`. Returns an Arrival. */
  push(buf: Uint8Array, off: number, len: number, seq: number): number {
    if (len <= 0) return Arrival.OLD;
    seq >>>= 0;
    if (!this.started) return this.holdEarly(buf, off, len, seq, Infinity);
    const rel = (seq - this.next) | 0;
    if (rel > 0) {
      if (this.keep > 0) return this.holdEarly(buf, off, len, seq, this.keep - this.kept);
      // Nothing is kept to wait with: skip the missing bytes.
      this.next = (seq + len) >>> 0;
      this.fresh = off;
      return Arrival.GAP;
    }
    if (!this.take(buf, off - rel, len + rel)) return Arrival.OLD;
    this.fresh = off - rel;
    this.takeEarly();
    return Arrival.NEXT;
  }

  /** Free what is kept and held; the stream is not used afterwards. */
  release(): void {
    this.data = EMPTY;
    this.early = [];
    this.earlyBytes = 0;
  }

  /** Append in-order bytes (n <= 0 means all were old); false when nothing was new or there is no room. */
  private take(src: Uint8Array, off: number, n: number): boolean {
    if (n <= 0) return false;
    if (this.keep > 0) {
      if (n > this.keep - this.kept) n = this.keep - this.kept;
      if (n <= 0) return false;
      this.reserve(this.kept + n);
      this.data.set(src.subarray(off, off + n), this.kept);
      this.kept += n;
    }
    this.next = (this.next + n) >>> 0;
    return true;
  }

  private reserve(size: number): void {
    if (size <= this.data.length) return;
    let cap = Math.max(this.data.length * 2, 256);
    while (cap < size) cap *= 2;
    const next = new Uint8Array(Math.min(cap, this.keep));
    next.set(this.data.subarray(0, this.kept));
    this.data = next;
  }

  /** Hold a copy of an early segment that starts less than `window` bytes ahead; GAP when it cannot be. */
  private holdEarly(buf: Uint8Array, off: number, len: number, seq: number, window: number): number {
    if (this.started && ((seq - this.next) | 0) >= window) return Arrival.GAP;
    const early = this.early;
    for (let i = 0; i < early.length; i++) {
      const e = early[i]!;
      if (e.seq === seq && e.bytes.length >= len) return Arrival.HELD;
    }
    if (early.length >= this.hold || this.earlyBytes + len > this.keep) return Arrival.GAP;
    early.push({ seq, bytes: buf.slice(off, off + len) });
    this.earlyBytes += len;
    return Arrival.HELD;
  }

  /** Take in every held segment the stream has reached, in whatever order they came. */
  private takeEarly(): void {
    for (let i = 0; i < this.early.length; ) {
      const e = this.early[i]!;
      const rel = (e.seq - this.next) | 0;
      if (rel > 0) {
        i++;
        continue;
      }
      this.take(e.bytes, -rel, e.bytes.length + rel);
      this.earlyBytes -= e.bytes.length;
      this.early.splice(i, 1);
      // The stream may now reach segments passed over before.
      i = 0;
    }
  }
}
