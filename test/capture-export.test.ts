// Capture export (--pcap-export / --pcapng-export): file structure read back by our reader and by tshark, the
// ring's bounds (drops counted live, none on a replay), comments, the session's frame observer, the CLI round trip
// over the corpus, and a live capture on lo whose comments name the sending process.
//
// The CLI and live parts need `npm run build` (dist/) and root (capture on lo); tshark must be installed.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CaptureFileReader } from '../src/capture/capture-file.js';
import { ReplaySource } from '../src/capture/replay-source.js';
import { newAppInfo } from '../src/core/app-info.js';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { LinkType } from '../src/core/packet-view.js';
import { SideTables, type ConnectionKey } from '../src/core/side-tables.js';
import { DpiEngine } from '../src/dpi/engine.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import {
  CaptureExport, EXPORT_SNAPLEN, connectionComment, type CaptureExportOptions, type ExportFormat, type ExportWriteFn,
} from '../src/output/capture-export.js';
import { Session, type Enricher, type FrameObserver } from '../src/pipeline/session.js';
import { CLI_PATH, readJsonl, runCli, startCli, withTimeout } from './support/cli.js';
import { CORPUS, manifest } from './support/corpus.js';
import { tcpFrame, udpFrame } from './support/frames.js';
import { prng } from './support/prng.js';
import { ManualSource, MemorySink, runManual } from './support/session.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-export-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));
let fileCount = 0;
function tmpFile(ext: string): string {
  return path.join(TMP, `f${++fileCount}.${ext}`);
}

interface ReadFrame {
  bytes: Buffer;
  wireLength: number;
  linkType: number;
  tsMicros: number;
}

/** Every frame of a capture file as our own --read delivers it. */
function readBack(file: string): { format: string; linkType: number; frames: ReadFrame[] } {
  const reader = CaptureFileReader.open(file);
  const frames: ReadFrame[] = [];
  try {
    while (reader.read((buf, offset, capLength, wireLength, linkType, tsMicros) => {
      frames.push({ bytes: Buffer.from(buf.subarray(offset, offset + capLength)), wireLength, linkType, tsMicros });
    }, 1 << 20) > 0);
    return { format: reader.format, linkType: reader.linkType, frames };
  } finally {
    reader.close();
  }
}

/** tshark's fields of every frame (tab-separated rows); tshark must exit 0. */
function tshark(file: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

function options<T>(format: ExportFormat, extra: Partial<CaptureExportOptions<T>> = {}): CaptureExportOptions<T> & { warnings: string[] } {
  const warnings: string[] = [];
  return { format, linkType: LinkType.ETHERNET, canWait: true, onWarning: (m) => warnings.push(m), warnings, ...extra };
}

/** Frames of assorted sizes (a 60-byte minimum, some full-size, one longer than the snaplen) with distinct bytes. */
function assortedFrames(n: number, seed: number): { bytes: Buffer; wire: number; ts: number }[] {
  const rand = prng(seed);
  const frames: { bytes: Buffer; wire: number; ts: number }[] = [];
  let ts = 1_700_000_000_123_456;
  for (let i = 0; i < n; i++) {
    const size = i === 5 ? EXPORT_SNAPLEN + 1000 : i % 7 === 0 ? 1514 : 60 + Math.floor(rand() * 400);
    const bytes = Buffer.alloc(size);
    for (let k = 0; k < size; k++) bytes[k] = (i * 31 + k) & 0xff;
    // Some frames were cut by the capture (wire length above the captured length).
    const wire = i % 5 === 0 ? size + 100 : size;
    ts += 1 + Math.floor(rand() * 2_000_000);
    frames.push({ bytes, wire, ts });
  }
  return frames;
}

describe('file structure', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    test(`${format}: every frame back as it went in (bytes, lengths, link type, µs timestamps); tshark agrees`, async () => {
      const file = tmpFile(format);
      const frames = assortedFrames(40, 1);
      const opts = options<null>(format, { interfaceName: 'eth7', application: 'rustnet-ts test' });
      const ex = CaptureExport.open(file, opts);
      // The frame sits at an offset in a bigger buffer, as the file reader hands it over.
      for (const f of frames) {
        const host = Buffer.concat([Buffer.alloc(11, 0xee), f.bytes, Buffer.alloc(5, 0xee)]);
        ex.observe(host, 11, f.bytes.length, f.wire, LinkType.ETHERNET, f.ts, null);
      }
      await ex.close();
      assert.equal(ex.framesWritten, frames.length);
      assert.equal(ex.framesDropped, 0);
      assert.deepEqual(opts.warnings, []);
      assert.equal((fs.statSync(file).mode & 0o777), 0o600, 'packets are private');

      const back = readBack(file);
      assert.equal(back.format, format);
      assert.equal(back.linkType, LinkType.ETHERNET);
      assert.equal(back.frames.length, frames.length);
      frames.forEach((f, i) => {
        const got = back.frames[i]!;
        const cap = Math.min(f.bytes.length, EXPORT_SNAPLEN);
        assert.ok(got.bytes.equals(f.bytes.subarray(0, cap)), `frame ${i} bytes`);
        assert.equal(got.wireLength, Math.max(f.wire, cap), `frame ${i} original length`);
        assert.equal(got.tsMicros, f.ts, `frame ${i} timestamp`);
        assert.equal(got.linkType, LinkType.ETHERNET);
      });

      const rows = tshark(file, ['frame.len', 'frame.cap_len', 'frame.time_epoch']);
      assert.equal(rows.length, frames.length, 'tshark sees every frame');
      frames.forEach((f, i) => {
        const [len, capLen, epoch] = rows[i]!;
        assert.equal(Number(capLen), Math.min(f.bytes.length, EXPORT_SNAPLEN));
        assert.equal(Number(len), Math.max(f.wire, Math.min(f.bytes.length, EXPORT_SNAPLEN)));
        assert.equal(epoch, `${Math.floor(f.ts / 1e6)}.${String(f.ts % 1e6).padStart(6, '0')}000`);
      });
      if (format === 'pcapng') {
        const names = tshark(file, ['frame.interface_name']).map((r) => r[0]);
        assert.ok(names.every((n) => n === 'eth7'), 'interface name from the Interface Description Block');
      } else {
        const head = fs.readFileSync(file).subarray(0, 24);
        assert.equal(head.readUInt32LE(0), 0xa1b2c3d4, 'microsecond magic');
        assert.equal(head.readUInt32LE(16), EXPORT_SNAPLEN, 'snaplen');
        assert.equal(head.readUInt32LE(20), LinkType.ETHERNET);
      }
    });

    test(`${format}: nanosecond resolution keeps the sub-microsecond part`, async () => {
      const file = tmpFile(format);
      const ex = CaptureExport.open(file, options<null>(format, { resolution: 'ns' }));
      const frame = Buffer.from(udpFrame(['10.0.0.1', 1000], ['10.0.0.2', 53]));
      ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1_700_000_000_123_456, null, 789);
      ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 4_102_444_800_000_001, null, 999);
      await ex.close();
      const rows = tshark(file, ['frame.time_epoch']);
      assert.deepEqual(rows.map((r) => r[0]), ['1700000000.123456789', '4102444800.000001999']);
      // Our reader keeps microseconds.
      assert.deepEqual(readBack(file).frames.map((f) => f.tsMicros), [1_700_000_000_123_456, 4_102_444_800_000_001]);
    });
  }

  test('pcapng: one interface per link type; classic pcap keeps the first link type and counts the others', async () => {
    const eth = Buffer.from(udpFrame(['10.0.0.1', 1000], ['10.0.0.2', 53]));
    const raw = eth.subarray(14);
    const ng = tmpFile('pcapng');
    const a = CaptureExport.open(ng, options<null>('pcapng', { linkType: -1 }));
    const b = CaptureExport.open(tmpFile('pcap'), options<null>('pcap', { linkType: -1 }));
    for (const ex of [a, b]) {
      ex.observe(raw, 0, raw.length, raw.length, LinkType.RAW, 1e15, null);
      ex.observe(eth, 0, eth.length, eth.length, LinkType.ETHERNET, 1e15 + 1, null);
      ex.observe(raw, 0, raw.length, raw.length, LinkType.RAW, 1e15 + 2, null);
      await ex.close();
    }
    assert.deepEqual(readBack(ng).frames.map((f) => f.linkType), [LinkType.RAW, LinkType.ETHERNET, LinkType.RAW]);
    assert.deepEqual(tshark(ng, ['frame.interface_id']).map((r) => r[0]), ['0', '1', '0']);
    assert.equal(b.framesWritten, 2);
    assert.equal(b.framesOtherLinkType, 1);
    assert.match(b.summary(), /1 of another link type left out/);
    assert.deepEqual(readBack(b.path).frames.map((f) => f.linkType), [LinkType.RAW, LinkType.RAW]);
  });

  test('a capture stopped before its first frame leaves a readable, empty file', async () => {
    for (const format of ['pcap', 'pcapng'] as const) {
      const ex = CaptureExport.open(tmpFile(format), options<null>(format, { canWait: false }));
      await ex.close();
      assert.equal(readBack(ex.path).frames.length, 0);
      assert.deepEqual(tshark(ex.path, ['frame.number']), []);
    }
  });

  test('records larger than a chunk get a buffer of their own', async () => {
    for (const canWait of [true, false]) {
      const file = tmpFile('pcapng');
      const frames = assortedFrames(12, 3);
      const ex = CaptureExport.open(file, options<null>('pcapng', { canWait, chunkBytes: 256 }));
      for (const f of frames) ex.observe(f.bytes, 0, f.bytes.length, f.wire, LinkType.ETHERNET, f.ts, null);
      await ex.close();
      const back = readBack(file).frames;
      assert.equal(back.length, frames.length);
      back.forEach((g, i) => assert.ok(g.bytes.equals(frames[i]!.bytes.subarray(0, EXPORT_SNAPLEN)), `frame ${i}`));
    }
  });

  test('an unwritable file is a usage-level error that says what to do', () => {
    assert.throws(() => CaptureExport.open(path.join(TMP, 'no', 'such', 'dir.pcap'), options<null>('pcap')),
      (err: Error & { code?: string }) => err.code === 'OUTPUT' && /ENOENT; choose a file/.test(err.message));
  });
});

describe('the ring', () => {
  test('a replay never drops: a full ring is written out at once, frames in order across every wrap', async () => {
    const file = tmpFile('pcapng');
    const rand = prng(7);
    const sizes: number[] = [];
    for (let i = 0; i < 3000; i++) sizes.push(rand() < 0.1 ? 0 : 1 + Math.floor(rand() * 1500));
    // A ring of 4 KiB and 8 slots: frames wrap constantly, some do not fit behind the head, many fill it.
    const ex = CaptureExport.open(file, options<null>('pcapng', { ringBytes: 4096, ringFrames: 8, defer: () => {} }));
    sizes.forEach((size, i) => {
      const bytes = Buffer.alloc(size, i & 0xff);
      ex.observe(bytes, 0, size, size, LinkType.ETHERNET, 1e15 + i, null);
    });
    await ex.close();
    assert.equal(ex.framesDropped, 0);
    const back = readBack(file).frames;
    assert.equal(back.length, sizes.length);
    back.forEach((f, i) => {
      assert.equal(f.bytes.length, sizes[i], `frame ${i} length`);
      assert.ok(f.bytes.every((b) => b === (i & 0xff)), `frame ${i} bytes`);
      assert.equal(f.tsMicros, 1e15 + i);
    });
  });

  test('live: with the writer stuck, frames beyond the ring are dropped and counted, reported once; the rest is written', async () => {
    const file = tmpFile('pcap');
    // The disk takes nothing until released; drains run only when the test says.
    let stuck = true;
    const held: (() => void)[] = [];
    const write: ExportWriteFn = (fd, buffers, done) => {
      if (stuck) held.push(() => fs.writev(fd, buffers, null, done));
      else fs.writev(fd, buffers, null, done);
    };
    const deferred: (() => void)[] = [];
    const opts = options<null>('pcap', { canWait: false, ringFrames: 16, ringBytes: 1 << 20, chunkBytes: 4096, maxQueuedChunks: 1, write, defer: (fn) => deferred.push(fn) });
    const ex = CaptureExport.open(file, opts);
    const frame = Buffer.from(udpFrame(['10.0.0.1', 1000], ['10.0.0.2', 53], 200));
    const sent = 200;
    for (let i = 0; i < sent; i++) {
      ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15 + i, null);
      // The event loop turns now and then: the ring drains into the queue until the queue is full.
      if (i % 10 === 9) for (const fn of deferred.splice(0)) fn();
    }
    assert.ok(ex.framesDropped > 0, 'frames were dropped');
    assert.equal(opts.warnings.length, 1, 'the first drop is reported, once');
    assert.match(opts.warnings[0]!, /not keeping up/);
    const dropped = ex.framesDropped;
    // The disk comes back: what was queued and held is written at the close.
    const closing = ex.close();
    stuck = false;
    for (const release of held.splice(0)) release();
    await withTimeout(closing, 5000, 'close');
    assert.equal(ex.framesWritten + dropped, sent, 'every frame written or counted as dropped');
    assert.equal(readBack(file).frames.length, ex.framesWritten);
    assert.match(ex.summary(), new RegExp(`${ex.framesWritten} frames written, ${dropped} left out \\(the writer fell behind\\)`));
  });

  test('live: a failed write is reported once; later frames count as left out; close still settles', async () => {
    const opts = options<null>('pcapng', {
      canWait: false, chunkBytes: 1024,
      write: (_fd, _b, done) => setImmediate(() => done(Object.assign(new Error('no space'), { code: 'ENOSPC' }), 0)),
    });
    const ex = CaptureExport.open(tmpFile('pcapng'), opts);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const frame = Buffer.from(udpFrame(['10.0.0.1', 1000], ['10.0.0.2', 53]));
    for (let i = 0; i < 5; i++) ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15, null);
    await withTimeout(ex.close(), 5000, 'close after a failure');
    assert.equal(opts.warnings.length, 1);
    assert.match(opts.warnings[0]!, /write failed \(ENOSPC\)/);
    assert.equal(ex.framesDropped, 5);
    assert.match(ex.summary(), /failed: write failed \(ENOSPC\)/);
  });

  test('live: a quarter-full ring is drained soon, without waiting for the tick', () => {
    const deferred: (() => void)[] = [];
    const ex = CaptureExport.open(tmpFile('pcap'), options<null>('pcap', { canWait: false, ringFrames: 16, defer: (fn) => deferred.push(fn) }));
    const frame = Buffer.from(udpFrame(['10.0.0.1', 1000], ['10.0.0.2', 53]));
    for (let i = 0; i < 3; i++) ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15, null);
    assert.equal(deferred.length, 0, 'below the mark nothing is scheduled');
    ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15, null);
    assert.equal(deferred.length, 1, 'one drain scheduled at a quarter');
    ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15, null);
    assert.equal(deferred.length, 1, 'and only one while it is pending');
    deferred[0]!();
    assert.equal(ex.framesWritten, 5);
    return ex.close();
  });
});

describe('comments', () => {
  function key(id: number, app: ReturnType<typeof newAppInfo> | null): ConnectionKey {
    return { id, dpi: app === null ? null : { app, done: false }, protocol: 6, family: 4, localAddr: '10.0.0.1', localPort: 1000, remoteAddr: '10.0.0.2', remotePort: 443 };
  }

  test('process, pid, application and host, each only when known; odd values quoted and cleaned', () => {
    const side = new SideTables();
    const comment = connectionComment(side);
    const https = newAppInfo('HTTPS');
    https.domain = 'example.com';
    const c = key(1, https);
    assert.equal(comment(c), 'app=HTTPS host=example.com');
    side.setProcess(1, { pid: 1234, name: 'firefox' });
    assert.equal(comment(c), 'proc=firefox pid=1234 app=HTTPS host=example.com', 'a process found later shows up');
    assert.equal(comment(key(2, null)), null, 'nothing known: no comment');
    side.setProcess(3, { pid: 7, name: 'Web Content' });
    assert.equal(comment(key(3, null)), 'proc="Web Content" pid=7');
    side.setProcess(4, { pid: 8, name: 'a"b\\c\u001b[2J' });
    assert.equal(comment(key(4, null)), 'proc="a\\"b\\\\c?[2J" pid=8', 'quotes escaped, control characters made harmless');
    const guess = newAppInfo('SSH', 'port');
    assert.equal(comment(key(5, guess)), 'app=SSH conf=port');
  });

  test('memoised per connection, and refreshed when DPI learns more in place', () => {
    const comment = connectionComment(new SideTables());
    const tls = newAppInfo('TLS');
    const c = key(1, tls);
    const first = comment(c);
    assert.equal(comment(c), first);
    assert.equal(first, 'app=TLS');
    tls.domain = 'late.example';
    assert.equal(comment(c), 'app=TLS host=late.example');
  });

  test('pcapng packets carry the comment known when they are written; tshark shows it', async () => {
    const file = tmpFile('pcapng');
    const side = new SideTables();
    const ex = CaptureExport.open<ConnectionKey>(file, options<ConnectionKey>('pcapng', { comment: connectionComment(side) }));
    assert.equal(ex.wantsConnection, true);
    const https = newAppInfo('HTTPS');
    const c = key(9, https);
    const frame = Buffer.from(tcpFrame(['10.0.0.1', 1000], ['10.0.0.2', 443], 0x18, 1, 1, 10));
    ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15, c);
    ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15 + 1, null);
    // Learned before the tick writes them: both of the connection's frames say so.
    https.domain = 'example.com';
    side.setProcess(9, { pid: 4321, name: 'curl' });
    ex.observe(frame, 0, frame.length, frame.length, LinkType.ETHERNET, 1e15 + 2, c);
    ex.tick();
    await ex.close();
    const rows = tshark(file, ['frame.number', 'frame.comment']);
    assert.deepEqual(rows, [
      ['1', 'proc=curl pid=4321 app=HTTPS host=example.com'],
      ['2', ''],
      ['3', 'proc=curl pid=4321 app=HTTPS host=example.com'],
    ]);
    assert.equal(readBack(file).frames.length, 3, 'our reader skips the options');
  });

  test('classic pcap asks for no connection', () => {
    const ex = CaptureExport.open(tmpFile('pcap'), options<ConnectionKey>('pcap', { comment: () => 'x' }));
    assert.equal(ex.wantsConnection, false);
    return ex.close();
  });
});

describe('the session feeds its frame observer', () => {
  class RecordingObserver implements FrameObserver {
    readonly log: string[] = [];
    readonly seen: (ConnectionKey | null)[] = [];
    closes = 0;
    constructor(readonly wantsConnection: boolean) {}
    observe(buf: Buffer, offset: number, capLength: number, _w: number, _l: number, _t: number, connection: ConnectionKey | null): void {
      this.seen.push(connection);
      this.log.push(`frame ${buf[offset + capLength - 1]}`);
    }
    tick(): void { this.log.push('tick'); }
    close(): Promise<void> {
      this.closes++;
      return Promise.resolve();
    }
  }

  test('every frame after the monitor, with the connection it was counted in; closed at the end', async () => {
    const observer = new RecordingObserver(true);
    const h = runManual({ frameObserver: () => observer });
    const syn = tcpFrame(['10.0.0.1', 40000], ['10.0.0.2', 80], 0x02, 1, 0);
    const udp = udpFrame(['10.0.0.1', 5000], ['10.0.0.3', 53]);
    h.source.feed(syn, 1_000_000);
    h.source.feed(Uint8Array.from([1, 2, 3]), 1_000_001); // too short for Ethernet: skipped
    h.source.feed(udp, 1_000_002);
    assert.equal(observer.seen.length, 3);
    const [tcpConn, none, udpConn] = observer.seen;
    assert.equal(none, null, 'a skipped frame has no connection');
    assert.equal(tcpConn?.remotePort, 80);
    assert.equal(udpConn?.remotePort, 53);
    assert.notEqual(tcpConn, udpConn);
    h.source.end();
    await h.done;
    assert.equal(observer.closes, 1);
    assert.deepEqual(observer.log, ['frame 0', 'frame 3', 'frame 98', 'tick'], 'frames, then the closing tick');
  });

  test('the tick drains before closed connections are forgotten: their last frames still name the process', async () => {
    const file = tmpFile('pcapng');
    // Attribution that lands on the last tick, for connections that close in that same tick.
    const pending: ConnectionKey[] = [];
    const enricher: Enricher = {
      created: (c) => { pending.push(c); },
      apply: (_now, side) => {
        for (const c of pending.splice(0)) side.setProcess(c.id, { pid: 42, name: 'tester' });
        return true;
      },
    };
    const h = runManual({
      enrichers: [enricher],
      frameObserver: (info, side) => CaptureExport.open<ConnectionKey>(file, {
        format: 'pcapng', linkType: info.linkType, canWait: true, onWarning: (m) => assert.fail(m), comment: connectionComment(side),
      }),
    });
    h.source.feed(tcpFrame(['10.0.0.1', 40000], ['10.0.0.2', 80], 0x02, 1, 0), 1_000_000);
    h.source.feed(tcpFrame(['10.0.0.2', 80], ['10.0.0.1', 40000], 0x12, 1, 2), 1_000_100);
    h.source.end();
    await h.done;
    assert.ok(h.sink.events.some((e) => e.event === 'connection_closed' && e.pid === 42));
    assert.deepEqual(tshark(file, ['frame.comment']).map((r) => r[0]), ['proc=tester pid=42', 'proc=tester pid=42']);
  });

  test('an observer that wants no connection gets null; with none, the source gets the packet path itself', async () => {
    const observer = new RecordingObserver(false);
    const h = runManual({ frameObserver: () => observer });
    h.source.feed(tcpFrame(['10.0.0.1', 40000], ['10.0.0.2', 80], 0x02, 1, 0), 1_000_000);
    assert.deepEqual(observer.seen, [null]);
    h.source.end();
    await h.done;
    const plain = runManual();
    assert.equal((plain.session as unknown as { frameSink(): unknown }).frameSink(), plain.session.monitor.handleFrame);
    plain.source.end();
    await plain.done;
  });

  test('an observer that cannot open closes the source and the outputs already open', () => {
    const sink = new MemorySink();
    const source = new ManualSource(true);
    const session = new Session(source, () => [sink], {
      maxConnections: 100, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000,
      frameObserver: () => { throw new Error('no room'); },
    });
    assert.throws(() => session.open(), /no room/);
    assert.equal(sink.closes, 1);
    assert.equal(source.closes, 1);
  });
});

/** One in-process replay as --read FILE --no-tui runs it, optionally exporting every frame. */
async function replayFile(file: string, exportTo?: { file: string; format: ExportFormat }): Promise<{ events: ConnectionEvent[]; exporter: CaptureExport<ConnectionKey> | null }> {
  const sink = new MemorySink();
  let exporter: CaptureExport<ConnectionKey> | null = null;
  const session = new Session(new ReplaySource(file, ''), () => [sink], {
    maxConnections: 100_000, showLocalhost: true, localAddresses: null,
    inspector: new DpiEngine(defaultClassifiers()), tickIntervalMs: 1000,
    frameObserver: exportTo === undefined ? undefined : (info, side) => {
      exporter = CaptureExport.open<ConnectionKey>(exportTo.file, {
        format: exportTo.format, linkType: info.linkType, canWait: true, onWarning: (m) => assert.fail(m),
        comment: exportTo.format === 'pcapng' ? connectionComment(side) : undefined,
      });
      return exporter;
    },
  });
  session.open();
  const end = await session.run();
  if (end.failure !== null) throw end.failure;
  return { events: sink.events, exporter };
}

describe('round trip over the corpus: export, replay the export, same conversations', () => {
  for (const m of manifest()) {
    for (const format of ['pcapng', 'pcap'] as const) {
      test(`${format}: ${m.id}`, async () => {
        const original = path.join(CORPUS, m.file!);
        const exported = tmpFile(format);
        const first = await replayFile(original, { file: exported, format });
        const ex = first.exporter!;
        const mixed = (m.linktype ?? '').includes(',') && new Set(m.linktype!.split(',')).size > 1;
        assert.equal(ex.framesWritten + ex.framesOtherLinkType, Number(m.packets));
        if (!mixed) assert.equal(ex.framesOtherLinkType, 0);
        const again = await replayFile(exported);
        assert.deepEqual(again.events, first.events, 'the same events, field for field');
        const rows = tshark(exported, format === 'pcapng' ? ['frame.number', 'frame.comment'] : ['frame.number']);
        assert.equal(rows.length, Number(m.packets), 'tshark reads every frame');
      });
    }
  }

  test('pcapng comments of a replay name the application and host DPI found', async () => {
    const exported = tmpFile('pcapng');
    await replayFile(path.join(CORPUS, 'pcap', 'ndpi__443-curl.pcap'), { file: exported, format: 'pcapng' });
    const comments = tshark(exported, ['frame.comment']).map((r) => r[0]);
    assert.equal(comments.length, 109);
    assert.ok(comments.every((c) => c === 'app=HTTPS host=www.ntop.org'), [...new Set(comments)].join(' | '));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The built CLI

describe('the CLI', () => {
  before(() => assert.ok(fs.existsSync(CLI_PATH), `${CLI_PATH} is missing: run npm run build first`));

  test('--read X --pcapng-export Y, then --read Y: the same events; the summary says what was written', async () => {
    const original = path.join(CORPUS, 'pcap', 'ndpi__tls_1.3_unidirectional_client.pcapng');
    for (const [flag, ext] of [['--pcapng-export', 'pcapng'], ['--pcap-export', 'pcap']] as const) {
      const exported = tmpFile(ext);
      const logA = tmpFile('jsonl');
      const logB = tmpFile('jsonl');
      // Started as root: the reduced monitor writes the file the parent made for it.
      const a = await runCli(['--read', original, '--no-tui', flag, exported, '--json-log', logA]);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stderr, new RegExp(`${ext} export ${exported.replace(/[.]/g, '\\.')}: 9 frames written`));
      assert.equal(fs.statSync(exported).mode & 0o777, 0o600);
      const b = await runCli(['--read', exported, '--no-tui', '--json-log', logB]);
      assert.equal(b.code, 0, b.stderr);
      const eventsA = readJsonl(logA);
      assert.ok(eventsA.length > 0);
      assert.deepEqual(readJsonl(logB), eventsA);
    }
  });

  test('bad combinations are usage errors', async () => {
    const pcap = path.join(CORPUS, 'pcap', 'zeek__http__get.pcap');
    const both = await runCli(['--read', pcap, '--no-tui', '--pcap-export', tmpFile('pcap'), '--pcapng-export', tmpFile('pcapng')]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /cannot be combined/);
    const same = await runCli(['--read', pcap, '--no-tui', '--pcap-export', pcap]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /export a file of its own/);
    assert.ok(fs.statSync(pcap).size > 24, 'the input was not touched');
    const stdout = await runCli(['--read', pcap, '--no-tui', '--pcapng-export', '-']);
    assert.equal(stdout.code, 2);
  });

  test('live on lo: every frame exported, comments name the sending process and its pid', async (t) => {
    const server = net.createServer((s) => s.on('data', () => {}).on('error', () => {}));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const exported = tmpFile('pcapng');
    const log = tmpFile('jsonl');
    const cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '-f', `tcp port ${port}`, '--pcapng-export', exported, '--json-log', log, '-r', '100']);
    let childPid = 0;
    try {
      // A client that keeps writing for a second: its later packets are written after attribution found it.
      const client = spawn(process.execPath, ['-e', `
        const s = require('node:net').connect(${port}, '127.0.0.1', () => {
          let n = 0;
          const t = setInterval(() => { s.write('line ' + n + '\\n'); if (++n === 10) { clearInterval(t); s.end(); } }, 100);
        });
        s.on('close', () => process.exit(0));`], { stdio: 'ignore' });
      childPid = client.pid!;
      await withTimeout(new Promise((r) => client.once('exit', r)), 10_000, 'client');
      await new Promise((r) => setTimeout(r, 300));
      const exit = await cli.stop('SIGINT');
      assert.equal(exit.code, 0, exit.stderr);
      const written = /pcapng export .*: (\d+) frames written/.exec(exit.stderr);
      assert.ok(written, exit.stderr);
      const seen = /(\d+) frames, /.exec(exit.stderr);
      assert.equal(written[1], seen?.[1], 'every frame seen was exported');
      const rows = tshark(exported, ['frame.number', 'frame.comment', 'tcp.srcport', 'frame.interface_name']);
      assert.equal(rows.length, Number(written[1]), 'tshark reads them all');
      assert.ok(rows.length >= 20, `${rows.length} frames`);
      assert.ok(rows.every((r) => r[3] === 'lo'), 'the interface is named');
      const closed = readJsonl(log).filter((e) => e.event === 'connection_closed' && e.destination_port === port);
      assert.equal(closed.length, 1);
      const total = (closed[0]!.packets_sent ?? 0) + (closed[0]!.packets_received ?? 0);
      assert.equal(rows.length, total, 'as many frames as the connection counted');
      const named = rows.filter((r) => r[1] === `proc=node pid=${childPid}`);
      t.diagnostic(`${named.length} of ${rows.length} frames name the client`);
      assert.ok(named.length >= rows.length / 2, `most frames name the client (${named.length}/${rows.length}): ${[...new Set(rows.map((r) => r[1]))].join(' | ')}`);
      assert.ok(rows.every((r) => r[1] === '' || r[1] === `proc=node pid=${childPid}`), 'never another process');
    } finally {
      cli.kill();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
