// The Overview table's columns: what each shows for a row, its widths, and which survive a narrow terminal.
//
// Display choices (one place, so filter, sort and cells agree):
// - Local / Remote Address: `formatEndpoint(ip, port)`, always with the port NUMBER (unambiguous and what people
//   paste into other tools). With the hostnames toggle (`d`) a known hostname replaces the IP; unknown ones stay IPs.
//   Portless protocols (ICMP, ARP, …) show the address alone.
// - Service: the well-known service name of the connection's ports (`https`), `—` when none is known. The `p`
//   toggle shows the service PORT number instead (the remote port of outgoing connections, the local port of
//   incoming ones, the lower of the two when the direction is unknown), the reverse of the default.
// - Application / Host: `HTTPS (example.com)`, the protocol alone without a domain, `—` without DPI results;
//   a label guessed from the port alone is marked `HTTPS?` (it is never shown as a DPI fact). Filter and sort
//   read the label itself, so a guess filters and sorts like any other label.
// - Down/Up: `formatRate(receive) / formatRate(send)`; a compact `1.50K/12.3M` form when the column is narrow.
// - Process: `name (pid)`, `pid 123` without a name, `—` when unknown.
// Texts returned here are RAW (as the row holds them): callers escape them with displaySafe/tagSafe.

import type { ConnectionRow } from '../core/snapshot.js';
import { formatBytes, formatEndpoint, formatRate } from './format.js';

export type ColumnId = 'protocol' | 'local' | 'remote' | 'state' | 'service' | 'application' | 'bandwidth' | 'process';

export interface ColumnDef {
  readonly id: ColumnId;
  /** Header label, and a shorter one for narrow columns. */
  readonly header: string;
  readonly shortHeader: string;
  /** Comfortable minimum; optional columns are dropped rather than shrunk below it. */
  readonly min: number;
  /** Smallest width a core column is squeezed to before it is dropped. */
  readonly hardMin: number;
  /** Width it gets before spare room goes to the growing columns. */
  readonly pref: number;
  /** Share of the room left after every column has its `pref` (0 = never wider than pref). */
  readonly grow: number;
  /** Core columns (Pro, Remote, Down/Up, Process) outlive every optional one. */
  readonly core: boolean;
  /** Default direction when `s` moves onto it: rates highest first, text A→Z. */
  readonly defaultDescending: boolean;
}

/** Left to right, the order `s` cycles through. */
export const COLUMNS: readonly ColumnDef[] = [
  { id: 'protocol', header: 'Pro', shortHeader: 'Pro', min: 6, hardMin: 4, pref: 6, grow: 0, core: true, defaultDescending: false },
  { id: 'local', header: 'Local Address', shortHeader: 'Local', min: 21, hardMin: 21, pref: 22, grow: 1, core: false, defaultDescending: false },
  { id: 'remote', header: 'Remote Address', shortHeader: 'Remote', min: 21, hardMin: 12, pref: 24, grow: 3, core: true, defaultDescending: false },
  { id: 'state', header: 'State', shortHeader: 'State', min: 11, hardMin: 11, pref: 14, grow: 0, core: false, defaultDescending: false },
  { id: 'service', header: 'Service', shortHeader: 'Svc', min: 8, hardMin: 8, pref: 10, grow: 0, core: false, defaultDescending: false },
  // At least 20 wide: the host name (SNI, HTTP Host, DNS name) is what people look for; Local Address goes first.
  { id: 'application', header: 'Application / Host', shortHeader: 'App / Host', min: 20, hardMin: 14, pref: 26, grow: 2, core: false, defaultDescending: false },
  { id: 'bandwidth', header: 'Down/Up', shortHeader: 'Down/Up', min: 11, hardMin: 11, pref: 21, grow: 0, core: true, defaultDescending: true },
  { id: 'process', header: 'Process', shortHeader: 'Proc', min: 10, hardMin: 6, pref: 20, grow: 2, core: true, defaultDescending: false },
];

export const COLUMN_ORDER: readonly ColumnId[] = COLUMNS.map((c) => c.id);

/** Names used in the table title ("Sort: Remote Address ↑"). */
export function columnTitle(id: ColumnId): string {
  return columnDef(id).header;
}

export function columnDef(id: ColumnId): ColumnDef {
  const def = COLUMNS.find((c) => c.id === id);
  if (def === undefined) throw new Error(`unknown column ${id}`);
  return def;
}

/** Least useful first: the optional columns, then the core ones; Remote Address is never dropped. */
const DROP_ORDER: readonly ColumnId[] = ['local', 'service', 'state', 'application', 'protocol', 'process', 'bandwidth'];
/** Who gets room first when there is some to spare (most useful first). */
const FILL_ORDER: readonly ColumnId[] = ['remote', 'bandwidth', 'application', 'process', 'protocol', 'state', 'service', 'local'];

/** Space between two columns. */
export const GAP = 1;

export interface LaidOutColumn {
  readonly def: ColumnDef;
  readonly width: number;
}

/**
 * The visible columns and their widths: widths plus one-space gaps add up to exactly `width`
 * (a single column wider than the terminal is cut to it). Empty when width < 1.
 */
export function layoutColumns(width: number): readonly LaidOutColumn[] {
  if (width < 1) return [];
  let shown = COLUMNS.slice();
  const total = (list: readonly ColumnDef[], pick: (c: ColumnDef) => number): number =>
    list.reduce((sum, c) => sum + pick(c), 0) + GAP * Math.max(0, list.length - 1);
  // Optional columns go first, while the rest do not fit at their comfortable size.
  for (const id of DROP_ORDER) {
    if (total(shown, (c) => c.min) <= width) break;
    const def = columnDef(id);
    if (!def.core) shown = shown.filter((c) => c.id !== id);
  }
  // Then squeeze the core ones, and drop them only when even that fails.
  let floor: (c: ColumnDef) => number = (c) => c.min;
  if (total(shown, floor) > width) {
    floor = (c) => c.hardMin;
    for (const id of DROP_ORDER) {
      if (total(shown, floor) <= width || shown.length === 1) break;
      shown = shown.filter((c) => c.id !== id);
    }
  }
  const widths = new Map<ColumnId, number>(shown.map((c) => [c.id, floor(c)]));
  let spare = width - total(shown, floor);
  if (spare < 0) {
    // One column left and still too wide: cut it to the terminal.
    const only = shown[0]!;
    return [{ def: only, width }];
  }
  // Up to the comfortable minimum, then to the preferred width, most useful columns first.
  for (const level of [(c: ColumnDef) => c.min, (c: ColumnDef) => c.pref]) {
    for (const id of FILL_ORDER) {
      const def = shown.find((c) => c.id === id);
      if (def === undefined) continue;
      const have = widths.get(id)!;
      const add = Math.min(spare, Math.max(0, level(def) - have));
      widths.set(id, have + add);
      spare -= add;
    }
  }
  // What is left goes to the growing columns by weight; rounding leftovers to the most useful one.
  const growing = shown.filter((c) => c.grow > 0);
  const weight = growing.reduce((s, c) => s + c.grow, 0);
  if (spare > 0 && weight > 0) {
    let given = 0;
    for (const c of growing) {
      const add = Math.floor((spare * c.grow) / weight);
      widths.set(c.id, widths.get(c.id)! + add);
      given += add;
    }
    spare -= given;
  }
  if (spare > 0) {
    const first = growing[0] ?? shown[shown.length - 1]!;
    widths.set(first.id, widths.get(first.id)! + spare);
  }
  return shown.map((def) => ({ def, width: widths.get(def.id)! }));
}

/** Toggles that change what the cells say. */
export interface DisplayOptions {
  /** `d`: hostnames instead of IPs where known. */
  readonly showHostnames: boolean;
  /** `p`: the Service column shows the port number instead of the name. */
  readonly showPortNumbers: boolean;
}

/** The port the connection's service runs on (see the file header), or undefined without ports. */
export function servicePort(row: ConnectionRow): number | undefined {
  if (!row.hasPorts) return undefined;
  if (row.direction === 'outgoing') return row.remotePort;
  if (row.direction === 'incoming') return row.localPort;
  return Math.min(row.localPort, row.remotePort);
}

/** The address part as shown: hostname when the toggle is on and one is known, else the IP. */
export function shownAddress(addr: string, hostname: string | undefined, opts: DisplayOptions): string {
  return opts.showHostnames && hostname !== undefined && hostname !== '' ? hostname : addr;
}

export function localText(row: ConnectionRow, opts: DisplayOptions): string {
  const addr = shownAddress(row.localAddr, row.localHostname, opts);
  return row.hasPorts ? formatEndpoint(addr, row.localPort) : addr;
}

export function remoteText(row: ConnectionRow, opts: DisplayOptions): string {
  const addr = shownAddress(row.remoteAddr, row.remoteHostname, opts);
  return row.hasPorts ? formatEndpoint(addr, row.remotePort) : addr;
}

export const NONE = '—';

export function serviceText(row: ConnectionRow, opts: DisplayOptions): string {
  if (opts.showPortNumbers) {
    const port = servicePort(row);
    return port === undefined ? NONE : String(port);
  }
  return row.service ?? NONE;
}

/** `HTTPS (example.com)`, `DNS`, or undefined without DPI results. */
export function applicationValue(row: ConnectionRow): string | undefined {
  const app = row.app;
  if (app === null) return undefined;
  return app.domain !== undefined && app.domain !== '' ? `${app.protocol} (${app.domain})` : app.protocol;
}

/** Trails a label that is only the port's guess (confidence 'port'). */
export const GUESS_MARK = '?';

export function applicationText(row: ConnectionRow): string {
  const value = applicationValue(row);
  if (value === undefined) return NONE;
  return row.app?.confidence === 'port' ? `${value}${GUESS_MARK}` : value;
}

export function processText(row: ConnectionRow): string {
  if (row.processName !== undefined && row.processName !== '') {
    return row.pid !== undefined ? `${row.processName} (${row.pid})` : row.processName;
  }
  return row.pid !== undefined ? `pid ${row.pid}` : NONE;
}

/** "1.50K" from 1536: formatBytes without the space and the B of multiples, for narrow columns. */
export function compactBytes(n: number): string {
  const s = formatBytes(n);
  return s.endsWith(' B') ? `${s.slice(0, -2)}B` : s.replace(/ ([KMGTP])B$/, '$1');
}

/** Widest full Down/Up text: `1023 KB/s / 1023 KB/s`. */
export const FULL_RATE_WIDTH = 21;

/**
 * Down/Up in the form the column's width allows for every row alike (rows in two formats would not read as
 * one column): the full `1.50 KB/s / 12.3 MB/s`, else `1.50K/12.3M`.
 */
export function rateText(receiveBps: number, sendBps: number, width: number): string {
  return width >= FULL_RATE_WIDTH
    ? `${formatRate(receiveBps)} / ${formatRate(sendBps)}`
    : `${compactBytes(receiveBps)}/${compactBytes(sendBps)}`;
}

/** The raw (unescaped, unfitted) text of one cell. */
export function cellText(id: ColumnId, row: ConnectionRow, opts: DisplayOptions, width: number): string {
  switch (id) {
    case 'protocol': return row.protocol;
    case 'local': return localText(row, opts);
    case 'remote': return remoteText(row, opts);
    // A closed connection (history, `t`) says so rather than show its last state.
    case 'state': return row.closedAtMicros !== undefined ? 'CLOSED' : row.state;
    case 'service': return serviceText(row, opts);
    case 'application': return applicationText(row);
    case 'bandwidth': return rateText(row.receiveRateBps, row.sendRateBps, width);
    case 'process': return processText(row);
  }
}
