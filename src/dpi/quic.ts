// QUIC classifier: long/short headers, client Initials opened for SNI/ALPN, states, and flows joined mid-stream.

import { newAppInfo, type AppInfo, type AppProtocol, type DpiConfidence } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { parseClientHello } from './client-hello.js';
import { wireText, wireToken } from './wire-text.js';
import {
  GQUIC_T050,
  LongType,
  deriveInitialKeysAt,
  gquicVersionTag,
  longPacketType,
  openLongHeaderPacket,
  quicVersionInfo,
  quicVersionName,
  type InitialKeys,
  type QuicVersionInfo,
} from './quic-crypto.js';

/** RFC 9000 §17.2: v1 (and v2, drafts) connection IDs are at most 20 bytes. */
const MAX_CID_LEN = 20;
/** RFC 9001 §5.4.2: packet number offset + 4 + 16-byte sample; with an empty DCID the smallest packet is 21 bytes. */
const MIN_SHORT_PACKET = 21;
/** Payload (packet number + frames + tag) must hold 4 + 16 bytes for the header protection sample (RFC 9001 §5.4.2). */
const MIN_PROTECTED_LENGTH = 20;
/** Give up after this many datagrams: the handshake is over long before in practice. */
const MAX_DATAGRAMS = 30;
/** Bound on the reassembled CRYPTO stream; a bigger ClientHello is given up on. */
const MAX_CRYPTO_BYTES = 64 * 1024;
/** Bound on disjoint CRYPTO fragments held while waiting for gaps to fill. */
const MAX_CRYPTO_RANGES = 32;
/** Distinct (version, DCID) key sets derived per flow (Retry and version negotiation each add one). */
const MAX_KEY_SETS = 8;
/** Initial packets we try to open per datagram (a client coalesces one, rarely two). */
const MAX_OPENS_PER_DATAGRAM = 4;
const HTTPS_PORT = 443;

// Mid-stream recognition: a capture that starts after the handshake sees only short-header (1-RTT)
// packets, whose only cleartext is the first byte's form and fixed bits and the Destination Connection
// ID (RFC 9000 §17.3.1); everything after it is protected (RFC 9001 §5.4).
/** Datagrams a flow without a long header is watched for before QUIC gives it up. */
const MIDSTREAM_WINDOW = 8;
/** Short-header packets needed in all, at least two of them in the direction whose DCID repeats. */
const MIDSTREAM_PACKETS = 3;
/** Shortest repeated DCID taken as one: with fewer bytes a repeat says too little. */
const MIN_MIDSTREAM_CID = 4;
/** AEAD tag length (RFC 9001 §5.3: AEAD_AES_128_GCM and the others QUIC uses have 16-byte tags). */
const TAG_LEN = 16;
/** Bytes kept of the first packet of a run: the largest DCID and one byte more. */
const RUN_REF = MAX_CID_LEN + 1;

/** Pseudo long-header type for Version Negotiation (version 0), next to LongType's 0..3. */
const VERSION_NEGOTIATION = 4;
/** Long header whose version we do not know: its type bits and length cannot be interpreted. */
const UNKNOWN_TYPE = -1;

/** Connection states in the order they can only advance (RFC 9000 §10.2 closing/draining are terminal). */
const Rank = { NONE: 0, INITIAL: 1, HANDSHAKE: 2, CONNECTED: 3, CLOSED: 4 } as const;

// Scratch results of readVarint/parseLongHeader: detect() must not allocate and JS is single-threaded.
let varintEnd = 0;
const hdr = {
  version: 0,
  info: undefined as QuicVersionInfo | undefined,
  type: UNKNOWN_TYPE as number,
  dcidOff: 0,
  dcidLen: 0,
  scidOff: 0,
  scidLen: 0,
  pnOffset: 0,
  end: 0,
};

/** RFC 9000 §16 variable-length integer at p; -1 when truncated (then varintEnd is unchanged). */
function readVarint(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const first = b[p]!;
  const len = 1 << (first >> 6);
  if (p + len > end) return -1;
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[p + i]!;
  varintEnd = p + len;
  return v;
}

/**
 * Parse the long header starting at p into `hdr` (RFC 9000 §17.2); false if malformed or truncated.
 * For types with a Length field, hdr.end is the packet's end (coalesced packets follow, §12.2);
 * for Retry, Version Negotiation and unknown versions the packet runs to the datagram's end.
 */
function parseLongHeader(b: Uint8Array, p: number, end: number): boolean {
  if (p + 7 > end) return false;
  const first = b[p]!;
  const version = ((b[p + 1]! << 24) | (b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!) >>> 0;
  const dcidLen = b[p + 5]!;
  if (dcidLen > MAX_CID_LEN) return false;
  const dcidOff = p + 6;
  const scidLenAt = dcidOff + dcidLen;
  if (scidLenAt >= end) return false;
  const scidLen = b[scidLenAt]!;
  if (scidLen > MAX_CID_LEN) return false;
  const scidOff = scidLenAt + 1;
  let q = scidOff + scidLen;
  if (q > end) return false;
  hdr.version = version;
  hdr.dcidOff = dcidOff;
  hdr.dcidLen = dcidLen;
  hdr.scidOff = scidOff;
  hdr.scidLen = scidLen;
  hdr.pnOffset = 0;
  hdr.end = end;
  if (version === 0) {
    // RFC 9000 §17.2.1: a non-empty list of 32-bit versions, none of them 0 (reserved for this packet).
    const rest = end - q;
    if (rest < 4 || (rest & 3) !== 0) return false;
    for (; q < end; q += 4) {
      if ((b[q]! | b[q + 1]! | b[q + 2]! | b[q + 3]!) === 0) return false;
    }
    hdr.info = undefined;
    hdr.type = VERSION_NEGOTIATION;
    return true;
  }
  const known = quicVersionInfo(version);
  // Google QUIC versions whose handshake is a CHLO (Q050) belong to gquic.ts: nothing here to open.
  const info = known !== undefined && known.handshake === 'tls' ? known : undefined;
  hdr.info = info;
  if (info === undefined) {
    hdr.type = UNKNOWN_TYPE;
    return true;
  }
  const type = longPacketType(first, info.v2);
  hdr.type = type;
  if (type === LongType.RETRY) {
    // RFC 9000 §17.2.5: Retry Token then a 16-byte Retry Integrity Tag.
    return end - q >= 16;
  }
  if (type === LongType.INITIAL) {
    // RFC 9000 §17.2.2: Token Length and Token come before Length in Initial packets only.
    const tokenLen = readVarint(b, q, end);
    if (tokenLen < 0 || varintEnd + tokenLen > end) return false;
    q = varintEnd + tokenLen;
  }
  const length = readVarint(b, q, end);
  if (length < MIN_PROTECTED_LENGTH || varintEnd + length > end) return false;
  hdr.pnOffset = varintEnd;
  hdr.end = varintEnd + length;
  return true;
}

function onHttpsPort(ctx: DpiContext): boolean {
  return ctx.srcPort === HTTPS_PORT || ctx.dstPort === HTTPS_PORT;
}

/** Per-byte counts for tagLooksRandom (always left zeroed). */
const byteCounts = new Uint8Array(256);

/**
 * Whether the 16 bytes at b[at..at+16) could be an AEAD tag: cipher output is never all text (printable
 * ASCII, tab, CR, LF: odds (98/256)^16, about 2e-7) and repeats no byte value five times (odds about
 * 1e-6). Tells QUIC's protected packets from text protocols and zero-padded ones whose first byte
 * happens to look right.
 */
function tagLooksRandom(b: Uint8Array, at: number): boolean {
  let printable = true;
  let most = 0;
  for (let i = at; i < at + TAG_LEN; i++) {
    const c = b[i]!;
    if ((c < 0x20 || c > 0x7e) && c !== 0x09 && c !== 0x0a && c !== 0x0d) printable = false;
    const n = ++byteCounts[c]!;
    if (n > most) most = n;
  }
  for (let i = at; i < at + TAG_LEN; i++) byteCounts[b[i]!] = 0;
  return !printable && most <= 4;
}

/**
 * The shape a 1-RTT packet has without keys (RFC 9000 §17.3.1): header form 0, fixed bit 1, long enough
 * for the header protection sample (RFC 9001 §5.4.2), ending in something that can be an AEAD tag.
 */
function shortHeaderShape(b: Uint8Array, p: number, end: number): boolean {
  return (b[p]! & 0xc0) === 0x40 && end - p >= MIN_SHORT_PACKET && tagLooksRandom(b, end - TAG_LEN);
}

/**
 * Short-header packets of a flow seen without its handshake, per direction. The DCID has no length
 * field: its length is what every packet of a direction repeats after the first byte, since the bytes
 * that follow it (packet number, then ciphertext) differ from packet to packet. Header protection
 * (RFC 9001 §5.4.1) also masks the first byte's low five bits with bits of a per-packet mask, so across
 * packets they take different values, where a protocol with a fixed first byte repeats it.
 */
class ShortHeaderRuns {
  /** Per direction (0: from the tracker's client, 1: the other), RUN_REF bytes after the first byte of its run's first packet. */
  private readonly ref = new Uint8Array(2 * RUN_REF);
  /** How many bytes after the first every packet of the direction's run repeated. */
  private readonly prefix = new Int32Array(2);
  /** Packets in the direction's current run. */
  private readonly count = new Int32Array(2);
  /** Length of the run's shortest packet. */
  private readonly shortest = new Int32Array(2);
  /** Bit v set: some packet's first byte had low five bits v. */
  private firstBits = 0;
  private packets = 0;

  /** Add one short-header packet b[p..end); true once the flow shows QUIC's shape. */
  add(b: Uint8Array, p: number, end: number, fromClient: boolean): boolean {
    const d = fromClient ? 0 : 1;
    const base = d * RUN_REF;
    const n = Math.min(end - p - 1, RUN_REF);
    this.packets++;
    this.firstBits |= 1 << (b[p]! & 0x1f);
    let same = 0;
    if (this.count[d]! > 0) {
      const limit = Math.min(this.prefix[d]!, n);
      while (same < limit && b[p + 1 + same] === this.ref[base + same]) same++;
    }
    if (this.count[d] === 0 || same < MIN_MIDSTREAM_CID) {
      // The direction's first packet, or its DCID changed (RFC 9000 §5.1.2: an endpoint may move to
      // another connection ID its peer issued): a new run starts here.
      for (let i = 0; i < n; i++) this.ref[base + i] = b[p + 1 + i]!;
      this.prefix[d] = n;
      this.count[d] = 1;
      this.shortest[d] = end - p;
    } else {
      this.prefix[d] = same;
      this.count[d]!++;
      if (end - p < this.shortest[d]!) this.shortest[d] = end - p;
    }
    return this.recognised(0) || this.recognised(1);
  }

  private recognised(d: number): boolean {
    // Never on one packet, nor on one direction's pair alone; and header protection must have shown.
    if (this.packets < MIDSTREAM_PACKETS || this.count[d]! < 2 || (this.firstBits & (this.firstBits - 1)) === 0) return false;
    const cid = this.prefix[d]!;
    // More than MAX_CID_LEN repeated bytes: what follows the DCID is not protected, so this is no QUIC.
    // RFC 9001 §5.4.2: every packet holds the 4 + 16 bytes of the sample after the DCID and first byte.
    return cid >= MIN_MIDSTREAM_CID && cid <= MAX_CID_LEN && this.shortest[d]! >= MIN_SHORT_PACKET + cid;
  }
}

/** Rank of a confidence, to upgrade a label and never downgrade it. */
function confidenceRank(c: DpiConfidence): number {
  return c === 'content' ? 2 : c === 'mid-stream' ? 1 : 0;
}

/** CRYPTO stream reassembly by offset (RFC 9000 §19.6): fragments may arrive out of order, repeated or overlapping. */
class CryptoStream {
  private data = new Uint8Array(0);
  /** Sorted, disjoint, non-adjacent [start, end) pairs that hold data. */
  private readonly ranges: number[] = [];
  /** Set when the fragments could not be tracked within bounds. */
  failed = false;

  add(src: Uint8Array, srcOff: number, length: number, offset: number): void {
    const end = offset + length;
    if (length <= 0 || end > MAX_CRYPTO_BYTES) return;
    if (end > this.data.length) {
      let cap = Math.max(this.data.length, 2048);
      while (cap < end) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, MAX_CRYPTO_BYTES));
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(src.subarray(srcOff, srcOff + length), offset);
    // Insert [offset, end) and merge with every range it overlaps or touches.
    const r = this.ranges;
    let s = offset;
    let e = end;
    let i = 0;
    while (i < r.length && r[i + 1]! < s) i += 2;
    let j = i;
    while (j < r.length && r[j]! <= e) {
      s = Math.min(s, r[j]!);
      e = Math.max(e, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, s, e);
    if (r.length > MAX_CRYPTO_RANGES * 2) this.failed = true;
  }

  /** Bytes available contiguously from offset 0. */
  contiguous(): number {
    return this.ranges.length > 0 && this.ranges[0] === 0 ? this.ranges[1]! : 0;
  }

  bytes(): Uint8Array {
    return this.data;
  }
}

/** Client Initial keys for one (version, DCID): one set per candidate salt until one authenticates. */
interface KeyEntry {
  readonly version: number;
  readonly dcid: Uint8Array;
  sets: InitialKeys[];
  /** These keys opened an Initial of the flow. */
  opened: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number, len: number): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

class QuicSession implements ClassifierSession {
  app: AppInfo | null = null;
  private datagrams = 0;
  private rank: number = Rank.NONE;
  /** ctx.fromClient of the datagrams whose Initials opened with client keys: the real client's side. */
  private clientDir: boolean | null = null;
  /**
   * ctx.fromClient of the first Initial we tried to open. Until one opens, only that direction is tried:
   * a failed attempt costs a key derivation and an AEAD pass, and the other direction is almost always
   * the server, whose Initials client keys cannot open.
   */
  private triedDir: boolean | null = null;
  /** Once true the ClientHello was found (or given up on): nothing is decrypted any more. */
  private helloDone = false;
  private crypto: CryptoStream | null = null;
  /** Version of the client Initials feeding `crypto`. */
  private cryptoVersion = -1;
  /** Client Initial keys per version and DCID: a Retry (RFC 9000 §17.2.5) makes the client switch DCID. */
  private keys: KeyEntry[] | null = null;
  /** A long header was seen: the flow is followed from (near) its handshake, not recognised mid-stream. */
  private sawLong = false;
  /** Mid-stream evidence, while the flow has shown short headers only. */
  private runs: ShortHeaderRuns | null = null;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.datagrams++;
    const end = Math.min(off + len, buf.length);
    let p = Math.max(off, 0);
    if (!this.sawLong && p < end && (buf[p]! & 0x80) === 0) return this.feedMidStream(buf, p, end, ctx);
    let opens = 0;
    // RFC 9000 §12.2: a datagram may carry several coalesced long-header packets, then at most one short-header packet.
    while (p < end) {
      const first = buf[p]!;
      if ((first & 0x80) === 0) {
        // RFC 9000 §17.3.1 fixed bit: it tells a trailing short-header packet from zero padding after coalesced packets.
        if ((first & 0x40) !== 0 && end - p >= MIN_SHORT_PACKET) this.onShortHeader(ctx);
        break;
      }
      if (!parseLongHeader(buf, p, end)) break;
      const version = hdr.version;
      const type = hdr.type;
      const info = hdr.info;
      const pktEnd = hdr.end;
      this.sawLong = true;
      // A version we know (or Version Negotiation) is QUIC by its content; an unknown one came in on the port.
      const app = this.ensureApp(info !== undefined || type === VERSION_NEGOTIATION ? 'content' : 'port');
      if (type === VERSION_NEGOTIATION) {
        // The server answered an Initial in a version it does not speak (RFC 9000 §6): still initial.
        this.advance(Rank.INITIAL, 'QUIC_INITIAL');
        break;
      }
      app.details.quic_version = quicVersionName(version);
      if (type === LongType.INITIAL && info !== undefined) {
        const pnOffset = hdr.pnOffset;
        const dcidOff = hdr.dcidOff;
        const dcidLen = hdr.dcidLen;
        let opened = false;
        const dir = this.clientDir ?? this.triedDir;
        if (!this.helloDone && opens < MAX_OPENS_PER_DATAGRAM && (dir === null || ctx.fromClient === dir)) {
          opens++;
          this.triedDir = ctx.fromClient;
          opened = this.openClientInitial(buf, p, pnOffset, pktEnd, info, dcidOff, dcidLen, ctx);
        }
        if (!opened && !this.isClientSide(ctx)) this.advance(Rank.HANDSHAKE, 'QUIC_HANDSHAKE');
        else this.advance(Rank.INITIAL, 'QUIC_INITIAL');
      } else if (type === LongType.HANDSHAKE) {
        this.advance(Rank.HANDSHAKE, 'QUIC_HANDSHAKE');
      } else {
        // 0-RTT travels with the client's Initial, Retry answers it, and an unknown version is most likely a first Initial.
        this.advance(Rank.INITIAL, 'QUIC_INITIAL');
      }
      if (pktEnd <= p) break;
      p = pktEnd;
    }
    if (this.app === null) return Verdict.REJECT;
    // Closing/draining is final; once 1-RTT flows both ways the Initials are over and nothing more is decryptable.
    if (this.rank >= Rank.CONNECTED) return Verdict.DONE;
    if (this.datagrams >= MAX_DATAGRAMS) return Verdict.DONE;
    return Verdict.MORE;
  }

  /** The label, created or raised to `confidence` (never lowered). */
  private ensureApp(confidence: DpiConfidence): AppInfo {
    if (this.app === null) this.app = newAppInfo('QUIC', confidence);
    else if (confidenceRank(confidence) > confidenceRank(this.app.confidence)) this.app.confidence = confidence;
    return this.app;
  }

  /**
   * A flow seen from a short-header packet on, with no long header yet: QUIC only once its packets show
   * the 1-RTT shape (ShortHeaderRuns) within the first MIDSTREAM_WINDOW datagrams; anything else is not
   * QUIC. A long header ends this (feed() takes it the usual way).
   */
  private feedMidStream(buf: Uint8Array, p: number, end: number, ctx: DpiContext): number {
    if (!shortHeaderShape(buf, p, end)) return Verdict.REJECT;
    const runs = (this.runs ??= new ShortHeaderRuns());
    if (runs.add(buf, p, end, ctx.fromClient)) {
      this.runs = null;
      this.ensureApp('mid-stream');
      // 1-RTT packets both ways, or many one way: the handshake is behind us (RFC 9001 §4.1.1).
      this.advance(Rank.CONNECTED, 'QUIC_CONNECTED');
      return Verdict.DONE;
    }
    return this.datagrams >= MIDSTREAM_WINDOW ? Verdict.REJECT : Verdict.MORE;
  }

  /** Whether the datagram comes from the QUIC client: learned from decrypted Initials, else the tracker's guess. */
  private isClientSide(ctx: DpiContext): boolean {
    return this.clientDir === null ? ctx.fromClient : ctx.fromClient === this.clientDir;
  }

  private advance(rank: number, state: string): void {
    if (rank <= this.rank) return;
    this.rank = rank;
    // Every caller labelled the flow first; a state alone says nothing about how sure the label is.
    (this.app ?? this.ensureApp('port')).state = state;
  }

  private onShortHeader(ctx: DpiContext): void {
    // RFC 9001 §4.1.1, §5.7: a client sends 1-RTT (short-header) packets only once it has completed the
    // handshake, while a server may send 0.5-RTT data before; so the client's first one means connected.
    if (this.isClientSide(ctx)) this.advance(Rank.CONNECTED, 'QUIC_CONNECTED');
  }

  /**
   * Open a client Initial (RFC 9001 §5.2) and collect its CRYPTO data. The keys come from the DCID of the
   * client's first Initial and stay when the client moves to the server's connection ID after the server's
   * first Initial (RFC 9000 §7.2); only a Retry makes it derive new ones, from the DCID the Retry chose
   * (RFC 9001 §5.2, RFC 9000 §17.2.5). So the keys that opened earlier Initials of the flow are tried
   * first (newest first), then those derived from the packet's own DCID.
   */
  private openClientInitial(
    buf: Uint8Array,
    start: number,
    pnOffset: number,
    end: number,
    info: QuicVersionInfo,
    dcidOff: number,
    dcidLen: number,
    ctx: DpiContext,
  ): boolean {
    const keys = (this.keys ??= []);
    let own: KeyEntry | undefined;
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      if (k.version !== info.version) continue;
      if (own === undefined && sameBytes(k.dcid, buf, dcidOff, dcidLen)) own = k;
      if (k.opened && this.openWith(k, buf, start, pnOffset, end, info, ctx)) return true;
    }
    if (own === undefined) {
      if (keys.length >= MAX_KEY_SETS) return false;
      const sets: InitialKeys[] = [];
      for (let i = 0; i < info.salts.length; i++) sets.push(deriveInitialKeysAt(info, i, buf, dcidOff, dcidLen, false));
      // Copy the DCID: buf is the caller's and is reused.
      own = { version: info.version, dcid: buf.slice(dcidOff, dcidOff + dcidLen), sets, opened: false };
      keys.push(own);
    } else if (own.opened) {
      return false; // tried above
    }
    return this.openWith(own, buf, start, pnOffset, end, info, ctx);
  }

  /** Open the Initial at buf[start..end) with one key entry; on success collect its CRYPTO data. */
  private openWith(
    entry: KeyEntry,
    buf: Uint8Array,
    start: number,
    pnOffset: number,
    end: number,
    info: QuicVersionInfo,
    ctx: DpiContext,
  ): boolean {
    const sets = entry.sets;
    for (let i = 0; i < sets.length; i++) {
      const opened = openLongHeaderPacket(buf, start, pnOffset, end, sets[i]!, info.leadingFrames);
      if (opened === null) continue;
      // Versions with several candidate salts: keep only the one that authenticated.
      if (sets.length > 1) entry.sets = [sets[i]!];
      entry.opened = true;
      this.clientDir = ctx.fromClient;
      // RFC 9000 §6.2: after Version Negotiation the client abandons the attempt and starts over in another
      // version with a new ClientHello, so fragments of the old one must not be mixed into it.
      if (info.version !== this.cryptoVersion) {
        this.crypto = null;
        this.cryptoVersion = info.version;
      }
      if (info.cryptoFrame === 0x06) this.walkFrames(opened.payload, ctx.fromClient);
      else this.walkGoogleFrames(opened.payload);
      this.checkHello();
      return true;
    }
    return false;
  }

  /** Walk the frames of a decrypted Initial (RFC 9000 §19); a frame we do not expect there ends the walk. */
  private walkFrames(f: Uint8Array, fromInitiator: boolean): void {
    const n = f.length;
    let i = 0;
    while (i < n) {
      const type = f[i]!;
      if (type === 0x00 || type === 0x01) {
        // PADDING (§19.1), PING (§19.2): one byte each.
        i++;
      } else if (type === 0x02 || type === 0x03) {
        // ACK (§19.3): Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range, then Range Count
        // (Gap, ACK Range Length) pairs; type 0x03 adds three ECN counts. Each pair takes at least 2 bytes,
        // so a huge Range Count runs out of bytes rather than looping long.
        let q = skipVarints(f, i + 1, n, 2);
        const count = q < 0 ? -1 : readVarint(f, q, n);
        if (count < 0) return;
        q = skipVarints(f, varintEnd, n, 1);
        for (let k = 0; k < count && q >= 0; k++) q = skipVarints(f, q, n, 2);
        if (q >= 0 && type === 0x03) q = skipVarints(f, q, n, 3);
        if (q < 0) return;
        i = q;
      } else if (type === 0x06) {
        i = this.cryptoFrame(f, i, n);
        if (i < 0) return;
      } else if (type === 0x1c || type === 0x1d) {
        // CONNECTION_CLOSE (§19.19). RFC 9000 §10.2: the endpoint that sends it enters the closing state, the one
        // that receives it the draining state. We take the view of the connection's initiator as the tracker sees
        // it (ctx.fromClient, usually the local host): a close it sends leaves it closed (QUIC_CLOSED), a close it
        // receives from its peer makes it drain (QUIC_DRAINING).
        this.advance(Rank.CLOSED, fromInitiator ? 'QUIC_CLOSED' : 'QUIC_DRAINING');
        return;
      } else {
        return;
      }
    }
  }

  /**
   * Walk the frames of a decrypted T05x Initial: Google QUIC frame types, of which a client's first
   * Initials hold PADDING (0x00), PING (0x07) and CRYPTO (0x08, laid out as RFC 9000 §19.6's); anything
   * else ends the walk.
   */
  private walkGoogleFrames(f: Uint8Array): void {
    const n = f.length;
    let i = 0;
    while (i < n) {
      const type = f[i]!;
      if (type === 0x00 || type === 0x07) i++;
      else if (type === 0x08) i = this.cryptoFrame(f, i, n);
      else return;
      if (i < 0) return;
    }
  }

  /** The CRYPTO frame at f[i] (RFC 9000 §19.6: type, Offset, Length, Crypto Data) into the stream; its end, or -1. */
  private cryptoFrame(f: Uint8Array, i: number, n: number): number {
    const offset = readVarint(f, i + 1, n);
    if (offset < 0) return -1;
    const length = readVarint(f, varintEnd, n);
    if (length < 0 || varintEnd + length > n) return -1;
    const dataOff = varintEnd;
    if (!this.helloDone) {
      if (this.crypto === null) this.crypto = new CryptoStream();
      this.crypto.add(f, dataOff, length, offset);
    }
    return dataOff + length;
  }

  /** Once the CRYPTO stream holds a whole handshake message from offset 0, parse it as the ClientHello. */
  private checkHello(): void {
    const cs = this.crypto;
    if (cs === null || this.helloDone) return;
    if (cs.failed) return this.finishHello();
    const have = cs.contiguous();
    if (have < 4) return;
    const b = cs.bytes();
    // RFC 8446 §4: msg_type 1 is client_hello, then a 24-bit length.
    if (b[0] !== 1) return this.finishHello();
    const total = 4 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
    if (total > MAX_CRYPTO_BYTES) return this.finishHello();
    if (have < total) return;
    const hello = parseClientHello(b, 0, total);
    const app = this.ensureApp('content');
    // The message arrived whole from authenticated Initials, so any length that disagrees means a
    // broken hello: nothing from it is reported.
    if (hello !== null && hello.intact) {
      const sni = hello.sniStart < 0 ? undefined : hostName(hello.bytes, hello.sniStart, hello.sniEnd);
      if (sni !== undefined) {
        app.domain = sni;
        app.details.sni = sni;
      }
      const pairs = hello.alpn;
      if (pairs.length > 0) {
        const alpn = new Array<string>(pairs.length >>> 1);
        for (let i = 0; i < pairs.length; i += 2) alpn[i >>> 1] = protocolName(hello.bytes, pairs[i]!, pairs[i + 1]!);
        app.details.alpn = alpn;
      }
      const ua = googleUserAgent(b, total, this.cryptoVersion);
      if (ua !== undefined) app.details.user_agent = ua;
    }
    this.finishHello();
  }

  /** Stop decrypting and free what the reassembly held. */
  private finishHello(): void {
    this.helloDone = true;
    this.crypto = null;
    this.keys = null;
  }
}

/** Chromium's google_user_agent transport parameter (the user agent it also sends in gQUIC's UAID tag). */
const GOOGLE_USER_AGENT = 0x3129;

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/**
 * Whether a version codes transport parameters the old way: a 16-bit list length, then 16-bit id and
 * length per parameter, as drafts before 27 did (draft-ietf-quic-transport-27 moved to varints) and
 * Google's T050 does; T051 and later use varints.
 */
function sixteenBitParameters(version: number): boolean {
  return version === GQUIC_T050 || version === 0xfaceb001 || (version >= 0xff000016 && version <= 0xff00001a);
}

/**
 * The google_user_agent transport parameter of a whole ClientHello b[0..total), which Chromium sends with
 * Google's T05x versions, or undefined. Walks the hello (RFC 8446 §4.1.2) to quic_transport_parameters:
 * extension 0x39 (RFC 9001 §8.2) or 0xffa5 as drafts and T05x number it.
 */
function googleUserAgent(b: Uint8Array, total: number, version: number): string | undefined {
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  if (p >= total) return undefined;
  p += 1 + b[p]!; // legacy_session_id
  if (p + 2 > total) return undefined;
  p += 2 + u16(b, p); // cipher_suites
  if (p + 1 > total) return undefined;
  p += 1 + b[p]!; // legacy_compression_methods
  if (p + 2 > total) return undefined;
  const extEnd = p + 2 + u16(b, p);
  if (extEnd > total) return undefined;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(b, p);
    const next = p + 4 + u16(b, p + 2);
    if (next > extEnd) return undefined;
    if (type === 0x39 || type === 0xffa5) return transportParameter(b, p + 4, next, GOOGLE_USER_AGENT, sixteenBitParameters(version));
    p = next;
  }
  return undefined;
}

/**
 * One transport parameter's value as text, from the list at b[start..end): RFC 9000 §18 codes each as
 * varint id, varint length, value; `sixteenBit` lists start with their 16-bit length and code id and
 * length in 16 bits. A list that does not parse to its end yields nothing.
 */
function transportParameter(b: Uint8Array, start: number, end: number, id: number, sixteenBit: boolean): string | undefined {
  let found = -1;
  let foundEnd = -1;
  let p = start;
  if (!sixteenBit) {
    while (p < end) {
      const key = readVarint(b, p, end);
      if (key < 0) return undefined;
      const n = readVarint(b, varintEnd, end);
      if (n < 0 || varintEnd + n > end) return undefined;
      if (key === id && found < 0) {
        found = varintEnd;
        foundEnd = varintEnd + n;
      }
      p = varintEnd + n;
    }
  } else {
    p += 2;
    if (p > end || p + u16(b, start) !== end) return undefined;
    while (p + 4 <= end) {
      const n = u16(b, p + 2);
      if (p + 4 + n > end) return undefined;
      if (u16(b, p) === id && found < 0) {
        found = p + 4;
        foundEnd = p + 4 + n;
      }
      p += 4 + n;
    }
    if (p !== end) return undefined;
  }
  return found < 0 || foundEnd === found ? undefined : wireText(b, found, foundEnd);
}

/** RFC 6066 §3: HostName is ASCII without a trailing dot; anything else is not reported as SNI. */
export function hostName(b: Uint8Array, start: number, end: number): string | undefined {
  if (end - start < 1 || end - start > 255) return undefined;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  return wireText(b, start, end);
}

/** An ALPN protocol name (RFC 7301 §3.1); non-printable names are shown as hex so nothing invisible reaches the UI. */
function protocolName(b: Uint8Array, start: number, end: number): string {
  let printable = true;
  for (let i = start; i < end; i++) {
    if (b[i]! < 0x20 || b[i]! >= 0x7f) printable = false;
  }
  if (printable) return wireToken(b, start, end);
  let s = '0x';
  for (let i = start; i < end; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Skip `count` varints from p; returns the position after them, or -1 if truncated. */
function skipVarints(b: Uint8Array, p: number, end: number, count: number): number {
  for (let k = 0; k < count; k++) {
    if (readVarint(b, p, end) < 0) return -1;
    p = varintEnd;
  }
  return p;
}

export const quicClassifier: Classifier = {
  id: 'quic',
  transports: Transport.UDP,

  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const end = Math.min(off + len, buf.length);
    if (off < 0 || off >= end) return Score.NO;
    const first = buf[off]!;
    if ((first & 0x80) !== 0) {
      if (!parseLongHeader(buf, off, end)) return Score.NO;
      // Version Negotiation leaves the other first-byte bits unused (RFC 9000 §17.2.1).
      if (hdr.type === VERSION_NEGOTIATION) return Score.CONTENT;
      // RFC 9000 §17.2: the fixed bit is 1; a version we know is a 32-bit magic number.
      if ((first & 0x40) === 0) return Score.NO;
      if (hdr.info !== undefined) return Score.CONTENT;
      // Google QUIC versions with a CHLO handshake are gquic.ts's.
      if (gquicVersionTag(hdr.version) !== undefined) return Score.NO;
      return onHttpsPort(ctx) ? Score.PORT : Score.NO;
    }
    // Short header (RFC 9000 §17.3): no version to check; its framing lets the session look at the next
    // few packets (feedMidStream), on any port.
    return shortHeaderShape(buf, off, end) ? Score.FRAMING : Score.NO;
  },

  start(): ClassifierSession {
    return new QuicSession();
  },

  guess(ctx: DpiContext): AppProtocol | undefined {
    // UDP 443 is HTTP/3's port (RFC 9114 §3.1, by way of https URIs).
    return ctx.transport === 17 && onHttpsPort(ctx) ? 'QUIC' : undefined;
  },
};
