// Batched live capture without a network: the batch layout read back, and LiveSource and a Session over a fake binding.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { CapDevice, CapOpenOptions, CapStats } from 'cap';
import { FrameBatchReader, WrappingCounter, nextFrameOffset } from '../src/capture/frame-batch.js';
import { BLOCK_TIMEOUT_MS, LiveSource, type CaptureBinding, type CaptureHandle } from '../src/capture/live-source.js';
import { RustnetError } from '../src/core/errors.js';
import { LinkType } from '../src/core/packet-view.js';
import type { Snapshot } from '../src/core/snapshot.js';
import { Session } from '../src/pipeline/session.js';
import { udpFrame } from './support/frames.js';
import { ManualScheduler, MemorySink } from './support/session.js';

/** One frame as the binding packs it. */
interface PackedFrame {
  bytes: Uint8Array;
  seconds: number;
  nanos: number;
  /** Original length on the wire (default: the captured length). */
  wireLength?: number;
}

/**
 * Writes frames in the patched binding's layout (written out here on purpose, not with the code under test):
 * 16-byte header of uint32 (seconds, nanoseconds, captured length, original length), the bytes, then padding
 * to the next multiple of 8. Returns the bytes used.
 */
function pack(buf: Buffer, frames: readonly PackedFrame[], littleEndian = true): number {
  let at = 0;
  for (const f of frames) {
    const put = (value: number, where: number): void => {
      if (littleEndian) buf.writeUInt32LE(value, where);
      else buf.writeUInt32BE(value, where);
    };
    put(f.seconds, at);
    put(f.nanos, at + 4);
    put(f.bytes.length, at + 8);
    put(f.wireLength ?? f.bytes.length, at + 12);
    buf.set(f.bytes, at + 16);
    at += 16 + f.bytes.length;
    while (at % 8 !== 0) buf[at++] = 0xee; // padding the reader must skip
  }
  return at;
}

interface Seen {
  bytes: Buffer;
  offset: number;
  capLength: number;
  wireLength: number;
  linkType: number;
  tsMicros: number;
}

function collect(): { seen: Seen[]; sink: (buf: Buffer, offset: number, cap: number, wire: number, link: number, ts: number) => void } {
  const seen: Seen[] = [];
  return {
    seen,
    sink: (buf, offset, capLength, wireLength, linkType, tsMicros) => {
      // The buffer is borrowed: copy what the call shows.
      seen.push({ bytes: Buffer.from(buf.subarray(offset, offset + capLength)), offset, capLength, wireLength, linkType, tsMicros });
    },
  };
}

function bytesOf(length: number, fill: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (fill + i) & 0xff;
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// The layout

test('frames of every length modulo 8 are read back whole, each at its aligned offset', () => {
  const lengths = [0, 1, 7, 8, 9, 15, 16, 17, 60, 1514];
  const frames = lengths.map((n, i) => ({ bytes: bytesOf(n, i * 11), seconds: 1_800_000_000 + i, nanos: i * 1000 }));
  const buf = Buffer.alloc(1 << 16, 0xaa);
  const used = pack(buf, frames);
  const reader = new FrameBatchReader(true);
  const { seen, sink } = collect();
  assert.equal(reader.read(buf, frames.length, used, LinkType.ETHERNET, sink), frames.length);
  assert.equal(seen.length, frames.length);
  let expectedOffset = 16;
  for (const [i, f] of frames.entries()) {
    const s = seen[i]!;
    assert.equal(s.offset, expectedOffset, `frame ${i} (${f.bytes.length} bytes) starts after its header`);
    assert.deepEqual(new Uint8Array(s.bytes), f.bytes, `frame ${i}'s bytes`);
    assert.equal(s.capLength, f.bytes.length);
    assert.equal(s.wireLength, f.bytes.length);
    assert.equal(s.linkType, LinkType.ETHERNET);
    expectedOffset += Math.ceil((16 + f.bytes.length) / 8) * 8;
  }
  assert.equal(reader.framesRead, frames.length);
  assert.equal(reader.badBatches, 0);
  assert.equal(reader.framesTruncated, 0);
  assert.equal(nextFrameOffset(0, 0), 16);
  assert.equal(nextFrameOffset(0, 1), 24);
  assert.equal(nextFrameOffset(24, 8), 48);
});

test('timestamps: seconds and nanoseconds become microseconds, rounded down', () => {
  const buf = Buffer.alloc(4096);
  const frames = [
    { bytes: bytesOf(20, 1), seconds: 1_796_601_547, nanos: 130_621_946 },
    { bytes: bytesOf(20, 2), seconds: 1_796_601_547, nanos: 999_999_999 },
    { bytes: bytesOf(20, 3), seconds: 1_796_601_548, nanos: 0 },
    // The largest seconds value a uint32 holds (year 2106) stays exact.
    { bytes: bytesOf(20, 4), seconds: 0xffff_ffff, nanos: 1999 },
  ];
  const used = pack(buf, frames);
  const { seen, sink } = collect();
  new FrameBatchReader(true).read(buf, frames.length, used, LinkType.RAW, sink);
  assert.deepEqual(seen.map((s) => s.tsMicros), [
    1_796_601_547_130_621,
    1_796_601_547_999_999,
    1_796_601_548_000_000,
    0xffff_ffff * 1_000_000 + 1,
  ]);
});

test('a frame cut short keeps its original length and is counted as truncated', () => {
  const buf = Buffer.alloc(4096);
  const frames = [
    { bytes: bytesOf(64, 5), seconds: 1, nanos: 0, wireLength: 1500 },
    { bytes: bytesOf(100, 6), seconds: 1, nanos: 5000 },
    { bytes: bytesOf(3, 7), seconds: 1, nanos: 9000, wireLength: 70_000 },
  ];
  const used = pack(buf, frames);
  const reader = new FrameBatchReader(true);
  const { seen, sink } = collect();
  reader.read(buf, frames.length, used, LinkType.ETHERNET, sink);
  assert.deepEqual(seen.map((s) => [s.capLength, s.wireLength]), [[64, 1500], [100, 100], [3, 70_000]]);
  assert.equal(reader.framesTruncated, 2);
});

test('big-endian headers are read as such', () => {
  const buf = Buffer.alloc(4096);
  const frames = [{ bytes: bytesOf(42, 9), seconds: 0x01020304, nanos: 0x00050607, wireLength: 0x0708 }];
  const used = pack(buf, frames, false);
  const { seen, sink } = collect();
  new FrameBatchReader(false).read(buf, 1, used, LinkType.ETHERNET, sink);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.capLength, 42);
  assert.equal(seen[0]!.wireLength, 0x0708);
  assert.equal(seen[0]!.tsMicros, 0x01020304 * 1_000_000 + Math.floor(0x00050607 / 1000));
});

test('a batch that does not add up delivers the frames before the fault and is counted as bad', () => {
  const frames = [
    { bytes: bytesOf(30, 1), seconds: 7, nanos: 1 },
    { bytes: bytesOf(30, 2), seconds: 7, nanos: 2 },
    { bytes: bytesOf(30, 3), seconds: 7, nanos: 3 },
  ];
  // A captured length that points past the batch's bytes.
  const buf = Buffer.alloc(4096);
  const used = pack(buf, frames);
  buf.writeUInt32LE(5000, 48 + 8);
  let reader = new FrameBatchReader(true);
  let got = collect();
  assert.equal(reader.read(buf, 3, used, LinkType.ETHERNET, got.sink), 1);
  assert.equal(reader.badBatches, 1);
  assert.equal(got.seen.length, 1);

  // Nanoseconds of a second or more.
  pack(buf, frames);
  buf.writeUInt32LE(1_000_000_000, 48 + 4);
  reader = new FrameBatchReader(true);
  got = collect();
  assert.equal(reader.read(buf, 3, used, LinkType.ETHERNET, got.sink), 1);
  assert.equal(reader.badBatches, 1);

  // More frames announced than the bytes hold; and bytes left over after the announced frames.
  pack(buf, frames);
  reader = new FrameBatchReader(true);
  got = collect();
  assert.equal(reader.read(buf, 4, used, LinkType.ETHERNET, got.sink), 3);
  assert.equal(reader.read(buf, 2, used, LinkType.ETHERNET, got.sink), 2);
  assert.equal(reader.badBatches, 2);
  assert.equal(reader.framesRead, 5);

  // bytes beyond the buffer itself never read past its end.
  const small = Buffer.alloc(48);
  const usedSmall = pack(small, [frames[0]!]);
  reader = new FrameBatchReader(true);
  got = collect();
  assert.equal(reader.read(small, 2, usedSmall + 1000, LinkType.ETHERNET, got.sink), 1);
  assert.equal(reader.badBatches, 1);
});

test('pcap_stats counters are extended across their 32-bit wrap', () => {
  const c = new WrappingCounter();
  assert.equal(c.update(0), 0);
  assert.equal(c.update(10), 10);
  assert.equal(c.update(0xffff_fff0), 0xffff_fff0);
  assert.equal(c.update(5), 0x1_0000_0005);
  assert.equal(c.update(5), 0x1_0000_0005);
  assert.equal(c.total, 0x1_0000_0005);
});

// ---------------------------------------------------------------------------------------------------------------
// LiveSource over a fake binding

interface OpenCall {
  device: string;
  filter: string;
  bufSize: number;
  buffer: Buffer;
  options: CapOpenOptions | undefined;
}

class FakeHandle extends EventEmitter implements CaptureHandle {
  opened: OpenCall | null = null;
  closes = 0;
  counters: CapStats = { received: 0, dropped: 0, ifdropped: 0 };
  constructor(private readonly binding: FakeBinding) {
    super();
  }

  open(device: string, filter: string, bufSize: number, buffer: Buffer, options?: CapOpenOptions): string {
    const call = { device, filter, bufSize, buffer, options };
    this.binding.openCalls.push(call);
    const refusal = this.binding.refuse(call);
    if (refusal !== null) throw new Error(refusal);
    this.opened = call;
    return this.binding.linkTypeName;
  }

  close(): boolean {
    this.closes++;
    const was = this.opened !== null;
    this.opened = null;
    return was;
  }

  stats(): CapStats {
    if (this.opened === null) throw new Error('Not currently capturing/open');
    return { ...this.counters };
  }

  /** Packs frames into the buffer open() was given and emits one batch, as the patched binding does. */
  deliver(frames: readonly PackedFrame[]): void {
    if (this.opened === null) throw new Error('deliver before open');
    const used = pack(this.opened.buffer, frames);
    this.emit('batch', frames.length, used);
  }
}

class FakeBinding implements CaptureBinding {
  readonly handles: FakeHandle[] = [];
  readonly openCalls: OpenCall[] = [];
  linkTypeName = 'ETHERNET';
  /** Returns an error message to make open() throw. */
  refuse: (call: OpenCall) => string | null = () => null;
  devices: CapDevice[] = [{ name: 'lo', addresses: [], flags: 'PCAP_IF_LOOPBACK' }, { name: 'eth0', addresses: [] }];

  create(): FakeHandle {
    const h = new FakeHandle(this);
    this.handles.push(h);
    return h;
  }

  deviceList(): CapDevice[] {
    return this.devices;
  }
}

function liveOn(binding: FakeBinding, opts: { filter?: string; nowMs?: () => number } = {}): LiveSource {
  return new LiveSource({ device: 'eth0', filter: opts.filter ?? '', bufferBytes: 4 << 20, binding, nowMs: opts.nowMs, describe: () => 'Ethernet' });
}

test('LiveSource opens in batch mode with block delivery, the ring size asked for and a buffer that holds a largest frame', () => {
  const binding = new FakeBinding();
  const source = liveOn(binding, { filter: 'udp' });
  const info = source.open();
  assert.deepEqual(info, { kind: 'live', name: 'eth0', linkType: LinkType.ETHERNET, description: 'Ethernet', filter: 'udp' });
  const call = binding.openCalls[0]!;
  assert.equal(call.device, 'eth0');
  assert.equal(call.filter, 'udp');
  assert.equal(call.bufSize, 4 << 20);
  assert.deepEqual(call.options, { batch: true, immediate: false, timeout: BLOCK_TIMEOUT_MS });
  assert.ok(call.buffer.length >= 16 + 65535, `batch buffer ${call.buffer.length} bytes`);
  source.close();
  assert.equal(binding.handles[0]!.closes, 1);
});

test('LiveSource delivers every frame of every batch with its kernel timestamp, and counts drops from stats()', async () => {
  const binding = new FakeBinding();
  const source = liveOn(binding);
  source.open();
  const handle = binding.handles[0]!;
  const { seen, sink } = collect();
  const running = source.run(sink);
  assert.deepEqual(source.stats(), { received: 0, dropped: 0, interfaceDropped: 0, kernelReceived: 0 });
  handle.deliver([
    { bytes: bytesOf(60, 1), seconds: 1_800_000_000, nanos: 1_000 },
    { bytes: bytesOf(61, 2), seconds: 1_800_000_000, nanos: 2_500 },
  ]);
  handle.deliver([{ bytes: bytesOf(1514, 3), seconds: 1_800_000_001, nanos: 0, wireLength: 9000 }]);
  assert.deepEqual(seen.map((s) => [s.capLength, s.wireLength, s.tsMicros]), [
    [60, 60, 1_800_000_000_000_001],
    [61, 61, 1_800_000_000_000_002],
    [1514, 9000, 1_800_000_001_000_000],
  ]);
  assert.equal(source.framesCaptured, 3);
  assert.equal(source.framesTruncated, 1);
  handle.counters = { received: 10, dropped: 7, ifdropped: 2 };
  assert.deepEqual(source.stats(), { received: 3, dropped: 7, interfaceDropped: 2, kernelReceived: 10 });
  // libpcap's counters wrap at 2³²: the totals go on.
  handle.counters = { received: 0xffff_ffff, dropped: 0xffff_fff0, ifdropped: 2 };
  source.stats();
  handle.counters = { received: 9, dropped: 3, ifdropped: 2 };
  assert.deepEqual(source.stats(), { received: 3, dropped: 0x1_0000_0003, interfaceDropped: 2, kernelReceived: 0x1_0000_0009 });
  source.stop();
  await running;
  // After close the last reading stands (the closing summary reads it then).
  handle.counters = { received: 20, dropped: 0x1_0000_0005 - 0x1_0000_0000, ifdropped: 4 };
  source.close();
  assert.deepEqual(source.stats(), { received: 3, dropped: 0x1_0000_0005, interfaceDropped: 4, kernelReceived: 0x1_0000_0014 });
});

test('before any reading the drop counters are unknown (null), not zero', () => {
  const source = liveOn(new FakeBinding());
  assert.deepEqual(source.stats(), { received: 0, dropped: null, interfaceDropped: null, kernelReceived: null });
});

test('a read error from the binding ends run() with a one-line CAPTURE_OPEN error', async () => {
  const binding = new FakeBinding();
  const source = liveOn(binding);
  source.open();
  const running = source.run(() => {});
  binding.handles[0]!.emit('error', new Error('The interface disappeared'));
  await assert.rejects(running, (err: unknown) => {
    assert.ok(err instanceof RustnetError);
    assert.equal(err.code, 'CAPTURE_OPEN');
    assert.equal(err.exitCode, 1);
    assert.equal(err.message, 'capture on eth0 stopped: The interface disappeared');
    return true;
  });
});

test('open errors: unknown interface, bad filter, permission, an unpatched binding, an unknown link type', () => {
  const binding = new FakeBinding();
  assert.throws(() => new LiveSource({ device: 'nosuch0', filter: '', bufferBytes: 1 << 20, binding }).open(),
    (e: unknown) => e instanceof RustnetError && e.code === 'BAD_INTERFACE' && /available: lo, eth0/.test(e.message));

  binding.refuse = (call) => (call.filter === 'port 99999' ? 'illegal port number 99999 > 65535' : null);
  assert.throws(() => liveOn(binding, { filter: 'port 99999' }).open(),
    (e: unknown) => e instanceof RustnetError && e.code === 'BAD_FILTER' && e.message === "invalid BPF filter 'port 99999': illegal port number 99999 > 65535");
  // The probe without the filter opened, then was closed.
  const probe = binding.handles[binding.handles.length - 1]!;
  assert.equal(probe.closes, 1);

  binding.refuse = () => 'eth0: You don\'t have permission to perform this capture on that device (socket: Operation not permitted)';
  assert.throws(() => liveOn(binding).open(),
    (e: unknown) => e instanceof RustnetError && e.code === 'CAPTURE_PERMISSION' && e.exitCode === 1 && /cap_net_raw/.test(e.message));

  binding.refuse = () => 'No such device exists';
  assert.throws(() => liveOn(binding, { filter: 'tcp' }).open(),
    (e: unknown) => e instanceof RustnetError && e.code === 'CAPTURE_OPEN' && e.message === 'cannot capture on eth0: No such device exists');

  binding.refuse = () => null;
  binding.linkTypeName = 'IEEE802_11_RADIO';
  assert.throws(() => liveOn(binding).open(), (e: unknown) => e instanceof RustnetError && e.code === 'CAPTURE_OPEN' && /unsupported link type/.test(e.message));
  binding.linkTypeName = 'ETHERNET';

  // cap without our patch has no stats(): say how to get it, before opening anything.
  const unpatched: CaptureBinding = {
    create: () => Object.assign(new EventEmitter(), { open: () => 'ETHERNET', close: () => true }) as unknown as CaptureHandle,
    deviceList: () => binding.devices,
  };
  assert.throws(() => new LiveSource({ device: 'lo', filter: '', bufferBytes: 1 << 20, binding: unpatched }).open(),
    (e: unknown) => e instanceof RustnetError && e.code === 'CAPTURE_OPEN' && /patches\/cap\+0\.2\.1\.patch/.test(e.message));
});

test('the live clock is the wall clock held back by the block timeout', () => {
  let now = 1_800_000_000_123;
  const source = liveOn(new FakeBinding(), { nowMs: () => now });
  assert.equal(source.clock(), (1_800_000_000_123 - BLOCK_TIMEOUT_MS) * 1000);
  now += 1000;
  assert.equal(source.clock(), (1_800_000_001_123 - BLOCK_TIMEOUT_MS) * 1000);
});

// ---------------------------------------------------------------------------------------------------------------
// A session over it: kernel time in rows and events, drops in the Snapshot

test('a live session: kernel timestamps date connections and events; drops reach Snapshot.capture', async () => {
  const binding = new FakeBinding();
  let nowMs = 1_800_000_010_000;
  const source = liveOn(binding, { nowMs: () => nowMs });
  const sink = new MemorySink();
  const scheduler = new ManualScheduler();
  const snapshots: Snapshot[] = [];
  const session = new Session(source, () => [sink], {
    maxConnections: 100, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000,
    scheduler, clock: () => source.clock(), readers: [{ render: (s) => snapshots.push(s) }],
  });
  session.open();
  const done = session.run();
  const handle = binding.handles[0]!;
  // Two datagrams of one flow 250 ms apart, captured (kernel time) well before they are delivered.
  const a: readonly [string, number] = ['10.0.0.1', 40000];
  const b: readonly [string, number] = ['10.0.0.2', 53];
  handle.deliver([
    { bytes: udpFrame(a, b, 30), seconds: 1_800_000_009, nanos: 500_000_000 },
    { bytes: udpFrame(b, a, 60), seconds: 1_800_000_009, nanos: 750_000_999 },
  ]);
  handle.counters = { received: 5, dropped: 3, ifdropped: 1 };
  scheduler.fire();
  const snap = snapshots[snapshots.length - 1]!;
  assert.equal(snap.connections.length, 1);
  const row = snap.connections[0]!;
  assert.equal(row.firstSeenMicros, 1_800_000_009_500_000);
  assert.equal(row.lastSeenMicros, 1_800_000_009_750_000);
  assert.equal(snap.nowMicros, (nowMs - BLOCK_TIMEOUT_MS) * 1000, 'the tick moved the clock to the kernel clock now');
  assert.equal(snap.capture.kernelDropped, 3);
  assert.equal(snap.capture.interfaceDropped, 1);
  assert.equal(snap.capture.framesSeen, 2);
  // Drops alone (no new frame) still make a new snapshot.
  handle.counters = { received: 9, dropped: 7, ifdropped: 1 };
  nowMs += 1000;
  scheduler.fire();
  assert.equal(snapshots[snapshots.length - 1]!.capture.kernelDropped, 7);
  session.stop();
  const end = await done;
  assert.equal(end.failure, null);
  const opened = sink.events.find((e) => e.event === 'new_connection');
  const closed = sink.events.find((e) => e.event === 'connection_closed');
  assert.equal(opened?.timestamp, new Date(1_800_000_009_500).toISOString(), 'the event is dated by the kernel timestamp');
  assert.ok(closed !== undefined);
  assert.equal(closed.duration_secs, 0.25);
});

test('a live session ends with exit-1 failure when the capture breaks', async () => {
  const binding = new FakeBinding();
  const source = liveOn(binding);
  const scheduler = new ManualScheduler();
  const session = new Session(source, () => [new MemorySink()], {
    maxConnections: 100, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000, scheduler,
  });
  session.open();
  const done = session.run();
  binding.handles[0]!.emit('error', new Error('The interface went down'));
  const end = await done;
  assert.equal(end.failure?.code, 'CAPTURE_OPEN');
  assert.equal(end.failure?.message, 'capture on eth0 stopped: The interface went down');
  assert.equal(binding.handles[0]!.closes, 1, 'the handle was closed');
});
