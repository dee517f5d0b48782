// parseProcNet: real /proc/net tables from test/fixtures/proc (see its README) and hand-made broken ones.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProcNet, readSocketTables, type SocketEntry, type SocketProtocol } from './proc-net.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));

/** The fixtures were written by a little-endian machine, whatever runs the test. */
function parseFixture(file: string, protocol: SocketProtocol, family: 4 | 6): SocketEntry[] {
  return parseProcNet(fs.readFileSync(FIXTURES + file, 'utf8'), protocol, family, true);
}

type Row = [string, number, string, number, number, number];
/** [localAddr, localPort, remoteAddr, remotePort, state, inode] per entry, for compact expectations. */
function rows(entries: readonly SocketEntry[]): Row[] {
  return entries.map((e) => [e.localAddr, e.localPort, e.remoteAddr, e.remotePort, e.state, e.inode]);
}

test('tcp: listener, both ends of a connection, and a client of the dual-stack listener', () => {
  const entries = parseFixture('tcp', 'tcp', 4);
  assert.deepEqual(rows(entries), [
    ['127.0.0.1', 38565, '0.0.0.0', 0, 0x0a, 100259],
    ['127.0.0.1', 44288, '127.0.0.1', 36871, 1, 100266],
    ['127.0.0.1', 38565, '127.0.0.1', 56244, 1, 100261],
    ['127.0.0.1', 56244, '127.0.0.1', 38565, 1, 100260],
  ]);
  assert.deepEqual(entries[0], {
    protocol: 'tcp', family: 4, localAddr: '127.0.0.1', localPort: 38565, remoteAddr: '0.0.0.0', remotePort: 0,
    state: 0x0a, inode: 100259, uid: 65534,
  });
});

test('tcp6: ::1, the wildcard, and an IPv4-mapped accepted socket printed as IPv4', () => {
  const entries = parseFixture('tcp6', 'tcp', 6);
  assert.deepEqual(rows(entries), [
    ['::', 36871, '::', 0, 0x0a, 100265],
    ['::1', 38295, '::', 0, 0x0a, 100262],
    ['::1', 48420, '::1', 38295, 1, 100263],
    ['::1', 38295, '::1', 48420, 1, 100264],
    ['127.0.0.1', 36871, '127.0.0.1', 44288, 1, 100267],
  ]);
  assert.ok(entries.every((e) => e.family === 6 && e.protocol === 'tcp' && e.uid === 65534));
});

test('udp and udp6: bound, wildcard, dual-stack and connected sockets', () => {
  assert.deepEqual(rows(parseFixture('udp', 'udp', 4)), [
    ['127.0.0.1', 36077, '127.0.0.1', 46071, 1, 100272],
    ['0.0.0.0', 41721, '0.0.0.0', 0, 7, 100270],
    ['127.0.0.1', 46071, '0.0.0.0', 0, 7, 100268],
  ]);
  assert.deepEqual(rows(parseFixture('udp6', 'udp', 6)), [
    ['::1', 35292, '::', 0, 7, 100269],
    ['::', 45546, '::', 0, 7, 100271],
  ]);
});

test('icmp and icmp6: ping sockets, the echo id as local port', () => {
  assert.deepEqual(rows(parseFixture('icmp', 'icmp', 4)), [
    ['0.0.0.0', 56181, '0.0.0.0', 0, 7, 110924],
    ['127.0.0.1', 56182, '127.0.0.1', 0, 1, 110925],
  ]);
  assert.deepEqual(rows(parseFixture('icmp6', 'icmp', 6)), [
    ['::', 56183, '::', 0, 7, 110926],
    ['::1', 56184, '::', 0, 7, 110927],
  ]);
  assert.equal(parseFixture('icmp', 'icmp', 4)[0]!.protocol, 'icmp');
});

const HEADER6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TAIL = ' 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 0 0 10 -1';

test('IPv6 words keep their order and each is byte-swapped (a global and a link-local address)', () => {
  // 2001:db8:85a3::8a2e:370:7334 is the words 20010db8 85a30000 00008a2e 03707334, each printed little-endian.
  // fe80::fc:ff:fe00:1 is fe800000 00000000 00fc00ff fe000001.
  const text = HEADER6 +
    '   0: B80D01200000A3852E8A000034737003:01BB 000080FE00000000FF00FC00010000FE:D431 01' + TAIL + '\n';
  const [e] = parseProcNet(text, 'tcp', 6, true);
  assert.deepEqual(e && [e.localAddr, e.localPort, e.remoteAddr, e.remotePort, e.uid], ['2001:db8:85a3::8a2e:370:7334', 443, 'fe80::fc:ff:fe00:1', 54321, 1000]);
  // The same address as a big-endian machine prints it.
  const be = HEADER6 + '   0: 20010DB885A3000000008A2E03707334:01BB 00000000000000000000000000000001:0050 01' + TAIL + '\n';
  assert.deepEqual(rows(parseProcNet(be, 'tcp', 6, false)), [['2001:db8:85a3::8a2e:370:7334', 443, '::1', 80, 1, 4242]]);
});

test('lowercase hex reads like uppercase', () => {
  const upper = '   0: 0A00A8C0:1F90 0100A8C0:C350 01' + TAIL;
  const lower = '   0: 0a00a8c0:1f90 0100a8c0:c350 01' + TAIL;
  const a = parseProcNet(upper, 'tcp', 4, true);
  assert.deepEqual(rows(a), [['192.168.0.10', 8080, '192.168.0.1', 50000, 1, 4242]]);
  assert.deepEqual(parseProcNet(lower, 'tcp', 4, true), a);
  const v6 = '   0: 0000000000000000ffff00000a00a8c0:1f90 0000000000000000FFFF00000100A8C0:c350 0a' + TAIL;
  assert.deepEqual(rows(parseProcNet(v6, 'tcp', 6, true)), [['192.168.0.10', 8080, '192.168.0.1', 50000, 0x0a, 4242]]);
});

test('inode 0 (TIME_WAIT, SYN_RECV) is skipped', () => {
  // Real TIME_WAIT line from this machine's /proc/net/tcp.
  const tw = '   1: 0100007F:E41A 0100007F:A71B 06 00000000:00000000 03:000012B8 00000000     0        0 0 3 000000003f90e1a9';
  assert.deepEqual(parseProcNet(tw, 'tcp', 4, true), []);
});

test('garbage, truncated and wrong-family lines are skipped, never thrown on', () => {
  const good = '   0: 0100007F:0035 00000000:0000 07' + TAIL;
  const bad = [
    '',
    '\n\n\n',
    'sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode',
    '   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000',          // cut before the inode
    '   0: 0100007F:0035 00000000:00',                                                              // cut mid-field
    '   0: 0100007G:0035 00000000:0000 07' + TAIL,                                                  // not hex
    '   0: 0100007F:00035 00000000:0000 07' + TAIL,                                                 // five-digit port
    '   0: 0100007F0035 00000000:0000 07' + TAIL,                                                   // no colon
    '   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07' + TAIL, // v6 text in a v4 table
    '   0: 0100007F:0035 00000000:0000 ZZ' + TAIL,                                                  // state
    '   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  -1 0 4242 1',      // uid
    '   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000 0 42x 1',     // inode
    '   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000 0 99999999999999999999 1',
    '0100007F:0035 00000000:0000 07' + TAIL,                                                        // no slot
    '\u0000\u00ff\ufffd garbage \t\t :: : ',
  ];
  const text = [bad.join('\n'), good, ...bad].join('\n');
  assert.deepEqual(rows(parseProcNet(text, 'udp', 4, true)), [['127.0.0.1', 53, '0.0.0.0', 0, 7, 4242]]);
  assert.deepEqual(parseProcNet(good, 'udp', 6, true), []);
  assert.equal(parseProcNet(`${good}\r\n${good}\r\n`, 'udp', 4, true).length, 2);
});

test('readSocketTables reads every table under a root and skips the missing ones', () => {
  const root = fs.mkdtempSync(`${fs.realpathSync('/tmp')}/proc-net-`);
  try {
    fs.mkdirSync(`${root}/net`);
    fs.copyFileSync(FIXTURES + 'tcp', `${root}/net/tcp`);
    fs.copyFileSync(FIXTURES + 'udp6', `${root}/net/udp6`);
    const all = readSocketTables(root);
    assert.deepEqual(all.map((e) => [e.protocol, e.family, e.inode]), [
      ['tcp', 4, 100259], ['tcp', 4, 100266], ['tcp', 4, 100261], ['tcp', 4, 100260], ['udp', 6, 100269], ['udp', 6, 100271],
    ]);
    assert.deepEqual(readSocketTables(`${root}/absent`), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
