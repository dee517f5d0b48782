// Tests for the SNMP classifier with BER messages built by hand from RFC 1157, RFC 3416 and RFC 3412.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { snmpClassifier } from './snmp.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number): DpiContext {
  return flowCtx(17, srcPort, dstPort);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(snmpClassifier, bytes, ctx);
}

/** X.690 TLV with a definite length, short form or the long form of `longLen` octets. */
function tlv(tag: number, ...parts: number[][]): number[] {
  const v = parts.flat();
  const n = v.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return [tag, ...len, ...v];
}
const int = (n: number): number[] => tlv(0x02, [n]);
const str = (s: string): number[] => tlv(0x04, [...Buffer.from(s)]);
const SYS_DESCR = [0x2b, 6, 1, 2, 1, 1, 1, 0]; // 1.3.6.1.2.1.1.1.0
const varbinds = tlv(0x30, tlv(0x30, tlv(0x06, SYS_DESCR), [0x05, 0x00]));

/** RFC 3416 §3 PDU: request-id, error-status, error-index, variable-bindings. */
const pdu = (tag: number): number[] => tlv(tag, tlv(0x02, [0x1a, 0x2b, 0x3c]), int(0), int(0), varbinds);
/** RFC 1157 §4.1 / RFC 1901 message: version, community, PDU. */
const community = (version: number, comm: string, p: number[]): Uint8Array => Uint8Array.from(tlv(0x30, int(version), str(comm), p));

/** RFC 1157 §4.1.6 Trap-PDU: enterprise, agent-addr, generic-trap, specific-trap, time-stamp, varbinds. */
const trapV1 = tlv(0xa4, tlv(0x06, [0x2b, 6, 1, 4, 1, 9]), tlv(0x40, [192, 0, 2, 1]), int(6), int(1), tlv(0x43, [0x10]), varbinds);

/** RFC 3412 §6 SNMPv3 message with a plaintext ScopedPDU or an encrypted one. */
function v3(scoped: number[] | null): Uint8Array {
  const global = tlv(0x30, int(1), tlv(0x02, [0x05, 0xdc]), tlv(0x04, [0x04]), int(3));
  const usm = tlv(0x04, tlv(0x30, tlv(0x04, [0x80, 0, 0x1f, 0x88]), int(0), int(0), str(''), str(''), str('')));
  const data = scoped === null ? tlv(0x04, [0xde, 0xad, 0xbe, 0xef]) : tlv(0x30, tlv(0x04, [0x80, 0, 0x1f, 0x88]), str(''), scoped);
  return Uint8Array.from(tlv(0x30, int(3), global, usm, data));
}

test('v1 and v2c requests, responses and traps; the community is never kept', () => {
  const cases: Array<[Uint8Array, string, string]> = [
    [community(0, 'public', pdu(0xa0)), 'v1', 'get-request'],
    [community(0, 'public', pdu(0xa1)), 'v1', 'get-next-request'],
    [community(0, 'public', pdu(0xa2)), 'v1', 'get-response'],
    [community(0, 's3cr3t-rw', pdu(0xa3)), 'v1', 'set-request'],
    [community(0, 'public', trapV1), 'v1', 'trap'],
    [community(1, 'public', pdu(0xa5)), 'v2c', 'getbulk'],
    [community(1, 'public', pdu(0xa6)), 'v2c', 'inform'],
    [community(1, 'public', pdu(0xa7)), 'v2c', 'snmpv2-trap'],
    [community(1, 'public', pdu(0xa8)), 'v2c', 'report'],
    [community(1, 'x'.repeat(300), pdu(0xa0)), 'v2c', 'get-request'], // long-form lengths
  ];
  for (const [msg, version, name] of cases) {
    const r = run(msg, ctxOf(50000, 161));
    assert.equal(r.score, Score.CONTENT, name);
    assert.equal(r.verdict, Verdict.DONE, name);
    assert.equal(r.app?.protocol, 'SNMP');
    assert.deepEqual(r.app?.details, { snmp_version: version, snmp_pdu: name });
    assert.equal(r.app?.domain, undefined);
    const dump = JSON.stringify(r.app);
    assert.ok(!dump.includes('public') && !dump.includes('s3cr3t') && !dump.includes('xxx'), 'community not kept');
    // The nested lengths account for every byte: content off 161/162 too.
    assert.equal(snmpClassifier.detect(msg, 0, msg.length, ctxOf(40000, 1161)), Score.CONTENT, name);
  }
});

test('v3: plaintext ScopedPDU gives the PDU, an encrypted one only the version', () => {
  assert.deepEqual(run(v3(pdu(0xa0)), ctxOf(50000, 161)).app?.details, { snmp_version: 'v3', snmp_pdu: 'get-request' });
  assert.deepEqual(run(v3(pdu(0xa8)), ctxOf(161, 50000)).app?.details, { snmp_version: 'v3', snmp_pdu: 'report' });
  const enc = run(v3(null), ctxOf(50000, 161));
  assert.equal(enc.score, Score.CONTENT);
  assert.deepEqual(enc.app?.details, { snmp_version: 'v3' });
  // A v1 Trap-PDU cannot appear in v3.
  assert.equal(run(v3(trapV1), ctxOf(50000, 161)).verdict, Verdict.REJECT);
});

test('not SNMP: bad versions, tags, lengths; PORT on 161/162 only', () => {
  const good = community(1, 'public', pdu(0xa0));
  const bad: Array<[string, Uint8Array]> = [
    ['version 2', community(2, 'public', pdu(0xa0))],
    ['trap in v2c', community(1, 'public', trapV1)],
    ['getbulk in v1', community(0, 'public', pdu(0xa5))],
    ['tag 0xa9', community(1, 'public', pdu(0xa9))],
    ['trailing byte', Uint8Array.from([...good, 0])],
    ['outer length short', (() => { const b = good.slice(); b[1] = b[1]! - 1; return b; })()],
    ['indefinite length', Uint8Array.from([0x30, 0x80, ...good.slice(2), 0, 0])],
    ['5-octet length', Uint8Array.from([0x30, 0x85, 0, 0, 0, 0, good.length - 2, ...good.slice(2)])],
    ['no community', Uint8Array.from(tlv(0x30, int(1), pdu(0xa0)))],
    ['PDU without request-id', Uint8Array.from(tlv(0x30, int(1), str('public'), tlv(0xa0, str('x'))))],
    ['version as 2 octets', Uint8Array.from(tlv(0x30, tlv(0x02, [0, 1]), str('public'), pdu(0xa0)))],
    ['LDAP-like application tag', Uint8Array.from(tlv(0x30, int(1), tlv(0x63, str('x'))))],
    ['empty', new Uint8Array(0)],
  ];
  for (const [what, b] of bad) {
    const r = run(b, ctxOf(50000, 162));
    assert.equal(r.score, Score.PORT, what);
    assert.equal(r.verdict, Verdict.REJECT, what);
    assert.equal(snmpClassifier.detect(b, 0, b.length, ctxOf(40000, 40001)), Score.NO, what);
  }
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  const reals = [community(1, 'public', pdu(0xa0)), community(0, 'public', trapV1), v3(pdu(0xa0)), v3(null)];
  for (const msg of reals) {
    for (let n = 0; n < msg.length; n++) assert.equal(run(msg.subarray(0, n), ctxOf(50000, 161)).app, null, `prefix ${n}`);
  }
  const rnd = prng(161);
  let offPort = 0;
  for (let i = 0; i < 6000; i++) {
    const b = i % 2 === 0 ? mutated(reals[i % reals.length]!, rnd, 4) : randomBytes(rnd, 200);
    if (i % 2 === 1 && b.length > 2 && rnd() < 0.5) {
      b[0] = 0x30; // a SEQUENCE of the right length, to get past the first check
      b[1] = b.length - 2 < 0x80 ? b.length - 2 : 0x7f;
    }
    const port = rnd() < 0.5 ? 161 : 40000;
    const r = run(b, ctxOf(port, 50000));
    if (i % 2 === 1 && port !== 161 && r.score !== Score.NO) offPort++;
    if (r.app !== null) assert.ok(['v1', 'v2c', 'v3'].includes(String(r.app.details.snmp_version)), 'version name');
  }
  assert.equal(offPort, 0);
});
