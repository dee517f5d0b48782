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

test('reads every 2 s of tick time, not on every tick; rates from the deltas; the captured interface first', () => {
  let reads = 0;
  let eth0 = 1000;
  const monitor = new InterfaceMonitor(() => {
    reads++;
    return new Map([['lo', counters(5)], ['eth0', counters(eth0)]]);
  }, 'eth0');
  const side = new SideTables();
  assert.equal(monitor.apply(10 * S, side), true);
  assert.equal(monitor.apply(11 * S, side), false, 'one second later: not yet');
  eth0 += 4000;
  assert.equal(monitor.apply(12 * S, side), true);
  assert.equal(reads, 2);
  const rows = monitor.interfaces();
  assert.deepEqual(rows.map((r) => [r.name, r.captured, r.rxRateBps]), [['eth0', true, 2000], ['lo', false, 0]]);
});
