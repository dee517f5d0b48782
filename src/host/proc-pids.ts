// Which process holds each socket inode, from the /proc/PID/fd links; and a process's full name.

import * as fs from 'node:fs';

/** The three reads this module makes, injectable so tests can fail them (as root, EACCES cannot be staged). */
export interface ProcFs {
  readdir(path: string): string[];
  readlink(path: string): string;
  readFile(path: string): string;
}

export const nodeProcFs: ProcFs = {
  readdir: (path) => fs.readdirSync(path),
  readlink: (path) => fs.readlinkSync(path),
  readFile: (path) => fs.readFileSync(path, 'utf8'),
};

/** What one scan did. Processes come and go while /proc is walked, so failures are counted, not thrown. */
export interface PidScanStats {
  /** Pids whose fd directory was listed. */
  pidsScanned: number;
  linksRead: number;
  /** EACCES/EPERM: another user's process, when we lack CAP_SYS_PTRACE (or after dropping privileges). */
  denied: number;
  /** ENOENT/ESRCH: a process or descriptor that went away between listing and reading. */
  vanished: number;
  /** Any other failure (counted so it shows up, skipped like the rest). */
  failed: number;
  /** Wanted inodes still without an owner when the scan ended (0 for a full scan). */
  missing: number;
  /** A targeted scan stopped before its last pid because every wanted inode was found. */
  stoppedEarly: boolean;
}

/** Outcome of reading one pid's fds: its socket inodes, or why there are none. */
type PidRead = number[] | 'denied' | 'vanished' | 'failed';

const SOCKET_PREFIX = 'socket:[';

function errorKind(e: unknown): 'denied' | 'vanished' | 'failed' {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  if (code === 'ENOENT' || code === 'ESRCH') return 'vanished';
  return 'failed';
}

/** '123' → 123; anything else ('self', 'net', '', '12a') → -1. */
function decimalOf(text: string): number {
  if (text.length === 0 || text.length > 15) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(text);
}

/** 'socket:[12345]' → 12345; any other link target (files, pipes, anon inodes) → -1. */
function socketInode(target: string): number {
  if (!target.startsWith(SOCKET_PREFIX) || !target.endsWith(']')) return -1;
  return decimalOf(target.slice(SOCKET_PREFIX.length, -1));
}

function newStats(): PidScanStats {
  return { pidsScanned: 0, linksRead: 0, denied: 0, vanished: 0, failed: 0, missing: 0, stoppedEarly: false };
}

/**
 * The inode → pid map, kept between scans. A full scan rebuilds it; targeted scans update only the pids
 * they read, so a refresh for a new connection can read the pids that appeared since the last scan first
 * and stop as soon as the inodes it wants have owners.
 */
export class ProcPids {
  private readonly root: string;
  private readonly fs: ProcFs;
  /** Inodes exactly one process holds. */
  private readonly owner = new Map<number, number>();
  /** Inodes several processes hold (inherited over fork, passed over a Unix socket): no single owner. */
  private readonly shared = new Map<number, Set<number>>();
  /** The socket inodes each pid held when it was last read. */
  private readonly pidInodes = new Map<number, number[]>();
  /** Pids listed or read before: what a targeted scan does not look at first. */
  private readonly seen = new Set<number>();

  constructor(root = '/proc', procFs: ProcFs = nodeProcFs) {
    this.root = root;
    this.fs = procFs;
  }

  /** inode → pid, for inodes exactly one scanned process holds. */
  get inodePids(): ReadonlyMap<number, number> {
    return this.owner;
  }

  /** inode → pids, for inodes more than one process holds. */
  get sharedInodes(): ReadonlyMap<number, ReadonlySet<number>> {
    return this.shared;
  }

  get seenPids(): ReadonlySet<number> {
    return this.seen;
  }

  /** Reads every process's fds and replaces what was known. */
  scanAll(): PidScanStats {
    const stats = newStats();
    const pids = this.listPids();
    this.owner.clear();
    this.shared.clear();
    this.pidInodes.clear();
    this.seen.clear();
    for (const pid of pids) {
      const read = this.readPid(pid, stats);
      if (read === 'vanished') continue;
      this.seen.add(pid);
      if (typeof read !== 'string') this.setPid(pid, read);
    }
    return stats;
  }

  /**
   * Reads only these pids (in this order), replacing what was known about each. With `wanted`, stops as
   * soon as every wanted inode has an owner.
   */
  scanPids(pids: Iterable<number>, wanted?: ReadonlySet<number>): PidScanStats {
    const stats = newStats();
    this.scanList(pids, wanted, stats);
    return stats;
  }

  /**
   * For a connection whose socket has no known owner: forgets pids that exited, reads the pids not seen
   * before first (a new connection most often belongs to a new process), highest first, then the others, and stops as
   * soon as every wanted inode has an owner. Nothing is read when nothing is wanted.
   */
  scanNewFirst(wanted: ReadonlySet<number>): PidScanStats {
    const stats = newStats();
    const listed = this.listPids();
    const alive = new Set(listed);
    for (const pid of this.seen) {
      if (!alive.has(pid)) this.forgetPid(pid);
    }
    const fresh: number[] = [];
    const old: number[] = [];
    for (const pid of listed) (this.seen.has(pid) ? old : fresh).push(pid);
    // Highest first: the most recently started, unless pids wrapped since.
    fresh.sort((a, b) => b - a);
    this.scanList(fresh.concat(old), wanted, stats);
    return stats;
  }

  private scanList(pids: Iterable<number>, wanted: ReadonlySet<number> | undefined, stats: PidScanStats): void {
    let missing = wanted === undefined ? 0 : this.countMissing(wanted);
    if (wanted !== undefined && missing === 0) {
      stats.stoppedEarly = true;
      return;
    }
    for (const pid of pids) {
      if (wanted !== undefined && missing === 0) {
        stats.stoppedEarly = true;
        break;
      }
      const read = this.readPid(pid, stats);
      if (read === 'vanished') {
        this.forgetPid(pid);
        continue;
      }
      this.seen.add(pid);
      if (read === 'denied' || read === 'failed') continue;
      this.setPid(pid, read);
      if (wanted !== undefined && read.some((inode) => wanted.has(inode))) missing = this.countMissing(wanted);
    }
    stats.missing = missing;
  }

  private countMissing(wanted: ReadonlySet<number>): number {
    let n = 0;
    for (const inode of wanted) {
      if (!this.owner.has(inode) && !this.shared.has(inode)) n++;
    }
    return n;
  }

  private listPids(): number[] {
    let names: string[];
    try {
      names = this.fs.readdir(this.root);
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const name of names) {
      const pid = decimalOf(name);
      if (pid > 0) pids.push(pid);
    }
    return pids;
  }

  /** Link names only: a readlink per fd is one syscall, where a stat per fd would be two and buy nothing. */
  private readPid(pid: number, stats: PidScanStats): PidRead {
    const dir = `${this.root}/${pid}/fd`;
    let fds: string[];
    try {
      fds = this.fs.readdir(dir);
    } catch (e) {
      const kind = errorKind(e);
      stats[kind]++;
      return kind;
    }
    stats.pidsScanned++;
    const inodes: number[] = [];
    for (const fd of fds) {
      let target: string;
      try {
        target = this.fs.readlink(`${dir}/${fd}`);
      } catch (e) {
        const kind = errorKind(e);
        stats[kind]++;
        // A closed fd is routine; a refusal applies to the whole directory, so the rest would fail too.
        if (kind === 'vanished') continue;
        return kind;
      }
      stats.linksRead++;
      const inode = socketInode(target);
      if (inode > 0) inodes.push(inode);
    }
    return inodes;
  }

  private setPid(pid: number, inodes: number[]): void {
    this.forgetPid(pid);
    this.seen.add(pid);
    this.pidInodes.set(pid, inodes);
    for (const inode of inodes) this.addHolder(inode, pid);
  }

  private forgetPid(pid: number): void {
    this.seen.delete(pid);
    const inodes = this.pidInodes.get(pid);
    if (inodes === undefined) return;
    this.pidInodes.delete(pid);
    for (const inode of inodes) this.removeHolder(inode, pid);
  }

  private addHolder(inode: number, pid: number): void {
    const holders = this.shared.get(inode);
    if (holders !== undefined) {
      holders.add(pid);
      return;
    }
    const other = this.owner.get(inode);
    if (other === undefined || other === pid) {
      this.owner.set(inode, pid);
      return;
    }
    this.owner.delete(inode);
    this.shared.set(inode, new Set([other, pid]));
  }

  private removeHolder(inode: number, pid: number): void {
    const holders = this.shared.get(inode);
    if (holders === undefined) {
      if (this.owner.get(inode) === pid) this.owner.delete(inode);
      return;
    }
    holders.delete(pid);
    if (holders.size > 1) return;
    this.shared.delete(inode);
    for (const last of holders) this.owner.set(inode, last);
  }
}

/** The kernel keeps 15 bytes of a process name (TASK_COMM_LEN 16 with the NUL). */
const COMM_MAX = 15;

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A process's name: /proc/PID/comm, which the kernel cuts at 15 bytes, completed from the executable's
 * file name, else from argv[0] (the exe link is unreadable for another user's process without
 * CAP_SYS_PTRACE), when that name starts with the cut text. Null when the process is gone.
 */
export function processName(root: string, pid: number, procFs: ProcFs = nodeProcFs): string | null {
  let comm: string;
  try {
    comm = procFs.readFile(`${root}/${pid}/comm`);
  } catch {
    return null;
  }
  if (comm.endsWith('\n')) comm = comm.slice(0, -1);
  if (Buffer.byteLength(comm) === COMM_MAX) {
    const full = completes(comm, exeName(root, pid, procFs)) ?? completes(comm, argv0Name(root, pid, procFs));
    if (full !== null) return full.trim();
  }
  return comm.trim();
}

function completes(comm: string, name: string | null): string | null {
  return name !== null && name.length > comm.length && name.startsWith(comm) ? name : null;
}

function exeName(root: string, pid: number, procFs: ProcFs): string | null {
  try {
    // An executable replaced or removed since exec reads 'path (deleted)'.
    const target = procFs.readlink(`${root}/${pid}/exe`).replace(/ \(deleted\)$/, '');
    return basename(target);
  } catch {
    return null;
  }
}

function argv0Name(root: string, pid: number, procFs: ProcFs): string | null {
  try {
    const cmdline = procFs.readFile(`${root}/${pid}/cmdline`);
    const end = cmdline.indexOf('\0');
    return basename(end >= 0 ? cmdline.slice(0, end) : cmdline);
  } catch {
    return null;
  }
}
