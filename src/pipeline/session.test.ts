// Session: one lifecycle for every way a run ends, the tick's order, side tables joined into rows, snapshots.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RustnetError } from '../core/errors.js';
import type { ConnectionEvent } from '../core/event-sink.js';
import { TcpFlag } from '../core/packet-view.js';
import type { Snapshot } from '../core/snapshot.js';
import { FakeLocalAddresses, tcpFrame, udpFrame } from '../../test/support/frames.js';
import { ManualSource, MemorySink, runManual } from '../../test/support/session.js';
import { Session, type Enricher } from './session.js';

const S = 1_000_000;
const { SYN, ACK } = TcpFlag;

/** Every new_connection has exactly one connection_closed, after it. */
function assertComplete(events: ConnectionEvent[]): void {
  const open = new Map<string, number>();
  const key = (e: ConnectionEvent): string => `${e.protocol} ${e.source_ip} ${e.source_port} ${e.destination_ip} ${e.destination_port}`;
  for (const e of events) {
    const k = key(e);
    if (e.event === 'new_connection') open.set(k, (open.get(k) ?? 0) + 1);
    else {
      assert.ok((open.get(k) ?? 0) > 0, `closed before new: ${k}`);
      open.set(k, open.get(k)! - 1);
    }
  }
  assert.deepEqual([...open.entries()].filter(([, n]) => n !== 0), [], 'connections left without a closed event');
}

/** Three flows, one tick, two more flows that the log has not announced yet when the run ends. */
function feedFlows(source: ManualSource, session: Session): void {
  source.feed(udpFrame(['10.0.0.1', 5000], ['10.0.0.2', 53]), 10 * S);
  source.feed(tcpFrame(['10.0.0.1', 40000], ['10.0.0.3', 443], SYN, 1, 0), 10 * S + 1);
  source.feed(udpFrame(['10.0.0.1', 5001], ['10.0.0.4', 123]), 10 * S + 2);
  session.tick(11 * S);
  source.feed(udpFrame(['10.0.0.1', 5002], ['10.0.0.5', 53]), 11 * S + 5);
  source.feed(tcpFrame(['10.0.0.3', 443], ['10.0.0.1', 40000], SYN | ACK, 9, 2), 11 * S + 6);
}

test('end of input, stop (a signal), fail (an uncaught error) and damaged input all end with the same complete log', async () => {
  const logs: Record<string, ConnectionEvent[]> = {};
  const ends = {
    end_of_file: (h: ReturnType<typeof runManual>) => h.source.end(),
    stop: (h: ReturnType<typeof runManual>) => h.session.stop(),
    fail: (h: ReturnType<typeof runManual>) => h.session.fail(new TypeError('boom')),
    damaged: (h: ReturnType<typeof runManual>) => h.source.breakWith(new RustnetError('FILE_TRUNCATED', 'cut short at byte 99', 1)),
  };
  for (const [how, end] of Object.entries(ends)) {
    const h = runManual();
    feedFlows(h.source, h.session);
    end(h);
    const result = await h.done;
    assertComplete(h.sink.events);
    assert.equal(h.sink.events.length, 8, `${how}: 4 connections, new and closed`);
    assert.equal(h.sink.closes, 1, `${how}: the output is closed once`);
    assert.equal(h.source.closes, 1, `${how}: the source is closed once`);
    assert.equal(h.session.monitor.table.list.length, 0);
    logs[how] = h.sink.events.map((e) => ({ ...e, timestamp: '' }));
    switch (how) {
      case 'end_of_file':
        assert.deepEqual(result, { reason: 'end_of_file', failure: null });
        break;
      case 'stop':
        assert.deepEqual(result, { reason: 'shutdown', failure: null });
        break;
      case 'fail':
        assert.equal(result.failure?.code, 'INTERNAL');
        assert.equal(result.failure?.exitCode, 70);
        assert.match(result.failure!.message, /internal error: boom/);
        break;
      default:
        assert.equal(result.failure?.code, 'FILE_TRUNCATED');
        assert.equal(result.reason, 'end_of_file');
    }
  }
  // The same events whatever ended the run (only the closing states differ with the clock, which is packet time here).
  for (const how of Object.keys(ends)) assert.deepEqual(logs[how], logs.end_of_file, how);
});

test('stop and fail are idempotent, also after the end; the first reason stays', async () => {
  const h = runManual();
  feedFlows(h.source, h.session);
  h.session.stop();
  h.session.stop();
  h.session.fail(new Error('later'));
  const result = await h.done;
  assert.equal(result.reason, 'shutdown');
  h.session.stop();
  h.session.tick(99 * S); // a timer that fires after the end changes nothing
  assert.equal(h.sink.events.length, 8);
  assert.equal(h.sink.closes, 1);
  assert.equal(h.source.closes, 1);
});

test('live: the scheduler drives ticks on the wall clock; the stop cancels it and closes at the stop time', async () => {
  let wall = 12 * S;
  const h = runManual({ live: true, clock: () => wall, localAddresses: new FakeLocalAddresses(['10.0.0.5']) });
  assert.equal(h.scheduler.pending, 1);
  h.source.feed(tcpFrame(['203.0.113.7', 61000], ['10.0.0.5', 22], SYN, 1, 0), 10 * S);
  h.source.feed(tcpFrame(['10.0.0.5', 40000], ['198.51.100.1', 443], SYN, 1, 0), 10 * S + 1);
  h.source.feed(udpFrame(['10.0.0.5', 40001], ['198.51.100.1', 53]), 10 * S + 2);
  assert.equal(h.sink.events.length, 0, 'live frames do not tick');
  h.scheduler.fire();
  const news = h.sink.events.filter((e) => e.event === 'new_connection');
  assert.deepEqual(news.map((e) => [e.protocol, e.source_port, e.direction]),
    [['TCP', 22, 'incoming'], ['TCP', 40000, 'outgoing'], ['UDP', 40001, undefined]]);
  assert.equal(news[0]!.timestamp, new Date(10_000).toISOString());
  assert.equal(h.sink.flushes, 1, 'one flush per tick');
  wall = 14 * S;
  h.session.stop();
  await h.done;
  assert.equal(h.scheduler.pending, 0, 'no tick after the stop');
  const closed = h.sink.events.filter((e) => e.event === 'connection_closed');
  assert.deepEqual(closed.map((e) => e.state).sort(), ['SYN_RECV', 'SYN_SENT', 'UDP_ACTIVE']);
  assert.ok(closed.every((e) => e.timestamp === new Date(14_000).toISOString()), 'closed at the stop time');
  assert.deepEqual(h.session.monitor.counters(), { framesSeen: 3, framesDecoded: 3, framesMalformed: 0, framesSkipped: 0, skipped: {} });
});

test('--max-connections: never more than the cap, the stalest evicted first, each with a closed event', async () => {
  const h = runManual({ maxConnections: 100 });
  const table = h.session.monitor.table;
  let t = 100 * S;
  const feed = (i: number): void => {
    h.source.feed(udpFrame(['10.0.0.1', 10_000 + i], ['10.0.1.1', 53]), t);
    t += 1000;
    assert.ok(table.list.length <= 100, `table size ${table.list.length}`);
  };
  for (let i = 0; i < 100; i++) feed(i);
  for (let i = 0; i < 10; i++) feed(i); // flows 0-9 are fresh again
  for (let i = 100; i < 150; i++) feed(i);
  assert.equal(table.list.length, 100);
  assert.equal(table.evicted, 50);
  h.session.tick(t);
  const closedPorts = h.sink.events.filter((e) => e.event === 'connection_closed').map((e) => e.source_port);
  assert.deepEqual(closedPorts.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => 10_010 + i));
  const kept = table.list.map((c) => c.localPort).sort((a, b) => a - b);
  assert.deepEqual(kept, [...Array.from({ length: 10 }, (_, i) => 10_000 + i), ...Array.from({ length: 90 }, (_, i) => 10_060 + i)]);
  assert.equal(h.sink.events.filter((e) => e.event === 'new_connection').length, 150);
  h.source.end();
  await h.done;
});

test('tick order: enrichment results land before the events and the snapshot of the same tick', async () => {
  const order: string[] = [];
  const owner: Enricher = {
    apply(_now, side) {
      order.push('enrich');
      let changed = false;
      for (const c of session().monitor.table.list) {
        if (!side.processes.has(c.id)) {
          side.setProcess(c.id, { pid: 4000 + c.localPort % 100, name: 'curl' });
          changed = true;
        }
      }
      return changed;
    },
  };
  const seen: Snapshot[] = [];
  const h = runManual({ enrichers: [owner], readers: [{ render: (s) => { order.push('render'); seen.push(s); } }] });
  const session = (): Session => h.session;
  h.source.feed(udpFrame(['10.0.0.1', 5007], ['10.0.0.2', 53]), 10 * S);
  h.session.tick(10 * S + 1);
  assert.deepEqual(order, ['enrich', 'render']);
  assert.deepEqual(h.sink.events.map((e) => [e.event, e.pid, e.process_name]), [['new_connection', 4007, 'curl']]);
  const row = seen[0]!.connections[0]!;
  assert.deepEqual([row.pid, row.processName, row.localPort, row.remotePort, row.protocol, row.service], [4007, 'curl', 5007, 53, 'UDP', 'domain']);
  h.source.end();
  await h.done;
  const closed = h.sink.events.at(-1)!;
  assert.deepEqual([closed.event, closed.pid], ['connection_closed', 4007]);
  assert.equal(h.session.side.processes.size, 0, 'side-table entries go with their connection');
  const last = seen.at(-1)!;
  assert.equal(last.connections.length, 0);
  assert.deepEqual(last.recentlyClosed.map((r) => [r.localPort, r.closeReason, r.pid]), [[5007, 'end_of_file', 4007]]);
});

test('snapshots: the same generation while nothing changes, a new one when it does', async () => {
  const snaps: Snapshot[] = [];
  const h = runManual({ readers: [{ render: (s) => snaps.push(s) }] });
  h.source.feed(udpFrame(['10.0.0.1', 5000], ['10.0.0.2', 53], 100), 10 * S);
  h.session.tick(10 * S + 100);
  const first = snaps[0]!;
  assert.equal(first.connections.length, 1);
  assert.equal(first.capture.framesSeen, 1);
  assert.deepEqual(first.source, { kind: 'replay', name: 'manual', linkType: 1, description: 'test frames', filter: '' });
  // Rates are sampled for readers; a silent flow's rate falls to zero over the window, then nothing changes.
  for (let k = 1; k <= 6; k++) h.session.tick(10 * S + k * S);
  const quiet = snaps.at(-1)!;
  assert.equal(quiet.connections[0]!.sendRateBps, 0);
  h.session.tick(17 * S);
  assert.equal(snaps.at(-1), quiet, 'nothing changed: the same snapshot, same generation');
  h.source.feed(udpFrame(['10.0.0.2', 53], ['10.0.0.1', 5000], 200), 17 * S + 5);
  h.session.tick(18 * S);
  assert.ok(snaps.at(-1)!.generation > quiet.generation);
  assert.equal(snaps.at(-1)!.connections[0]!.packetsReceived, 1);
  h.source.end();
  await h.done;
});

test('a source that cannot open leaves no output open; outputs that cannot open leave no source open', () => {
  const badSource = new ManualSource(true);
  badSource.open = () => { throw new RustnetError('FILE_FORMAT', 'not a capture file'); };
  let opened = 0;
  const s1 = new Session(badSource, () => { opened++; return [new MemorySink()]; }, { maxConnections: 10, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000 });
  assert.throws(() => s1.open(), /not a capture file/);
  assert.equal(opened, 0);

  const source = new ManualSource(true);
  const s2 = new Session(source, () => { throw new RustnetError('OUTPUT', 'cannot open JSON log /x: EACCES'); }, { maxConnections: 10, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000 });
  assert.throws(() => s2.open(), /EACCES/);
  assert.equal(source.closes, 1);
});

test('live: new connections are noticed soon after their first packet, once per turn of the event loop', async () => {
  const noticed: number[][] = [];
  const applied: number[] = [];
  const watcher: Enricher = {
    noticeNew: (list) => { noticed.push(list.map((c) => c.localPort)); },
    apply: (_now, _side, list) => { applied.push(list.length); return false; },
  };
  const h = runManual({ live: true, clock: () => 20 * S, enrichers: [watcher] });
  h.source.feed(udpFrame(['10.0.0.1', 5000], ['10.0.0.2', 53]), 10 * S);
  h.source.feed(udpFrame(['10.0.0.1', 5001], ['10.0.0.2', 53]), 10 * S + 1);
  h.source.feed(udpFrame(['10.0.0.2', 53], ['10.0.0.1', 5001]), 10 * S + 2); // no new connection
  assert.deepEqual(noticed, [], 'never from inside the packet path');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(noticed, [[5000, 5001]], 'one call for both');
  h.source.feed(udpFrame(['10.0.0.2', 53], ['10.0.0.1', 5001]), 10 * S + 3);
  await new Promise((r) => setImmediate(r));
  assert.equal(noticed.length, 1, 'a packet of a known connection notices nothing');
  h.scheduler.fire();
  assert.deepEqual(applied, [2], 'apply sees the tracked connections');
  h.session.stop();
  await h.done;
});
