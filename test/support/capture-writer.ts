// Test support: hand-made captures written as classic pcap files: TCP conversations with real payloads, UDP datagrams.

import * as fs from 'node:fs';
import { IpProto } from '../../src/core/packet-view.js';
import { ipFrame, type Endpoint } from './frames.js';

/** One frame of a capture and its time. */
export interface TimedFrame {
  readonly tsMicros: number;
  readonly bytes: Uint8Array;
}

const be16 = (n: number): number[] => [(n >>> 8) & 255, n & 255];
const be32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH_ACK = 0x18;
export const FIN_ACK = 0x11;

/** Ethernet + IP + TCP carrying `payload` (checksums left zero: the monitor does not verify them). */
export function tcpPayloadFrame(src: Endpoint, dst: Endpoint, flags: number, seq: number, ack: number, payload: Uint8Array): Uint8Array {
  const seg = [...be16(src[1]), ...be16(dst[1]), ...be32(seq), ...be32(ack), 5 << 4, flags, ...be16(65535), 0, 0, 0, 0, ...payload];
  return ipFrame(src[0], dst[0], IpProto.TCP, seg);
}

/** Ethernet + IP + UDP carrying `payload`. */
export function udpPayloadFrame(src: Endpoint, dst: Endpoint, payload: Uint8Array): Uint8Array {
  return ipFrame(src[0], dst[0], IpProto.UDP, [...be16(src[1]), ...be16(dst[1]), ...be16(8 + payload.length), 0, 0, ...payload]);
}

/**
 * A TCP conversation that keeps its sequence numbers: handshake, then data either way, each segment acked
 * by the other side, so stream reassembly sees an in-order stream as from a real capture.
 */
export class TcpConversation {
  private clientSeq = 1000;
  private serverSeq = 5000;
  readonly frames: TimedFrame[] = [];

  constructor(
    private readonly client: Endpoint,
    private readonly server: Endpoint,
    private tsMicros: number,
    private readonly stepMicros = 1000,
  ) {}

  private push(bytes: Uint8Array): void {
    this.frames.push({ tsMicros: this.tsMicros, bytes });
    this.tsMicros += this.stepMicros;
  }

  handshake(): this {
    this.push(tcpPayloadFrame(this.client, this.server, SYN, this.clientSeq++, 0, new Uint8Array(0)));
    this.push(tcpPayloadFrame(this.server, this.client, SYN | ACK, this.serverSeq++, this.clientSeq, new Uint8Array(0)));
    this.push(tcpPayloadFrame(this.client, this.server, ACK, this.clientSeq, this.serverSeq, new Uint8Array(0)));
    return this;
  }

  send(fromClient: boolean, payload: Uint8Array): this {
    const [src, dst] = fromClient ? [this.client, this.server] : [this.server, this.client];
    const seq = fromClient ? this.clientSeq : this.serverSeq;
    const ack = fromClient ? this.serverSeq : this.clientSeq;
    this.push(tcpPayloadFrame(src, dst, PSH_ACK, seq, ack, payload));
    if (fromClient) this.clientSeq = (this.clientSeq + payload.length) >>> 0;
    else this.serverSeq = (this.serverSeq + payload.length) >>> 0;
    // The other side's ACK, as a stack would send it.
    const ackSeq = fromClient ? this.serverSeq : this.clientSeq;
    const ackNo = fromClient ? this.clientSeq : this.serverSeq;
    this.push(tcpPayloadFrame(dst, src, ACK, ackSeq, ackNo, new Uint8Array(0)));
    return this;
  }
}

/** A classic pcap file (microsecond times, little-endian, Ethernet) holding `frames` sorted by time. */
export function pcapBytes(frames: readonly TimedFrame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const sorted = [...frames].sort((a, b) => a.tsMicros - b.tsMicros);
  const records = sorted.map((f) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(f.tsMicros / 1e6), 0);
    h.writeUInt32LE(f.tsMicros % 1e6, 4);
    h.writeUInt32LE(f.bytes.length, 8);
    h.writeUInt32LE(f.bytes.length, 12);
    return Buffer.concat([h, Buffer.from(f.bytes)]);
  });
  return Buffer.concat([header, ...records]);
}

export function writePcap(file: string, frames: readonly TimedFrame[]): void {
  fs.writeFileSync(file, pcapBytes(frames));
}
