// The benchmark capture generator (scripts/synth-capture.mjs): reproducible bytes, well-formed frames,
// the whole protocol mix as our DPI sees it, and QUIC Initials real enough for the SNI to be decrypted.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const generator = path.join(root, 'scripts/synth-capture.mjs');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-synth-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0 = 1767225600;

function generate(name: string, ...args: string[]): string {
  const file = path.join(dir, name);
  const r = spawnSync(process.execPath, [generator, '-o', file, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('the same arguments give the same bytes; another seed gives another file', () => {
  const a = generate('a.pcap', '--flows', '300', '--seed', '11', '--size-scale', '0.7');
  const b = generate('b.pcap', '--flows', '300', '--seed', '11', '--size-scale', '0.7');
  const c = generate('c.pcap', '--flows', '300', '--seed', '12', '--size-scale', '0.7');
  assert.equal(sha256(a), sha256(b));
  assert.notEqual(sha256(a), sha256(c));
});

test('the QUIC protection reproduces RFC 9001 Appendix A; --help and bad arguments', () => {
  const check = spawnSync(process.execPath, [generator, '--self-check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const help = spawnSync(process.execPath, [generator, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^usage: node scripts\/synth-capture\.mjs -o FILE/);
  for (const bad of [['--flows', '12x', '-o', 'x'], ['--size-scale', '-1', '-o', 'x'], ['--bogus'], ['--duration', '0', '-o', 'x'], []]) {
    const r = spawnSync(process.execPath, [generator, ...bad], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^synth-capture: .+\n$/, `one line for ${bad.join(' ')}`);
  }
});

/** Ones' complement sum of big-endian 16-bit words (RFC 1071). */
function onesSum(b: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

test('frames are sorted, well formed, with correct checksums and only the allowed addresses', () => {
  const d = fs.readFileSync(generate('frames.pcap', '--flows', '300', '--seed', '3', '--size-scale', '0.7'));
  assert.equal(d.readUInt32LE(0), 0xa1b2c3d4, 'classic pcap, microseconds');
  assert.equal(d.readUInt32LE(20), 1, 'LINKTYPE_ETHERNET');
  const inRange = (a: Buffer): boolean =>
    a.length === 4
      ? (a[0] === 198 && (a[1] === 18 || a[1] === 19)) || a.equals(Buffer.from([10, 77, 1, 10]))
      : a.subarray(0, 4).equals(Buffer.from('20010db8', 'hex')) || a.equals(Buffer.from('fd770001000000000000000000000010', 'hex'));
  let last = 0;
  let frames = 0;
  let arp = 0;
  for (let p = 24; p < d.length; frames++) {
    const micros = d.readUInt32LE(p) * 1e6 + d.readUInt32LE(p + 4);
    const len = d.readUInt32LE(p + 8);
    assert.equal(d.readUInt32LE(p + 12), len);
    assert.ok(micros >= last && micros >= T0 * 1e6 && micros < (T0 + 60) * 1e6, `frame ${frames} time`);
    last = micros;
    const f = d.subarray(p + 16, p + 16 + len);
    p += 16 + len;
    const type = f.readUInt16BE(12);
    if (type === 0x0806) {
      arp++;
      continue;
    }
    let l4: number;
    let proto: number;
    let pseudo: number;
    if (type === 0x0800) {
      assert.equal(onesSum(f, 14, 34), 0xffff, `frame ${frames}: IPv4 header checksum`);
      assert.equal(f.readUInt16BE(16), len - 14);
      assert.ok(inRange(f.subarray(26, 30)) && inRange(f.subarray(30, 34)), `frame ${frames}: addresses`);
      proto = f[23]!;
      l4 = 34;
      pseudo = onesSum(f, 26, 34, proto + len - l4);
    } else {
      assert.equal(type, 0x86dd);
      assert.equal(f.readUInt16BE(18), len - 54);
      assert.ok(inRange(f.subarray(22, 38)) && inRange(f.subarray(38, 54)), `frame ${frames}: addresses`);
      proto = f[20]!;
      l4 = 54;
      pseudo = onesSum(f, 22, 54, proto + len - l4);
    }
    assert.ok([1, 6, 17, 58].includes(proto), `frame ${frames}: protocol ${proto}`);
    const sum = proto === 1 ? onesSum(f, l4, len) : onesSum(f, l4, len, pseudo);
    assert.equal(sum, 0xffff, `frame ${frames}: protocol ${proto} checksum`);
  }
  assert.ok(frames > 5000, `${frames} frames`);
  assert.equal(arp, 80, 'forty ARP requests and replies');
});

interface Event {
  event: string;
  protocol: string;
  source_ip: string;
  destination_port: number;
  dpi_protocol?: string;
  dpi_domain?: string;
  dpi_details?: { alpn?: string[] };
}

test('a replay shows the whole mix, about 15 % IPv6, and the SNI of every QUIC flow', () => {
  const capture = generate('mix.pcap', '--flows', '2000', '--seed', '20260101', '--size-scale', '0.7');
  const log = path.join(dir, 'mix.json');
  const r = spawnSync(process.execPath, [path.join(root, 'dist/main.js'), '--no-tui', '--read', capture, '--json-log', log], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const summary = /(\d+) frames, (\d+) decoded, (\d+) skipped/.exec(r.stderr);
  assert.ok(summary, r.stderr);
  assert.equal(summary[3], '0', `no frame skipped: ${r.stderr}`);
  assert.equal(summary[1], summary[2]);
  const closed = fs.readFileSync(log, 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as Event)
    .filter((e) => e.event === 'connection_closed');
  assert.ok(closed.length > 1900, `${closed.length} connections`);
  const count = (f: (e: Event) => boolean): number => closed.filter(f).length;
  for (const name of ['HTTPS', 'HTTP', 'DNS', 'SSH', 'QUIC', 'NTP']) {
    assert.ok(count((e) => e.dpi_protocol === name) > 0, `${name} flows`);
  }
  assert.ok(count((e) => e.dpi_protocol === 'HTTPS' && e.dpi_domain !== undefined) > 500, 'TLS flows named by their SNI');
  const v6 = count((e) => e.source_ip.includes(':')) / closed.length;
  assert.ok(v6 > 0.11 && v6 < 0.19, `IPv6 share ${v6}`);
  // Every UDP flow to port 443 is QUIC, and its SNI can only come from decrypting the client Initial.
  const quic = closed.filter((e) => e.protocol === 'UDP' && e.destination_port === 443);
  assert.ok(quic.length > 100, `${quic.length} QUIC flows`);
  const named = quic.filter((e) => e.dpi_protocol === 'QUIC' && /^[a-z0-9]+\.[a-z-]+\.[a-z.]+$/.test(e.dpi_domain ?? ''));
  assert.ok(named.length >= quic.length * 0.99, `${named.length} of ${quic.length} QUIC flows have their SNI`);
  assert.ok(named.every((e) => e.dpi_details?.alpn?.includes('h3')), 'ALPN h3 from the same ClientHello');
});
