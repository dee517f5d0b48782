// ProcessMatcher: which socket, and so which process, a connection belongs to; the kernel's lookup order, no guessing.

import type { ConnectionEndpoints, SocketEntry } from '../host/proc-net.js';

export type { ConnectionEndpoints };

/** Who holds each socket inode (host/proc-pids.ts ProcPids has this shape). */
export interface SocketOwners {
  /** inode → pid, for inodes exactly one process holds. */
  readonly inodePids: ReadonlyMap<number, number>;
  /** Inodes more than one process holds: none of them is the owner. */
  readonly sharedInodes?: { has(inode: number): boolean };
}

export interface ProcessMatch {
  readonly pid: number;
  readonly inode: number;
}

const TCP_LISTEN = 0x0a;

/**
 * How specifically a socket serves a connection; lower wins. The order is the kernel's own for
 * delivering a packet (inet_lookup / udp lib_lookup2): a connected socket before a bound one, a socket
 * bound to the address before one bound to the wildcard, and a TCP listener only when no socket of the
 * connection itself is left (SYN_RECV and TIME_WAIT entries have inode 0).
 */
const Level = {
  EXACT: 0,
  ADDRESS_UNCONNECTED: 1,
  WILDCARD_CONNECTED: 2,
  WILDCARD_UNCONNECTED: 3,
  LISTENER_ADDRESS: 4,
  LISTENER_WILDCARD: 5,
} as const;

const PROTOCOL_CODE = { TCP: 0, UDP: 1, ICMP: 2 } as const;
const SOCKET_PROTOCOL_CODE = { tcp: 0, udp: 1, icmp: 2 } as const;

function indexKey(protocolCode: number, localPort: number): number {
  return protocolCode * 0x10000 + localPort;
}

function isWildcard(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '::';
}

/**
 * Rank of socket s for connection c, or -1 when s cannot carry it. Ranks are level × 2, plus 1 for an
 * IPv6 socket carrying IPv4: the kernel scores a socket of the packet's own family higher, so a v4
 * socket and a dual-stack v6 one on the same port do not disagree.
 */
function rank(s: SocketEntry, c: ConnectionEndpoints): number {
  if (s.family === 4 && c.family === 6) return -1;
  // ICMP and ICMPv6 are different protocols: an ICMPv6 socket never sees IPv4 pings.
  if (c.protocol === 'ICMP' && s.family !== c.family) return -1;
  let local: 'address' | 'wildcard';
  if (s.localAddr === c.localAddr) local = 'address';
  // An IPv6 wildcard socket serves IPv4 too unless IPV6_V6ONLY, which /proc does not show.
  else if (c.family === 4 ? s.localAddr === '0.0.0.0' || (s.family === 6 && s.localAddr === '::') : s.localAddr === '::') local = 'wildcard';
  else return -1;

  let level: number;
  if (c.protocol === 'TCP' && s.state === TCP_LISTEN) {
    level = local === 'address' ? Level.LISTENER_ADDRESS : Level.LISTENER_WILDCARD;
  } else {
    // A ping socket's remote "port" is always 0: the echo id is its local port.
    const portsMatch = c.protocol === 'ICMP' || s.remotePort === c.remotePort;
    const unconnected = isWildcard(s.remoteAddr) && (c.protocol === 'ICMP' || s.remotePort === 0);
    if (s.remoteAddr === c.remoteAddr && portsMatch) level = local === 'address' ? Level.EXACT : Level.WILDCARD_CONNECTED;
    // A TCP socket that is neither listening nor connected (bound, state CLOSE) carries no traffic.
    else if (unconnected && c.protocol !== 'TCP') level = local === 'address' ? Level.ADDRESS_UNCONNECTED : Level.WILDCARD_UNCONNECTED;
    else return -1;
  }
  return level * 2 + (s.family === c.family ? 0 : 1);
}

/**
 * Built from one reading of the socket tables; asks `owners` at match time, so a pid scan after
 * construction is seen. Pure: no I/O, no clock.
 */
export class ProcessMatcher {
  /** Sockets by protocol and local port: a connection only ever looks at the few on its own port. */
  private readonly byPort = new Map<number, SocketEntry[]>();
  private readonly owners: SocketOwners;

  constructor(sockets: readonly SocketEntry[], owners: SocketOwners) {
    this.owners = owners;
    for (const s of sockets) {
      const key = indexKey(SOCKET_PROTOCOL_CODE[s.protocol], s.localPort);
      const list = this.byPort.get(key);
      if (list === undefined) this.byPort.set(key, [s]);
      else list.push(s);
    }
  }

  /**
   * The process owning the connection's socket, or null: no socket serves it, or the most specific
   * sockets that do belong to different processes, to several at once, or to one not scanned yet.
   */
  match(c: ConnectionEndpoints): ProcessMatch | null {
    const best = this.bestSockets(c);
    if (best.length === 0) return null;
    let pid = -1;
    for (const s of best) {
      if (this.owners.sharedInodes?.has(s.inode) === true) return null;
      const p = this.owners.inodePids.get(s.inode);
      if (p === undefined || (pid !== -1 && p !== pid)) return null;
      pid = p;
    }
    return { pid, inode: best[0]!.inode };
  }

  /**
   * Like match(), but only when the sockets found are c's very own (its exact 4-tuple, in either table
   * family), not a listener or a bound socket that serves it.
   */
  matchOwnSocket(c: ConnectionEndpoints): ProcessMatch | null {
    const best = this.bestSockets(c);
    if (best.length === 0 || rank(best[0]!, c) > Level.EXACT * 2 + 1) return null;
    return this.match(c);
  }

  /** Whether any socket serves c at all: without one, no scan of the pids can find its owner. */
  hasSocket(c: ConnectionEndpoints): boolean {
    return this.bestSockets(c).length > 0;
  }

  /** Inodes of the most specific sockets serving c whose owner is not known: what a pid scan should look for. */
  unownedInodes(c: ConnectionEndpoints): number[] {
    const out: number[] = [];
    for (const s of this.bestSockets(c)) {
      if (this.owners.sharedInodes?.has(s.inode) !== true && !this.owners.inodePids.has(s.inode)) out.push(s.inode);
    }
    return out;
  }

  private bestSockets(c: ConnectionEndpoints): SocketEntry[] {
    const candidates = this.byPort.get(indexKey(PROTOCOL_CODE[c.protocol], c.localPort));
    if (candidates === undefined) return [];
    let bestRank = Infinity;
    let best: SocketEntry[] = [];
    for (const s of candidates) {
      const r = rank(s, c);
      if (r < 0 || r > bestRank) continue;
      if (r < bestRank) {
        bestRank = r;
        best = [];
      }
      best.push(s);
    }
    return best;
  }
}
