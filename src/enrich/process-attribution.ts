// ProcessAttribution: which process (and systemd unit, container) owns each TCP/UDP/ICMP connection, from /proc.

import type { ConnectionKey, ProcessOwner, SideTables } from '../core/side-tables.js';
import type { CgroupInfo } from '../host/cgroup.js';
import type { SocketEntry } from '../host/proc-net.js';
import { ProcessMatcher, type ConnectionEndpoints, type SocketOwners } from './process-matcher.js';

/** The OS access attribution needs (host/ readers on Linux, fakes in tests). */
export interface ProcessHost {
  /** Every socket of /proc/net/{tcp,udp,icmp}{,6}. */
  sockets(): SocketEntry[];
  /** Inode → pid owners, refreshed by the two scans below. */
  readonly owners: SocketOwners;
  scanAll(): void;
  /** Reads new pids first and stops once every wanted inode has an owner. */
  scanNewFirst(wanted: ReadonlySet<number>): void;
  processName(pid: number): string | null;
  cgroup(pid: number): CgroupInfo | undefined;
  containerName(info: CgroupInfo): string | undefined;
}

/** A full refresh at most this often (RustNet's cadence); new connections get a targeted one in between. */
const FULL_REFRESH_MICROS = 2_000_000;
/** A connection still without an owner after this long is given up on (its socket is long gone). */
const GIVE_UP_MICROS = 10_000_000;

const PROTOCOLS: Record<number, ConnectionEndpoints['protocol'] | undefined> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMP' };

export class ProcessAttribution {
  private readonly host: ProcessHost;
  /** Owners found since the last tick, by connection id (attribution is write-once). */
  private readonly found = new Map<number, ProcessOwner>();
  private readonly done = new Set<number>();
  private readonly firstTried = new Map<number, number>();
  private readonly names = new Map<number, ProcessOwner>();
  private lastFullMicros = -Infinity;
  private nowMicros = 0;
  private readonly defer: (work: () => void) => void;

  /**
   * `defer` runs the periodic full refresh outside the tick (default: on the next turn of the event loop),
   * so a tick never waits for a scan of /proc; its results land on the following tick.
   */
  constructor(host: ProcessHost, defer: (work: () => void) => void = setImmediate) {
    this.host = host;
    this.defer = defer;
  }

  /** Live: new connections just appeared; look them up while their sockets still exist. */
  noticeNew(connections: readonly ConnectionKey[]): void {
    this.lookUp(connections, false);
  }

  apply(nowMicros: number, side: SideTables, connections: readonly ConnectionKey[]): boolean {
    this.nowMicros = nowMicros;
    if (nowMicros - this.lastFullMicros >= FULL_REFRESH_MICROS) {
      this.lastFullMicros = nowMicros;
      this.defer(() => {
        this.names.clear(); // pids are reused: names are trusted for one refresh period
        this.lookUp(connections, true);
      });
    }
    let changed = false;
    for (const [id, owner] of this.found) if (side.setProcess(id, owner)) changed = true;
    this.found.clear();
    // Forget connections that are gone (their ids never come back).
    if (this.done.size > 4 * connections.length + 1024) {
      const live = new Set(connections.map((c) => c.id));
      for (const id of this.done) if (!live.has(id)) this.done.delete(id);
    }
    return changed;
  }

  private lookUp(connections: readonly ConnectionKey[], full: boolean): void {
    const wanted: { c: ConnectionKey; e: ConnectionEndpoints }[] = [];
    for (const c of connections) {
      const protocol = PROTOCOLS[c.protocol];
      if (protocol === undefined || this.done.has(c.id) || this.found.has(c.id)) continue;
      const first = this.firstTried.get(c.id);
      if (first === undefined) this.firstTried.set(c.id, this.nowMicros);
      else if (this.nowMicros - first > GIVE_UP_MICROS) {
        this.done.add(c.id);
        this.firstTried.delete(c.id);
        continue;
      }
      wanted.push({ c, e: { protocol, family: c.family, localAddr: c.localAddr, localPort: c.localPort, remoteAddr: c.remoteAddr, remotePort: c.remotePort } });
    }
    if (wanted.length === 0) return;
    const matcher = new ProcessMatcher(this.host.sockets(), this.host.owners);
    if (full) this.host.scanAll();
    else {
      const inodes = new Set<number>();
      for (const w of wanted) for (const inode of matcher.unownedInodes(w.e)) inodes.add(inode);
      if (inodes.size > 0) this.host.scanNewFirst(inodes);
    }
    for (const w of wanted) {
      const m = matcher.match(w.e);
      if (m === null) continue;
      const owner = this.ownerOf(m.pid);
      if (owner === null) continue;
      this.found.set(w.c.id, owner);
      this.done.add(w.c.id);
      this.firstTried.delete(w.c.id);
    }
  }

  private ownerOf(pid: number): ProcessOwner | null {
    const known = this.names.get(pid);
    if (known !== undefined) return known;
    const name = this.host.processName(pid);
    if (name === null) return null;
    const cg = this.host.cgroup(pid);
    const owner: ProcessOwner = {
      pid,
      name,
      unit: cg?.unit,
      containerId: cg?.containerId,
      containerName: cg === undefined ? undefined : this.host.containerName(cg),
    };
    this.names.set(pid, owner);
    return owner;
  }
}
