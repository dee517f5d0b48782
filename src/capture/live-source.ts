// LiveSource: frames from a network interface through libpcap (`cap`, patched for batches), with kernel timestamps and drop counters.

import capModule from 'cap';
import type { Cap as CapInstance, CapDevice, CapOpenOptions, CapStats } from 'cap';
import { RustnetError } from '../core/errors.js';
import { LinkType } from '../core/packet-view.js';
import type { FrameSink, PacketSource } from '../core/packet-source.js';
import type { SourceInfo } from '../core/snapshot.js';
import { BATCH_ALIGNMENT, BATCH_HEADER_BYTES, FrameBatchReader, WrappingCounter } from './frame-batch.js';

/**
 * The shared buffer the binding packs frames into. One readable event brings at most a few kernel blocks
 * (256 KiB each, see below); a frame of cap's largest snapshot length (65535) always fits.
 */
const BATCH_BUFFER_BYTES = 1 << 20;

/**
 * libpcap hands frames over in blocks (TPACKET_V3), at the latest this long after a block's first frame. Under
 * load blocks fill long before (1,365 frames of 106 bytes each): one JS call per block instead of one per
 * packet. Idle, nothing wakes us. The cost is up to this much latency, which nothing here notices.
 */
export const BLOCK_TIMEOUT_MS = 10;

/** What LiveSource needs of the binding (tests pass a fake). */
export interface CaptureBinding {
  create(): CaptureHandle;
  deviceList(): CapDevice[];
}

/** One capture handle: the parts of cap's Cap that we use. */
export interface CaptureHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer, options?: CapOpenOptions): string;
  close(): unknown;
  stats(): CapStats;
  on(event: 'batch', listener: (frames: number, nbytes: number) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

const { Cap } = capModule;

/** The real binding. Its batch API comes from patches/cap+0.2.1.patch (applied by `npm ci`'s postinstall). */
export const capBinding: CaptureBinding = {
  create: () => {
    // A binding built from another version of the patch could pack frames differently: refuse rather than misread.
    if (Cap.BATCH_HEADER_SIZE !== undefined && (Cap.BATCH_HEADER_SIZE !== BATCH_HEADER_BYTES || Cap.BATCH_ALIGNMENT !== BATCH_ALIGNMENT)) {
      throw new RustnetError('CAPTURE_OPEN', `the cap binding packs frames with ${Cap.BATCH_HEADER_SIZE}-byte headers aligned to ` +
        `${Cap.BATCH_ALIGNMENT}, not ${BATCH_HEADER_BYTES} and ${BATCH_ALIGNMENT}: reinstall with \`npm ci\``, 1);
    }
    return new Cap() as CapInstance & CaptureHandle;
  },
  deviceList: () => Cap.deviceList(),
};

export interface LiveSourceOptions {
  device: string;
  /** Says what kind of interface it is (e.g. 'Ethernet', 'TUN'), for the status line and the snapshot. */
  describe?: (device: string, linkType: number) => string;
  /** pcap-filter(7) expression; empty for none. */
  filter: string;
  /** Kernel ring size in bytes. */
  bufferBytes: number;
  /** Default: the `cap` module. */
  binding?: CaptureBinding;
  /** Wall clock in milliseconds since the epoch (default Date.now; tests inject one). */
  nowMs?: () => number;
}

export function listDevices(binding: CaptureBinding = capBinding): CapDevice[] {
  return binding.deviceList();
}

/** Maps cap's link type names (and its 'Unknown linktype N') to LINKTYPE numbers. */
export function linkTypeFromCap(name: string): number {
  switch (name) {
    case 'ETHERNET': return LinkType.ETHERNET;
    case 'NULL': return LinkType.NULL;
    case 'RAW': return LinkType.RAW;
    case 'LINKTYPE_LINUX_SLL': return LinkType.LINUX_SLL;
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name);
      return m ? Number(m[1]) : -1;
    }
  }
}

function permissionProblem(message: string): boolean {
  return /permission|not permitted|EPERM|EACCES/i.test(message);
}

/** Counters of a live capture since it opened. */
export interface LiveCaptureStats {
  /** Frames delivered to the sink. */
  received: number;
  /** Frames the kernel dropped because its capture buffer was full (pcap_stats ps_drop); null before open. */
  dropped: number | null;
  /** Frames the interface or its driver dropped before capture (ps_ifdrop, where the platform reports it). */
  interfaceDropped: number | null;
  /** Frames libpcap counted as passing the filter (ps_recv), whether delivered, still queued or dropped. */
  kernelReceived: number | null;
}

export class LiveSource implements PacketSource {
  readonly packetClock = false;
  readonly device: string;
  linkType = -1;
  private readonly opts: LiveSourceOptions;
  private readonly binding: CaptureBinding;
  private readonly nowMs: () => number;
  private handle: CaptureHandle | null = null;
  /** The binding packs frames into this; it also holds its own reference, so it outlives nothing it needs. */
  private readonly buffer = Buffer.alloc(BATCH_BUFFER_BYTES);
  private readonly reader = new FrameBatchReader();
  private readonly kernelReceived = new WrappingCounter();
  private readonly kernelDropped = new WrappingCounter();
  private readonly interfaceDropped = new WrappingCounter();
  private statsRead = false;
  private stopRun: (() => void) | null = null;
  private failRun: ((err: RustnetError) => void) | null = null;
  private stopRequested = false;

  constructor(opts: LiveSourceOptions) {
    this.opts = opts;
    this.device = opts.device;
    this.binding = opts.binding ?? capBinding;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  get framesCaptured(): number {
    return this.reader.framesRead;
  }

  get framesTruncated(): number {
    return this.reader.framesTruncated;
  }

  /** Batches whose frames did not add up (a binding fault; should stay 0). */
  get badBatches(): number {
    return this.reader.badBatches;
  }

  /**
   * Opens the device and installs the filter. Throws RustnetError: BAD_INTERFACE, BAD_FILTER,
   * CAPTURE_PERMISSION or CAPTURE_OPEN, each with a one-line message saying what to do.
   */
  open(): SourceInfo {
    const { device, filter, bufferBytes } = this.opts;
    const names = listDevices(this.binding).map((d) => d.name);
    if (!names.includes(device)) {
      throw new RustnetError('BAD_INTERFACE', `no interface named '${device}'; available: ${names.join(', ')}`);
    }
    // A fresh handle for every open. The patched binding releases what a failed open() made, so a failed handle
    // is simply dropped (unpatched, its destructor aborted the process).
    const handle = this.binding.create();
    if (typeof handle.stats !== 'function') {
      throw new RustnetError('CAPTURE_OPEN', 'the cap binding lacks batched capture: reinstall with `npm ci`, whose postinstall applies patches/cap+0.2.1.patch and rebuilds it', 1);
    }
    const options: CapOpenOptions = { batch: true, immediate: false, timeout: BLOCK_TIMEOUT_MS };
    let name: string;
    try {
      name = handle.open(device, filter, bufferBytes, this.buffer, options);
    } catch (err) {
      const message = (err as Error).message;
      if (permissionProblem(message)) {
        // Exit 1, as for any start that cannot go on; the message names what is missing and both remedies.
        throw new RustnetError('CAPTURE_PERMISSION',
          `cannot capture on ${device}: ${message}; capturing needs root or the cap_net_raw and cap_net_admin capabilities ` +
          '(process names also need cap_dac_read_search and cap_sys_ptrace): run with sudo, or grant them once with ' +
          'sudo setcap cap_net_raw,cap_net_admin,cap_dac_read_search,cap_sys_ptrace=eip "$(readlink -f "$(command -v node)")"', 1);
      }
      if (filter !== '') {
        // Was it the filter? Opening the same device without one tells us.
        const probe = this.binding.create();
        let deviceOk = false;
        try {
          probe.open(device, '', 1 << 20, this.buffer, options);
          deviceOk = true;
          probe.close();
        } catch {
          deviceOk = false;
        }
        if (deviceOk) throw new RustnetError('BAD_FILTER', `invalid BPF filter '${filter}': ${message}`);
      }
      throw new RustnetError('CAPTURE_OPEN', `cannot capture on ${device}: ${message}`);
    }
    const linkType = linkTypeFromCap(name);
    if (linkType < 0) {
      handle.close();
      throw new RustnetError('CAPTURE_OPEN', `interface ${device} has an unsupported link type (${name})`);
    }
    this.handle = handle;
    this.linkType = linkType;
    const description = this.opts.describe?.(device, linkType) ?? `link type ${linkType}`;
    return { kind: 'live', name: device, linkType, description, filter };
  }

  /** Delivers frames as they arrive until stop(); rejects (RustnetError CAPTURE_OPEN) when capture fails. */
  async run(sink: FrameSink): Promise<void> {
    if (this.stopRequested) return;
    const stopped = new Promise<void>((resolve, reject) => {
      this.stopRun = resolve;
      this.failRun = reject;
    });
    this.start(sink);
    await stopped;
  }

  stop(): void {
    this.stopRequested = true;
    this.stopRun?.();
    this.stopRun = null;
    this.failRun = null;
  }

  /**
   * The live clock in microseconds: the kernel's (frames carry CLOCK_REALTIME stamps), held back by the
   * longest a frame waits in a kernel block, so that a tick does not move the session's clock past frames
   * still on their way (the clock never goes back: such frames would all read as the tick's time).
   */
  clock(): number {
    return (this.nowMs() - BLOCK_TIMEOUT_MS) * 1000;
  }

  /**
   * Frames delivered, and libpcap's counters (read now while capturing; after close, as last read). The
   * 32-bit counters are extended across their wrap, which needs a reading at least every 2³² frames (hours
   * at a million a second): the session reads them every tick.
   */
  stats(): LiveCaptureStats {
    const handle = this.handle;
    if (handle !== null) {
      let s: CapStats | null = null;
      try {
        s = handle.stats();
      } catch {
        // Closed by the binding after a read error: the last reading stands.
      }
      if (s !== null) {
        this.kernelReceived.update(s.received);
        this.kernelDropped.update(s.dropped);
        this.interfaceDropped.update(s.ifdropped);
        this.statsRead = true;
      }
    }
    const known = this.statsRead;
    return {
      received: this.reader.framesRead,
      dropped: known ? this.kernelDropped.total : null,
      interfaceDropped: known ? this.interfaceDropped.total : null,
      kernelReceived: known ? this.kernelReceived.total : null,
    };
  }

  /** Starts delivering frames, each stamped with its kernel timestamp. */
  start(sink: FrameSink): void {
    const handle = this.handle;
    if (handle === null) throw new Error('LiveSource.start before open');
    const buf = this.buffer;
    const linkType = this.linkType;
    const reader = this.reader;
    handle.on('batch', (frames: number, nbytes: number) => {
      reader.read(buf, frames, nbytes, linkType, sink);
    });
    handle.on('error', (err: Error) => {
      const fail = this.failRun;
      this.stopRun = null;
      this.failRun = null;
      fail?.(new RustnetError('CAPTURE_OPEN', `capture on ${this.device} stopped: ${err.message}`, 1));
    });
  }

  close(): void {
    this.stop();
    if (this.handle !== null) {
      // The last counters, so that the closing summary has them.
      this.stats();
      this.handle.close();
      this.handle = null;
    }
  }
}
