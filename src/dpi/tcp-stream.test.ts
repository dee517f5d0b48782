// Tests for TcpStream: retransmissions, overlaps, early segments held and released, gaps, the 2^32 wrap, bounds.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Arrival, TcpStream } from './tcp-stream.js';
import { prng } from '../../test/support/dpi.js';

/** Stream bytes 0..n-1 with a recognisable pattern. */
function streamBytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

const STREAM = streamBytes(600);

/** Push STREAM[from..to) as a segment whose first byte has sequence number base + from. */
function pushPart(s: TcpStream, base: number, from: number, to: number): number {
  // Inside a larger buffer, as a capture hands it over.
  const buf = new Uint8Array(to - from + 10).fill(0xee);
  buf.set(STREAM.subarray(from, to), 4);
  return s.push(buf, 4, to - from, (base + from) >>> 0);
}

function kept(s: TcpStream): number[] {
  return Array.from(s.data.subarray(0, s.kept));
}

function prefix(n: number): number[] {
  return Array.from(STREAM.subarray(0, n));
}

describe('TcpStream without a buffer (readers that parse in place)', () => {
  it('says which bytes are new: whole segments, retransmissions, overlaps', () => {
    const s = new TcpStream();
    s.start(1000);
    assert.equal(pushPart(s, 1000, 0, 100), Arrival.NEXT);
    assert.equal(s.fresh, 4);
    assert.equal(pushPart(s, 1000, 0, 100), Arrival.OLD, 'a full retransmission');
    assert.equal(pushPart(s, 1000, 20, 60), Arrival.OLD, 'a piece of old bytes');
    assert.equal(pushPart(s, 1000, 60, 150), Arrival.NEXT, 'overlaps 40 old bytes');
    assert.equal(s.fresh, 4 + 40);
    assert.equal(pushPart(s, 1000, 150, 200), Arrival.NEXT);
    assert.equal(s.fresh, 4);
    assert.equal(s.kept, 0, 'nothing is copied');
  });

  it('goes on after a gap from the segment that arrived', () => {
    const s = new TcpStream();
    s.start(5);
    pushPart(s, 5, 0, 50);
    assert.equal(pushPart(s, 5, 80, 120), Arrival.GAP);
    assert.equal(s.fresh, 4, 'the whole segment is new');
    // The missing bytes come late: they are behind the stream now.
    assert.equal(pushPart(s, 5, 50, 80), Arrival.OLD);
    assert.equal(pushPart(s, 5, 100, 130), Arrival.NEXT);
    assert.equal(s.fresh, 4 + 20);
  });

  it('follows sequence numbers across the 2^32 wrap', () => {
    const base = 0xffffffc0;
    const s = new TcpStream();
    s.start(base);
    assert.equal(pushPart(s, base, 0, 50), Arrival.NEXT);
    assert.equal(pushPart(s, base, 50, 100), Arrival.NEXT, 'crosses the wrap');
    assert.equal(pushPart(s, base, 30, 70), Arrival.OLD, 'a retransmission from before the wrap');
    assert.equal(pushPart(s, base, 90, 140), Arrival.NEXT);
    assert.equal(s.fresh, 4 + 10);
    assert.equal(pushPart(s, base, 150, 160), Arrival.GAP);
  });

  it('drops what comes before start() and empty segments', () => {
    const s = new TcpStream();
    assert.equal(pushPart(s, 0, 0, 10), Arrival.GAP);
    assert.equal(s.started, false);
    s.start(0);
    assert.equal(pushPart(s, 0, 0, 0), Arrival.OLD);
    assert.equal(pushPart(s, 0, 0, 10), Arrival.NEXT);
  });
});

describe('TcpStream with a buffer', () => {
  it('keeps the bytes in order, without retransmitted or overlapping copies', () => {
    const s = new TcpStream(1024);
    s.start(77);
    pushPart(s, 77, 0, 100);
    pushPart(s, 77, 50, 300);
    pushPart(s, 77, 0, 300);
    assert.equal(pushPart(s, 77, 300, 310), Arrival.NEXT);
    assert.deepEqual(kept(s), prefix(310));
  });

  it('holds early segments, then takes them in once the gap fills, in any order', () => {
    const orders = [
      [0, 2, 1, 4, 3, 5],
      [5, 4, 3, 2, 1, 0],
      [1, 0, 0, 1, 3, 2, 2, 5, 4],
    ];
    const cuts = [0, 90, 200, 310, 420, 500, 600];
    for (const order of orders) {
      const s = new TcpStream(1024, 8);
      s.start(9);
      const arrivals = order.map((i) => pushPart(s, 9, cuts[i]!, cuts[i + 1]!));
      assert.deepEqual(kept(s), prefix(600), order.join());
      assert.ok(arrivals.includes(Arrival.HELD) || order[0] === 0, `held some of ${order.join()}`);
    }
  });

  it('holds segments that arrive before start(), and takes in the part after the start', () => {
    const s = new TcpStream(1024, 8);
    assert.equal(pushPart(s, 0, 100, 200), Arrival.HELD);
    assert.equal(pushPart(s, 0, 20, 60), Arrival.HELD, 'from before the start, overlapping it');
    s.start(50);
    assert.deepEqual(kept(s), Array.from(STREAM.subarray(50, 60)));
    assert.equal(pushPart(s, 0, 60, 100), Arrival.NEXT);
    assert.deepEqual(kept(s), Array.from(STREAM.subarray(50, 200)));
  });

  it('gives up waiting on what it cannot hold: the gap stays and the stream stops growing', () => {
    const s = new TcpStream(1024, 2);
    s.start(0);
    pushPart(s, 0, 0, 10);
    assert.equal(pushPart(s, 0, 40, 50), Arrival.HELD);
    assert.equal(pushPart(s, 0, 40, 50), Arrival.HELD, 'a duplicate of a held segment');
    assert.equal(pushPart(s, 0, 30, 40), Arrival.HELD);
    assert.equal(pushPart(s, 0, 20, 30), Arrival.GAP, 'no more room for early segments');
    assert.equal(pushPart(s, 0, 2000, 2010), Arrival.GAP, 'past what the buffer could ever keep');
    assert.deepEqual(kept(s), prefix(10));
    // Once the first gap fills, the held segments follow; the dropped one left a gap again.
    assert.equal(pushPart(s, 0, 10, 20), Arrival.NEXT);
    assert.deepEqual(kept(s), prefix(20));
    assert.equal(pushPart(s, 0, 20, 30), Arrival.NEXT);
    assert.deepEqual(kept(s), prefix(50));
  });

  it('without room to hold, reports every gap and waits for the missing bytes', () => {
    const s = new TcpStream(1024);
    s.start(0);
    pushPart(s, 0, 0, 10);
    assert.equal(pushPart(s, 0, 20, 30), Arrival.GAP);
    assert.equal(pushPart(s, 0, 10, 20), Arrival.NEXT);
    assert.deepEqual(kept(s), prefix(20));
  });

  it('keeps at most `keep` bytes, and held bytes count against it', () => {
    const s = new TcpStream(100, 8);
    s.start(0);
    assert.equal(pushPart(s, 0, 0, 60), Arrival.NEXT);
    assert.equal(pushPart(s, 0, 60, 160), Arrival.NEXT);
    assert.equal(s.kept, 100);
    assert.equal(s.full, true);
    assert.equal(pushPart(s, 0, 100, 110), Arrival.OLD, 'no room');
    assert.deepEqual(kept(s), prefix(100));
    const t = new TcpStream(100, 8);
    t.start(0);
    assert.equal(pushPart(t, 0, 10, 80), Arrival.HELD);
    assert.equal(pushPart(t, 0, 80, 95), Arrival.HELD);
    assert.equal(pushPart(t, 0, 95, 130), Arrival.GAP, 'held bytes would pass the bound');
  });

  it('follows sequence numbers across the 2^32 wrap with held segments', () => {
    const base = 0xffffff00;
    const s = new TcpStream(1024, 8);
    s.start(base);
    pushPart(s, base, 400, 600);
    pushPart(s, base, 256, 400);
    pushPart(s, base, 100, 256);
    pushPart(s, base, 0, 100);
    assert.deepEqual(kept(s), prefix(600));
  });

  it('the reader may rewrite kept bytes in place; new bytes are appended after them', () => {
    const s = new TcpStream(1024);
    s.start(0);
    pushPart(s, 0, 0, 20);
    s.data.fill(0, 0, 20);
    pushPart(s, 0, 20, 40);
    assert.deepEqual(kept(s), [...new Array<number>(20).fill(0), ...STREAM.subarray(20, 40)]);
  });

  it('release() frees the buffer and the held segments', () => {
    const s = new TcpStream(1024, 8);
    s.start(0);
    pushPart(s, 0, 0, 20);
    pushPart(s, 0, 40, 60);
    s.release();
    assert.equal(s.data.length, 0);
  });

  it('puts any shuffle of duplicated, overlapping segments back together', () => {
    const rnd = prng(0x7c9);
    for (let k = 0; k < 300; k++) {
      const base = Math.floor(rnd() * 2 ** 32);
      const parts: Array<[number, number]> = [];
      for (let p = 0; p < STREAM.length; ) {
        const end = Math.min(STREAM.length, p + 1 + Math.floor(rnd() * 120));
        // Some segments start a little early: an overlap with the one before.
        parts.push([Math.max(0, p - Math.floor(rnd() * 2) * Math.floor(rnd() * 30)), end]);
        p = end;
      }
      const extra = parts.filter(() => rnd() < 0.3);
      const all = [...parts, ...extra];
      // Fisher-Yates, keeping the first segment first so few enough are early at a time.
      for (let i = all.length - 1; i > 1; i--) {
        const j = 1 + Math.floor(rnd() * i);
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      const s = new TcpStream(4096, all.length);
      s.start(base);
      for (const [from, to] of all) pushPart(s, base, from, to);
      assert.deepEqual(kept(s), prefix(600), `case ${k}`);
    }
  });
});
