// InterfaceMonitor on the session tick: sampled every 2 s of the tick's clock, rates from deltas, captured first.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SideTables } from '../core/side-tables.js';
import type { InterfaceCounters } from '../host/interface-stats.js';
import { InterfaceMonitor } from './interface-monitor.js';

const S = 1_000_000;

function counters(rxBytes: number): InterfaceCounters {
  return { rxBytes, txBytes: 0, rxPackets: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0, collisions: 0, operState: 'up', up: true };
}

test('reads every 2 s of tick time, outside the tick; rates from the deltas; the captured interface first', () => {
  let reads = 0;
  let eth0 = 1000;
  const deferred: (() => void)[] = [];
  const monitor = new InterfaceMonitor(() => {
    reads++;
    return new Map([['lo', counters(5)], ['eth0', counters(eth0)]]);
  }, 'eth0', (work) => deferred.push(work));
  const side = new SideTables();
  const runDeferred = (): void => { for (const w of deferred.splice(0)) w(); };
  assert.equal(monitor.apply(10 * S, side), false);
  assert.equal(reads, 0, 'nothing is read inside the tick');
  runDeferred();
  assert.equal(monitor.apply(11 * S, side), true, 'the reading shows on the next tick');
  assert.equal(monitor.apply(11.5 * S, side), false);
  runDeferred();
  assert.equal(reads, 1, 'two seconds have not passed');
  eth0 += 4000;
  monitor.apply(12 * S, side);
  runDeferred();
  assert.equal(monitor.apply(13 * S, side), true);
  assert.equal(reads, 2);
  const rows = monitor.interfaces();
  assert.deepEqual(rows.map((r) => [r.name, r.captured, r.rxRateBps]), [['eth0', true, 2000], ['lo', false, 0]]);
});
