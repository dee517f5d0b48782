// Per-interface counters from /sys/class/net and the byte rates between two samples of them.

import * as fs from 'node:fs';
import type { InterfaceRow } from '../core/snapshot.js';

/** IFF_UP in include/uapi/linux/if.h: the administrative "up", which `ip link` shows as UP. */
const IFF_UP = 0x1;

/**
 * One reading of one interface's counters (the snapshot row's fields that the kernel gives; numbers are
 * 0 where it gave nothing readable, operState 'unknown').
 */
export type InterfaceCounters = Omit<InterfaceRow, 'name' | 'captured' | 'rxRateBps' | 'txRateBps'>;

/** The files read per interface, relative to /sys/class/net/<name>/. */
export const INTERFACE_FILES = [
  'statistics/rx_bytes',
  'statistics/tx_bytes',
  'statistics/rx_packets',
  'statistics/tx_packets',
  'statistics/rx_errors',
  'statistics/tx_errors',
  'statistics/rx_dropped',
  'statistics/tx_dropped',
  'statistics/collisions',
  'operstate',
  'flags',
] as const;

function counter(text: string | undefined): number {
  if (text === undefined) return 0;
  const t = text.trim();
  // sysfs counters are unsigned decimals; anything else (EINVAL text, a half-written file) is not a count.
  if (!/^\d+$/.test(t)) return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Turns the texts of one interface's files (keys as in INTERFACE_FILES) into numbers. Missing or garbage
 * values become 0; `up` follows IFF_UP in `flags` and falls back to operstate when flags are unreadable.
 */
export function parseInterfaceCounters(files: Readonly<Record<string, string>>): InterfaceCounters {
  const op = files['operstate']?.trim();
  const operState = op !== undefined && /^[a-z]+$/.test(op) ? op : 'unknown';
  const flagsText = files['flags']?.trim();
  const flags = flagsText !== undefined && /^0x[0-9a-f]+$/i.test(flagsText) ? parseInt(flagsText, 16) : null;
  return {
    rxBytes: counter(files['statistics/rx_bytes']),
    txBytes: counter(files['statistics/tx_bytes']),
    rxPackets: counter(files['statistics/rx_packets']),
    txPackets: counter(files['statistics/tx_packets']),
    rxErrors: counter(files['statistics/rx_errors']),
    txErrors: counter(files['statistics/tx_errors']),
    rxDropped: counter(files['statistics/rx_dropped']),
    txDropped: counter(files['statistics/tx_dropped']),
    collisions: counter(files['statistics/collisions']),
    operState,
    up: flags !== null ? (flags & IFF_UP) !== 0 : operState === 'up',
  };
}

/** Reads every interface under `root` (loopback included); an unreadable root gives an empty map. */
export function readInterfaceCounters(root = '/sys/class/net'): Map<string, InterfaceCounters> {
  const out = new Map<string, InterfaceCounters>();
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const dir = `${root}/${name}`;
    // /sys/class/net also holds plain files (bonding_masters); interfaces are the directories with statistics.
    try {
      if (!fs.statSync(`${dir}/statistics`).isDirectory()) continue;
    } catch {
      continue;
    }
    const files: Record<string, string> = {};
    for (const f of INTERFACE_FILES) {
      try {
        files[f] = fs.readFileSync(`${dir}/${f}`, 'utf8');
      } catch {
        // The interface may vanish between readdir and read, and some attributes fail with EINVAL; leave it out.
      }
    }
    out.set(name, parseInterfaceCounters(files));
  }
  return out;
}

interface Tracked {
  counters: InterfaceCounters;
  atMicros: number;
  rxRateBps: number;
  txRateBps: number;
}

function rateBps(now: number, before: number, dtMicros: number): number {
  // A smaller counter means a reset (driver reload, netns move) or a 32-bit wrap: no honest rate this time.
  if (dtMicros <= 0 || now < before) return 0;
  return ((now - before) * 1_000_000) / dtMicros;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Keeps the previous sample per interface and turns counter deltas into byte rates. */
export class InterfaceStats {
  private tracked = new Map<string, Tracked>();

  /** Takes a new reading; interfaces missing from it are dropped, new ones start with rate 0. */
  update(counters: ReadonlyMap<string, InterfaceCounters>, nowMicros: number): void {
    const next = new Map<string, Tracked>();
    for (const [name, c] of counters) {
      const prev = this.tracked.get(name);
      const dt = prev === undefined ? 0 : nowMicros - prev.atMicros;
      next.set(name, {
        counters: c,
        atMicros: nowMicros,
        rxRateBps: prev === undefined ? 0 : rateBps(c.rxBytes, prev.counters.rxBytes, dt),
        txRateBps: prev === undefined ? 0 : rateBps(c.txBytes, prev.counters.txBytes, dt),
      });
    }
    this.tracked = next;
  }

  /** Snapshot rows: the captured interface first, then the others by name. */
  rows(capturedName: string | null): InterfaceRow[] {
    const names = [...this.tracked.keys()].sort((a, b) => {
      if (a === capturedName) return -1;
      if (b === capturedName) return 1;
      return byName(a, b);
    });
    const out: InterfaceRow[] = [];
    for (const name of names) {
      const t = this.tracked.get(name);
      if (t === undefined) continue;
      const c = t.counters;
      out.push({
        name,
        captured: name === capturedName,
        up: c.up,
        rxBytes: c.rxBytes,
        txBytes: c.txBytes,
        rxPackets: c.rxPackets,
        txPackets: c.txPackets,
        rxErrors: c.rxErrors,
        txErrors: c.txErrors,
        rxDropped: c.rxDropped,
        txDropped: c.txDropped,
        rxRateBps: t.rxRateBps,
        txRateBps: t.txRateBps,
        collisions: c.collisions,
        operState: c.operState,
      });
    }
    return out;
  }
}
