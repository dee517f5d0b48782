// ProcessAttribution with a fake host: targeted lookups for new connections, owners landing on the tick,
// write-once, no guess when sockets are ambiguous, the full refresh outside the tick, giving up.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SideTables, type ConnectionKey } from '../core/side-tables.js';
import type { CgroupInfo } from '../host/cgroup.js';
import type { SocketEntry } from '../host/proc-net.js';
import { ProcessAttribution, type ProcessHost } from './process-attribution.js';

const S = 1_000_000;

function socket(localPort: number, remotePort: number, inode: number): SocketEntry {
  return { protocol: 'tcp', family: 4, localAddr: '10.0.0.5', localPort, remoteAddr: '198.51.100.1', remotePort, state: 1, inode, uid: 1000 };
}

function conn(id: number, localPort: number): ConnectionKey {
  return { id, protocol: 6, family: 4, localAddr: '10.0.0.5', localPort, remoteAddr: '198.51.100.1', remotePort: 443, dpi: null };
}

/** Sockets and their owners as the kernel would show them; scans copy `truth` into what the matcher sees. */
class FakeHost implements ProcessHost {
  sockets_: SocketEntry[] = [];
  truth = new Map<number, number>();
  readonly owners = { inodePids: new Map<number, number>() };
  calls: string[] = [];
  sockets(): SocketEntry[] { this.calls.push('sockets'); return this.sockets_; }
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
  const pa = new ProcessAttribution(host, (w) => deferred.push(w));
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
