// Tests for the NTP classifier with packets laid out by hand from RFC 5905 and RFC 9327.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { ntpClassifier } from './ntp.js';
import { classifyOnce, flowCtx, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number): DpiContext {
  return flowCtx(17, srcPort, dstPort);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(ntpClassifier, bytes, ctx);
}

/** RFC 5905 §7.3 header: LI/VN/Mode, stratum, poll, precision, then 44 octets of times and ids. */
function ntpPacket(version: number, mode: number, stratum: number, extra = 0): Uint8Array {
  const b = new Uint8Array(48 + extra);
  b[0] = (0 << 6) | (version << 3) | mode;
  b[1] = stratum;
  b[2] = 6; // poll 2^6 s
  b[3] = 0xe9; // precision -23
  b.set([0x47, 0x50, 0x53, 0x00], 12); // reference id "GPS"
  b.set([0xe9, 0x8a, 0x1c, 0x2d, 0x12, 0x34, 0x56, 0x78], 40); // transmit timestamp
  return b;
}

test('client and server packets of versions 1-4 on port 123', () => {
  const client = run(ntpPacket(4, 3, 0), ctxOf(50123, 123));
  assert.equal(client.score, Score.CONTENT);
  assert.equal(client.verdict, Verdict.DONE);
  assert.equal(client.app?.protocol, 'NTP');
  assert.deepEqual(client.app?.details, { ntp_version: 4, ntp_mode: 'client' });
  assert.equal(client.app?.state, undefined);
  assert.equal(client.app?.domain, undefined);

  const server = run(ntpPacket(4, 4, 2), ctxOf(123, 50123));
  assert.deepEqual(server.app?.details, { ntp_version: 4, ntp_mode: 'server' });
  const v3sym = run(ntpPacket(3, 1, 3), ctxOf(123, 123));
  assert.deepEqual(v3sym.app?.details, { ntp_version: 3, ntp_mode: 'symmetric-active' });
  const v1 = run(ntpPacket(1, 2, 1), ctxOf(123, 123));
  assert.deepEqual(v1.app?.details, { ntp_version: 1, ntp_mode: 'symmetric-passive' });
  const bcast = run(ntpPacket(4, 5, 1), ctxOf(123, 123));
  assert.deepEqual(bcast.app?.details, { ntp_version: 4, ntp_mode: 'broadcast' });
  // Symmetric key MAC: key id (4) + MD5 (16), RFC 5905 §7.3 Figure 8.
  const mac = run(ntpPacket(4, 3, 0, 20), ctxOf(50123, 123));
  assert.equal(mac.score, Score.CONTENT);
});

test('control (mode 6) and private (mode 7) messages', () => {
  // RFC 9327 §2: read-variables request, count 0.
  const control = Uint8Array.from([0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
  const r = run(control, ctxOf(40000, 123));
  assert.equal(r.score, Score.CONTENT);
  assert.deepEqual(r.app?.details, { ntp_version: 2, ntp_mode: 'control' });
  // A control response claiming more data than it carries.
  const lying = Uint8Array.from([0x96, 0x82, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 1, 2, 3]);
  assert.equal(run(lying, ctxOf(123, 40000)).score, Score.PORT);
  // ntpdc private request: mode 7, version 2, 8+ bytes.
  const priv = Uint8Array.from([0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0]);
  assert.deepEqual(run(priv, ctxOf(40000, 123)).app?.details, { ntp_version: 2, ntp_mode: 'private' });
});

test('wrong layout on port 123 is only PORT and the session rejects it', () => {
  const bad: Array<[string, Uint8Array]> = [
    ['version 0', ntpPacket(0, 3, 0)],
    ['version 5', ntpPacket(5, 3, 0)],
    ['mode 0', ntpPacket(4, 0, 0)],
    ['stratum 17', ntpPacket(4, 4, 17)],
    ['short', ntpPacket(4, 3, 0).slice(0, 47)],
    ['odd trailer', ntpPacket(4, 3, 0, 3)],
    ['empty', new Uint8Array(0)],
  ];
  for (const [what, bytes] of bad) {
    const r = run(bytes, ctxOf(40000, 123));
    assert.equal(r.score, Score.PORT, what);
    assert.equal(r.verdict, Verdict.REJECT, what);
    assert.equal(r.app, null, what);
  }
});

test('no port 123, no claim: NTP has no magic bytes', () => {
  assert.equal(ntpClassifier.detect(ntpPacket(4, 3, 0), 0, 48, ctxOf(40000, 40001)), Score.NO);
  assert.equal(ntpClassifier.detect(new Uint8Array(10), 0, 10, ctxOf(40000, 40001)), Score.NO);
});

test('every prefix and random buffers: never throw, nothing invented', () => {
  const full = ntpPacket(4, 4, 2, 24);
  const fullApp = run(full, ctxOf(123, 5000)).app!;
  for (let n = 0; n <= full.length; n++) {
    const r = run(full.subarray(0, n), ctxOf(123, 5000));
    if (r.app !== null) assert.deepEqual(r.app.details, fullApp.details, `prefix ${n}`);
    // Offsets that run past the buffer are refused, not read.
    assert.equal(ntpClassifier.detect(full, n, full.length, ctxOf(123, 5000)), n === 0 ? Score.CONTENT : Score.PORT);
  }
  const rnd = prng(123);
  let claimedOffPort = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBytes(rnd, 120);
    const port = rnd() < 0.5 ? 123 : 40000 + Math.floor(rnd() * 1000);
    const r = run(bytes, ctxOf(port, 50000));
    if (port !== 123 && r.score !== Score.NO) claimedOffPort++;
    if (r.app !== null) {
      assert.ok(Number(r.app.details.ntp_version) >= 1 && Number(r.app.details.ntp_version) <= 4, 'version range');
      assert.equal(typeof r.app.details.ntp_mode, 'string');
    }
  }
  assert.equal(claimedOffPort, 0);
});
