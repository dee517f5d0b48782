// Interfaces screen: every interface's rates and cumulative counters, the captured one first, fitted to the width.

import type { InterfaceRow, Snapshot } from '../core/snapshot.js';
import { formatCount, formatRate } from './format.js';
import { displaySafe, tagSafe } from './sanitize.js';
import { cutTagged, paint, safePad, safeWidth, textWidth } from './tags.js';

interface Column {
  readonly head: string;
  /** Lower keeps its place longer when the screen is narrow. */
  readonly priority: number;
  readonly value: (i: InterfaceRow) => string;
}

// Left to right as shown; the name column is separate because its width follows the names.
const COLUMNS: readonly Column[] = [
  { head: 'State', priority: 3, value: (i) => i.operState },
  { head: 'RX Rate', priority: 1, value: (i) => formatRate(i.rxRateBps) },
  { head: 'TX Rate', priority: 2, value: (i) => formatRate(i.txRateBps) },
  { head: 'RX Pkts', priority: 8, value: (i) => formatCount(i.rxPackets) },
  { head: 'TX Pkts', priority: 9, value: (i) => formatCount(i.txPackets) },
  { head: 'RX Err', priority: 4, value: (i) => formatCount(i.rxErrors) },
  { head: 'TX Err', priority: 5, value: (i) => formatCount(i.txErrors) },
  { head: 'RX Drop', priority: 6, value: (i) => formatCount(i.rxDropped) },
  { head: 'TX Drop', priority: 7, value: (i) => formatCount(i.txDropped) },
  { head: 'Coll', priority: 10, value: (i) => formatCount(i.collisions) },
];

const NAME_MIN = 6;
const NAME_MAX = 16;

/** The interfaces in screen order: the captured one first, the rest by name. */
export function interfaceOrder(rows: readonly InterfaceRow[]): InterfaceRow[] {
  return [...rows].sort((a, b) => Number(b.captured) - Number(a.captured) || a.name.localeCompare(b.name));
}

/**
 * The full interface table in `width`×`height`: a header, one line per interface, the captured one
 * highlighted (bold cyan, or marked `*` without colour). Columns the width cannot hold are dropped,
 * least useful first; interfaces beyond the height end in a "… N more" line.
 */
export function interfacesTable(s: Snapshot, width: number, height: number, color: boolean): string[] {
  if (width <= 0 || height <= 0) return [];
  if (s.interfaces.length === 0) {
    const text = s.source.kind === 'replay'
      ? 'Interface counters are live-only: a replay has none.'
      : 'No interface counters available.';
    return [cutTagged(paint(text, 'gray', color), width)];
  }
  const rows = interfaceOrder(s.interfaces);
  // Cells made safe once (the state comes from the host); braces are escaped only when painted.
  const cells = rows.map((r) => COLUMNS.map((c) => displaySafe(c.value(r), 24)));
  const widths = COLUMNS.map((c, k) => Math.max(c.head.length, ...cells.map((row) => textWidth(row[k]!))));
  // The mark column ('*' for the captured interface) only without colour; with colour the highlight says it.
  const mark = color ? 0 : 2;
  // The names' natural width; the name column gives way down to NAME_MIN before any number column goes.
  const nameWidth = Math.min(NAME_MAX, Math.max(NAME_MIN, 'Interface'.length, ...rows.map((r) => safeWidth(r.name))));

  // Drop columns from the least useful until the rest fits (each column takes its width plus one space).
  const kept = new Set(COLUMNS.map((_, k) => k));
  const numbers = (): number => [...kept].reduce((n, k) => n + widths[k]! + 1, 0);
  const byPriority = COLUMNS.map((c, k) => [c.priority, k] as const).sort((a, b) => b[0] - a[0]);
  for (const [, k] of byPriority) {
    if (mark + NAME_MIN + numbers() <= width) break;
    kept.delete(k);
  }
  const name = Math.max(1, Math.min(nameWidth, width - mark - numbers()));
  const shown = COLUMNS.map((_, k) => k).filter((k) => kept.has(k));

  const header = ' '.repeat(mark) + (name >= 'Interface'.length ? 'Interface' : 'Name').padEnd(name).slice(0, name) +
    shown.map((k) => ` ${COLUMNS[k]!.head.padStart(widths[k]!)}`).join('');
  const out = [cutTagged(paint(header, 'bold', color), width)];

  const room = height - 1;
  const fits = rows.length <= room ? rows.length : Math.max(0, room - 1);
  for (let r = 0; r < fits; r++) {
    const row = rows[r]!;
    const numbers = shown.map((k) => ` ${tagSafe(cells[r]![k]!.padStart(widths[k]!), Number.MAX_SAFE_INTEGER)}`).join('');
    const prefix = mark === 0 ? '' : row.captured ? '* ' : '  ';
    const errors = row.rxErrors + row.txErrors + row.rxDropped + row.txDropped > 0;
    let line = prefix + safePad(row.name, name) + numbers;
    if (row.captured) line = paint(line, color ? ['bold', 'cyan'] : 'bold', color);
    else if (!row.up) line = paint(line, 'gray', color);
    else if (errors) line = paint(line, 'yellow', color);
    out.push(cutTagged(line, width));
  }
  if (fits < rows.length) out.push(cutTagged(paint(`… ${rows.length - fits} more`, 'gray', color), width));
  // Counters since boot, not recent: say so when there is a line to spare.
  if (out.length < height) {
    out.push(cutTagged(paint('Packets, errors, drops: totals since the interface came up.', 'gray', color), width));
  }
  return out.slice(0, height);
}
