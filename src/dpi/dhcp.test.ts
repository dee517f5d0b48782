// Tests for the DHCP classifier: real DHCPv4 exchanges from ndpi__iphone.pcap, hand-built BOOTP and DHCPv6.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { dhcpClassifier } from './dhcp.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number): DpiContext {
  return flowCtx(17, srcPort, dstPort);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(dhcpClassifier, bytes, ctx);
}

/** Hex with "zN" tokens standing for N zero bytes (BOOTP is mostly zero padding). */
function bytes(spec: string): Uint8Array {
  const parts: number[] = [];
  for (const tok of spec.split(' ')) {
    if (tok.startsWith('z')) parts.push(...new Array<number>(Number(tok.slice(1))).fill(0));
    else parts.push(...Buffer.from(tok, 'hex'));
  }
  return Uint8Array.from(parts);
}

// ndpi__iphone.pcap frames 2, 29, 30, 35, 36 (UDP payloads, 300 bytes each).
const DISCOVER_IMAC = bytes('0101060078544709001b z18 d8306256001c z202 63825363350101370a017903060f77fc5f2c2e390205dc3d0701d8306256001c33040076a7000c0a4c756361732d694d6163ff z13');
const DISCOVER_IPHONE = bytes('01010600b796bad1 z20 c4618b3582a9 z202 638253633501013707017903060f77fc390205dc3d0701c4618b3582a933040076a7000c0c4c756361732d6950686f6e65ff z14');
const OFFER = bytes('02010600b796bad1 z8 c0a80211c0a8020100000000c4618b3582a9 z10 4c756361732d694d61632e6c6f63616c z176 638253633501023604c0a80201330400014e200104ffffff000304c0a802010604c0a80201ff z26');
const REQUEST = bytes('01010600b796bad10001 z18 c4618b3582a9 z202 638253633501033707017903060f77fc390205dc3d0701c4618b3582a93204c0a802113604c0a802010c0c4c756361732d6950686f6e65ff z8');
const ACK = bytes('02010600b796bad1 z8 c0a80211c0a8020100000000c4618b3582a9 z10 4c756361732d694d61632e6c6f63616c z176 638253633501053604c0a80201330400014e200104ffffff000304c0a802010604c0a80201ff z26');

test('real DHCPv4 exchange: message types and host names', () => {
  for (const b of [DISCOVER_IMAC, DISCOVER_IPHONE, OFFER, REQUEST, ACK]) assert.equal(b.length, 300);
  const cases: Array<[Uint8Array, number, number, string, string | undefined]> = [
    [DISCOVER_IMAC, 68, 67, 'DISCOVER', 'Lucas-iMac'],
    [DISCOVER_IPHONE, 68, 67, 'DISCOVER', 'Lucas-iPhone'],
    [OFFER, 67, 68, 'OFFER', undefined], // the server name sits in 'sname', not in option 12
    [REQUEST, 68, 67, 'REQUEST', 'Lucas-iPhone'],
    [ACK, 67, 68, 'ACK', undefined],
  ];
  for (const [msg, sp, dp, type, host] of cases) {
    const r = run(msg, ctxOf(sp, dp));
    assert.equal(r.score, Score.CONTENT, type);
    assert.equal(r.verdict, Verdict.DONE, type);
    assert.equal(r.app?.protocol, 'DHCP');
    assert.equal(r.app?.details.dhcp_message_type, type);
    assert.equal(r.app?.details.dhcp_hostname, host);
    assert.equal(r.app?.state, undefined);
    // The cookie and a clean option list are content on any port too (relays, odd setups).
    assert.equal(dhcpClassifier.detect(msg, 0, msg.length, ctxOf(40000, 40001)), Score.CONTENT, type);
  }
});

/** A BOOTP message (RFC 2131 §2) with the cookie and the given option bytes. */
function bootp(op: number, options: number[], mutate?: (b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(240 + options.length);
  b[0] = op;
  b[1] = 1; // Ethernet
  b[2] = 6;
  b.set([0x63, 0x82, 0x53, 0x63], 236);
  b.set(options, 240);
  mutate?.(b);
  return b;
}

test('hand-built: every message type name, plain BOOTP, NUL-terminated and hostile host names', () => {
  const names = ['DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM', 'FORCERENEW',
    'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE', 'BULKLEASEQUERY', 'LEASEQUERYDONE',
    'ACTIVELEASEQUERY', 'LEASEQUERYSTATUS', 'TLS'];
  names.forEach((name, i) => {
    const r = run(bootp(1, [53, 1, i + 1, 255]), ctxOf(68, 67));
    assert.equal(r.app?.details.dhcp_message_type, name);
  });
  assert.equal(run(bootp(1, [53, 1, 99, 255]), ctxOf(68, 67)).app?.details.dhcp_message_type, 'TYPE99');
  assert.equal(run(bootp(1, [255]), ctxOf(68, 67)).app?.details.dhcp_message_type, 'BOOTREQUEST');
  assert.equal(run(bootp(2, [255]), ctxOf(67, 68)).app?.details.dhcp_message_type, 'BOOTREPLY');
  const nul = run(bootp(1, [53, 1, 1, 12, 5, 0x68, 0x6f, 0x73, 0x74, 0, 255]), ctxOf(68, 67));
  assert.equal(nul.app?.details.dhcp_hostname, 'host');
  const esc = run(bootp(1, [53, 1, 1, 12, 6, 0x1b, 0x5b, 0x32, 0x4a, 0x5c, 0x80, 255]), ctxOf(68, 67));
  assert.equal(esc.app?.details.dhcp_hostname, '\\x1b[2J\\x5c\\x80');
  const long = run(bootp(1, [53, 1, 1, 12, 255, ...new Array<number>(255).fill(0x01), 255]), ctxOf(68, 67));
  assert.ok(String(long.app?.details.dhcp_hostname).length <= MAX_WIRE_STRING, 'hostname bounded');
});

test('option overload (RFC 2131 §4.1): options continue in file and sname', () => {
  const msg = bootp(1, [52, 1, 3, 255], (b) => {
    b.set([53, 1, 8, 255], 108); // file: message type INFORM
    b.set([12, 3, 0x61, 0x62, 0x63, 255], 44); // sname: host name "abc"
  });
  const r = run(msg, ctxOf(68, 67));
  assert.equal(r.app?.details.dhcp_message_type, 'INFORM');
  assert.equal(r.app?.details.dhcp_hostname, 'abc');
});

test('not DHCP: wrong op, hlen, cookie; broken options off the DHCP ports', () => {
  const bad: Array<[string, Uint8Array]> = [
    ['op 3', bootp(3, [53, 1, 1, 255])],
    ['hlen 17', bootp(1, [53, 1, 1, 255], (b) => { b[2] = 17; })],
    ['cookie', bootp(1, [53, 1, 1, 255], (b) => { b[239] = 0x64; })],
    ['short', bootp(1, [53, 1, 1, 255]).slice(0, 239)],
  ];
  for (const [what, b] of bad) {
    const r = run(b, ctxOf(68, 67));
    assert.equal(r.score, Score.PORT, what);
    assert.equal(r.verdict, Verdict.REJECT, what);
    assert.equal(dhcpClassifier.detect(b, 0, b.length, ctxOf(40000, 40001)), Score.NO, what);
  }
  // Off the DHCP ports the options must reach End cleanly.
  const overrun = bootp(1, [53, 1, 1, 12, 40, 0x61]);
  assert.equal(dhcpClassifier.detect(overrun, 0, overrun.length, ctxOf(40000, 40001)), Score.NO);
  assert.equal(dhcpClassifier.detect(overrun, 0, overrun.length, ctxOf(68, 67)), Score.CONTENT);
  const noEnd = bootp(1, [53, 1, 1]);
  assert.equal(dhcpClassifier.detect(noEnd, 0, noEnd.length, ctxOf(40000, 40001)), Score.NO);
});

/** DHCPv6 message (RFC 8415 §8): type, 3-byte transaction id, options (code, length, value). */
function v6(type: number, options: Array<[number, number[]]>): Uint8Array {
  const out = [type, 0x12, 0x34, 0x56];
  for (const [code, value] of options) out.push(code >> 8, code & 0xff, value.length >> 8, value.length & 0xff, ...value);
  return Uint8Array.from(out);
}

test('DHCPv6 on 546/547: message type and Client FQDN (RFC 4704)', () => {
  const clientId = [0, 3, 0, 1, 0xd8, 0x30, 0x62, 0x56, 0x00, 0x1c];
  const fqdn = [0x01, 4, ...Buffer.from('host'), 7, ...Buffer.from('example'), 0];
  const solicit = v6(1, [[1, clientId], [39, fqdn], [8, [0, 0]]]);
  const r = run(solicit, ctxOf(546, 547));
  assert.equal(r.score, Score.CONTENT);
  assert.equal(r.app?.protocol, 'DHCP');
  assert.equal(r.app?.details.dhcp_message_type, 'SOLICIT');
  assert.equal(r.app?.details.dhcp_hostname, 'host.example');
  assert.equal(run(v6(7, [[1, clientId]]), ctxOf(547, 546)).app?.details.dhcp_message_type, 'REPLY');
  assert.equal(run(v6(11, [[1, clientId]]), ctxOf(546, 547)).app?.details.dhcp_hostname, undefined);
  // Relay-forward: 34-byte header (RFC 8415 §9), then a Relay Message option.
  const relay = Uint8Array.from([12, 0, ...new Array<number>(32).fill(0), 0, 9, solicit.length >> 8, solicit.length & 0xff, ...solicit]);
  assert.equal(run(relay, ctxOf(547, 547)).app?.details.dhcp_message_type, 'RELAY-FORW');
  // Off its ports DHCPv6 has no magic; a broken option list on them is only PORT.
  assert.equal(dhcpClassifier.detect(solicit, 0, solicit.length, ctxOf(40000, 40001)), Score.NO);
  const broken = solicit.slice(0, solicit.length - 1);
  assert.equal(run(broken, ctxOf(546, 547)).score, Score.PORT);
  assert.equal(run(broken, ctxOf(546, 547)).verdict, Verdict.REJECT);
  assert.equal(run(v6(0, [[1, clientId]]), ctxOf(546, 547)).verdict, Verdict.REJECT);
  assert.equal(run(Uint8Array.from([1, 0, 0, 0]), ctxOf(546, 547)).verdict, Verdict.REJECT);
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  const reals: Array<[Uint8Array, DpiContext]> = [
    [DISCOVER_IMAC, ctxOf(68, 67)], [OFFER, ctxOf(67, 68)], [REQUEST, ctxOf(68, 67)],
    [v6(1, [[1, [0, 3, 0, 1, 1, 2, 3, 4, 5, 6]], [39, [1, 4, ...Buffer.from('host'), 0]]]), ctxOf(546, 547)],
  ];
  for (const [msg, ctx] of reals) {
    const full = run(msg, ctx).app!;
    for (let n = 0; n < msg.length; n++) {
      const r = run(msg.subarray(0, n), ctx);
      if (r.app === null) continue;
      for (const [k, v] of Object.entries(r.app.details)) assert.equal(v, full.details[k], `prefix ${n} ${k}`);
    }
  }
  const rnd = prng(67);
  const ports = [67, 68, 546, 547, 40000];
  let offPort = 0;
  for (let i = 0; i < 6000; i++) {
    let b = i % 2 === 0 ? mutated(reals[i % reals.length]![0], rnd, 6) : randomBytes(rnd, 400);
    if (i % 2 === 0 && rnd() < 0.3) b = b.subarray(0, Math.floor(rnd() * b.length));
    const sp = ports[Math.floor(rnd() * ports.length)]!;
    const dp = ports[Math.floor(rnd() * ports.length)]!;
    const r = run(b, ctxOf(sp, dp));
    if (i % 2 === 1 && sp === 40000 && dp === 40000 && r.score !== Score.NO) offPort++;
    if (r.app !== null) {
      const t = r.app.details.dhcp_message_type;
      assert.ok(t === undefined || (typeof t === 'string' && t.length > 0), 'type is a name or absent');
      const h = r.app.details.dhcp_hostname;
      assert.ok(h === undefined || (typeof h === 'string' && h.length <= MAX_WIRE_STRING), 'hostname bound');
    }
  }
  assert.equal(offPort, 0);
});
