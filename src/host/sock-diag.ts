// TCP and UDP socket tables through NETLINK_SOCK_DIAG (our small addon in sock-diag/), with the kernel filtering
// out the states no process holds: a host with thousands of TIME_WAIT sockets makes /proc/net/tcp megabytes of
// text per read, while a filtered dump walks them without printing any.

import { createRequire } from 'node:module';
import { formatAddress, parseAddressWords } from '../core/address.js';
import type { ConnectionEndpoints, SocketEntry } from './proc-net.js';

interface SockDiagBinding {
  dump(family: number, protocol: number, states: number): Buffer;
  lookup(family: number, protocol: number, local: Buffer, localPort: number, remote: Buffer, remotePort: number): Buffer | null;
}

/** Layout of one record of the addon's dump() (see sock_diag.c). */
const RECORD_BYTES = 48;

const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/**
 * TCP states a process can hold a socket in: all but SYN_RECV (3), TIME_WAIT (6) and NEW_SYN_RECV (12), the
 * kernel's own sockets that /proc/net/tcp shows with inode 0.
 */
const TCP_OWNED_STATES = (0xffffffff & ~((1 << 3) | (1 << 6) | (1 << 12))) >>> 0;
const ALL_STATES = 0xffffffff;
const TCP_TIME_WAIT = 6;


let binding: SockDiagBinding | null | undefined;

/**
 * The addon, or null when it was not built (or cannot load): callers then read /proc/net. Found beside the
 * sources both from dist/host/ (the built program) and from src/host/ (tests run on the sources).
 */
function load(): SockDiagBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  const require = createRequire(import.meta.url);
  for (const rel of ['./sock-diag/build/Release/sock_diag.node', '../../src/host/sock-diag/build/Release/sock_diag.node']) {
    try {
      binding = require(rel) as SockDiagBinding;
      break;
    } catch {
      // not there: try the next place
    }
  }
  return binding;
}

/** Whether socket tables can come from sock_diag here (the addon loads; a dump may still fail). */
export function sockDiagAvailable(): boolean {
  return load() !== null;
}

/** Formatted addresses by their words, as in proc-net: few distinct addresses over many sockets. */
const cache = new Map<string, string>();
const CACHE_MAX = 4096;

function addressAt(b: Buffer, at: number, family: 4 | 6): string {
  const w0 = family === 4 ? 0 : b.readUInt32BE(at);
  const w1 = family === 4 ? 0 : b.readUInt32BE(at + 4);
  const w2 = family === 4 ? 0xffff : b.readUInt32BE(at + 8);
  const w3 = family === 4 ? b.readUInt32BE(at) : b.readUInt32BE(at + 12);
  const key = `${w0},${w1},${w2},${w3}`;
  let out = cache.get(key);
  if (out === undefined) {
    out = formatAddress(w0, w1, w2, w3);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, out);
  }
  return out;
}

/** Records of one dump as SocketEntry, without the sockets no process holds (inode 0), as parseProcNet does. */
export function decodeRecords(b: Buffer, protocol: SocketEntry['protocol'], family: 4 | 6, out: SocketEntry[]): void {
  for (let at = 0; at + RECORD_BYTES <= b.length; at += RECORD_BYTES) {
    const inode = b.readUInt32LE(at + 44);
    if (inode === 0) continue;
    out.push({
      protocol,
      family,
      localAddr: addressAt(b, at + 8, family),
      localPort: b.readUInt16LE(at + 2),
      remoteAddr: addressAt(b, at + 24, family),
      remotePort: b.readUInt16LE(at + 4),
      state: b[at + 1]!,
      inode,
      uid: b.readUInt32LE(at + 40),
    });
  }
}

/**
 * One TCP or UDP table (IPv4 or IPv6) of this process's network namespace, or null when sock_diag cannot give
 * it (no addon, or the dump failed: a kernel without IPv6 or without the UDP diag module); the caller then
 * reads /proc/net.
 */
export function sockDiagTable(protocol: 'tcp' | 'udp', family: 4 | 6): SocketEntry[] | null {
  const b = load();
  if (b === null) return null;
  const out: SocketEntry[] = [];
  try {
    const records = b.dump(family === 4 ? AF_INET : AF_INET6, protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
      protocol === 'tcp' ? TCP_OWNED_STATES : ALL_STATES);
    decodeRecords(records, protocol, family, out);
  } catch {
    return null;
  }
  return out;
}

const localBytes = Buffer.alloc(16);
const remoteBytes = Buffer.alloc(16);

/** Address text into 16 bytes as sock_diag takes it (IPv4 in the first four); false when it is not an address. */
function addressBytes(text: string, family: 4 | 6, out: Buffer): boolean {
  const w = parseAddressWords(text);
  if (w === null) return false;
  out.fill(0);
  if (family === 4) {
    out.writeUInt32BE(w[3], 0);
  } else {
    for (let i = 0; i < 4; i++) out.writeUInt32BE(w[i]!, 4 * i);
  }
  return true;
}

/**
 * The socket the kernel's own lookup picks for a packet of this TCP or UDP connection (its connected socket,
 * else the one bound or listening on its local side): an entry, null when there is none a process holds (no
 * socket: the connection is gone; or a TIME_WAIT one), undefined when sock_diag cannot say (no addon, ICMP, an
 * error, a handshake not yet accepted): the caller then reads the tables. Costs one netlink round trip, whatever the table's size.
 */
export function sockDiagLookup(e: ConnectionEndpoints): SocketEntry | null | undefined {
  const b = load();
  if (b === null || e.protocol === 'ICMP') return undefined;
  if (!addressBytes(e.localAddr, e.family, localBytes) || !addressBytes(e.remoteAddr, e.family, remoteBytes)) return undefined;
  const protocol = e.protocol === 'TCP' ? 'tcp' : 'udp';
  let record: Buffer | null;
  try {
    record = b.lookup(e.family === 4 ? AF_INET : AF_INET6, protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
      localBytes, e.localPort, remoteBytes, e.remotePort);
  } catch {
    return undefined;
  }
  if (record === null || record.length < RECORD_BYTES) return null;
  if (record.readUInt32LE(44) === 0) {
    // No process holds what the kernel found: a TIME_WAIT socket means the connection is over; a handshake
    // still under way (SYN_RECV) belongs to its listener, which only the tables show.
    return record[1] === TCP_TIME_WAIT ? null : undefined;
  }
  const out: SocketEntry[] = [];
  decodeRecords(record, protocol, record[0] === AF_INET ? 4 : 6, out);
  return out[0];
}
