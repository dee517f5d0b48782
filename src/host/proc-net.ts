// The kernel's socket tables (/proc/net/{tcp,udp,icmp}{,6}): one SocketEntry per socket a process can hold.

import * as fs from 'node:fs';
import { formatAddress } from '../core/address.js';
import { sockDiagTable } from './sock-diag.js';

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

/** A connection as tracking sees it, to be matched against these tables. For ICMP both ports are the echo identifier. */
export interface ConnectionEndpoints {
  readonly protocol: 'TCP' | 'UDP' | 'ICMP';
  readonly family: 4 | 6;
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
}

export const TCP_LISTEN = 0x0a;

/** The kernel prints each 32-bit address word in host byte order; the typed-array probe tells which that is. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const words: [number, number, number, number] = [0, 0, 0, 0];

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Value of one hex digit's code, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Value of text[p..end) as hex (at most 8 digits), or -1 when a character is not a hex digit. */
function hexValue(text: string, p: number, end: number): number {
  let v = 0;
  for (; p < end; p++) {
    const d = hexDigit(text.charCodeAt(p));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Value of text[p..end) as 1–15 decimal digits, or -1. */
function decimalValue(text: string, p: number, end: number): number {
  if (end - p < 1 || end - p > 15) return -1;
  let v = 0;
  for (; p < end; p++) {
    const c = text.charCodeAt(p);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** Space, tab, CR, VT, FF: what separates the kernel's columns (LF separates lines). */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

/**
 * Formatted addresses by their printed value: a table repeats few addresses (loopback, the wildcard, the
 * host's own) over thousands of lines, and formatting each anew was most of a parse. IPv4 by the word as
 * printed (plus 2^32 for a big-endian writer), IPv6 by its hex text. Bounded, cleared when full.
 */
const v4Cache = new Map<number, string>();
const v6Cache = new Map<string, string>();
const ADDRESS_CACHE_MAX = 4096;

/** Hex address text[p..p+8|32) (already checked to be hex) → formatted address. */
function address(text: string, p: number, family: 4 | 6, littleEndian: boolean): string {
  if (family === 4) {
    const w = hexValue(text, p, p + 8);
    const key = littleEndian ? w : w + 0x1_0000_0000;
    let out = v4Cache.get(key);
    if (out === undefined) {
      out = formatAddress(0, 0, 0xffff, littleEndian ? swap32(w) : w);
      if (v4Cache.size >= ADDRESS_CACHE_MAX) v4Cache.clear();
      v4Cache.set(key, out);
    }
    return out;
  }
  const hex = text.slice(p, p + 32);
  const key = littleEndian ? hex : `>${hex}`;
  let out = v6Cache.get(key);
  if (out === undefined) {
    for (let i = 0; i < 4; i++) {
      const w = hexValue(hex, i * 8, i * 8 + 8);
      words[i] = littleEndian ? swap32(w) : w;
    }
    // formatAddress prints IPv4-mapped words as dotted IPv4, as tracking does for the IPv4 packets they carry.
    out = formatAddress(words[0], words[1], words[2], words[3]);
    if (v6Cache.size >= ADDRESS_CACHE_MAX) v6Cache.clear();
    v6Cache.set(key, out);
  }
  return out;
}

/** Where text[p..end) is "ADDR:PORT" with ADDR of `addrLen` hex digits and PORT of 1–4: the port, else -1. */
function endpointPort(text: string, p: number, end: number, addrLen: number): number {
  if (end - p < addrLen + 2 || end - p > addrLen + 5 || text.charCodeAt(p + addrLen) !== 0x3a) return -1;
  if (hexValue(text, p, p + addrLen) < 0) return -1;
  return hexValue(text, p + addrLen + 1, end);
}

/** Start and end of each of a line's first ten columns (reused: parsing allocates nothing per line). */
const cols = new Int32Array(20);

/**
 * Parses the text of one socket table. Lines that do not have the kernel's shape are skipped, never
 * thrown on; so are sockets with inode 0 (TIME_WAIT and SYN_RECV entries: no process holds them).
 * `littleEndian` is the byte order of the machine that wrote the text (this one, unless told).
 * Hand-scanned rather than split and matched with regular expressions: with a few thousand sockets
 * a parse ran about as long as the kernel took to print the table, and it runs on every refresh.
 */
export function parseProcNet(text: string, protocol: SocketProtocol, family: 4 | 6,
  littleEndian: boolean = HOST_LITTLE_ENDIAN): SocketEntry[] {
  const out: SocketEntry[] = [];
  const addrLen = family === 4 ? 8 : 32;
  const n = text.length;
  let p = 0;
  while (p < n) {
    let eol = text.indexOf('\n', p);
    if (eol < 0) eol = n;
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode …
    let k = 0;
    let q = p;
    while (k < 10) {
      while (q < eol && isBlank(text.charCodeAt(q))) q++;
      if (q >= eol) break;
      const start = q;
      while (q < eol && !isBlank(text.charCodeAt(q))) q++;
      cols[2 * k] = start;
      cols[2 * k + 1] = q;
      k++;
    }
    p = eol + 1;
    if (k < 10 || text.charCodeAt(cols[1]! - 1) !== 0x3a) continue;
    const localPort = endpointPort(text, cols[2]!, cols[3]!, addrLen);
    const remotePort = endpointPort(text, cols[4]!, cols[5]!, addrLen);
    const stLen = cols[7]! - cols[6]!;
    const state = stLen > 8 ? -1 : hexValue(text, cols[6]!, cols[7]!);
    const uid = decimalValue(text, cols[14]!, cols[15]!);
    const inode = decimalValue(text, cols[18]!, cols[19]!);
    if (localPort < 0 || remotePort < 0 || state < 0 || uid < 0 || inode < 0) continue;
    if (inode === 0) continue;
    out.push({
      protocol,
      family,
      localAddr: address(text, cols[2]!, family, littleEndian),
      localPort,
      remoteAddr: address(text, cols[4]!, family, littleEndian),
      remotePort,
      state,
      inode,
      uid,
    });
  }
  return out;
}

const TABLES: readonly [string, SocketProtocol, 4 | 6][] = [
  ['tcp', 'tcp', 4], ['tcp6', 'tcp', 6], ['udp', 'udp', 4], ['udp6', 'udp', 6], ['icmp', 'icmp', 4], ['icmp6', 'icmp', 6],
];

/** One buffer for every table read, grown as needed: a table of a few thousand sockets is several hundred KB. */
let readBuffer = Buffer.allocUnsafe(256 * 1024);

/**
 * The whole text of a /proc file (its size reads as 0, so it is read until the end), as Latin-1: the
 * kernel prints these tables in ASCII, and a large read into a kept buffer means few system calls and no
 * new buffer per refresh. Throws like fs.readFileSync when the file cannot be opened or read.
 */
function readProcText(path: string): string {
  const fd = fs.openSync(path, 'r');
  try {
    let n = 0;
    for (;;) {
      if (n === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger, 0, 0, n);
        readBuffer = bigger;
      }
      const got = fs.readSync(fd, readBuffer, n, readBuffer.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return readBuffer.toString('latin1', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every socket in this process's network namespace (/proc/net is /proc/self/net). TCP and UDP come from
 * sock_diag where it works (the real /proc only: a test's fixture root is read as text); ICMP ping sockets,
 * which it does not list, and any table it cannot give come from /proc/net. A missing table (no IPv6, no
 * ping sockets compiled in) or one that cannot be read just contributes nothing.
 */
export function readSocketTables(procRoot = '/proc'): SocketEntry[] {
  const out: SocketEntry[] = [];
  for (const [file, protocol, family] of TABLES) {
    const viaDiag = procRoot === '/proc' && protocol !== 'icmp' ? sockDiagTable(protocol, family) : null;
    if (viaDiag !== null) {
      for (const e of viaDiag) out.push(e);
      continue;
    }
    let text: string;
    try {
      text = readProcText(`${procRoot}/net/${file}`);
    } catch {
      continue;
    }
    for (const e of parseProcNet(text, protocol, family)) out.push(e);
  }
  return out;
}
