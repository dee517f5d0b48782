// MQTT classifier: recognises the client's CONNECT packet and reads protocol version and client id.

import { MAX_WIRE_STRING, newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { wireText } from './wire-text.js';

/** Most client bytes we buffer while the CONNECT packet arrives. */
const MAX_CONNECT_BYTES = 2048;
/** Payloads inspected before we stop waiting for a complete CONNECT. */
const FEED_LIMIT = 10;
/** IANA port for MQTT without TLS (8883 is MQTT over TLS, which the TLS classifier sees). */
const MQTT_PORT = 1883;

/** MQTT 3.1.1 §2.2.1 / 5.0 §2.1.2: packet type CONNECT (1) with all flag bits zero. */
const CONNECT_HEADER = 0x10;

/** Offset just past the last varint read by readVarint (module scratch keeps detect() allocation-free). */
let varintEnd = 0;

/**
 * MQTT 3.1.1 §2.2.3 / 5.0 §1.5.5 Variable Byte Integer: 7 bits per byte, at most 4 bytes.
 * Returns the value (varintEnd set past it), -1 when the bytes end first, -2 when malformed.
 */
function readVarint(d: Uint8Array, p: number, end: number): number {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (p + i >= end) return -1;
    const b = d[p + i]!;
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) {
      varintEnd = p + i + 1;
      return value;
    }
    mult *= 128;
  }
  return -2;
}

/**
 * Protocol level of a CONNECT variable header at d[p..end) (MQTT 3.1.1 §3.1.2.1-3): "MQTT" with
 * level 4 (3.1.1) or 5 (5.0), or the MQTT 3.1 name "MQIsdp" with level 3. Returns the level, 0 when
 * the bytes end before it, -1 when it is not MQTT.
 */
function protocolLevel(d: Uint8Array, p: number, end: number): number {
  if (p + 2 > end) return 0;
  if (d[p] !== 0) return -1;
  const n = d[p + 1];
  if (n === 4) {
    if (p + 7 > end) return 0;
    if (d[p + 2] !== 0x4d || d[p + 3] !== 0x51 || d[p + 4] !== 0x54 || d[p + 5] !== 0x54) return -1;
    const level = d[p + 6]!;
    return level === 4 || level === 5 ? level : -1;
  }
  if (n === 6) {
    if (p + 9 > end) return 0;
    if (
      d[p + 2] !== 0x4d || d[p + 3] !== 0x51 || d[p + 4] !== 0x49 || d[p + 5] !== 0x73 ||
      d[p + 6] !== 0x64 || d[p + 7] !== 0x70
    ) {
      return -1;
    }
    return d[p + 8] === 3 ? 3 : -1;
  }
  return -1;
}

/** Shape check of a CONNECT at the start of d[p..end); true only when the protocol name and level are there. */
function isConnect(d: Uint8Array, p: number, end: number): boolean {
  if (p >= end || d[p] !== CONNECT_HEADER) return false;
  const remaining = readVarint(d, p + 1, end);
  // Variable header of the shortest CONNECT: name (6) + level + flags + keep alive = 10 bytes.
  if (remaining < 10) return false;
  const h = varintEnd;
  if (protocolLevel(d, h, end) <= 0) return false;
  const flagsAt = h + 2 + d[h + 1]! + 1;
  // MQTT 3.1.1 §3.1.2.3: the reserved flag bit 0 must be zero.
  if (flagsAt < end && (d[flagsAt]! & 1) !== 0) return false;
  return true;
}

function versionName(level: number): string {
  return level === 3 ? '3.1' : level === 4 ? '3.1.1' : '5.0';
}

class MqttSession implements ClassifierSession {
  app: AppInfo | null = null;
  /** The client's bytes from its first segment on. */
  private readonly stream = new TcpStream(MAX_CONNECT_BYTES);
  private feeds = 0;
  private done = false;
  private foreign = false;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.feeds++;
    if (ctx.fromClient && !this.done && len > 0 && off >= 0 && off + len <= buf.length) {
      this.take(buf, off, len, ctx.seq >>> 0);
    }
    if (this.app === null) {
      return this.foreign || this.feeds >= 3 ? Verdict.REJECT : Verdict.MORE;
    }
    return this.done || this.feeds >= FEED_LIMIT ? Verdict.DONE : Verdict.MORE;
  }

  private take(buf: Uint8Array, off: number, len: number, seq: number): void {
    const s = this.stream;
    if (!s.started) {
      // The client's first bytes must be a CONNECT (MQTT 3.1.1 §3.1: "the first packet sent").
      if (!isConnect(buf, off, off + len) && !(len < 16 && buf[off] === CONNECT_HEADER)) {
        this.foreign = true;
        return;
      }
      s.start(seq);
    }
    const arrival = s.push(buf, off, len, seq);
    // A missing segment inside the CONNECT: read what we have.
    if (arrival === Arrival.GAP) this.parse(true);
    else if (arrival === Arrival.NEXT) this.parse(s.full);
  }

  /** Read the CONNECT once complete (or, with `final`, as far as it goes). */
  private parse(final: boolean): void {
    const d = this.stream.data;
    const end = this.stream.kept;
    const remaining = readVarint(d, 1, end);
    if (remaining === -2 || (remaining >= 0 && remaining < 10)) {
      this.foreign = this.app === null;
      this.done = true;
      return;
    }
    if (remaining < 0) {
      if (final) this.done = true;
      return;
    }
    const h = varintEnd;
    const packetEnd = h + remaining;
    if (packetEnd > end && !final) {
      // Enough to name the protocol already: say so while the rest arrives.
      if (this.app === null && protocolLevel(d, h, end) > 0) this.recognise(protocolLevel(d, h, end));
      return;
    }
    const stop = Math.min(packetEnd, end);
    const level = protocolLevel(d, h, stop);
    if (level <= 0) {
      this.foreign = this.app === null;
      this.done = true;
      return;
    }
    this.recognise(level);
    this.done = true;
    // Variable header: name, level, connect flags, keep alive (MQTT 3.1.1 §3.1.2).
    let p = h + 2 + d[h + 1]! + 1 + 1 + 2;
    if (level === 5) {
      // MQTT 5.0 §3.1.2.11: a property block of varint length precedes the payload.
      const props = readVarint(d, p, stop);
      if (props < 0) return;
      p = varintEnd + props;
    }
    // MQTT 3.1.1 §3.1.3.1: the payload starts with the client identifier, a UTF-8 string.
    if (p + 2 > stop) return;
    const idLen = (d[p]! << 8) | d[p + 1]!;
    p += 2;
    if (idLen === 0) return; // an empty id asks the server to assign one
    // An id running past a complete packet is malformed; one cut by our buffer bound is kept cut.
    if (p + idLen > stop && packetEnd <= end) return;
    const idEnd = Math.min(p + idLen, stop, p + MAX_WIRE_STRING * 4);
    if (idEnd <= p) return;
    this.app!.details.mqtt_client_id = wireText(d, p, idEnd);
  }

  private recognise(level: number): void {
    if (this.app === null) this.app = newAppInfo('MQTT');
    this.app.details.mqtt_version = versionName(level);
  }
}

export const mqttClassifier: Classifier = {
  id: 'mqtt',
  transports: Transport.TCP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    if (len > 0 && off >= 0 && off + len <= buf.length && isConnect(buf, off, off + len)) return Score.CONTENT;
    return ctx.srcPort === MQTT_PORT || ctx.dstPort === MQTT_PORT ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new MqttSession();
  },
};
