// TrafficHistory: a bounded series of per-snapshot samples (rates, connection counts) for the Traffic panel and Graph.

import type { Snapshot } from '../core/snapshot.js';

/** One point of the series: totals over the open connections of one snapshot. */
export interface TrafficSample {
  readonly generation: number;
  readonly nowMicros: number;
  /** Sum of the rows' receiveRateBps / sendRateBps. */
  readonly rxBps: number;
  readonly txBps: number;
  readonly connections: number;
  readonly tcp: number;
  readonly udp: number;
  /** Everything that is neither TCP nor UDP (ICMP, ARP, …). */
  readonly other: number;
}

/** Connections per application protocol in the latest snapshot ('unknown' when DPI gave no label). */
export interface AppShare {
  readonly name: string;
  readonly count: number;
}

/** One process's traffic in the latest snapshot. `name` is '(unknown)' for rows without a process. */
export interface ProcessRate {
  readonly name: string;
  readonly rxBps: number;
  readonly txBps: number;
  readonly connections: number;
}

/** What the Snapshot does not know about the run; the app passes it to the Statistics panel. */
export interface StatusFacts {
  /** How sockets are tied to processes, e.g. 'procfs', 'none: replay'. */
  readonly processDetection: string;
  /** e.g. 'root (sandbox off)', 'uid 1000 + cap_net_raw,…'. */
  readonly privileges: string;
  /** True unless --show-localhost. */
  readonly localhostHidden: boolean;
  /** null: not reported by the capture binding. */
  readonly kernelDrops: number | null;
  readonly replay: { readonly file: string; readonly progress: string } | null;
}

export const UNKNOWN_APP = 'unknown';
export const UNKNOWN_PROCESS = '(unknown)';

/**
 * Samples kept oldest first, one per snapshot generation. The session reuses a snapshot (same generation)
 * only while nothing changed and no connection has traffic, so a gap in time between two generations is a
 * quiet spell when the newest sample had no traffic: it is filled with copies of that sample at
 * `intervalMicros` steps, which keeps the time axis honest ("last minute" means a minute) without the app
 * having to push unchanged snapshots.
 */
export class TrafficHistory {
  readonly capacity: number;
  readonly intervalMicros: number;
  private readonly ring: TrafficSample[] = [];
  private lastGeneration = -1;
  private latestSnapshot: Snapshot | null = null;
  private mix: AppShare[] | null = null;
  private processes: ProcessRate[] | null = null;

  /** `capacity` samples (default 120); `intervalMicros`: the refresh tick, for filling quiet gaps (default 1 s). */
  constructor(capacity = 120, intervalMicros = 1_000_000) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.intervalMicros = intervalMicros > 0 ? intervalMicros : 1_000_000;
  }

  /** Adds a sample for `s` unless its generation was already seen (or is older than the newest one). */
  push(s: Snapshot): void {
    if (s.generation <= this.lastGeneration) return;
    this.lastGeneration = s.generation;
    this.latestSnapshot = s;
    this.mix = null;
    this.processes = null;

    let rx = 0;
    let tx = 0;
    let tcp = 0;
    let udp = 0;
    for (const r of s.connections) {
      rx += r.receiveRateBps;
      tx += r.sendRateBps;
      if (r.protocol === 'TCP') tcp++;
      else if (r.protocol === 'UDP') udp++;
    }
    const prev = this.ring.at(-1);
    if (prev !== undefined) this.fillQuietGap(prev, s.nowMicros);
    this.add({
      generation: s.generation, nowMicros: s.nowMicros, rxBps: rx, txBps: tx,
      connections: s.connections.length, tcp, udp, other: s.connections.length - tcp - udp,
    });
  }

  /** Forgets everything (a new session, or the view reset). */
  clear(): void {
    this.ring.length = 0;
    this.lastGeneration = -1;
    this.latestSnapshot = null;
    this.mix = null;
    this.processes = null;
  }

  get size(): number {
    return this.ring.length;
  }

  /** All samples, oldest first. */
  samples(): readonly TrafficSample[] {
    return this.ring;
  }

  /** The newest `n` samples, oldest first. */
  last(n: number): readonly TrafficSample[] {
    return n >= this.ring.length ? this.ring : this.ring.slice(Math.max(0, this.ring.length - n));
  }

  latest(): TrafficSample | undefined {
    return this.ring.at(-1);
  }

  /** The snapshot the newest sample came from (null before the first push). */
  snapshot(): Snapshot | null {
    return this.latestSnapshot;
  }

  /** Connections per application protocol in the latest snapshot, most first (ties by name). */
  appMix(): readonly AppShare[] {
    if (this.mix !== null) return this.mix;
    const counts = new Map<string, number>();
    for (const r of this.latestSnapshot?.connections ?? []) {
      const name = r.app?.protocol ?? UNKNOWN_APP;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    this.mix = [...counts].map(([name, count]) => ({ name, count }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    return this.mix;
  }

  /** Processes of the latest snapshot by summed rate (rx + tx), highest first; at most `n`. */
  topProcesses(n = 10): readonly ProcessRate[] {
    if (this.processes === null) {
      const by = new Map<string, { rxBps: number; txBps: number; connections: number }>();
      for (const r of this.latestSnapshot?.connections ?? []) {
        const name = r.processName ?? UNKNOWN_PROCESS;
        let p = by.get(name);
        if (p === undefined) {
          p = { rxBps: 0, txBps: 0, connections: 0 };
          by.set(name, p);
        }
        p.rxBps += r.receiveRateBps;
        p.txBps += r.sendRateBps;
        p.connections++;
      }
      this.processes = [...by].map(([name, p]) => ({ name, ...p }))
        .sort((a, b) => b.rxBps + b.txBps - (a.rxBps + a.txBps) || b.connections - a.connections || a.name.localeCompare(b.name));
    }
    return this.processes.slice(0, Math.max(0, n));
  }

  /** Microseconds between the oldest and newest of the last `n` samples (0 with fewer than two). */
  spanMicros(n = this.ring.length): number {
    const s = this.last(n);
    return s.length < 2 ? 0 : s.at(-1)!.nowMicros - s[0]!.nowMicros;
  }

  private fillQuietGap(prev: TrafficSample, nowMicros: number): void {
    // A snapshot with traffic is never reused, so after one a gap only means the app was late: no filling.
    if (prev.rxBps > 0 || prev.txBps > 0) return;
    const missing = Math.min(this.capacity, Math.round((nowMicros - prev.nowMicros) / this.intervalMicros) - 1);
    for (let i = 1; i <= missing; i++) {
      this.add({ ...prev, nowMicros: prev.nowMicros + i * this.intervalMicros });
    }
  }

  private add(sample: TrafficSample): void {
    this.ring.push(sample);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
  }
}
