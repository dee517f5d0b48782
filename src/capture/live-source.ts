// LiveSource: packets from a network interface through libpcap (`cap`), stamped on arrival.

import capModule from 'cap';
import type { CapDevice } from 'cap';
import { RustnetError } from '../core/errors.js';
import { LinkType } from '../core/packet-view.js';
import type { FrameSink, PacketSource } from '../core/packet-source.js';
import type { SourceInfo } from '../core/snapshot.js';

const { Cap } = capModule;

/** cap copies each packet into one buffer of this size (its snaplen is 65535). */
const SLOT_BYTES = 65535;

export interface LiveSourceOptions {
  device: string;
  /** Says what kind of interface it is (e.g. 'Ethernet', 'TUN'), for the status line and the snapshot. */
  describe?: (device: string, linkType: number) => string;
  /** pcap-filter(7) expression; empty for none. */
  filter: string;
  /** Kernel ring size in bytes. */
  bufferBytes: number;
}

export function listDevices(): CapDevice[] {
  return Cap.deviceList();
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

/**
 * Cap objects whose open() failed. cap leaves such an object half set up (libpcap handle made, poll
 * handle not), and its destructor then stops the uninitialised poll handle, which aborts the process
 * (libuv assertion) whenever garbage collection gets to it. Held here they are never collected.
 */
const failedCaps: unknown[] = [];

function permissionProblem(message: string): boolean {
  return /permission|not permitted|EPERM|EACCES/i.test(message);
}

export class LiveSource implements PacketSource {
  readonly packetClock = false;
  readonly device: string;
  linkType = -1;
  framesCaptured = 0;
  framesTruncated = 0;
  private readonly opts: LiveSourceOptions;
  private cap: InstanceType<typeof Cap> | null = null;
  /** cap keeps only a raw pointer to this buffer: it must live as long as the capture (a field of ours). */
  private readonly buffer = Buffer.alloc(SLOT_BYTES);
  private stopRun: (() => void) | null = null;
  private stopRequested = false;

  constructor(opts: LiveSourceOptions) {
    this.opts = opts;
    this.device = opts.device;
  }

  /**
   * Opens the device and installs the filter. Throws RustnetError: BAD_INTERFACE, BAD_FILTER,
   * CAPTURE_PERMISSION or CAPTURE_OPEN, each with a one-line message saying what to do.
   */
  open(): SourceInfo {
    const { device, filter, bufferBytes } = this.opts;
    const names = listDevices().map((d) => d.name);
    if (!names.includes(device)) {
      throw new RustnetError('BAD_INTERFACE', `no interface named '${device}'; available: ${names.join(', ')}`);
    }
    // A fresh Cap for every open: a closed or failed one must never be reused.
    const cap = new Cap();
    let name: string;
    try {
      name = cap.open(device, filter, bufferBytes, this.buffer);
    } catch (err) {
      failedCaps.push(cap);
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
        const probe = new Cap();
        let deviceOk = false;
        try {
          probe.open(device, '', 1 << 20, Buffer.alloc(SLOT_BYTES));
          deviceOk = true;
          probe.close();
        } catch {
          failedCaps.push(probe);
          deviceOk = false;
        }
        if (deviceOk) throw new RustnetError('BAD_FILTER', `invalid BPF filter '${filter}': ${message}`);
      }
      throw new RustnetError('CAPTURE_OPEN', `cannot capture on ${device}: ${message}`);
    }
    const linkType = linkTypeFromCap(name);
    if (linkType < 0) {
      cap.close();
      throw new RustnetError('CAPTURE_OPEN', `interface ${device} has an unsupported link type (${name})`);
    }
    this.cap = cap;
    this.linkType = linkType;
    const description = this.opts.describe?.(device, linkType) ?? `link type ${linkType}`;
    return { kind: 'live', name: device, linkType, description, filter };
  }

  /** Delivers frames as they arrive until stop(). */
  async run(sink: FrameSink): Promise<void> {
    if (this.stopRequested) return;
    const stopped = new Promise<void>((resolve) => { this.stopRun = resolve; });
    this.start(sink);
    await stopped;
  }

  stop(): void {
    this.stopRequested = true;
    this.stopRun?.();
    this.stopRun = null;
  }

  stats(): { received: number; dropped: number | null } {
    return { received: this.framesCaptured, dropped: null };
  }

  /** Starts delivering frames; each is stamped with the wall clock on arrival (cap gives no timestamps). */
  start(sink: FrameSink): void {
    const cap = this.cap;
    if (cap === null) throw new Error('LiveSource.start before open');
    const buf = this.buffer;
    const linkType = this.linkType;
    const origin = performance.timeOrigin;
    cap.on('packet', (nbytes: number, truncated: boolean) => {
      this.framesCaptured++;
      if (truncated) this.framesTruncated++;
      sink(buf, 0, nbytes, nbytes, linkType, Math.round((origin + performance.now()) * 1000));
    });
  }

  close(): void {
    this.stop();
    if (this.cap !== null) {
      this.cap.close();
      this.cap = null;
    }
  }
}
