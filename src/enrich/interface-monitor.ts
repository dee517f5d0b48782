// InterfaceMonitor: interface counters and rates for the snapshot, sampled on the session tick every 2 s.

import type { SideTables } from '../core/side-tables.js';
import type { InterfaceRow } from '../core/snapshot.js';
import { InterfaceStats, type InterfaceCounters } from '../host/interface-stats.js';

/** How often the counters are read (RustNet's figure; rates over 2 s are steady enough to read). */
export const INTERFACE_SAMPLE_MICROS = 2_000_000;

export class InterfaceMonitor {
  private readonly stats = new InterfaceStats();
  private readonly read: () => ReadonlyMap<string, InterfaceCounters>;
  private readonly captured: string | null;
  private lastMicros = -Infinity;
  private cached: readonly InterfaceRow[] = [];

  /** `read` returns every interface's counters (host/interface-stats readInterfaceCounters, or a fake). */
  constructor(read: () => ReadonlyMap<string, InterfaceCounters>, captured: string | null) {
    this.read = read;
    this.captured = captured;
  }

  apply(nowMicros: number, _side: SideTables): boolean {
    if (nowMicros - this.lastMicros < INTERFACE_SAMPLE_MICROS) return false;
    this.lastMicros = nowMicros;
    this.stats.update(this.read(), nowMicros);
    this.cached = this.stats.rows(this.captured);
    return true;
  }

  interfaces(): readonly InterfaceRow[] {
    return this.cached;
  }
}
