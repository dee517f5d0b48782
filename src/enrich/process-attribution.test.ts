// ProcessAttribution with a fake host: targeted lookups for new connections, owners landing on the tick,
// write-once, no guess when sockets are ambiguous, the full refresh outside the tick, giving up, bounded state.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SideTables, type ConnectionKey } from '../core/side-tables.js';
import type { CgroupInfo } from '../host/cgroup.js';
import type { SocketEntry } from '../host/proc-net.js';
import { ProcessAttribution, type AttributionTimers, type ProcessHost } from './process-attribution.js';

const S = 1_000_000;

function socket(localPort: number, remotePort: number, inode: number): SocketEntry {
  return { protocol: 'tcp', family: 4, localAddr: '10.0.0.5', localPort, remoteAddr: '198.51.100.1', remotePort, state: 1, inode, uid: 1000 };
}

function conn(id: number, localPort: number): ConnectionKey {
  return { id, protocol: 6, family: 4, localAddr: '10.0.0.5', localPort, remoteAddr: '198.51.100.1', remotePort: 443, dpi: null };
}

/** A clock that moves only when told (and while the fake host reads its tables), and timers run by hand. */
class FakeTimers implements AttributionTimers {
  ms = 0;
  pending: { at: number; work: () => void }[] = [];
  now(): number { return this.ms; }
  after(ms: number, work: () => void): void { this.pending.push({ at: this.ms + ms, work }); }
  /** Advance to `ms`, running the timers due by then. */
  advance(ms: number): void {
    this.ms = ms;
    const due = this.pending.filter((t) => t.at <= ms);
    this.pending = this.pending.filter((t) => t.at > ms);
    for (const t of due) t.work();
  }
}

/** Sockets and their owners as the kernel would show them; scans copy `truth` into what the matcher sees. */
class FakeHost implements ProcessHost {
  sockets_: SocketEntry[] = [];
  truth = new Map<number, number>();
  readonly owners = { inodePids: new Map<number, number>() };
  calls: string[] = [];
  /** Reading the tables takes this long on the fake clock. */
  readMs = 0;
  timers: FakeTimers | null = null;
  sockets(): SocketEntry[] {
    this.calls.push('sockets');
    if (this.timers !== null) this.timers.ms += this.readMs;
    return this.sockets_;
  }
  scanAll(): void { this.calls.push('scanAll'); for (const [i, p] of this.truth) this.owners.inodePids.set(i, p); }
  scanNewFirst(wanted: ReadonlySet<number>): void {
    this.calls.push(`scan ${[...wanted].join(',')}`);
    for (const i of wanted) { const p = this.truth.get(i); if (p !== undefined) this.owners.inodePids.set(i, p); }
  }
  processName(pid: number): string | null { return pid === 7 ? null : `proc${pid}`; }
  cgroup(pid: number): CgroupInfo | undefined { return pid === 42 ? { path: '/system.slice/web.service', unit: 'web.service' } : undefined; }
  containerName(): string | undefined { return undefined; }
}

test('a new connection is looked up at once, for its own inode; the owner lands on the next tick, once', () => {
  const host = new FakeHost();
  host.sockets_ = [socket(40_001, 443, 501), socket(40_002, 443, 502)];
  host.truth = new Map([[501, 42], [502, 43]]);
  const deferred: (() => void)[] = [];
  const pa = new ProcessAttribution(host, (w) => deferred.push(w), new FakeTimers());
  const side = new SideTables();
  const c1 = conn(1, 40_001);
  // The session hands over its live connection list: later lookups see connections added since.
  const list = [c1];
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets', 'scan 501'], 'one read of the socket tables, one targeted scan');
  assert.equal(side.processes.size, 0, 'nothing lands outside a tick');
  assert.equal(pa.apply(1 * S, side, list), true);
  assert.deepEqual(side.processes.get(1), { pid: 42, name: 'proc42', unit: 'web.service', containerId: undefined, containerName: undefined });
  // The full refresh was only scheduled by that tick, not run inside it.
  assert.equal(host.calls.includes('scanAll'), false);
  assert.equal(deferred.length, 1);
  // A known connection is never looked up again.
  host.calls = [];
  pa.noticeNew(list);
  assert.deepEqual(host.calls, []);
  // The full refresh, run when the event loop gets to it, finds a connection no notice told about.
  const c2 = conn(2, 40_002);
  list.push(c2);
  pa.apply(1.5 * S, side, list);
  assert.equal(deferred.length, 1, 'not due again yet: still the one from the first tick');
  deferred.shift()!();
  assert.equal(side.processes.has(2), false);
  assert.deepEqual(host.calls, ['sockets', 'scanAll']);
  assert.equal(pa.apply(2 * S, side, list), true);
  assert.equal(side.processes.get(2)?.pid, 43);
});

test('no guess: two processes sharing the endpoint, or a process without a readable name, give no owner', () => {
  const host = new FakeHost();
  host.sockets_ = [socket(40_003, 443, 601), socket(40_003, 443, 602), socket(40_004, 443, 603)];
  host.truth = new Map([[601, 50], [602, 51], [603, 7]]);
  const pa = new ProcessAttribution(host, () => {});
  const side = new SideTables();
  pa.noticeNew([conn(3, 40_003), conn(4, 40_004)]);
  assert.equal(pa.apply(1 * S, side, []), false);
  assert.equal(side.processes.size, 0);
});

test('a connection still without an owner after 10 s is given up on', () => {
  const host = new FakeHost();
  const pa = new ProcessAttribution(host, (w) => w());
  const side = new SideTables();
  const c = conn(5, 40_005);
  pa.apply(1 * S, side, [c]);
  host.calls = [];
  pa.apply(12 * S, side, [c]);
  assert.deepEqual(host.calls, [], 'not even the socket tables are read for it');
});

test('connections that leave before they are settled or given up on are forgotten: state stays bounded under churn', () => {
  // 500 new connections a second, none with a socket (gone already, as a short flow's is), and a table capped
  // at 2,000: each leaves after 4 s, before the 10 s give-up. Before the fix every one left an entry behind.
  const host = new FakeHost();
  const timers = new FakeTimers();
  const pa = new ProcessAttribution(host, (w) => w(), timers);
  const side = new SideTables();
  const stay = conn(1, 30_000);
  let list: ConnectionKey[] = [stay];
  let id = 2;
  for (let t = 1; t <= 200; t++) {
    for (let k = 0; k < 5; k++) {
      for (let n = 0; n < 100; n++, id++) list.push(conn(id, 40_000 + (id % 20_000)));
      timers.advance(t * 1000 + k * 200);
      pa.noticeNew(list);
    }
    if (list.length > 2000) list = [stay, ...list.slice(list.length - 1999)];
    pa.apply(t * S, side, list);
    assert.ok(pa.remembered <= 2 * (4 * list.length + 1024), `at ${t} s: ${pa.remembered} remembered for ${list.length} live`);
  }
  assert.equal(id - 2, 100_000, 'the churn ran: 100,000 connections through a table of 2,000');
});

test('the full refresh reads no pid when no socket here serves any connection still wanted', () => {
  const host = new FakeHost();
  host.sockets_ = [socket(40_006, 443, 701)];
  host.truth = new Map([[701, 44]]);
  const deferred: (() => void)[] = [];
  const pa = new ProcessAttribution(host, (w) => deferred.push(w));
  const side = new SideTables();
  // Port 40 007 has no socket in the tables (another network namespace, forwarded, already closed).
  const elsewhere = conn(7, 40_007);
  const list = [elsewhere];
  pa.apply(1 * S, side, list);
  deferred.shift()!();
  assert.deepEqual(host.calls, ['sockets'], 'the tables are read, the pids are not');
  assert.equal(side.processes.size, 0);
  // As soon as one wanted connection has a socket, the refresh scans again, and finds its owner.
  list.push(conn(6, 40_006));
  host.calls = [];
  pa.apply(3 * S, side, list);
  deferred.shift()!();
  assert.deepEqual(host.calls, ['sockets', 'scanAll']);
  assert.equal(pa.apply(4 * S, side, list), true);
  assert.equal(side.processes.get(6)?.pid, 44);
  assert.equal(side.processes.has(7), false);
});

test('targeted refreshes in a burst wait four times their own duration, 25 ms at most, and lose no notice', () => {
  const host = new FakeHost();
  const timers = new FakeTimers();
  host.timers = timers;
  host.readMs = 5;
  host.sockets_ = [socket(40_010, 443, 801), socket(40_011, 443, 802), socket(40_012, 443, 803), socket(40_013, 443, 804), socket(40_014, 443, 805)];
  host.truth = new Map([[801, 60], [802, 61], [803, 62], [804, 63], [805, 64]]);
  const pa = new ProcessAttribution(host, () => {}, timers);
  const side = new SideTables();
  const list = [conn(10, 40_010)];
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets', 'scan 801'], 'the first one at once');
  // The read took 5 ms (0 → 5): the next may start at 5 + 4 × 5 = 25 ms.
  host.calls = [];
  timers.advance(10);
  list.push(conn(11, 40_011));
  pa.noticeNew(list);
  timers.advance(12);
  list.push(conn(12, 40_012));
  pa.noticeNew(list);
  assert.deepEqual(host.calls, [], 'held back');
  assert.equal(timers.pending.length, 1, 'one trailing refresh for both notices');
  timers.advance(24);
  assert.deepEqual(host.calls, []);
  timers.advance(25);
  assert.deepEqual(host.calls, ['sockets', 'scan 802,803'], 'both connections in one refresh');
  pa.apply(1 * S, side, list);
  assert.deepEqual([...side.processes.keys()].sort(), [10, 11, 12]);
  // That refresh read 25 → 30, so the next may start at 50. A slow read (10 ms, 50 → 60) is followed by a
  // gap of 25 ms, not 40.
  host.readMs = 10;
  host.calls = [];
  timers.advance(50);
  list.push(conn(13, 40_013));
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets', 'scan 804'], 'due again: at once');
  assert.equal(timers.ms, 60);
  host.calls = [];
  timers.advance(70);
  list.push(conn(14, 40_014));
  pa.noticeNew(list);
  assert.equal(timers.pending[0]?.at, 85);
  timers.advance(85);
  assert.deepEqual(host.calls, ['sockets', 'scan 805']);
  // A notice with nothing left to look up reads nothing and does not push the next refresh back.
  host.calls = [];
  timers.advance(200);
  pa.noticeNew(list);
  pa.noticeNew(list);
  assert.deepEqual(host.calls, []);
  assert.equal(timers.pending.length, 0);
});

test('a connection whose own socket was in the tables read a moment ago is answered without reading them again', () => {
  const host = new FakeHost();
  const timers = new FakeTimers();
  host.timers = timers;
  host.readMs = 5;
  const listener: SocketEntry = { protocol: 'tcp', family: 4, localAddr: '0.0.0.0', localPort: 8080, remoteAddr: '0.0.0.0', remotePort: 0, state: 0x0a, inode: 900, uid: 0 };
  host.sockets_ = [socket(40_020, 443, 901), socket(40_021, 443, 902), listener];
  // Both client sockets belong to one process, read by the first targeted scan.
  host.truth = new Map([[901, 70], [902, 70], [900, 71]]);
  host.scanNewFirst = function (wanted) {
    this.calls.push(`scan ${[...wanted].join(',')}`);
    for (const [i, p] of this.truth) this.owners.inodePids.set(i, p);
  };
  const pa = new ProcessAttribution(host, () => {}, timers);
  const side = new SideTables();
  const list = [conn(20, 40_020)];
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets', 'scan 901']);
  host.calls = [];
  // 100 ms later: the second connection's own socket (902) was in that read, its owner known.
  timers.advance(100);
  list.push(conn(21, 40_021));
  pa.noticeNew(list);
  assert.deepEqual(host.calls, [], 'no read');
  assert.equal(timers.pending.length, 0, 'nothing held back either');
  // A connection served only by the listener is not taken from the old read: the tables are read again.
  timers.advance(200);
  const inbound: ConnectionKey = { id: 22, protocol: 6, family: 4, localAddr: '10.0.0.5', localPort: 8080, remoteAddr: '203.0.113.9', remotePort: 50_000, dpi: null };
  list.push(inbound);
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets']);
  pa.apply(1 * S, side, list);
  assert.deepEqual([20, 21, 22].map((id) => side.processes.get(id)?.pid), [70, 70, 71]);
  // After RECENT_TABLES_MS (500 ms) even the own socket is read afresh.
  host.calls = [];
  host.sockets_.push(socket(40_023, 443, 903));
  host.truth.set(903, 72);
  host.owners.inodePids.set(903, 72);
  timers.advance(200 + 5 + 501);
  list.push(conn(23, 40_023));
  pa.noticeNew(list);
  assert.deepEqual(host.calls, ['sockets']);
  pa.apply(2 * S, side, list);
  assert.equal(side.processes.get(23)?.pid, 72);
});

test('processes we may not read are said once, and their connections simply get no owner', () => {
  const host = new FakeHost();
  host.sockets_ = [socket(40_008, 443, 801), socket(40_009, 443, 802)];
  // 802 belongs to another user's process: its fds cannot be read without the capabilities.
  host.truth = new Map([[801, 45]]);
  const denied = Object.assign(host, { scanAll(): number { FakeHost.prototype.scanAll.call(host); return 3; } });
  const deferred: (() => void)[] = [];
  const notices: string[] = [];
  const pa = new ProcessAttribution(denied, (w) => deferred.push(w), new FakeTimers(), (m) => notices.push(m));
  const side = new SideTables();
  const list = [conn(8, 40_008), conn(9, 40_009)];
  for (let t = 1; t <= 7; t += 2) {
    pa.apply(t * S, side, list);
    while (deferred.length > 0) deferred.shift()!();
  }
  assert.equal(side.processes.get(8)?.pid, 45);
  assert.equal(side.processes.has(9), false, 'no owner rather than a guess');
  assert.equal(notices.length, 1, 'said once, however many refreshes');
  assert.match(notices[0]!, /3 processes could not be read .*cap_dac_read_search,cap_sys_ptrace/);
});

test('with one-by-one lookups, new connections are asked about alone; a gone one is left to the full refresh', () => {
  const host = new FakeHost();
  const timers = new FakeTimers();
  host.timers = timers;
  host.sockets_ = [socket(40_020, 443, 901), socket(40_022, 443, 903)];
  host.truth = new Map([[901, 70], [903, 72]]);
  // What the kernel's lookup answers per local port: the socket, nothing (the connection is gone), or "cannot
  // say" (undefined: then the tables are read for it).
  const kernel = new Map<number, SocketEntry | null | undefined>([
    [40_020, socket(40_020, 443, 901)], [40_021, null], [40_022, undefined],
  ]);
  const asked: number[] = [];
  const oneByOne: ProcessHost = Object.assign(Object.create(host) as FakeHost, {
    socketServing: (e: { localPort: number }) => {
      asked.push(e.localPort);
      return kernel.get(e.localPort);
    },
  });
  const deferred: (() => void)[] = [];
  const pa = new ProcessAttribution(oneByOne, (w) => deferred.push(w), timers);
  const side = new SideTables();
  const list = [conn(20, 40_020), conn(21, 40_021)];
  pa.noticeNew(list);
  assert.deepEqual(asked, [40_020, 40_021]);
  assert.deepEqual(host.calls, ['scan 901'], 'no table read: the one socket found is scanned for');
  pa.apply(1 * S, side, list);
  assert.deepEqual([...side.processes.keys()], [20]);
  // The gone connection is not asked about again; one the kernel cannot answer for goes to the tables.
  host.calls = [];
  asked.length = 0;
  timers.advance(100);
  list.push(conn(22, 40_022));
  pa.noticeNew(list);
  assert.deepEqual(asked, [40_022]);
  assert.deepEqual(host.calls, ['sockets', 'scan 903']);
  pa.apply(1.5 * S, side, list);
  assert.equal(side.processes.get(22)?.pid, 72);
  // The full refresh still reads the tables for the connection the kernel had no socket for.
  host.calls = [];
  pa.apply(3 * S, side, list);
  deferred.pop()!();
  assert.deepEqual(host.calls, ['sockets']);
  // Refreshes that take no time are still spaced (5 ms): each notice walks every connection.
  asked.length = 0;
  timers.advance(200);
  list.push(conn(23, 40_023));
  kernel.set(40_023, null);
  pa.noticeNew(list);
  list.push(conn(24, 40_024));
  kernel.set(40_024, null);
  pa.noticeNew(list);
  assert.deepEqual(asked, [40_023], 'the second notice waits');
  timers.advance(205);
  assert.deepEqual(asked, [40_023, 40_024]);
});
