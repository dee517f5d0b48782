// Tests for the pcap/pcapng reader: real corpus files, hand-built edge cases, and damaged files.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CaptureFileReader, MAX_CAPTURED_LENGTH, type CaptureFileOptions } from './capture-file.js';
import { RustnetError, type ErrorCode } from '../core/errors.js';
import { prng } from '../../test/support/prng.js';
import { CORPUS, classicPcap } from '../../test/support/corpus.js';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-capture-'));
after(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

interface Frame {
  cap: number;
  wire: number;
  link: number;
  ts: number;
  digest: string;
}

interface ReadResult {
  frames: Frame[];
  error: RustnetError | null;
}

/** Reads a file to the end (or to its first error), copying each frame's facts out of the borrowed buffer. */
function readAll(file: string, batch = 1_000_000, options?: CaptureFileOptions): ReadResult {
  const reader = CaptureFileReader.open(file, options);
  const frames: Frame[] = [];
  let error: RustnetError | null = null;
  const sink = (buf: Buffer, offset: number, cap: number, wire: number, link: number, ts: number): void => {
    assert.ok(offset >= 0 && offset + cap <= buf.length, 'frame lies inside the buffer');
    const digest = createHash('sha1').update(buf.subarray(offset, offset + cap)).digest('hex');
    frames.push({ cap, wire, link, ts, digest });
  };
  try {
    // The guard turns a reader that never reaches the end into a test failure instead of a hang.
    for (let calls = 0; ; calls++) {
      assert.ok(calls < 10_000_000, 'reader keeps returning frames');
      const before = frames.length;
      const got = reader.read(sink, batch);
      assert.equal(got, frames.length - before, 'return value counts delivered frames');
      assert.ok(got <= batch);
      if (got === 0) break;
    }
  } catch (e) {
    if (!(e instanceof RustnetError)) throw e;
    error = e;
  }
  assert.equal(reader.framesRead, frames.length);
  reader.close();
  return { frames, error };
}

function expectOpenError(file: string, code: ErrorCode, options?: CaptureFileOptions): RustnetError {
  try {
    CaptureFileReader.open(file, options).close();
  } catch (e) {
    assert.ok(e instanceof RustnetError, `expected RustnetError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return e;
  }
  assert.fail(`expected ${code} opening ${file}`);
}

function tmpFile(name: string, data: Uint8Array): string {
  const file = path.join(tmpDir, name);
  fs.writeFileSync(file, data);
  return file;
}

// ---- builders for hand-made captures ----

function pcapFile(opts: { le?: boolean; nanos?: boolean; network?: number }, records: Buffer[]): Buffer {
  const le = opts.le ?? true;
  const h = Buffer.alloc(24);
  const magic = opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4;
  if (le) {
    h.writeUInt32LE(magic, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16); h.writeUInt32LE(opts.network ?? 1, 20);
  } else {
    h.writeUInt32BE(magic, 0); h.writeUInt16BE(2, 4); h.writeUInt16BE(4, 6);
    h.writeUInt32BE(262144, 16); h.writeUInt32BE(opts.network ?? 1, 20);
  }
  return Buffer.concat([h, ...records]);
}

function pcapRecord(le: boolean, sec: number, frac: number, data: Buffer, orig = data.length): Buffer {
  const h = Buffer.alloc(16);
  const w = (v: number, at: number): number => (le ? h.writeUInt32LE(v, at) : h.writeUInt32BE(v, at));
  w(sec, 0); w(frac, 4); w(data.length, 8); w(orig, 12);
  return Buffer.concat([h, data]);
}

function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v); else b.writeUInt32BE(v);
  return b;
}

function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v);
  return b;
}

function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

function block(le: boolean, type: number, body: Buffer): Buffer {
  const padded = pad4(body);
  const len = 12 + padded.length;
  return Buffer.concat([u32(le, type), u32(le, len), padded, u32(le, len)]);
}

function shb(le: boolean): Buffer {
  const section = Buffer.alloc(8, 0xff); // section length -1: unknown
  return block(le, 0x0a0d0d0a, Buffer.concat([u32(le, 0x1a2b3c4d), u16(le, 1), u16(le, 0), section]));
}

function option(le: boolean, code: number, value: Buffer): Buffer {
  return pad4(Buffer.concat([u16(le, code), u16(le, value.length), value]));
}

function idb(le: boolean, link: number, opts: Buffer[] = []): Buffer {
  const end = opts.length > 0 ? [u32(le, 0)] : [];
  return block(le, 1, Buffer.concat([u16(le, link), u16(le, 0), u32(le, 262144), ...opts, ...end]));
}

function epb(le: boolean, ifId: number, ts: bigint, data: Buffer, orig = data.length): Buffer {
  const high = Number(ts >> 32n);
  const low = Number(ts & 0xffffffffn);
  return block(le, 6, Buffer.concat([u32(le, ifId), u32(le, high), u32(le, low), u32(le, data.length), u32(le, orig), data]));
}

function spb(le: boolean, data: Buffer, orig = data.length): Buffer {
  return block(le, 3, Buffer.concat([u32(le, orig), data]));
}

function tsOffsetOption(le: boolean, seconds: bigint): Buffer {
  const v = Buffer.alloc(8);
  if (le) v.writeBigInt64LE(seconds); else v.writeBigInt64BE(seconds);
  return option(le, 14, v);
}

function payload(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}


// ---- the real corpus ----

interface ManifestRow {
  id: string;
  file: string;
  classic: string;
  format: string;
  linktypes: number[];
  packets: number;
}

function manifest(): ManifestRow[] {
  const lines = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const cols = lines[0]!.split('\t');
  const col = (name: string): number => {
    const i = cols.indexOf(name);
    assert.ok(i >= 0, `MANIFEST has column ${name}`);
    return i;
  };
  const [id, file, classic, format, linktype, packets] =
    ['id', 'file', 'classic_pcap', 'format', 'linktype', 'packets'].map(col) as [number, number, number, number, number, number];
  return lines.slice(1).map((l) => {
    const f = l.split('\t');
    return {
      id: f[id]!,
      file: path.join(CORPUS, f[file]!),
      classic: classicPcap(f[classic]!),
      format: f[format]!,
      linktypes: f[linktype]!.split(',').map(Number),
      packets: Number(f[packets]),
    };
  });
}

test('every corpus file and its classic copy: frame count, format and link types match MANIFEST', () => {
  const rows = manifest();
  assert.ok(rows.length >= 49);
  const inFolders = new Set([
    ...fs.readdirSync(path.join(CORPUS, 'pcap')).map((f) => path.join(CORPUS, 'pcap', f)),
    ...fs.readdirSync(path.join(CORPUS, 'pcap-classic')).map((f) => path.join(CORPUS, 'pcap-classic', f)),
  ]);
  for (const row of rows) {
    for (const file of [row.file, row.classic]) {
      inFolders.delete(file);
      const reader = CaptureFileReader.open(file);
      const isOriginal = file === row.file;
      assert.equal(reader.format, isOriginal && row.format === 'pcapng' ? 'pcapng' : 'pcap', file);
      assert.equal(reader.linkType, row.linktypes[0], file);
      reader.close();
      const { frames, error } = readAll(file);
      assert.equal(error, null, `${file}: ${error?.message}`);
      assert.equal(frames.length, row.packets, file);
      const allowed = new Set(row.linktypes);
      for (const f of frames) {
        assert.ok(allowed.has(f.link), `${file}: link type ${f.link}`);
        assert.ok(f.cap <= f.wire && f.cap <= MAX_CAPTURED_LENGTH, file);
      }
    }
  }
  assert.deepEqual([...inFolders], [], 'every file in pcap/ and pcap-classic/ is in MANIFEST');
});

test('pcapng originals and their classic-pcap copies yield identical frames and timestamps', () => {
  for (const row of manifest()) {
    assert.deepEqual(readAll(row.file).frames, readAll(row.classic).frames, row.id);
  }
});

test('specific corpus cases: nanosecond magic, big-endian, 22-interface pcapng, oracle durations', () => {
  const pcap = (id: string): string => path.join(CORPUS, 'pcap', id);

  // One-conversation files: first-to-last frame time must equal tshark's conversation duration.
  for (const [id, micros] of [
    ['zeek__tcp__retransmit-fast009.pcap', 60_991_770],
    ['tcpdump__tcp-handshake-nano.pcap', 127_610],
  ] as const) {
    const conv = fs.readFileSync(path.join(CORPUS, 'oracle', id, 'conv.tsv'), 'utf8').trim().split('\n');
    assert.equal(conv.length, 2, `${id} has one conversation`);
    const duration = Number(conv[1]!.split('\t').at(-1));
    assert.equal(Math.round(duration * 1e6), micros);
    const { frames } = readAll(pcap(id));
    assert.equal(frames.at(-1)!.ts - frames[0]!.ts, micros, id);
  }

  const nano = CaptureFileReader.open(pcap('tcpdump__tcp-handshake-nano.pcap'));
  assert.equal(nano.format, 'pcap');
  assert.equal(nano.linkType, 113);
  nano.close();
  const raw = fs.readFileSync(pcap('tcpdump__tcp-handshake-nano.pcap'));
  assert.equal(raw.readUInt32LE(0), 0xa1b23c4d);
  const sec = raw.readUInt32LE(24);
  const nsec = raw.readUInt32LE(28);
  assert.equal(readAll(pcap('tcpdump__tcp-handshake-nano.pcap')).frames[0]!.ts, sec * 1e6 + Math.floor(nsec / 1000));

  const be = fs.readFileSync(pcap('ndpi__nfsv3.pcap'));
  assert.equal(be.readUInt32BE(0), 0xa1b2c3d4, 'big-endian file');
  const beFrames = readAll(pcap('ndpi__nfsv3.pcap')).frames;
  assert.equal(beFrames.length, 128);
  assert.equal(beFrames[0]!.ts, be.readUInt32BE(24) * 1e6 + be.readUInt32BE(28));
  assert.equal(beFrames[0]!.cap, be.readUInt32BE(32));
  assert.equal(beFrames[0]!.digest, sha1(be.subarray(40, 40 + be.readUInt32BE(32))));

  // sites.pcapng declares 22 interfaces; count the IDBs independently and check every frame's link type.
  const sites = fs.readFileSync(pcap('ndpi__sites.pcapng'));
  let idbs = 0;
  for (let p = 0; p < sites.length; p += sites.readUInt32LE(p + 4)) if (sites.readUInt32LE(p) === 1) idbs++;
  assert.equal(idbs, 22);
  const sitesFrames = readAll(pcap('ndpi__sites.pcapng')).frames;
  assert.equal(sitesFrames.length, 699);
  assert.ok(sitesFrames.every((f) => f.link === 1));
});

/** Both formats, nanosecond stamps, many interfaces, a record larger than most buffers. */
const VARIED_FILES = [
  'zeek__tcp__retransmit-fast009.pcap',
  'ndpi__nfsv3.pcap',
  'tcpdump__tcp-handshake-nano.pcap',
  'ndpi__sites.pcapng',
  'ndpi__tls_with_huge_ch.pcapng',
  'zeek__http__206_example_a.pcap',
];

test('small batches and tiny chunks give the same frames as one big read', () => {
  for (const id of VARIED_FILES) {
    const file = path.join(CORPUS, 'pcap', id);
    const whole = readAll(file);
    assert.equal(whole.error, null);
    for (const [batch, chunkSize] of [[1, undefined], [7, undefined], [1_000_000, 100], [3, 100], [5, 13], [1, 1]] as const) {
      const got = readAll(file, batch, chunkSize === undefined ? undefined : { chunkSize });
      assert.equal(got.error, null, `${id} batch ${batch} chunk ${chunkSize}`);
      assert.deepEqual(got.frames, whole.frames, `${id} batch ${batch} chunk ${chunkSize}`);
    }
  }
});

test('read-ahead: slots of any size, with and without the reading thread, give the same frames', () => {
  for (const id of VARIED_FILES) {
    const file = path.join(CORPUS, 'pcap', id);
    const whole = readAll(file);
    // Records larger than a slot span several; a 1-byte slot stitches every record byte by byte.
    for (const [batch, slotBytes, slots, noThread] of [
      [1_000_000, undefined, undefined, false], [7, 100, 2, false], [3, 4096, 3, false], [1_000_000, 1, 2, true],
      [5, 13, 5, true], [1, 1500, 2, true],
    ] as const) {
      const what = `${id} batch ${batch} slot ${slotBytes}x${slots} ${noThread ? 'no thread' : 'thread'}`;
      const got = readAll(file, batch, { readAhead: { minFileBytes: 0, slotBytes, slots, noThread } });
      assert.equal(got.error, null, what);
      assert.deepEqual(got.frames, whole.frames, what);
    }
  }
});

test('read-ahead is used only for regular files from its size threshold on', () => {
  const file = path.join(CORPUS, 'pcap', 'zeek__tcp__retransmit-fast009.pcap');
  const size = fs.statSync(file).size;
  const uses = (minFileBytes: number): boolean => {
    const r = CaptureFileReader.open(file, { readAhead: { minFileBytes, slotBytes: 64 } });
    try {
      return r.readsAhead;
    } finally {
      r.close();
    }
  };
  assert.equal(uses(size), true);
  assert.equal(uses(size + 1), false);
  assert.equal(CaptureFileReader.open(file).readsAhead, false);
  // A /dev or /proc path (/dev/stdin redirected from a file) reads on from wherever its offset stands.
  const fd = fs.openSync(file, 'r');
  try {
    const r = CaptureFileReader.open(`/proc/self/fd/${fd}`, { readAhead: { minFileBytes: 0 } });
    assert.equal(r.readsAhead, false);
    r.close();
  } finally {
    fs.closeSync(fd);
  }
});

// ---- hand-built files ----

test('classic pcap: both magics in both byte orders, FCS bits ignored, lengths and timestamps', () => {
  const a = payload(60, 1);
  const b = payload(1514, 2);
  for (const le of [true, false]) {
    for (const nanos of [false, true]) {
      const file = tmpFile(`syn-${le}-${nanos}.pcap`, pcapFile({ le, nanos, network: (1 << 26) | (2 << 28) | 113 }, [
        pcapRecord(le, 1_700_000_000, nanos ? 999_999_999 : 999_999, a, 200),
        pcapRecord(le, 4_000_000_000, nanos ? 1_500 : 1, b),
      ]));
      const reader = CaptureFileReader.open(file);
      assert.equal(reader.format, 'pcap');
      assert.equal(reader.linkType, 113);
      reader.close();
      const { frames, error } = readAll(file);
      assert.equal(error, null);
      assert.deepEqual(frames, [
        { cap: 60, wire: 200, link: 113, ts: 1_700_000_000_999_999, digest: sha1(a) },
        { cap: 1514, wire: 1514, link: 113, ts: 4_000_000_000_000_001, digest: sha1(b) },
      ]);
    }
  }
});

test('classic pcap: 256 KiB record accepted, larger is FILE_CORRUPT after the frames before it', () => {
  const big = payload(MAX_CAPTURED_LENGTH, 3);
  const ok = tmpFile('max.pcap', pcapFile({}, [pcapRecord(true, 1, 0, big), pcapRecord(true, 2, 0, payload(10, 4))]));
  const r = readAll(ok, 1_000_000, { chunkSize: 4096 });
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 2);
  assert.equal(r.frames[0]!.digest, sha1(big));

  const records = [pcapRecord(true, 1, 0, payload(60, 5)), pcapRecord(true, 2, 0, payload(70, 6)), pcapRecord(true, 3, 0, payload(80, 7))];
  records[2]!.writeUInt32LE(MAX_CAPTURED_LENGTH + 1, 8);
  const bad = tmpFile('over.pcap', pcapFile({}, records));
  const { frames, error } = readAll(bad);
  assert.equal(frames.length, 2);
  assert.equal(error?.code, 'FILE_CORRUPT');
  assert.match(error!.message, new RegExp(`at byte ${24 + 76 + 86}$`));
  assert.ok(error!.message.startsWith(bad));
});

test('classic pcap: captured length above original is reported with wire >= captured', () => {
  const file = tmpFile('cap-gt-orig.pcap', pcapFile({}, [pcapRecord(true, 1, 0, payload(100, 8), 40)]));
  const { frames } = readAll(file);
  assert.equal(frames[0]!.cap, 100);
  assert.equal(frames[0]!.wire, 100);
});

test('pcapng: byte orders, several interfaces, tsresol, tsoffset, SPB, skipped blocks, section reset', () => {
  const d = [payload(60, 10), payload(90, 11), payload(1400, 12), payload(50, 13), payload(300, 14)];
  const nsTs = 1_700_000_000_123_456_789n; // above 2^53: needs the split division
  const pow2Ts = (1_700_000_000n << 20n) + (1n << 19n); // 2^-20 s units: 1700000000.5 s
  const file = tmpFile('multi.pcapng', Buffer.concat([
    shb(false),
    idb(false, 1),
    idb(false, 101, [option(false, 2, Buffer.from('eth0')), option(false, 9, Buffer.from([9]))]),
    block(false, 4, Buffer.alloc(20)), // name resolution: skipped
    epb(false, 0, 1_700_000_000_000_001n, d[0]!, 64),
    epb(false, 1, nsTs, d[1]!),
    block(false, 5, Buffer.alloc(24)), // interface statistics: skipped
    shb(true), // new section: little-endian, interfaces start again from 0
    idb(true, 113, [option(true, 9, Buffer.from([0x80 | 20])), tsOffsetOption(true, 100n)]),
    idb(true, 276, [option(true, 9, Buffer.from([3]))]),
    block(true, 0x40000bad, payload(37, 15)), // custom block: skipped
    epb(true, 0, pow2Ts, d[2]!),
    spb(true, d[3]!, 5000), // SPB: interface 0, previous timestamp, captured = what the block holds
    epb(true, 1, 1_700_000_000_123n, d[4]!),
  ]));
  const reader = CaptureFileReader.open(file);
  assert.equal(reader.format, 'pcapng');
  assert.equal(reader.linkType, 1);
  reader.close();
  const expected = [
    { cap: 60, wire: 64, link: 1, ts: 1_700_000_000_000_001, digest: sha1(d[0]!) },
    { cap: 90, wire: 90, link: 101, ts: 1_700_000_000_123_456, digest: sha1(d[1]!) },
    { cap: 1400, wire: 1400, link: 113, ts: 1_700_000_100_500_000, digest: sha1(d[2]!) },
    { cap: 52, wire: 5000, link: 113, ts: 1_700_000_100_500_000, digest: sha1(Buffer.concat([d[3]!, Buffer.alloc(2)])) },
    { cap: 300, wire: 300, link: 276, ts: 1_700_000_000_123_000, digest: sha1(d[4]!) },
  ];
  for (const [batch, chunkSize] of [[1_000_000, undefined], [1, 16], [2, 100]] as const) {
    const { frames, error } = readAll(file, batch, chunkSize === undefined ? undefined : { chunkSize });
    assert.equal(error, null);
    assert.deepEqual(frames, expected, `batch ${batch} chunk ${chunkSize}`);
  }
});

test('pcapng nanosecond and microsecond timestamps are exact across the 64-bit range', () => {
  const rnd = prng(7);
  const blocks = [shb(true), idb(true, 1), idb(true, 1, [option(true, 9, Buffer.from([9]))]), idb(true, 1, [option(true, 9, Buffer.from([12]))])];
  const want: number[] = [];
  for (let i = 0; i < 200; i++) {
    const sec = BigInt(Math.floor(rnd() * 4_000_000_000));
    const micro = sec * 1_000_000n + BigInt(Math.floor(rnd() * 1e6));
    const nano = micro * 1000n + BigInt(Math.floor(rnd() * 1000));
    // 64 bits of picoseconds only reach about 213 days.
    const pico = (sec % 18_000_000n) * 1_000_000_000_000n + BigInt(Math.floor(rnd() * 1e12));
    blocks.push(epb(true, 0, micro, payload(4, i)), epb(true, 1, nano, payload(4, i)), epb(true, 2, pico, payload(4, i)));
    want.push(Number(micro), Number(micro), Number(pico / 1_000_000n));
  }
  const { frames, error } = readAll(tmpFile('ts.pcapng', Buffer.concat(blocks)));
  assert.equal(error, null);
  assert.deepEqual(frames.map((f) => f.ts), want);
});

test('pcapng: a block larger than the buffer is skipped without buffering it, trailer still checked', () => {
  const big = block(true, 0x00000bad, payload(5000, 16));
  const good = Buffer.concat([shb(true), idb(true, 1), epb(true, 0, 1n, payload(40, 1)), big, epb(true, 0, 2n, payload(40, 2))]);
  const r = readAll(tmpFile('bigskip.pcapng', good), 1_000_000, { chunkSize: 128 });
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 2);

  const broken = Buffer.from(good);
  const bigAt = shb(true).length + idb(true, 1).length + epb(true, 0, 1n, payload(40, 1)).length;
  broken.writeUInt32LE(4, bigAt + big.length - 4);
  const b = readAll(tmpFile('bigskip-bad.pcapng', broken), 1_000_000, { chunkSize: 128 });
  assert.equal(b.frames.length, 1);
  assert.equal(b.error?.code, 'FILE_CORRUPT');
  assert.match(b.error!.message, new RegExp(`at byte ${bigAt}$`));
});

test('pcapng corruption: bad lengths, trailer mismatch, undefined interface, SPB without interface', () => {
  const head = Buffer.concat([shb(true), idb(true, 1)]);
  const p1 = epb(true, 0, 1n, payload(60, 1));
  const p2 = epb(true, 0, 2n, payload(61, 2));
  const at = head.length + p1.length + p2.length;
  const cases: Array<[string, Buffer, ErrorCode]> = [];
  const withThird = (mutate: (b: Buffer) => void): Buffer => {
    const third = Buffer.from(epb(true, 0, 3n, payload(62, 3)));
    mutate(third);
    return Buffer.concat([head, p1, p2, third, epb(true, 0, 4n, payload(10, 4))]);
  };
  cases.push(['len-not-multiple-of-4', withThird((b) => b.writeUInt32LE(b.readUInt32LE(4) + 2, 4)), 'FILE_CORRUPT']);
  cases.push(['len-below-12', withThird((b) => b.writeUInt32LE(8, 4)), 'FILE_CORRUPT']);
  cases.push(['len-zero', withThird((b) => b.writeUInt32LE(0, 4)), 'FILE_CORRUPT']);
  cases.push(['trailer-mismatch', withThird((b) => b.writeUInt32LE(b.length + 4, b.length - 4)), 'FILE_CORRUPT']);
  cases.push(['undefined-interface', withThird((b) => b.writeUInt32LE(1, 8)), 'FILE_CORRUPT']);
  cases.push(['caplen-past-block', withThird((b) => b.writeUInt32LE(500, 20)), 'FILE_CORRUPT']);
  cases.push(['huge-len', withThird((b) => b.writeUInt32LE(0xfffffffc, 4)), 'FILE_CORRUPT']);
  cases.push(['len-past-eof', withThird((b) => b.writeUInt32LE(1_000_000, 4)), 'FILE_TRUNCATED']);
  for (const [name, data, code] of cases) {
    const { frames, error } = readAll(tmpFile(`${name}.pcapng`, data));
    assert.equal(frames.length, 2, name);
    assert.equal(error?.code, code, `${name}: ${error?.message}`);
    assert.match(error!.message, new RegExp(`at byte ${at}$`), name);
  }

  // Interface ids restart with each section, so interface 1 of the first section is gone after the second SHB.
  const reset = Buffer.concat([shb(true), idb(true, 1), idb(true, 1), epb(true, 1, 1n, payload(8, 1)), shb(false), idb(false, 1), epb(false, 1, 2n, payload(8, 2))]);
  const r = readAll(tmpFile('reset.pcapng', reset));
  assert.equal(r.frames.length, 1);
  assert.equal(r.error?.code, 'FILE_CORRUPT');
  assert.match(r.error!.message, /interface 1/);

  const noIf = readAll(tmpFile('spb-first.pcapng', Buffer.concat([shb(true), spb(true, payload(8, 1))])));
  assert.equal(noIf.frames.length, 0);
  assert.equal(noIf.error?.code, 'FILE_CORRUPT');
});

test('header-only files give zero frames; an SHB-only pcapng has no link type', () => {
  for (const le of [true, false]) {
    const file = tmpFile(`hdr-${le}.pcap`, pcapFile({ le }, []));
    const reader = CaptureFileReader.open(file);
    assert.equal(reader.read(() => assert.fail('no frames'), 100), 0);
    assert.equal(reader.read(() => assert.fail('no frames'), 100), 0);
    assert.equal(reader.framesRead, 0);
    reader.close();
  }
  const ng = CaptureFileReader.open(tmpFile('shb-only.pcapng', shb(false)));
  assert.equal(ng.format, 'pcapng');
  assert.equal(ng.linkType, -1);
  assert.equal(ng.read(() => assert.fail('no frames'), 100), 0);
  ng.close();
  const idbOnly = CaptureFileReader.open(tmpFile('idb-only.pcapng', Buffer.concat([shb(true), block(true, 4, Buffer.alloc(4)), idb(true, 228)])));
  assert.equal(idbOnly.linkType, 228);
  assert.equal(idbOnly.read(() => assert.fail('no frames'), 100), 0);
  idbOnly.close();
});

test('open errors: missing, directory, empty, short, unknown magic, gzip, bad section header', () => {
  expectOpenError(path.join(tmpDir, 'does-not-exist.pcap'), 'FILE_NOT_FOUND');
  expectOpenError(path.join(tmpDir, 'no-dir', 'x.pcap'), 'FILE_NOT_FOUND');
  expectOpenError(tmpDir, 'FILE_UNREADABLE');
  expectOpenError(tmpFile('empty.pcap', Buffer.alloc(0)), 'FILE_FORMAT');
  expectOpenError(tmpFile('two.pcap', Buffer.from([0xd4, 0xc3])), 'FILE_TRUNCATED');
  expectOpenError(tmpFile('two-garbage.pcap', Buffer.from([0x12, 0x34])), 'FILE_FORMAT');
  expectOpenError(tmpFile('text.pcap', Buffer.from('hello, this is not a capture\n')), 'FILE_FORMAT');
  const gz = expectOpenError(tmpFile('gz.pcap', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])), 'FILE_FORMAT');
  assert.match(gz.message, /gzip/);
  expectOpenError(tmpFile('short-hdr.pcap', pcapFile({}, []).subarray(0, 20)), 'FILE_TRUNCATED');
  const badBom = Buffer.from(shb(true));
  badBom.writeUInt32LE(0x11223344, 8);
  expectOpenError(tmpFile('bad-bom.pcapng', badBom), 'FILE_FORMAT');
  const badVersion = Buffer.from(shb(true));
  badVersion.writeUInt16LE(2, 12);
  expectOpenError(tmpFile('bad-version.pcapng', badVersion), 'FILE_FORMAT');
  const badShbLen = Buffer.from(shb(true));
  badShbLen.writeUInt32LE(30, 4);
  expectOpenError(tmpFile('bad-shb-len.pcapng', badShbLen), 'FILE_FORMAT');
  expectOpenError(tmpFile('cut-shb.pcapng', shb(true).subarray(0, 20)), 'FILE_TRUNCATED');
});

test('errors are sticky; close is idempotent; read after close fails', () => {
  const records = [pcapRecord(true, 1, 0, payload(60, 1)), pcapRecord(true, 2, 0, payload(60, 2))];
  const file = tmpFile('sticky.pcap', pcapFile({}, records).subarray(0, 24 + 76 + 30));
  const reader = CaptureFileReader.open(file);
  let seen = 0;
  assert.throws(() => reader.read(() => seen++, 10), (e: unknown) => e instanceof RustnetError && e.code === 'FILE_TRUNCATED');
  assert.equal(seen, 1);
  assert.throws(() => reader.read(() => seen++, 10), (e: unknown) => e instanceof RustnetError && e.code === 'FILE_TRUNCATED');
  assert.equal(seen, 1);
  reader.close();
  reader.close();
  const ok = CaptureFileReader.open(tmpFile('closed.pcap', pcapFile({}, records)));
  ok.close();
  assert.throws(() => ok.read(() => undefined, 10), RustnetError);
});

// ---- truncation at every offset ----

/** Ends of complete records/blocks and which of them are packets, found by a deliberately simple walk. */
function recordEnds(data: Buffer): { ends: number[]; isPacket: boolean[]; headerEnd: number } {
  const ends: number[] = [];
  const isPacket: boolean[] = [];
  if (data.readUInt32LE(0) === 0x0a0d0d0a) {
    for (let p = 0; p < data.length; ) {
      const type = data.readUInt32LE(p);
      p += data.readUInt32LE(p + 4);
      ends.push(p);
      isPacket.push(type === 6 || type === 3 || type === 2);
    }
    return { ends, isPacket, headerEnd: ends[0]! };
  }
  for (let p = 24; p < data.length; ) {
    p += 16 + data.readUInt32LE(p + 8);
    ends.push(p);
    isPacket.push(true);
  }
  return { ends, isPacket, headerEnd: 24 };
}

test('files cut at every byte offset: frames before the cut, then FILE_TRUNCATED, never a hang', () => {
  for (const id of ['zeek__tcp__retransmit-fast009.pcap', 'zeek__tcp__retransmit-timeout.pcapng', 'ndpi__tls_1.3_unidirectional_client.pcapng', 'tcpdump__tcp-handshake-nano.pcap']) {
    const data = fs.readFileSync(path.join(CORPUS, 'pcap', id));
    const full = readAll(path.join(CORPUS, 'pcap', id)).frames;
    const { ends, isPacket, headerEnd } = recordEnds(data);
    const cutFile = path.join(tmpDir, `cut-${id}`);
    for (let k = 0; k < data.length; k++) {
      fs.writeFileSync(cutFile, data.subarray(0, k));
      const what = `${id} cut at ${k}`;
      if (k < headerEnd) {
        expectOpenError(cutFile, k === 0 ? 'FILE_FORMAT' : 'FILE_TRUNCATED');
        continue;
      }
      let packetsBefore = 0;
      for (let i = 0; i < ends.length && ends[i]! <= k; i++) if (isPacket[i]) packetsBefore++;
      const onBoundary = k === headerEnd || ends.includes(k);
      let firstAt: string | undefined;
      for (const options of [undefined, { chunkSize: 64 }, { readAhead: { minFileBytes: 0, slotBytes: 64, slots: 2, noThread: true } }]) {
        const { frames, error } = readAll(cutFile, k % 3 === 0 ? 1 : 1_000_000, options);
        assert.deepEqual(frames, full.slice(0, packetsBefore), what);
        if (onBoundary) assert.equal(error, null, `${what}: ${error?.message}`);
        else {
          assert.equal(error?.code, 'FILE_TRUNCATED', `${what}: ${error?.message}`);
          assert.match(error!.message, / at byte \d+$/);
          // However the file is read, the message names the same offset.
          const at = / at byte \d+$/.exec(error!.message)![0];
          firstAt ??= at;
          assert.equal(at, firstAt, what);
        }
      }
    }
  }
});

test('garbage: appended junk and random mutations end in a RustnetError or a clean end, never a crash', () => {
  const rnd = prng(12345);
  for (const id of ['zeek__tcp__retransmit-fast009.pcap', 'ndpi__nfsv3.pcap', 'zeek__tcp__retransmit-timeout.pcapng', 'ndpi__tls_1.3_unidirectional_client.pcapng']) {
    const data = fs.readFileSync(path.join(CORPUS, 'pcap', id));
    const full = readAll(path.join(CORPUS, 'pcap', id)).frames;

    const junk = Buffer.alloc(100);
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rnd() * 256);
    junk.writeUInt32LE(0x7ffffff0, 4); // whatever the format, make the junk's length field absurd
    junk.writeUInt32LE(0x7ffffff0, 8);
    const appended = readAll(tmpFile(`junk-${id}`, Buffer.concat([data, junk])));
    assert.deepEqual(appended.frames, full, id);
    assert.ok(appended.error !== null && ['FILE_CORRUPT', 'FILE_TRUNCATED'].includes(appended.error.code), id);

    for (let round = 0; round < 150; round++) {
      const mutated = Buffer.from(data);
      const flips = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < flips; i++) mutated[Math.floor(rnd() * mutated.length)] = Math.floor(rnd() * 256);
      const file = tmpFile(`fuzz-${id}`, mutated);
      let reader: CaptureFileReader;
      try {
        const size = 1 + Math.floor(rnd() * 300);
        // One round in three reads ahead (without the thread: a thread per round would only add start-up time).
        reader = CaptureFileReader.open(file, round % 3 === 0
          ? { readAhead: { minFileBytes: 0, slotBytes: size, slots: 2 + (round % 4), noThread: true } }
          : { chunkSize: size });
      } catch (e) {
        assert.ok(e instanceof RustnetError, `${id} round ${round}: ${String(e)}`);
        continue;
      }
      try {
        let total = 0;
        for (let n; (n = reader.read(() => undefined, 1 + Math.floor(rnd() * 50))) > 0; ) {
          total += n;
          assert.ok(total <= mutated.length / 12, 'cannot have more frames than bytes allow');
        }
      } catch (e) {
        assert.ok(e instanceof RustnetError, `${id} round ${round}: ${String(e)}`);
      } finally {
        reader.close();
      }
    }
  }
});
