// Tests for the STUN classifier with messages laid out by hand from RFC 8489, RFC 8656, RFC 6062 and RFC 3489.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { stunClassifier } from './stun.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number, transport = 17): DpiContext {
  return flowCtx(transport, srcPort, dstPort, true, 1);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(stunClassifier, bytes, ctx);
}

const TXID = [0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae];

/** RFC 8489 §5 header + §14 attributes (each value padded to 4 bytes). `cookie` false = RFC 3489. */
function stun(type: number, attrs: Array<[number, number[]]>, cookie = true): Uint8Array {
  const body: number[] = [];
  for (const [t, v] of attrs) {
    body.push(t >> 8, t & 0xff, v.length >> 8, v.length & 0xff, ...v);
    while (body.length % 4 !== 0) body.push(0);
  }
  const head = [type >> 8, type & 0xff, body.length >> 8, body.length & 0xff];
  const id = cookie ? [0x21, 0x12, 0xa4, 0x42, ...TXID] : [0x5a, 0x11, 0x0c, 0x33, ...TXID];
  return Uint8Array.from([...head, ...id, ...body]);
}

const SOFTWARE: [number, number[]] = [0x8022, [...Buffer.from('STUN test client')]];
const SOFTWARE_ODD: [number, number[]] = [0x8022, [...Buffer.from('odd')]];
const PRIORITY: [number, number[]] = [0x0024, [0x6e, 0x00, 0x01, 0xff]];
const FINGERPRINT: [number, number[]] = [0x8028, [0xe5, 0x7a, 0x3b, 0xcf]];
const XOR_MAPPED: [number, number[]] = [0x0020, [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]];
const ERROR_CODE: [number, number[]] = [0x0009, [0, 0, 4, 1, ...Buffer.from('Unauthorized')]];

test('Binding request, success, error and indication on any port', () => {
  const cases: Array<[Uint8Array, string, string]> = [
    [stun(0x0001, [SOFTWARE, PRIORITY, FINGERPRINT]), 'Binding', 'request'],
    [stun(0x0001, []), 'Binding', 'request'],
    [stun(0x0101, [XOR_MAPPED, SOFTWARE_ODD, FINGERPRINT]), 'Binding', 'success'],
    [stun(0x0111, [ERROR_CODE]), 'Binding', 'error'],
    [stun(0x0011, [FINGERPRINT]), 'Binding', 'indication'],
  ];
  for (const [msg, method, cls] of cases) {
    for (const ctx of [ctxOf(3478, 50000), ctxOf(61000, 19302)]) {
      const r = run(msg, ctx);
      assert.equal(r.score, Score.CONTENT, `${method} ${cls}`);
      assert.equal(r.verdict, Verdict.DONE);
      assert.equal(r.app?.protocol, 'STUN');
      assert.deepEqual(r.app?.details, { stun_method: method, stun_class: cls });
      assert.equal(r.app?.state, undefined);
    }
  }
});

test('TURN and TCP-allocation methods; unknown methods by number', () => {
  const cases: Array<[number, string, string]> = [
    [0x0003, 'Allocate', 'request'], [0x0103, 'Allocate', 'success'], [0x0113, 'Allocate', 'error'],
    [0x0004, 'Refresh', 'request'], [0x0016, 'Send', 'indication'], [0x0017, 'Data', 'indication'],
    [0x0008, 'CreatePermission', 'request'], [0x0009, 'ChannelBind', 'request'],
    [0x000a, 'Connect', 'request'], [0x000b, 'ConnectionBind', 'request'], [0x001c, 'ConnectionAttempt', 'indication'],
    [0x0002, 'SharedSecret', 'request'], [0x0080, '0x040', 'request'], [0x3fff, '0xfff', 'error'],
  ];
  for (const [type, method, cls] of cases) {
    assert.deepEqual(run(stun(type, [SOFTWARE]), ctxOf(3478, 50000)).app?.details, { stun_method: method, stun_class: cls }, type.toString(16));
  }
});

test('not STUN: bad cookie, top bits, lengths, attribute overruns', () => {
  const good = stun(0x0001, [SOFTWARE, FINGERPRINT]);
  const bad: Array<[string, Uint8Array]> = [
    ['top bits (TURN ChannelData)', Uint8Array.from([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4])],
    ['top bits set', (() => { const b = good.slice(); b[0] = 0x80; return b; })()],
    ['length not multiple of 4', (() => { const b = good.slice(); b[3] = b[3]! + 2; return b; })()],
    ['length beyond datagram', (() => { const b = good.slice(); b[3] = b[3]! + 4; return b; })()],
    ['trailing bytes', Uint8Array.from([...good, 0, 0, 0, 0])],
    ['attribute overruns message', (() => { const b = good.slice(); b[23] = 0x40; return b; })()],
    ['short header', good.slice(0, 19)],
  ];
  for (const [what, b] of bad) {
    assert.equal(stunClassifier.detect(b, 0, b.length, ctxOf(61000, 19302)), Score.NO, what);
    const r = run(b, ctxOf(61000, 3478));
    assert.equal(r.score, Score.PORT, what);
    // A legacy RFC 3489 reading on 3478 still needs a sane layout.
    assert.equal(r.verdict, Verdict.REJECT, what);
  }
  // Wrong cookie off port 3478.
  const noCookie = stun(0x0001, [SOFTWARE], false);
  assert.equal(run(noCookie, ctxOf(61000, 19302)).score, Score.NO);
  assert.equal(run(noCookie, ctxOf(61000, 19302)).verdict, Verdict.REJECT);
});

test('legacy RFC 3489 messages on port 3478: PORT, then recognised by layout', () => {
  const req = stun(0x0001, [[0x0003, [0, 0, 0, 0]]], false); // CHANGE-REQUEST
  const r = run(req, ctxOf(50000, 3478));
  assert.equal(r.score, Score.PORT);
  assert.equal(r.verdict, Verdict.DONE);
  assert.deepEqual(r.app?.details, { stun_method: 'Binding', stun_class: 'request' });
  const resp = stun(0x0101, [[0x0001, [0, 1, 0x0d, 0x96, 192, 0, 2, 1]]], false); // MAPPED-ADDRESS
  assert.deepEqual(run(resp, ctxOf(3478, 50000)).app?.details, { stun_method: 'Binding', stun_class: 'success' });
});

test('STUN over TCP: messages back to back, or the first one continuing in the next segment', () => {
  const a = stun(0x0003, [SOFTWARE, FINGERPRINT]);
  const two = Uint8Array.from([...a, ...stun(0x0004, [])]);
  const r = run(two, ctxOf(50000, 3478, 6));
  assert.equal(r.score, Score.CONTENT);
  assert.deepEqual(r.app?.details, { stun_method: 'Allocate', stun_class: 'request' });
  assert.equal(run(a.slice(0, 30), ctxOf(50000, 443, 6)).score, Score.CONTENT);
  // An attribute that overruns the declared length, even over TCP.
  const bad = a.slice();
  bad[23] = 0x40;
  assert.equal(run(bad, ctxOf(50000, 443, 6)).score, Score.NO);
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  const reals = [stun(0x0001, [SOFTWARE, PRIORITY, FINGERPRINT]), stun(0x0101, [XOR_MAPPED, SOFTWARE_ODD])];
  for (const msg of reals) {
    const full = run(msg, ctxOf(50000, 3478)).app!;
    for (let n = 0; n < msg.length; n++) {
      for (const transport of [17, 6]) {
        const r = run(msg.subarray(0, n), ctxOf(50000, 3478, transport));
        if (transport === 17) assert.equal(r.app, null, `udp prefix ${n}`);
        else if (r.app !== null) assert.deepEqual(r.app.details, full.details, `tcp prefix ${n}`);
      }
    }
  }
  const rnd = prng(3478);
  let offPort = 0;
  for (let i = 0; i < 6000; i++) {
    const b = i % 2 === 0 ? mutated(reals[i % 2]!, rnd, 4) : randomBytes(rnd, 200);
    const port = rnd() < 0.5 ? 3478 : 40000;
    const r = run(b, ctxOf(port, 50000, rnd() < 0.5 ? 17 : 6));
    if (i % 2 === 1 && port !== 3478 && r.score !== Score.NO) offPort++;
    if (r.app !== null) assert.equal(typeof r.app.details.stun_method, 'string');
  }
  assert.equal(offPort, 0);
});
