// The host's own addresses (which side of a connection is local), refreshed from the interface list.

import * as os from 'node:os';
import { parseAddressWords } from '../core/address.js';

export class LocalAddresses {
  private v4 = new Set<number>();
  private v6 = new Set<string>();
  private readonly source: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;

  constructor(source: () => NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces) {
    this.source = source;
    this.refresh();
  }

  /** Re-reads the interface addresses (addresses come and go with DHCP, VPNs, hotplug). */
  refresh(): void {
    const v4 = new Set<number>();
    const v6 = new Set<string>();
    for (const infos of Object.values(this.source())) {
      for (const info of infos ?? []) {
        const w = parseAddressWords(info.address);
        if (w === null) continue;
        if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) v4.add(w[3]);
        else v6.add(`${w[0]},${w[1]},${w[2]},${w[3]}`);
      }
    }
    this.v4 = v4;
    this.v6 = v6;
  }

  isLocal(w0: number, w1: number, w2: number, w3: number): boolean {
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) return this.v4.has(w3);
    return this.v6.has(`${w0},${w1},${w2},${w3}`);
  }
}
