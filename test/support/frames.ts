// Test support: hand-built frames (Ethernet + IPv4/IPv6 + TCP/UDP/ICMP, or ARP) with the fields tests care about.

import assert from 'node:assert/strict';
import { parseAddressWords } from '../../src/core/address.js';
import { IpProto } from '../../src/core/packet-view.js';
import type { LocalAddressSet } from '../../src/tracking/connection-table.js';

export type Endpoint = readonly [addr: string, port: number];

const be16 = (n: number): number[] => [(n >>> 8) & 255, n & 255];
const be32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const MAC = [2, 0, 0, 0, 0, 1];

export function addrBytes(addr: string): number[] {
  const w = parseAddressWords(addr);
  assert.ok(w, addr);
  return addr.includes(':') ? w.flatMap(be32) : be32(w[3]);
}

export interface IpOpts {
  id?: number;
  moreFragments?: boolean;
  fragOffset?: number;
}

/** Ethernet + IP around a transport segment; IPv6 when the source address has a colon. */
export function ipFrame(src: string, dst: string, proto: number, segment: number[], o: IpOpts = {}): Uint8Array {
  let bytes: number[];
  if (src.includes(':')) {
    const frag = o.moreFragments !== undefined || o.fragOffset !== undefined;
    const ext = frag ? [proto, 0, ...be16(((o.fragOffset ?? 0) << 3) | (o.moreFragments === true ? 1 : 0)), ...be32(o.id ?? 1)] : [];
    bytes = [
      ...MAC, ...MAC, ...be16(0x86dd), 0x60, 0, 0, 0, ...be16(ext.length + segment.length), frag ? 44 : proto, 64,
      ...addrBytes(src), ...addrBytes(dst), ...ext, ...segment,
    ];
  } else {
    const flags = (o.moreFragments === true ? 0x2000 : 0) | (o.fragOffset ?? 0);
    bytes = [
      ...MAC, ...MAC, ...be16(0x0800), 0x45, 0, ...be16(20 + segment.length), ...be16(o.id ?? 1), ...be16(flags), 64, proto, 0, 0,
      ...addrBytes(src), ...addrBytes(dst), ...segment,
    ];
  }
  return Uint8Array.from(bytes);
}

export function tcpFrame(src: Endpoint, dst: Endpoint, flags: number, seq: number, ack: number, payloadLength = 0): Uint8Array {
  const seg = [
    ...be16(src[1]), ...be16(dst[1]), ...be32(seq), ...be32(ack), 5 << 4, flags, ...be16(65535), 0, 0, 0, 0,
    ...new Array<number>(payloadLength).fill(0x61),
  ];
  return ipFrame(src[0], dst[0], IpProto.TCP, seg);
}

export function udpSegment(sp: number, dp: number, payloadLength: number): number[] {
  return [...be16(sp), ...be16(dp), ...be16(8 + payloadLength), 0, 0, ...new Array<number>(payloadLength).fill(0x62)];
}

export function udpFrame(src: Endpoint, dst: Endpoint, payloadLength = 20): Uint8Array {
  return ipFrame(src[0], dst[0], IpProto.UDP, udpSegment(src[1], dst[1], payloadLength));
}

export function icmpFrame(src: string, dst: string, type: number, id: number): Uint8Array {
  const v6 = src.includes(':');
  return ipFrame(src, dst, v6 ? IpProto.ICMPV6 : IpProto.ICMP, [type, 0, 0, 0, ...be16(id), ...be16(1), ...new Array<number>(32).fill(0)]);
}

export function arpFrame(op: number, sender: string, target: string): Uint8Array {
  return Uint8Array.from([
    ...MAC, ...MAC, ...be16(0x0806), ...be16(1), ...be16(0x0800), 6, 4, ...be16(op), ...MAC, ...addrBytes(sender), 0, 0, 0, 0, 0, 0, ...addrBytes(target),
  ]);
}

/** The host's addresses, for live-mode tests: a fixed list. */
export class FakeLocalAddresses implements LocalAddressSet {
  private readonly set = new Set<string>();

  constructor(addrs: string[]) {
    for (const a of addrs) this.set.add(parseAddressWords(a)!.join());
  }

  isLocal(w0: number, w1: number, w2: number, w3: number): boolean {
    return this.set.has([w0, w1, w2, w3].join());
  }
}
