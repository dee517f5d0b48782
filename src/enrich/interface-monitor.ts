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

  private readonly defer: (work: () => void) => void;
  private fresh = false;

  /**
   * `read` returns every interface's counters (host/interface-stats readInterfaceCounters, or a fake).
   * `defer` runs the reading outside the tick (default: the next turn of the event loop); the rows it
   * makes are shown from the following tick on.
   */
  constructor(read: () => ReadonlyMap<string, InterfaceCounters>, captured: string | null,
    defer: (work: () => void) => void = setImmediate) {
    this.read = read;
    this.captured = captured;
    this.defer = defer;
  }

  apply(nowMicros: number, _side: SideTables): boolean {
    const changed = this.fresh;
    this.fresh = false;
    if (nowMicros - this.lastMicros >= INTERFACE_SAMPLE_MICROS) {
      this.lastMicros = nowMicros;
      this.defer(() => {
        this.stats.update(this.read(), nowMicros);
        this.cached = this.stats.rows(this.captured);
        this.fresh = true;
      });
    }
    return changed;
  }

  interfaces(): readonly InterfaceRow[] {
    return this.cached;
  }
}
