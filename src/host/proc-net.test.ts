// parseProcNet: real /proc/net tables from test/fixtures/proc (see its README) and hand-made broken ones.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { prng } from '../../test/support/prng.js';
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

test('the byte order is part of what an address is remembered by', () => {
  const line = '   0: 0100007F:0035 00000000:0000 07' + TAIL;
  assert.equal(parseProcNet(line, 'udp', 4, true)[0]?.localAddr, '127.0.0.1');
  assert.equal(parseProcNet(line, 'udp', 4, false)[0]?.localAddr, '1.0.0.127');
  assert.equal(parseProcNet(line, 'udp', 4, true)[0]?.localAddr, '127.0.0.1');
  const v6 = '   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07' + TAIL;
  assert.equal(parseProcNet(v6, 'udp', 6, true)[0]?.localAddr, '::1');
  assert.equal(parseProcNet(v6, 'udp', 6, false)[0]?.localAddr, '::100:0');
});

/** The parser as first written (split on blanks, regular expressions): the reference the hand scanner must equal. */
function referenceParse(text: string, protocol: SocketProtocol, family: 4 | 6): Row[] {
  const endpoint = family === 4 ? /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{1,4})$/ : /^([0-9A-Fa-f]{32}):([0-9A-Fa-f]{1,4})$/;
  const out: Row[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[ \t\r\v\f]+/);
    if (f.length < 10 || !f[0]!.endsWith(':')) continue;
    const local = endpoint.exec(f[1]!);
    const remote = endpoint.exec(f[2]!);
    if (local === null || remote === null || !/^[0-9A-Fa-f]{1,8}$/.test(f[3]!) || !/^\d{1,15}$/.test(f[7]!) || !/^\d{1,15}$/.test(f[9]!)) continue;
    if (Number(f[9]) === 0) continue;
    // Addresses are compared through the real parser's formatting of the unmutated text; here only which
    // lines are taken and their numbers.
    out.push(['', parseInt(local[2]!, 16), '', parseInt(remote[2]!, 16), parseInt(f[3]!, 16), Number(f[9])]);
  }
  return out;
}

test('the hand scanner takes exactly the lines, ports, states and inodes the regular expressions took', () => {
  const rnd = prng(0x9e7);
  const alphabet = '0123456789abcdefABCDEFG: \t\r\n-x';
  for (const [file, protocol, family] of [['tcp', 'tcp', 4], ['tcp6', 'tcp', 6], ['udp', 'udp', 4], ['icmp6', 'icmp', 6]] as const) {
    const base = fs.readFileSync(FIXTURES + file, 'utf8');
    for (let i = 0; i < 400; i++) {
      const chars = [...base];
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rnd() * chars.length);
        const what = rnd();
        if (what < 0.4) chars[at] = alphabet[Math.floor(rnd() * alphabet.length)]!;
        else if (what < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[Math.floor(rnd() * alphabet.length)]!);
      }
      const text = chars.join('');
      const got = rows(parseProcNet(text, protocol, family, true)).map((r): Row => ['', r[1], '', r[3], r[4], r[5]]);
      assert.deepEqual(got, referenceParse(text, protocol, family), `${file} mutation ${i}: ${JSON.stringify(text)}`);
    }
  }
});

test('readSocketTables reads a table larger than its read buffer whole', () => {
  const root = fs.mkdtempSync(`${fs.realpathSync('/tmp')}/proc-net-big-`);
  try {
    fs.mkdirSync(`${root}/net`);
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    // About 150 bytes a line, as the kernel prints them: 6,000 lines are ~900 KB.
    for (let i = 0; i < 6000; i++) {
      const port = (1024 + i).toString(16).toUpperCase().padStart(4, '0');
      lines.push(`${String(i).padStart(4)}: 0100007F:${port} 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1                     `);
    }
    fs.writeFileSync(`${root}/net/tcp`, lines.join('\n') + '\n');
    assert.ok(fs.statSync(`${root}/net/tcp`).size > 512 * 1024);
    const all = readSocketTables(root);
    assert.equal(all.length, 6000);
    assert.deepEqual([all[0]!.localPort, all[0]!.inode, all[5999]!.localPort, all[5999]!.inode], [1024, 100000, 1024 + 5999, 105999]);
    assert.ok(all.every((e) => e.localAddr === '127.0.0.1' && e.remotePort === 8080 && e.state === 1));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
