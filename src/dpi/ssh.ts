// SSH classifier: identification strings of both sides and the transport's progress through key exchange.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { latin1Text } from './wire-text.js';

/** RFC 4253 §4.2: the identification string is at most 255 characters including CR LF. */
const MAX_BANNER_LINE = 255;
/** Lines a server may send before its identification string (RFC 4253 §4.2) that we tolerate. */
const MAX_PRE_BANNER_LINES = 8;
/** Payloads that carry new bytes before we give up (duplicates do not count, see FEED_LIMIT). */
const PAYLOAD_LIMIT = 40;
/** Absolute bound on payloads inspected, retransmissions included. */
const FEED_LIMIT = 160;
/**
 * Heuristic for ESTABLISHED: once both sides encrypt, user authentication takes a handful of
 * packets each way (service request/accept, one or more userauth requests and replies, RFC 4252).
 * After this many encrypted payloads in each direction we take authentication as finished and
 * the session as running. It cannot tell a success from repeated failures: payloads are opaque.
 */
const ESTABLISHED_AFTER_PAYLOADS = 4;
/**
 * RFC 4253 §6.1 asks implementations to take packets up to 35000 bytes; key exchange packets
 * are far smaller, so a larger length means we are not looking at a plaintext packet header.
 */
const MAX_PLAIN_PACKET = 35000;

/** RFC 4253 §12 message numbers. */
const MSG_KEXINIT = 20;
const MSG_NEWKEYS = 21;

const CR = 0x0d;
const LF = 0x0a;

type SshState = 'BANNER' | 'KEYEXCHANGE' | 'AUTHENTICATION' | 'ESTABLISHED';
const STATE_ORDER: readonly string[] = ['BANNER', 'KEYEXCHANGE', 'AUTHENTICATION', 'ESTABLISHED'];

/** What one direction's bytes are at the current position. */
const Phase = {
  /** Waiting for (the rest of) the identification line. */
  LINE: 0,
  /** Plaintext binary packets (RFC 4253 §6) before NEWKEYS. */
  PACKETS: 1,
  /** After NEWKEYS (seen or inferred): opaque. */
  ENCRYPTED: 2,
  /** We lost the packet framing before key exchange and cannot follow this side any more. */
  LOST: 3,
} as const;

/**
 * RFC 4253 §4.2: "SSH-" protoversion "-" softwareversion [SP comments]; protoversion is
 * digits "." digits in practice ("2.0", "1.99", "1.5"). Checks the bytes present in d[p..end).
 * Returns the offset just past the second '-', 0 when the bytes so far could still be a banner
 * cut short, or -1 when they cannot.
 */
function bannerPrefix(d: Uint8Array, p: number, end: number): number {
  const s = p;
  if (p < end && d[p] !== 0x53) return -1;
  if (p + 1 < end && d[p + 1] !== 0x53) return -1;
  if (p + 2 < end && d[p + 2] !== 0x48) return -1;
  if (p + 3 < end && d[p + 3] !== 0x2d) return -1;
  p += 4;
  let digits = 0;
  let dots = 0;
  for (; p < end && p - s < 16; p++) {
    const b = d[p]!;
    if (b >= 0x30 && b <= 0x39) digits++;
    else if (b === 0x2e && digits > 0 && dots === 0) {
      dots++;
      digits = 0;
    } else if (b === 0x2d && dots === 1 && digits > 0) return p + 1;
    else return -1;
  }
  return p < end ? -1 : 0;
}

class Side {
  phase: number = Phase.LINE;
  /** The identification line while it arrives (without CR LF). */
  readonly line = new Uint8Array(MAX_BANNER_LINE);
  lineLen = 0;
  lineOverflow = false;
  preLines = 0;
  banner: string | undefined = undefined;
  /** Protocol version from the banner, e.g. '2.0', '1.99'. */
  version = '';
  software = '';
  /** Bytes of the current binary packet still to pass over. */
  packetLeft = 0;
  /** First 6 bytes of a packet whose header is split over segments. */
  readonly header = new Uint8Array(6);
  headerLen = 0;
  /** The packet being passed over is NEWKEYS: what follows it is encrypted. */
  newKeysPending = false;
  /** Encrypted payloads after the connection reached AUTHENTICATION. */
  encryptedPayloads = 0;
  /** This side's bytes, read where they lie; after a gap reading picks up again. */
  readonly stream = new TcpStream();
}

class SshSession implements ClassifierSession {
  app: AppInfo | null = null;
  private readonly client = new Side();
  private readonly server = new Side();
  private feeds = 0;
  private payloads = 0;
  private kexSeen = false;
  /** Neither side produced a banner where one must be: not SSH. */
  private foreign = false;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.feeds++;
    if (len > 0 && off >= 0 && off + len <= buf.length) {
      const side = ctx.fromClient ? this.client : this.server;
      this.take(side, ctx.fromClient, buf, off, len, ctx.seq >>> 0);
    }
    return this.verdict();
  }

  private take(side: Side, fromClient: boolean, buf: Uint8Array, off: number, len: number, seq: number): void {
    const stream = side.stream;
    if (!stream.started) stream.start(seq);
    const arrival = stream.push(buf, off, len, seq);
    if (arrival === Arrival.OLD) return; // retransmission: nothing new
    let p = stream.fresh;
    const end = off + len;
    this.payloads++;

    if (arrival === Arrival.GAP) this.afterGap(side);
    if (side.phase === Phase.LINE) p = this.readLine(side, fromClient, buf, p, end);
    if (side.phase === Phase.PACKETS && p < end) p = this.readPackets(side, buf, p, end);
    if (side.phase === Phase.ENCRYPTED && p < end) this.countEncrypted(side);
  }

  /** A segment went missing: partial lines and packet boundaries are unknown from here. */
  private afterGap(side: Side): void {
    if (side.phase === Phase.LINE) {
      side.lineLen = 0;
      side.lineOverflow = true; // drop the rest of the broken line
    } else if (side.phase === Phase.PACKETS) {
      // Senders usually start segments at packet boundaries; try to pick the framing up again.
      side.packetLeft = 0;
      side.headerLen = 0;
      side.newKeysPending = false;
    }
  }

  /** Collect the identification line; returns the offset after it (or `end`). */
  private readLine(side: Side, fromClient: boolean, buf: Uint8Array, p: number, end: number): number {
    while (p < end && side.phase === Phase.LINE) {
      const b = buf[p++]!;
      if (b !== LF) {
        if (side.lineLen < MAX_BANNER_LINE) side.line[side.lineLen++] = b;
        else side.lineOverflow = true;
        if (side.lineOverflow && side.banner === undefined && this.app === null && side.lineLen >= MAX_BANNER_LINE) {
          // 255 bytes without a line end and no banner anywhere yet: not an SSH identification.
          this.foreign = true;
          return end;
        }
        continue;
      }
      let n = side.lineLen;
      if (n > 0 && side.line[n - 1] === CR) n--;
      const overflow = side.lineOverflow;
      side.lineLen = 0;
      side.lineOverflow = false;
      const soft = overflow ? -1 : bannerPrefix(side.line, 0, n);
      if (soft > 0) {
        this.banner(side, fromClient, n, soft);
      } else if (fromClient || ++side.preLines > MAX_PRE_BANNER_LINES) {
        // RFC 4253 §4.2: only the server may send other lines before its identification string.
        if (this.app === null) this.foreign = true;
        side.phase = Phase.LOST;
      }
    }
    // RFC 4253 §4.2: the client's first line is its identification string; a start that cannot
    // become one is reason enough to let go without waiting for the line end.
    if (fromClient && side.phase === Phase.LINE && bannerPrefix(side.line, 0, side.lineLen) < 0) {
      if (this.app === null) this.foreign = true;
      side.phase = Phase.LOST;
    }
    return p;
  }

  private banner(side: Side, fromClient: boolean, n: number, soft: number): void {
    const line = side.line;
    side.banner = latin1Text(line, 0, n);
    side.version = latin1Text(line, 4, soft - 1);
    let e = soft;
    while (e < n && line[e] !== 0x20) e++;
    side.software = latin1Text(line, soft, e);
    // SSH 1.x framing (anything but "2.x" and the compatibility "1.99") is not followed further.
    side.phase = side.version.startsWith('2.') || side.version === '1.99' ? Phase.PACKETS : Phase.LOST;
    if (this.app === null) {
      this.app = newAppInfo('SSH');
      this.app.state = 'BANNER';
    }
    const d = this.app.details;
    if (fromClient) {
      d.ssh_client_banner = side.banner;
      if (side.software !== '') d.ssh_software = side.software;
    } else {
      d.ssh_server_banner = side.banner;
    }
  }

  /** Walk plaintext binary packets (RFC 4253 §6) until NEWKEYS; returns where encrypted bytes begin. */
  private readPackets(side: Side, buf: Uint8Array, p: number, end: number): number {
    while (p < end) {
      if (side.packetLeft > 0) {
        const n = Math.min(side.packetLeft, end - p);
        side.packetLeft -= n;
        p += n;
        if (side.packetLeft > 0) return p;
      }
      if (side.newKeysPending) {
        side.newKeysPending = false;
        this.encrypted(side);
        return p;
      }
      while (side.headerLen < 6 && p < end) side.header[side.headerLen++] = buf[p++]!;
      if (side.headerLen < 6) return p;
      side.headerLen = 0;
      const h = side.header;
      const length = ((h[0]! << 24) >>> 0) + (h[1]! << 16) + (h[2]! << 8) + h[3]!;
      const padding = h[4]!;
      const msg = h[5]!;
      if (!plausiblePacket(length, padding, msg)) {
        // No valid plaintext header where one must be. After KEXINIT this is the encrypted
        // stream whose NEWKEYS we did not see; before it we simply lost the framing.
        if (this.kexSeen) this.encrypted(side);
        else side.phase = Phase.LOST;
        // Report where the opaque bytes start so the caller counts this payload as encrypted.
        return side.phase === Phase.ENCRYPTED ? Math.max(0, p - 6) : end;
      }
      // packet_length counts padding_length, payload and padding; we already consumed 2 of them.
      side.packetLeft = length - 2;
      if (msg === MSG_KEXINIT && !this.kexSeen) {
        this.kexSeen = true;
        this.setState('KEYEXCHANGE');
      } else if (msg === MSG_NEWKEYS) {
        side.newKeysPending = true;
      }
    }
    if (side.packetLeft === 0 && side.newKeysPending) {
      side.newKeysPending = false;
      this.encrypted(side);
    }
    return p;
  }

  /** RFC 4253 §7.3: after NEWKEYS everything this side sends is encrypted. */
  private encrypted(side: Side): void {
    side.phase = Phase.ENCRYPTED;
    if (this.client.phase === Phase.ENCRYPTED && this.server.phase === Phase.ENCRYPTED) {
      this.setState('AUTHENTICATION');
    }
  }

  private countEncrypted(side: Side): void {
    if (this.app === null || this.app.state !== 'AUTHENTICATION') return;
    side.encryptedPayloads++;
    if (
      this.client.encryptedPayloads >= ESTABLISHED_AFTER_PAYLOADS &&
      this.server.encryptedPayloads >= ESTABLISHED_AFTER_PAYLOADS
    ) {
      this.setState('ESTABLISHED');
    }
  }

  /** States only move forward. */
  private setState(next: SshState): void {
    const app = this.app;
    if (app === null) return;
    if (STATE_ORDER.indexOf(next) > STATE_ORDER.indexOf(app.state ?? '')) app.state = next;
  }

  private verdict(): number {
    if (this.app === null) {
      // Non-SSH bytes are caught by the line rules above (client's first line, 255-byte limit,
      // a few server lines); the budgets only matter for endless retransmissions.
      if (this.foreign || this.payloads >= PAYLOAD_LIMIT || this.feeds >= FEED_LIMIT) return Verdict.REJECT;
      return Verdict.MORE;
    }
    if (this.app.state === 'ESTABLISHED') return Verdict.DONE;
    if (this.payloads >= PAYLOAD_LIMIT || this.feeds >= FEED_LIMIT) return Verdict.DONE;
    const c = this.client.phase;
    const s = this.server.phase;
    // Both sides beyond our reach (SSH 1.x, lost framing): nothing more to learn.
    if (c === Phase.LOST && s === Phase.LOST) return Verdict.DONE;
    return Verdict.MORE;
  }
}

/**
 * RFC 4253 §6: packet_length excludes itself; padding_length is at least 4; the payload at least
 * the message byte; the whole packet (length field included) is a multiple of 8 while no cipher
 * is in use. Plaintext messages before NEWKEYS are transport-generic (1-4), KEXINIT/NEWKEYS, or
 * key-exchange specific (30-49).
 */
function plausiblePacket(length: number, padding: number, msg: number): boolean {
  if (length < 12 || length > MAX_PLAIN_PACKET || (length + 4) % 8 !== 0) return false;
  if (padding < 4 || padding > length - 2) return false;
  return (msg >= 1 && msg <= 4) || msg === MSG_KEXINIT || msg === MSG_NEWKEYS || (msg >= 30 && msg <= 49);
}

export const sshClassifier: Classifier = {
  id: 'ssh',
  transports: Transport.TCP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (len >= 8 && off >= 0 && off + len <= buf.length) {
      const end = Math.min(off + len, off + MAX_BANNER_LINE);
      if (bannerPrefix(buf, off, end) > 0) return Score.CONTENT;
    }
    return ctx.srcPort === 22 || ctx.dstPort === 22 ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new SshSession();
  },
};
