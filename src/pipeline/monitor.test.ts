// Monitor: a frame that makes our own code throw is counted and skipped; the frames after it still count.

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
  const m = new Monitor({ maxConnections: 10, showLocalhost: true, localAddresses: null, inspector, tickIntervalMicros: 1e6, packetClock: true }, null);
  const frames = [udpFrame(53), udpFrame(666), udpFrame(53)];
  frames.forEach((f, i) => m.handleFrame(f, 0, f.length, f.length, 1, 1_000_000 + i));
  const c = m.counters();
  assert.equal(c.framesSeen, 3);
  assert.equal(c.framesDecoded, 2);
  assert.deepEqual(c.skipped, { internal_error: 1 });
});
