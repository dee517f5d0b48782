// Type declarations for the parts of the `cap` libpcap binding we use.

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

  export class Cap extends EventEmitter {
    constructor();
    /** Returns the link type name ('ETHERNET', 'RAW', 'NULL', 'LINKTYPE_LINUX_SLL', or 'Unknown linktype N'). */
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    close(): void;
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    static findDevice(ip?: string): string | undefined;
    static deviceList(): CapDevice[];
  }

  const cap: { Cap: typeof Cap };
  export default cap;
}
