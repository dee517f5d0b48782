// ProcessAttribution: which process (and systemd unit, container) owns each TCP/UDP/ICMP connection, from /proc.

import type { ConnectionKey, ProcessOwner, SideTables } from '../core/side-tables.js';
import type { CgroupInfo } from '../host/cgroup.js';
import type { SocketEntry } from '../host/proc-net.js';
import { ProcessMatcher, type ConnectionEndpoints, type SocketOwners } from './process-matcher.js';

/** The OS access attribution needs (host/ readers on Linux, fakes in tests). */
export interface ProcessHost {
  /** Every socket of /proc/net/{tcp,udp,icmp}{,6}. */
  sockets(): SocketEntry[];
  /**
   * The socket the kernel's own lookup picks for one connection, without reading the tables (sock_diag): an
   * entry, null when no process holds one (the connection is gone), undefined when it cannot say. Optional.
   */
  socketServing?(e: ConnectionEndpoints): SocketEntry | null | undefined;
  /** Inode → pid owners, refreshed by the two scans below. */
  readonly owners: SocketOwners;
  /** Scans every pid; returns how many could not be read for lack of privilege (another user's, without the capabilities). */
  scanAll(): number | void;
  /** Reads new pids first and stops once every wanted inode has an owner. */
  scanNewFirst(wanted: ReadonlySet<number>): void;
  processName(pid: number): string | null;
  cgroup(pid: number): CgroupInfo | undefined;
  containerName(info: CgroupInfo): string | undefined;
}

/** A full refresh at most this often (RustNet's cadence); new connections get a targeted one in between. */
const FULL_REFRESH_MICROS = 2_000_000;
/**
 * Targeted refreshes wait this many times their own last duration before the next one. Reading the socket
 * tables costs the kernel time in proportion to the sockets (about 6 ms with 2,000 of them), and new
 * connections arrive over many turns of the event loop when a busy host is first seen: one read per turn
 * cost most of a second of CPU. Spaced like this, a burst of new sockets takes at most a fifth of one
 * core while a read takes under ~6 ms (beyond that the cap below lets it take more).
 */
const TARGETED_GAP_FACTOR = 4;
/** ...but never longer than this, so that a connection living a few tens of milliseconds is still looked up. */
const TARGETED_MAX_GAP_MS = 25;
/**
 * ...nor shorter than this: lookups one by one (socketServing) take so little time that the factor alone
 * would let a refresh run on every turn of the event loop, each walking the connection list for new ones.
 */
const TARGETED_MIN_GAP_MS = 5;
/** How long a connection's own socket in the last tables read is taken as still its own. */
const RECENT_TABLES_MS = 500;
/** A connection still without an owner after this long is given up on (its socket is long gone). */
const GIVE_UP_MICROS = 10_000_000;

/** The clock and timer behind the spacing of targeted refreshes (fakes in tests). */
export interface AttributionTimers {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `work` once after `ms` milliseconds, without keeping the process alive for it. */
  after(ms: number, work: () => void): void;
}

const realTimers: AttributionTimers = {
  now: () => performance.now(),
  after: (ms, work) => { setTimeout(work, ms).unref(); },
};

const PROTOCOLS: Record<number, ConnectionEndpoints['protocol'] | undefined> = { 6: 'TCP', 17: 'UDP', 1: 'ICMP', 58: 'ICMP' };

/** One connection still looking for its owner. */
interface Wanted {
  readonly c: ConnectionKey;
  readonly e: ConnectionEndpoints;
}

export class ProcessAttribution {
  private readonly host: ProcessHost;
  /** Owners found since the last tick, by connection id (attribution is write-once). */
  private readonly found = new Map<number, ProcessOwner>();
  private readonly done = new Set<number>();
  private readonly firstTried = new Map<number, number>();
  /** The highest connection id a notice has looked at (tracking numbers connections upwards). */
  private noticedUpTo = 0;
  private readonly names = new Map<number, ProcessOwner>();
  private lastFullMicros = -Infinity;
  private nowMicros = 0;
  private readonly defer: (work: () => void) => void;
  private readonly timers: AttributionTimers;
  /** When the next targeted refresh may read the tables (timers.now() milliseconds). */
  private nextTargetedMs = -Infinity;
  /** The connection list of the latest notice held back by the spacing, or null. */
  private heldBack: readonly ConnectionKey[] | null = null;
  private trailingScheduled = false;
  /** The socket tables last read, and when (timers.now() before the read). */
  private recent: ProcessMatcher | null = null;
  private recentMs = -Infinity;
  /** Said once: processes we may not read (attribution degrades to "no process" for their connections). */
  private readonly notice: (message: string) => void;
  private deniedNoticed = false;

  /**
   * `defer` runs the periodic full refresh outside the tick (default: on the next turn of the event loop),
   * so a tick never waits for a scan of /proc; its results land on the following tick. `timers` space the
   * targeted refreshes (default: performance.now and an unref'd setTimeout).
   */
  constructor(host: ProcessHost, defer: (work: () => void) => void = setImmediate, timers: AttributionTimers = realTimers,
    notice: (message: string) => void = () => {}) {
    this.host = host;
    this.defer = defer;
    this.timers = timers;
    this.notice = notice;
  }

  /**
   * Live: new connections just appeared; look them up while their sockets still exist. A connection whose
   * own socket was in the tables read a moment ago is answered from them; for the others the tables are
   * read again right away, unless the last read was a moment ago: then once, a little later, for every
   * notice held back meanwhile. Only connections not noticed before are looked for here (ids grow): one
   * that found no owner is tried again by the full refreshes, every 2 s, until it is given up on.
   */
  noticeNew(connections: readonly ConnectionKey[]): void {
    const now = this.timers.now();
    if (now < this.nextTargetedMs) {
      this.holdBack(connections, now);
      return;
    }
    let wanted = this.wanted(this.sinceLastNotice(connections));
    if (wanted.length === 0) return;
    wanted = this.fromRecentTables(wanted, now);
    if (wanted.length === 0) return;
    this.lookUp(wanted, false, now);
    const end = this.timers.now();
    this.nextTargetedMs = end + Math.max(TARGETED_MIN_GAP_MS, Math.min(TARGETED_MAX_GAP_MS, TARGETED_GAP_FACTOR * (end - now)));
  }

  private holdBack(connections: readonly ConnectionKey[], now: number): void {
    this.heldBack = connections;
    if (this.trailingScheduled) return;
    this.trailingScheduled = true;
    this.timers.after(this.nextTargetedMs - now, () => {
      this.trailingScheduled = false;
      const list = this.heldBack;
      this.heldBack = null;
      if (list !== null) this.noticeNew(list);
    });
  }

  apply(nowMicros: number, side: SideTables, connections: readonly ConnectionKey[]): boolean {
    this.nowMicros = nowMicros;
    if (nowMicros - this.lastFullMicros >= FULL_REFRESH_MICROS) {
      this.lastFullMicros = nowMicros;
      this.defer(() => {
        this.names.clear(); // pids are reused: names are trusted for one refresh period
        const wanted = this.wanted(connections);
        if (wanted.length > 0) this.lookUp(wanted, true, this.timers.now());
      });
    }
    let changed = false;
    for (const [id, owner] of this.found) if (side.setProcess(id, owner)) changed = true;
    this.found.clear();
    // Forget connections that are gone (their ids never come back). A connection that leaves before it is
    // settled or given up on (evicted at --max-connections, closed within 10 s) leaves its first try behind
    // too: under churn, one entry per connection. Pruned once either outgrows the live list several times
    // over, the work is amortised over the connections that left.
    const bound = 4 * connections.length + 1024;
    if (this.done.size > bound || this.firstTried.size > bound) {
      const live = new Set(connections.map((c) => c.id));
      for (const id of this.done) if (!live.has(id)) this.done.delete(id);
      for (const id of this.firstTried.keys()) if (!live.has(id)) this.firstTried.delete(id);
    }
    return changed;
  }

  /** Connections this keeps state for (settled or given up on, or still being looked for): bounded by the live ones. */
  get remembered(): number {
    return this.done.size + this.firstTried.size;
  }

  /** The connections with an id above every id noticed before (a walk of plain comparisons); raises the mark. */
  private sinceLastNotice(connections: readonly ConnectionKey[]): ConnectionKey[] {
    const mark = this.noticedUpTo;
    let top = mark;
    const out: ConnectionKey[] = [];
    for (const c of connections) {
      if (c.id <= mark) continue;
      out.push(c);
      if (c.id > top) top = c.id;
    }
    this.noticedUpTo = top;
    return out;
  }

  /** The connections still without an owner; gives up on those that have been looked for long enough. */
  private wanted(connections: readonly ConnectionKey[]): Wanted[] {
    const wanted: Wanted[] = [];
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
    return wanted;
  }

  /**
   * Settles, from the tables read at most RECENT_TABLES_MS ago, the connections whose very own socket
   * (their exact 4-tuple) was there with a known owner; returns the others. A monitor started on a busy
   * host meets thousands of connections over its first second, all on sockets that one read showed. Only
   * the exact socket is trusted from an older read: a listener or a wildcard-bound socket may since have
   * been joined by a more specific one of another process.
   */
  private fromRecentTables(wanted: Wanted[], now: number): Wanted[] {
    const recent = this.recent;
    if (recent === null || now - this.recentMs > RECENT_TABLES_MS) return wanted;
    const rest: Wanted[] = [];
    for (const w of wanted) {
      const m = recent.matchOwnSocket(w.e);
      if (m === null || !this.settle(w.c, m.pid)) rest.push(w);
    }
    return rest;
  }

  /** Reads the socket tables, scans pids where that can help, and matches every wanted connection. */
  private lookUp(wanted: readonly Wanted[], full: boolean, now: number): void {
    // Between full refreshes, ask the kernel about each connection (when it can be asked) instead.
    if (!full && this.host.socketServing !== undefined) wanted = this.lookUpOneByOne(wanted);
    if (wanted.length === 0) return;
    const matcher = new ProcessMatcher(this.host.sockets(), this.host.owners);
    this.recent = matcher;
    this.recentMs = now;
    if (full) {
      // Reading every process's fds is most of a full refresh, and it cannot help a connection no socket
      // here serves (another network namespace, forwarded traffic, a socket already closed): skip it
      // when every connection still wanted is of that kind.
      if (wanted.some((w) => matcher.hasSocket(w.e))) {
        const denied = this.host.scanAll();
        if (typeof denied === 'number' && denied > 0 && !this.deniedNoticed) {
          this.deniedNoticed = true;
          this.notice(`process attribution: ${denied} processes could not be read (other users' processes need root or cap_dac_read_search,cap_sys_ptrace); their connections show no process`);
        }
      }
      this.settleAll(matcher, wanted);
    } else {
      this.scanAndSettle(matcher, wanted);
    }
  }

  /** A targeted refresh's end: read the new pids that may hold the sockets found, then settle who can be. */
  private scanAndSettle(matcher: ProcessMatcher, wanted: readonly Wanted[]): void {
    const inodes = new Set<number>();
    for (const w of wanted) for (const inode of matcher.unownedInodes(w.e)) inodes.add(inode);
    if (inodes.size > 0) this.host.scanNewFirst(inodes);
    this.settleAll(matcher, wanted);
  }

  private settleAll(matcher: ProcessMatcher, wanted: readonly Wanted[]): void {
    for (const w of wanted) {
      const m = matcher.match(w.e);
      if (m !== null) this.settle(w.c, m.pid);
    }
  }

  /**
   * Targeted refresh with socketServing: one kernel lookup per connection, whatever the size of the tables (a
   * host holding thousands of TIME_WAIT sockets made each table read cost milliseconds). A connection the
   * kernel has no socket for (it is already gone) is left to the full refreshes. Returns the connections it
   * could not ask about.
   */
  private lookUpOneByOne(wanted: readonly Wanted[]): Wanted[] {
    const host = this.host;
    const rest: Wanted[] = [];
    const asked: Wanted[] = [];
    const sockets: SocketEntry[] = [];
    for (const w of wanted) {
      const s = host.socketServing!(w.e);
      if (s === undefined) rest.push(w);
      else if (s !== null) {
        asked.push(w);
        sockets.push(s);
      }
    }
    if (asked.length > 0) this.scanAndSettle(new ProcessMatcher(sockets, host.owners), asked);
    return rest;
  }

  /** Records pid as c's owner when its name can be read; false when it cannot (the process is gone). */
  private settle(c: ConnectionKey, pid: number): boolean {
    const owner = this.ownerOf(pid);
    if (owner === null) return false;
    this.found.set(c.id, owner);
    this.done.add(c.id);
    this.firstTried.delete(c.id);
    return true;
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
