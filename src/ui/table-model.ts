// The Overview's connection table as text: rows filtered, sorted and grouped, cells built for visible rows only.
//
// `buildTable` is pure: Snapshot + view state + size in, tagged lines out (blessed tags, no blessed import).
// Every string from the network or the host goes through displaySafe before it is cut to its column and
// through tagSafe before it joins tagged text, so widths are counted on what the terminal will show.
// Colours: staleness (idle / timeout) yellow from 75 %, red above 90 %; closed (history) rows grey; none of it
// with `color: false`, which keeps only {inverse} (selection), {bold} and {underline} (headers, groups).

import type { ConnectionRow, Snapshot } from '../core/snapshot.js';
import { displaySafe, tagSafe } from './sanitize.js';
import { fit, formatCount } from './format.js';
import {
  GAP, NONE, cellText, columnTitle, layoutColumns, rateText, shownAddress, type DisplayOptions, type LaidOutColumn,
} from './columns.js';
import { compileFilter, matchesFilter, type ParsedFilter } from './filter.js';
import { groupRows, sortRows, type RowGroup } from './sort.js';
import { groupKey, isGroupKey, rowKey, scrollFor, type Frame, type ViewState } from './view-state.js';

export interface TableModel {
  /** e.g. "Active Connections (Sort: Down/Up ↓) 12 of 340"; plain text, names the sort. */
  readonly title: string;
  /** One tagged line, exactly `width` columns wide when tags are stripped. */
  readonly header: string;
  /** Tagged lines for the VISIBLE rows only (at most `height`), each `width` wide. */
  readonly lines: readonly string[];
  /** Row keys of ALL rows after filter/sort/group, in display order. */
  readonly keys: readonly string[];
  /** -1 when empty. */
  readonly selectedIndex: number;
  readonly scrollTop: number;
  /** For Details and copy; null when empty or a group row is selected. */
  readonly selected: ConnectionRow | null;
  /** Tagged: the prompt while editing ("/sni:goo█"), the kept filter, or an invalid-regex hint; null without filter. */
  readonly filterLine: string | null;
  /** State with selection/scroll normalised to what is shown (the app keeps this); the same object if unchanged. */
  readonly state: ViewState;
  /** What `reduce` needs about this table. */
  readonly frame: Frame;
  readonly columns: readonly LaidOutColumn[];
  /** Connections after the filter, and before it (both count closed ones when history is shown). */
  readonly shownCount: number;
  readonly totalCount: number;
  /** Plain text for an empty table ("No connections match the filter"), else null. */
  readonly emptyMessage: string | null;
}

export interface TableContext {
  readonly nowMicros: number;
  /**
   * Closed connections the app keeps; shown only with `t`. Filter and sort results are reused while the
   * snapshot's connections and this array are the same objects, so pass a new array when it changes (appending
   * to the same array is also noticed; rewriting its middle in place is not).
   */
  readonly history: readonly ConnectionRow[];
  readonly color: boolean;
}

export type Staleness = 'fresh' | 'stale' | 'critical';

/** How close a row is to its timeout: fresh < 75 %, stale 75–90 %, critical > 90 %. */
export function staleness(row: ConnectionRow, nowMicros: number): Staleness {
  if (!(row.timeoutMicros > 0)) return 'fresh';
  const ratio = (nowMicros - row.lastSeenMicros) / row.timeoutMicros;
  if (ratio > 0.9) return 'critical';
  if (ratio >= 0.75) return 'stale';
  return 'fresh';
}

/** History rows not also in the active table (active wins), one per id (the last kept). */
function closedRows(active: readonly ConnectionRow[], history: readonly ConnectionRow[]): ConnectionRow[] {
  const byId = new Map<number, ConnectionRow>();
  for (const row of history) byId.set(row.id, row);
  // The history is bounded and small; the active table may be huge, so probe the small map.
  for (const row of active) if (byId.has(row.id)) byId.delete(row.id);
  return [...byId.values()];
}

/** A cell: raw text made display-safe, cut/padded to `width`, then brace-escaped for blessed's tag parser. */
function cell(raw: string, width: number): string {
  // displaySafe first so the cut counts escapes (`\x1b`) as the terminal shows them; no second length limit.
  return tagSafe(fit(displaySafe(raw), width, true), Number.POSITIVE_INFINITY);
}

function headerLine(columns: readonly LaidOutColumn[], state: ViewState, color: boolean): string {
  const parts = columns.map(({ def, width }) => {
    const active = state.sort.column === def.id;
    if (!active) {
      const label = def.header.length <= width ? def.header : def.shortHeader;
      return `{bold}${fit(label, width, true)}{/bold}`;
    }
    const arrow = state.sort.descending ? '↓' : '↑';
    const room = Math.max(0, width - 2);
    const label = def.header.length <= room ? def.header : def.shortHeader;
    // The arrow always shows, even when the label has to be cut for it.
    const text = width >= 2 ? `${fit(label, room)} ${arrow}`.padEnd(width) : arrow.slice(0, width);
    return color
      ? `{bold}{cyan-fg}{underline}${text}{/underline}{/cyan-fg}{/bold}`
      : `{bold}{underline}${text}{/underline}{/bold}`;
  });
  return parts.join(' '.repeat(GAP));
}

function titleText(state: ViewState, shown: number, total: number, filtered: boolean, groups: number | null): string {
  let title = state.showHistory ? 'Connections (active + closed)' : 'Active Connections';
  if (state.sort.column !== null) {
    title += ` (Sort: ${columnTitle(state.sort.column)} ${state.sort.descending ? '↓' : '↑'})`;
  } else if (state.sort.descending) {
    title += ' (Sort: newest first)';
  }
  title += filtered ? ` ${formatCount(shown)} of ${formatCount(total)}` : ` ${formatCount(total)}`;
  if (groups !== null) {
    const by = state.grouping === 'unit' ? 'systemd unit' : state.grouping;
    title += ` · ${formatCount(groups)} ${groups === 1 ? 'group' : 'groups'} by ${by}`;
  }
  return title;
}

/**
 * The filter line, at most `width` wide: `/text█` while editing (the tail of a long filter), `Filter: text`
 * when kept, followed by the invalid-regex hints or, when kept, how to change it.
 */
function filterLineText(state: ViewState, filter: ParsedFilter, width: number, color: boolean): string | null {
  if (!state.filterEditing && state.filterText === '') return null;
  const safe = displaySafe(state.filterText, Number.POSITIVE_INFINITY);
  let shown: string;
  let used: number;
  if (state.filterEditing) {
    // The cursor sits at the end; a long filter shows its tail, as a prompt would.
    const room = Math.max(0, width - 2);
    const tail = safe.length > room ? `…${safe.slice(safe.length - room + 1)}` : safe;
    shown = `/${tagSafe(room > 0 ? tail : '', Number.POSITIVE_INFINITY)}█`;
    used = 2 + Math.min(safe.length, room);
  } else {
    const label = 'Filter: ';
    const room = Math.max(0, width - label.length);
    shown = `${label}${tagSafe(fit(safe, room), Number.POSITIVE_INFINITY)}`;
    used = label.length + Math.min(safe.length, room);
  }
  const invalid = filter.errors.length > 0;
  let note = invalid ? `  ${filter.errors.join('; ')}` : state.filterEditing ? '' : '  (/ edit, Esc clear)';
  note = fit(note, Math.max(0, width - used));
  if (note === '') return shown;
  const safeNote = tagSafe(note, Number.POSITIVE_INFINITY);
  if (!color) return `${shown}${safeNote}`;
  return invalid ? `${shown}{red-fg}${safeNote}{/red-fg}` : `${shown}{gray-fg}${safeNote}{/gray-fg}`;
}

function rowLine(
  row: ConnectionRow, closed: boolean, columns: readonly LaidOutColumn[], opts: DisplayOptions,
  selected: boolean, ctx: TableContext,
): string {
  const body = columns.map(({ def, width }) => cell(cellText(def.id, row, opts, width), width)).join(' '.repeat(GAP));
  let colour: string | null = null;
  if (ctx.color) {
    if (closed) colour = 'gray';
    else {
      const level = staleness(row, ctx.nowMicros);
      colour = level === 'critical' ? 'red' : level === 'stale' ? 'yellow' : null;
    }
  }
  let line = colour === null ? body : `{${colour}-fg}${body}{/${colour}-fg}`;
  if (selected) line = `{inverse}${line}{/inverse}`;
  return line;
}

function groupLine(
  group: RowGroup, expanded: boolean, columns: readonly LaidOutColumn[], selected: boolean,
): string {
  const count = group.members.length;
  const label = `${expanded ? '▾' : '▸'} ${group.value ?? NONE}  ${formatCount(count)} ${count === 1 ? 'connection' : 'connections'}`;
  // The label spans every column before Down/Up; the summed rates sit in Down/Up; later columns stay blank.
  const bw = columns.findIndex((c) => c.def.id === 'bandwidth');
  const span = bw > 0 ? bw : columns.length;
  const spanWidth = columns.slice(0, span).reduce((s, c) => s + c.width, 0) + GAP * (span - 1);
  const parts = [cell(label, spanWidth)];
  for (let i = span; i < columns.length; i++) {
    const { def, width } = columns[i]!;
    parts.push(cell(def.id === 'bandwidth' ? rateText(group.receiveBps, group.sendBps, width) : '', width));
  }
  const line = `{bold}${parts.join(' '.repeat(GAP))}{/bold}`;
  return selected ? `{inverse}${line}{/inverse}` : line;
}

interface Ordered {
  readonly rows: readonly ConnectionRow[];
  readonly activeCount: number;
  /** Row indices after filter and sort. */
  readonly sorted: readonly number[];
  /** Ids of `sorted`, same order: selection lookups scan this instead of building 100,000 key strings. */
  readonly sortedIds: Float64Array;
  /** Groups when grouping is on, else null. */
  readonly groups: readonly RowGroup[] | null;
  /** Keys of `sorted` (grouping off), built on first use and kept with the result. */
  flatKeys: string[] | null;
}

/** Inputs of the last filter + sort, and what they gave: a tick with nothing new reuses it. */
let lastOrdered: {
  connections: readonly ConnectionRow[];
  history: readonly ConnectionRow[];
  /** The history's length and ends too, in case the app appends to one array instead of replacing it. */
  historyLength: number;
  historyFirst: ConnectionRow | undefined;
  historyLast: ConnectionRow | undefined;
  filter: ParsedFilter;
  showHistory: boolean;
  column: string | null;
  descending: boolean;
  showHostnames: boolean;
  showPortNumbers: boolean;
  grouping: string;
  result: Ordered;
} | null = null;

/** Rows (active, plus closed with `t`), filtered, sorted and grouped; remembered for identical inputs. */
function orderedRows(
  snapshot: Snapshot, state: ViewState, ctx: TableContext, filter: ParsedFilter, opts: DisplayOptions,
): Ordered {
  const last = lastOrdered;
  if (
    last !== null && last.connections === snapshot.connections && last.history === ctx.history &&
    last.historyLength === ctx.history.length && last.historyFirst === ctx.history[0] &&
    last.historyLast === ctx.history[ctx.history.length - 1] && last.filter === filter && last.showHistory === state.showHistory && last.column === state.sort.column &&
    last.descending === state.sort.descending && last.showHostnames === state.showHostnames &&
    last.showPortNumbers === state.showPortNumbers && last.grouping === state.grouping
  ) {
    return last.result;
  }
  const active = snapshot.connections;
  const rows: readonly ConnectionRow[] =
    state.showHistory && ctx.history.length > 0 ? active.concat(closedRows(active, ctx.history)) : active;
  let order: number[];
  if (filter.terms.length === 0) {
    order = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) order[i] = i;
  } else {
    order = [];
    for (let i = 0; i < rows.length; i++) if (matchesFilter(filter, rows[i]!)) order.push(i);
  }
  const sorted = sortRows(rows, order, state.sort, opts);
  // Ids read in row order (cache friendly), then permuted through a typed array rather than the row objects.
  const idOfRow = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) idOfRow[i] = rows[i]!.id;
  const sortedIds = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) sortedIds[i] = idOfRow[sorted[i]!]!;
  const groups = state.grouping === 'off' ? null : groupRows(rows, sorted, state.grouping, state.sort);
  const result: Ordered = { rows, activeCount: active.length, sorted, sortedIds, groups, flatKeys: null };
  lastOrdered = {
    connections: snapshot.connections, history: ctx.history, historyLength: ctx.history.length,
    historyFirst: ctx.history[0], historyLast: ctx.history[ctx.history.length - 1], filter, showHistory: state.showHistory,
    column: state.sort.column, descending: state.sort.descending, showHostnames: state.showHostnames,
    showPortNumbers: state.showPortNumbers, grouping: state.grouping, result,
  };
  return result;
}

/**
 * The table for `width` columns and `height` rows of connections (the header line is extra). Filter, sort and
 * grouping run over all rows; strings are built for the visible rows only. Without grouping, `keys` (also
 * `frame.keys`) is built on first read: the app needs it only when a key or mouse event arrives.
 */
export function buildTable(
  snapshot: Snapshot, state: ViewState, width: number, height: number, ctx: TableContext,
): TableModel {
  const opts: DisplayOptions = { showHostnames: state.showHostnames, showPortNumbers: state.showPortNumbers };
  const filter = compileFilter(state.filterText);
  const ordered = orderedRows(snapshot, state, ctx, filter, opts);
  const { rows, activeCount, sorted, sortedIds, groups } = ordered;

  // Display entries: a row index, or -1 for a group row (its group in `entryGroup`).
  let n: number;
  let entryRow: readonly number[];
  let entryGroup: (RowGroup | null)[] | null = null;
  let keyAt: (i: number) => string;
  let indexOfKey: (key: string) => number;
  let allKeys: () => readonly string[];
  if (groups === null) {
    n = sorted.length;
    entryRow = sorted;
    keyAt = (i) => rowKey(sortedIds[i]!);
    indexOfKey = (key) => {
      if (isGroupKey(key)) return -1;
      const id = Number(key);
      for (let i = 0; i < sortedIds.length; i++) if (sortedIds[i] === id) return i;
      return -1;
    };
    allKeys = () => {
      if (ordered.flatKeys === null) {
        const keys = new Array<string>(sortedIds.length);
        for (let i = 0; i < sortedIds.length; i++) keys[i] = rowKey(sortedIds[i]!);
        ordered.flatKeys = keys;
      }
      return ordered.flatKeys;
    };
  } else {
    const keys: string[] = [];
    const entries: number[] = [];
    entryGroup = [];
    for (const g of groups) {
      const gk = groupKey(state.grouping, g.value);
      keys.push(gk);
      entries.push(-1);
      entryGroup.push(g);
      if (!state.expanded.has(gk)) continue;
      for (const index of g.members) {
        keys.push(rowKey(rows[index]!.id));
        entries.push(index);
        entryGroup.push(null);
      }
    }
    n = keys.length;
    entryRow = entries;
    keyAt = (i) => keys[i]!;
    indexOfKey = (key) => keys.indexOf(key);
    allKeys = () => keys;
  }
  const groupCount = groups === null ? null : groups.length;

  // Selection follows its key; a vanished row leaves the selection at the same index, clamped.
  const rowsShown = Math.max(0, height);
  let next = state;
  let selectedIndex = -1;
  if (n > 0) {
    let index = -1;
    if (state.selectedKey !== null) {
      const kept = state.selectedIndex >= 0 && state.selectedIndex < n && keyAt(state.selectedIndex) === state.selectedKey;
      index = kept ? state.selectedIndex : indexOfKey(state.selectedKey);
    }
    if (index < 0) index = Math.min(Math.max(0, state.selectedIndex), n - 1);
    const scrollTop = scrollFor(index, state.scrollTop, rowsShown, n);
    const key = keyAt(index);
    if (key !== state.selectedKey || index !== state.selectedIndex || scrollTop !== state.scrollTop) {
      next = { ...state, selectedKey: key, selectedIndex: index, scrollTop };
    }
    selectedIndex = index;
  } else if (state.scrollTop !== 0) {
    // Keep the selected key (it may come back when the filter changes), but nothing is scrolled.
    next = { ...state, scrollTop: 0 };
  }
  const scrollTop = next.scrollTop;

  const columns = layoutColumns(width);
  const lines: string[] = [];
  const end = Math.min(n, scrollTop + rowsShown);
  for (let i = scrollTop; i < end; i++) {
    const index = entryRow[i]!;
    const isSelected = i === selectedIndex;
    if (index < 0) {
      const g = entryGroup![i]!;
      lines.push(groupLine(g, state.expanded.has(keyAt(i)), columns, isSelected));
    } else {
      lines.push(rowLine(rows[index]!, index >= activeCount, columns, opts, isSelected, ctx));
    }
  }

  const selectedRowIndex = selectedIndex >= 0 ? entryRow[selectedIndex]! : -1;
  const remoteOf = (key: string): string | null => {
    const at = selectedIndex >= 0 && keyAt(selectedIndex) === key ? selectedIndex : indexOfKey(key);
    const index = at >= 0 ? entryRow[at]! : -1;
    if (index < 0) return null;
    const row = rows[index]!;
    return shownAddress(row.remoteAddr, row.remoteHostname, opts);
  };
  const filtered = filter.terms.length > 0;
  const connectionsShown = sorted.length;
  let emptyMessage: string | null = null;
  if (n === 0) {
    emptyMessage = rows.length === 0 ? 'No connections yet' : 'No connections match the filter';
  }
  return {
    title: titleText(state, connectionsShown, rows.length, filtered, groupCount),
    header: width > 0 ? headerLine(columns, state, ctx.color) : '',
    lines,
    get keys() {
      return allKeys();
    },
    selectedIndex,
    scrollTop,
    selected: selectedRowIndex >= 0 ? rows[selectedRowIndex]! : null,
    filterLine: filterLineText(state, filter, width, ctx.color),
    state: next,
    frame: {
      get keys() {
        return allKeys();
      },
      pageSize: rowsShown,
      remoteOf,
    },
    columns,
    shownCount: connectionsShown,
    totalCount: rows.length,
    emptyMessage,
  };
}
