// Tests for the NetBIOS Name Service classifier: real queries from zeek__wikipedia.pcap and RFC 1002 layouts by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { netbiosClassifier } from './netbios.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number): DpiContext {
  return flowCtx(17, srcPort, dstPort);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(netbiosClassifier, bytes, ctx);
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

// zeek__wikipedia.pcap frame 117 (137 → 137 broadcast) and frame 132 (56641 → 137).
const QUERY_BRW = hex('ff6e011000010000000000002045434643464845444441454445434444444944444545444245474445444341410000200001');
const QUERY_WORKGROUP = hex('24690110000100000000000020464845504643454c45484643455046464641434143414341434143414341424e0000200001');

/** RFC 1001 §14.1 first-level encoding of a 15-character name padded with `pad` and a suffix byte. */
function encodeName(name: string, suffix: number, pad = 0x20, scope: string[] = []): number[] {
  const raw = [...Buffer.from(name, 'latin1')];
  while (raw.length < 15) raw.push(pad);
  raw.push(suffix);
  const out = [32];
  for (const b of raw) out.push(0x41 + (b >> 4), 0x41 + (b & 15));
  for (const label of scope) out.push(label.length, ...Buffer.from(label));
  out.push(0);
  return out;
}

/** RFC 1002 §4.2.1 header, then the given sections. */
function nbns(flags: number, counts: [number, number, number, number], rest: number[]): Uint8Array {
  const h = [0x12, 0x34, flags >> 8, flags & 0xff];
  for (const c of counts) h.push(c >> 8, c & 0xff);
  return Uint8Array.from([...h, ...rest]);
}

test('real broadcast name queries decode to NAME<xx>', () => {
  const a = run(QUERY_BRW, ctxOf(137, 137));
  assert.equal(a.score, Score.CONTENT);
  assert.equal(a.verdict, Verdict.DONE);
  assert.equal(a.app?.protocol, 'NetBIOS');
  assert.deepEqual(a.app?.details, { netbios_name: 'BRWC0CB383D1F42<00>' });
  assert.equal(a.app?.state, undefined);
  const w = run(QUERY_WORKGROUP, ctxOf(56641, 137));
  assert.deepEqual(w.app?.details, { netbios_name: 'WORKGROUP<1d>' });
  // The 32-letter encoded name is content even off port 137.
  assert.equal(netbiosClassifier.detect(QUERY_BRW, 0, QUERY_BRW.length, ctxOf(40000, 40001)), Score.CONTENT);
});

test('registration, positive response, node status and scope ids', () => {
  const q = [0, 0x20, 0, 1];
  // Registration request (opcode 5): question + additional record pointing back at it (§4.2.2).
  const reg = nbns(0x2910, [1, 0, 0, 1], [...encodeName('DESKTOP-1', 0x20), ...q, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0, 192, 168, 1, 9]);
  assert.deepEqual(run(reg, ctxOf(137, 137)).app?.details, { netbios_name: 'DESKTOP-1<20>' });
  // Positive name query response (§4.2.13): no question, one answer.
  const resp = nbns(0x8500, [0, 1, 0, 0], [...encodeName('FILESRV', 0x20), 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0x60, 0, 10, 0, 0, 5]);
  assert.deepEqual(run(resp, ctxOf(137, 50000)).app?.details, { netbios_name: 'FILESRV<20>' });
  // Node status request for '*' (§4.2.17): the wildcard is padded with zero bytes, type NBSTAT.
  const stat = nbns(0x0000, [1, 0, 0, 0], [...encodeName('*', 0x00, 0x00), 0, 0x21, 0, 1]);
  assert.deepEqual(run(stat, ctxOf(50000, 137)).app?.details, { netbios_name: '*<00>' });
  const scoped = nbns(0x0110, [1, 0, 0, 0], [...encodeName('PRINTER', 0x20, 0x20, ['corp', 'example']), ...q]);
  assert.deepEqual(run(scoped, ctxOf(137, 137)).app?.details, { netbios_name: 'PRINTER<20>.corp.example' });
  const odd = nbns(0x0110, [1, 0, 0, 0], [...encodeName('A\x1bB\\', 0x03), ...q]);
  assert.deepEqual(run(odd, ctxOf(137, 137)).app?.details, { netbios_name: 'A\\x1bB\\x5c<03>' });
});

test('not NetBIOS: DNS queries, bad letters, counts, type or class', () => {
  const q = [0, 0x20, 0, 1];
  const dns = hex('593401200001000000000001037777770774637064756d70036f72670000010001000029100000000000000c000a000842f5d00996f90b13');
  const bad: Array<[string, Uint8Array]> = [
    ['DNS query', dns],
    ['letter Q', (() => { const b = QUERY_BRW.slice(); b[13] = 0x51; return b; })()],
    ['label 33', (() => { const b = QUERY_BRW.slice(); b[12] = 33; return b; })()],
    ['two questions', nbns(0x0110, [2, 0, 0, 0], [...encodeName('X', 0x20), ...q])],
    ['no question, no answer', nbns(0x0110, [0, 0, 0, 1], [...encodeName('X', 0x20), ...q])],
    ['opcode 3', nbns(0x1910, [1, 0, 0, 0], [...encodeName('X', 0x20), ...q])],
    ['type A', nbns(0x0110, [1, 0, 0, 0], [...encodeName('X', 0x20), 0, 1, 0, 1])],
    ['class 2', nbns(0x0110, [1, 0, 0, 0], [...encodeName('X', 0x20), 0, 0x20, 0, 2])],
    ['unterminated scope', nbns(0x0110, [1, 0, 0, 0], [...encodeName('X', 0x20).slice(0, 33), 5, 0x61])],
    ['header only', QUERY_BRW.slice(0, 12)],
  ];
  for (const [what, b] of bad) {
    const r = run(b, ctxOf(137, 137));
    assert.equal(r.score, Score.PORT, what);
    assert.equal(r.verdict, Verdict.REJECT, what);
    assert.equal(netbiosClassifier.detect(b, 0, b.length, ctxOf(40000, 40001)), Score.NO, what);
  }
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  for (const msg of [QUERY_BRW, QUERY_WORKGROUP]) {
    for (let n = 0; n < msg.length; n++) {
      assert.equal(run(msg.subarray(0, n), ctxOf(137, 137)).app, null, `prefix ${n}`);
    }
  }
  const rnd = prng(137);
  let offPort = 0;
  for (let i = 0; i < 6000; i++) {
    const b = i % 2 === 0 ? mutated((i % 4 === 0 ? QUERY_BRW : QUERY_WORKGROUP), rnd, 4) : randomBytes(rnd, 120);
    const port = rnd() < 0.5 ? 137 : 40000;
    const r = run(b, ctxOf(port, 50000));
    if (i % 2 === 1 && port !== 137 && r.score !== Score.NO) offPort++;
    const name = r.app?.details.netbios_name;
    if (name !== undefined) {
      assert.ok(typeof name === 'string' && name.length <= MAX_WIRE_STRING && /<[0-9a-f]{2}>/.test(name), 'name shape');
      assert.ok(!/[\x00-\x1f\x7f-\uffff]/.test(name), 'printable');
    }
  }
  assert.equal(offPort, 0);
});
