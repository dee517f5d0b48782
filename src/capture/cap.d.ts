// Type declarations for the parts of the `cap` libpcap binding we use (with patches/cap+0.2.1.patch applied).

declare module 'cap' {
  import type { EventEmitter } from 'node:events';

  export interface CapDeviceAddress {
    addr: string;
    netmask?: string;
    broadaddr?: string;
  }

  export interface CapDevice {
    name: string;
    description?: string;
    addresses: CapDeviceAddress[];
    flags?: string;
  }

  /** open()'s fifth argument (added by our patch). */
  export interface CapOpenOptions {
    /** One 'batch' event per filled buffer instead of one 'packet' event per packet. */
    batch?: boolean;
    /** Linux: libpcap's immediate mode (default true); false lets the kernel hand packets over in blocks. */
    immediate?: boolean;
    /** pcap_set_timeout() in milliseconds (default 1000): with immediate false, the longest a packet waits in a block. */
    timeout?: number;
  }

  /** pcap_stats() since open(): libpcap's unsigned 32-bit counters, which wrap. */
  export interface CapStats {
    received: number;
    dropped: number;
    ifdropped: number;
  }

  export class Cap extends EventEmitter {
    constructor();
    /** Returns the link type name ('ETHERNET', 'RAW', 'NULL', 'LINKTYPE_LINUX_SLL', or 'Unknown linktype N'). */
    open(device: string, filter: string, bufSize: number, buffer: Buffer, options?: CapOpenOptions): string;
    close(): boolean;
    stats(): CapStats;
    timestampPrecision(): 'nano' | 'micro';
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    /** Batch mode: the open() buffer holds `frames` frames in its first `nbytes` bytes (valid during the call only). */
    on(event: 'batch', listener: (frames: number, nbytes: number) => void): this;
    /** Batch mode: reading failed (e.g. the interface went away); capture has stopped. */
    on(event: 'error', listener: (err: Error) => void): this;
    static findDevice(ip?: string): string | undefined;
    static deviceList(): CapDevice[];
    /** Each frame of a batch: uint32 seconds, nanoseconds, captured length, original length (host byte order). */
    static readonly BATCH_HEADER_SIZE: number | undefined;
    /** Frames of a batch start at multiples of this from the start of the buffer. */
    static readonly BATCH_ALIGNMENT: number | undefined;
  }

  const cap: { Cap: typeof Cap };
  export default cap;
}
