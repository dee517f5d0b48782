// Tests for the SSDP classifier: a real M-SEARCH from ndpi__iphone.pcap and hand-built NOTIFY/response messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { ssdpClassifier } from './ssdp.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(srcPort: number, dstPort: number): DpiContext {
  return flowCtx(17, srcPort, dstPort);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(ssdpClassifier, bytes, ctx);
}

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

// ndpi__iphone.pcap frame 18: 169.254.225.216:60538 → 239.255.255.250:1900 (ends with a stray NUL).
const M_SEARCH = Uint8Array.from(Buffer.from(
  '4d2d534541524348202a20485454502f312e310d0a484f53543a203233392e3235352e3235352e3235303a313930300d0a4d414e3a2022737364703a646973636f766572220d0a4d583a20310d0a53543a2075726e3a6469616c2d6d756c746973637265656e2d6f72673a736572766963653a6469616c3a310d0a0d0a00',
  'hex',
));

// UPnP Device Architecture 2.0 §1.2.2 (ssdp:alive) and §1.3.3 (search response) layouts.
const NOTIFY = ascii(
  'NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n' +
  'LOCATION: http://192.168.1.20:49152/desc.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n' +
  'SERVER: Linux/5.10 UPnP/2.0 Demo/1.0\r\nUSN: uuid:2fac1234-31f8-11b4-a222-08002b34c003::upnp:rootdevice\r\n\r\n',
);
const RESPONSE = ascii(
  'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nDATE: Sat, 01 Jan 2000 00:00:00 GMT\r\nEXT:\r\n' +
  'LOCATION: http://192.168.1.20:49152/desc.xml\r\nSERVER: Linux/5.10 UPnP/2.0 Demo/1.0\r\n' +
  'st: urn:schemas-upnp-org:device:MediaRenderer:1\r\nUSN: uuid:2fac1234::urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n',
);

test('real M-SEARCH: method, search target and HOST', () => {
  const r = run(M_SEARCH, ctxOf(60538, 1900));
  assert.equal(r.score, Score.CONTENT);
  assert.equal(r.verdict, Verdict.DONE);
  assert.equal(r.app?.protocol, 'SSDP');
  assert.deepEqual(r.app?.details, {
    ssdp_method: 'M-SEARCH',
    http_host: '239.255.255.250:1900',
    ssdp_st: 'urn:dial-multiscreen-org:service:dial:1',
  });
  assert.equal(r.app?.domain, undefined);
  assert.equal(r.app?.state, undefined);
  // The start line is content on any port.
  assert.equal(ssdpClassifier.detect(M_SEARCH, 0, M_SEARCH.length, ctxOf(40000, 40001)), Score.CONTENT);
});

test('NOTIFY takes NT as the target; a search response keeps status 200 and ST', () => {
  const n = run(NOTIFY, ctxOf(1900, 1900));
  assert.deepEqual(n.app?.details, { ssdp_method: 'NOTIFY', http_host: '239.255.255.250:1900', ssdp_st: 'upnp:rootdevice' });
  // Search responses go from the device's port (often not 1900) to the searcher's port.
  const r = run(RESPONSE, ctxOf(49152, 60538));
  assert.equal(r.score, Score.CONTENT);
  assert.deepEqual(r.app?.details, { http_status: 200, ssdp_st: 'urn:schemas-upnp-org:device:MediaRenderer:1' });
  assert.equal(run(RESPONSE, ctxOf(1900, 60538)).score, Score.CONTENT);
});

test('not SSDP: plain HTTP responses off 1900, other start lines; PORT on 1900 only', () => {
  const plain = ascii('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n');
  assert.equal(ssdpClassifier.detect(plain, 0, plain.length, ctxOf(80, 40000)), Score.NO);
  assert.equal(ssdpClassifier.detect(plain, 0, plain.length, ctxOf(1900, 40000)), Score.CONTENT);
  for (const text of ['GET / HTTP/1.1\r\n\r\n', 'M-SEARCH /x HTTP/1.1\r\n\r\n', 'HTTP/1.1 404 Not Found\r\n\r\n', 'HTTP/2 200\r\n\r\n', 'NOTIFY']) {
    const b = ascii(text);
    const r = run(b, ctxOf(40000, 1900));
    assert.equal(r.score, Score.PORT, text);
    assert.equal(r.verdict, Verdict.REJECT, text);
    assert.equal(ssdpClassifier.detect(b, 0, b.length, ctxOf(40000, 40001)), Score.NO, text);
  }
});

test('header parsing: case, bare LF, cut-off last line, hostile bytes, long values', () => {
  const lf = ascii('M-SEARCH * HTTP/1.1\nhost:239.255.255.250:1900\nSt:\tssdp:all \nMAN: "ssdp:discover"\n\n');
  assert.deepEqual(run(lf, ctxOf(5000, 1900)).app?.details, { ssdp_method: 'M-SEARCH', http_host: '239.255.255.250:1900', ssdp_st: 'ssdp:all' });
  const cut = ascii('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: ssdp:al');
  assert.deepEqual(run(cut, ctxOf(5000, 1900)).app?.details, { ssdp_method: 'M-SEARCH', http_host: '239.255.255.250:1900' });
  const hostile = ascii('NOTIFY * HTTP/1.1\r\nNT: \x1b]0;owned\x07\\x\r\n\r\n');
  assert.equal(run(hostile, ctxOf(1900, 1900)).app?.details.ssdp_st, '\\x1b]0;owned\\x07\\x5cx');
  const long = ascii(`NOTIFY * HTTP/1.1\r\nNT: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.equal(String(run(long, ctxOf(1900, 1900)).app?.details.ssdp_st).length, MAX_WIRE_STRING);
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  for (const [msg, ctx] of [[M_SEARCH, ctxOf(60538, 1900)], [NOTIFY, ctxOf(1900, 1900)], [RESPONSE, ctxOf(1900, 5000)]] as const) {
    const full = run(msg, ctx).app!;
    for (let n = 0; n < msg.length; n++) {
      const r = run(msg.subarray(0, n), ctx);
      if (r.app === null) continue;
      for (const [k, v] of Object.entries(r.app.details)) assert.equal(v, full.details[k], `prefix ${n} ${k}`);
    }
  }
  const rnd = prng(1900);
  let offPort = 0;
  for (let i = 0; i < 6000; i++) {
    const b = i % 2 === 0 ? mutated([M_SEARCH, NOTIFY, RESPONSE][i % 3]!, rnd, 8) : randomBytes(rnd, 300);
    const port = rnd() < 0.5 ? 1900 : 40000;
    const r = run(b, ctxOf(port, 50000));
    if (i % 2 === 1 && port !== 1900 && r.score !== Score.NO) offPort++;
    for (const v of Object.values(r.app?.details ?? {})) {
      if (typeof v === 'string') assert.ok(v.length <= MAX_WIRE_STRING && !/[\x00-\x1f\x7f-\uffff]/.test(v), 'printable, bounded');
    }
  }
  assert.equal(offPort, 0);
});
