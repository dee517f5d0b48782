// Monitor: frames our own code throws on, or that a filter drops, are counted and skipped; the rest still count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DpiContext, FlowInspection, PayloadInspector } from '../core/dpi-port.js';
import { Monitor } from './monitor.js';

/** An Ethernet/IPv4/UDP frame 10.0.0.1:5000 → 10.0.0.2:<dport> with a 4-byte payload. */
function udpFrame(dport: number): Buffer {
  const b = Buffer.alloc(14 + 20 + 8 + 4);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(32, 16);
  b[23] = 17;
  b.set([10, 0, 0, 1], 26);
  b.set([10, 0, 0, 2], 30);
  b.writeUInt16BE(5000, 34);
  b.writeUInt16BE(dport, 36);
  b.writeUInt16BE(12, 38);
  b.write('ping', 42);
  return b;
}

test('an exception inside the packet path is counted as internal_error and capture goes on', () => {
  // A stand-in for a bug: inspection throws on port 666 only.
  const inspector: PayloadInspector = {
    begin: (): FlowInspection => ({ app: null, done: false }),
    inspect: (_f: FlowInspection, _b: Uint8Array, _o: number, _l: number, ctx: DpiContext): void => {
      if (ctx.dstPort === 666) throw new Error('bug');
    },
  };
  const m = new Monitor({ maxConnections: 10, showLocalhost: true, localAddresses: null, inspector, tickIntervalMicros: 1e6, onPacketTick: null });
  const frames = [udpFrame(53), udpFrame(666), udpFrame(53)];
  frames.forEach((f, i) => m.handleFrame(f, 0, f.length, f.length, 1, 1_000_000 + i));
  const c = m.counters();
  assert.equal(c.framesSeen, 3);
  assert.equal(c.framesDecoded, 2);
  assert.deepEqual(c.skipped, { internal_error: 1 });
});

test('filtered localhost frames are counted as skipped, not as malformed', () => {
  const m = new Monitor({ maxConnections: 10, showLocalhost: false, localAddresses: null, inspector: null, tickIntervalMicros: 1e6, onPacketTick: null });
  const f = udpFrame(53);
  f.set([127, 0, 0, 1], 26);
  f.set([127, 0, 0, 1], 30);
  for (let i = 0; i < 3; i++) m.handleFrame(f, 0, f.length, f.length, 1, i);
  assert.deepEqual(m.counters().skipped, { localhost_filtered: 3 });
  assert.equal(m.counters().framesMalformed, 0);
});

test('packet time calls the tick hook once per interval, from the packet path', () => {
  const ticks: number[] = [];
  const m = new Monitor({ maxConnections: 10, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMicros: 1e6, onPacketTick: (now) => ticks.push(now) });
  const f = udpFrame(53);
  for (const t of [5_000_000, 5_400_000, 5_999_999, 6_000_000, 6_100_000, 9_000_000]) m.handleFrame(f, 0, f.length, f.length, 1, t);
  assert.deepEqual(ticks, [6_000_000, 9_000_000]);
});
