// The kernel's socket tables (/proc/net/{tcp,udp,icmp}{,6}): one SocketEntry per socket a process can hold.

import * as fs from 'node:fs';
import { formatAddress } from '../core/address.js';

export type SocketProtocol = 'tcp' | 'udp' | 'icmp';

export interface SocketEntry {
  readonly protocol: SocketProtocol;
  /** Which table the line came from; an IPv6 socket may still carry IPv4 traffic (mapped addresses). */
  readonly family: 4 | 6;
  /** Formatted like core/address.ts formatAddress, so it compares equal with a Connection's addresses. */
  readonly localAddr: string;
  /** For ICMP (ping sockets) the echo identifier. */
  readonly localPort: number;
  readonly remoteAddr: string;
  /** 0 while unconnected; always 0 for ICMP. */
  readonly remotePort: number;
  /** The kernel's state number (TCP_ESTABLISHED = 1 … TCP_LISTEN = 0x0A; unconnected UDP shows 7). */
  readonly state: number;
  readonly inode: number;
  readonly uid: number;
}

export const TCP_LISTEN = 0x0a;

/** The kernel prints each 32-bit address word in host byte order; the typed-array probe tells which that is. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const V4_ENDPOINT = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{1,4})$/;
const V6_ENDPOINT = /^([0-9A-Fa-f]{32}):([0-9A-Fa-f]{1,4})$/;
const HEX = /^[0-9A-Fa-f]{1,8}$/;
const DECIMAL = /^\d{1,15}$/;

const words: [number, number, number, number] = [0, 0, 0, 0];

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Hex address text (already checked) → formatted address. */
function address(hex: string, family: 4 | 6, littleEndian: boolean): string {
  if (family === 4) {
    const w = parseInt(hex, 16);
    return formatAddress(0, 0, 0xffff, littleEndian ? swap32(w) : w);
  }
  for (let i = 0; i < 4; i++) {
    const w = parseInt(hex.slice(i * 8, i * 8 + 8), 16);
    words[i] = littleEndian ? swap32(w) : w;
  }
  // formatAddress prints IPv4-mapped words as dotted IPv4, as tracking does for the IPv4 packets they carry.
  return formatAddress(words[0], words[1], words[2], words[3]);
}

/**
 * Parses the text of one socket table. Lines that do not have the kernel's shape are skipped, never
 * thrown on; so are sockets with inode 0 (TIME_WAIT and SYN_RECV entries: no process holds them).
 * `littleEndian` is the byte order of the machine that wrote the text (this one, unless told).
 */
export function parseProcNet(text: string, protocol: SocketProtocol, family: 4 | 6,
  littleEndian: boolean = HOST_LITTLE_ENDIAN): SocketEntry[] {
  const out: SocketEntry[] = [];
  const endpoint = family === 4 ? V4_ENDPOINT : V6_ENDPOINT;
  for (const line of text.split('\n')) {
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !f[0]!.endsWith(':')) continue;
    const local = endpoint.exec(f[1]!);
    const remote = endpoint.exec(f[2]!);
    const st = f[3]!;
    const uid = f[7]!;
    const inode = f[9]!;
    if (local === null || remote === null || !HEX.test(st) || !DECIMAL.test(uid) || !DECIMAL.test(inode)) continue;
    const inodeNumber = Number(inode);
    if (inodeNumber === 0) continue;
    out.push({
      protocol,
      family,
      localAddr: address(local[1]!, family, littleEndian),
      localPort: parseInt(local[2]!, 16),
      remoteAddr: address(remote[1]!, family, littleEndian),
      remotePort: parseInt(remote[2]!, 16),
      state: parseInt(st, 16),
      inode: inodeNumber,
      uid: Number(uid),
    });
  }
  return out;
}

const TABLES: readonly [string, SocketProtocol, 4 | 6][] = [
  ['tcp', 'tcp', 4], ['tcp6', 'tcp', 6], ['udp', 'udp', 4], ['udp6', 'udp', 6], ['icmp', 'icmp', 4], ['icmp6', 'icmp', 6],
];

/**
 * Every socket in this process's network namespace (/proc/net is /proc/self/net). A missing table
 * (no IPv6, no ping sockets compiled in) or one that cannot be read just contributes nothing.
 */
export function readSocketTables(procRoot = '/proc'): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const [file, protocol, family] of TABLES) {
    let text: string;
    try {
      text = fs.readFileSync(`${procRoot}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const e of parseProcNet(text, protocol, family)) out.push(e);
  }
  return out;
}
