// The terminal UI's view state (tab, selection, filter, sort, grouping, toggles) and the pure reducer over it.
//
// Every key and mouse event becomes an Action (keys.ts); `reduce` turns (state, action, what is on screen) into
// the next state plus effects the app performs (quit, copy, clear history) and a one-line status message.
// Choices worth knowing:
// - Selection is held by row key (connection id, or a group key) so it follows its connection through re-sorts
//   and new rows; `selectedIndex` is the fallback when that row disappears (same index, clamped).
// - PgUp/PgDn move by one page (the table's visible height), not a fixed 10 rows: on a tall terminal ten rows
//   is a fraction of the screen, on a short one more than it.
// - The mouse wheel scrolls the view by 3 rows and carries the selection along by the same amount, so the
//   selection stays visible (the table always keeps it in view).
// - `a` cycles grouping: off → process → systemd unit → container → off; expanded groups are forgotten on change.
// - `S` on the chronological order flips it to newest first (no header indicator; the title says so).
// - Navigation keys act on the Overview and the Details view (to step through connections' details); the
//   Interfaces, Graph and Help screens leave them to the app.

import type { Action } from './keys.js';
import { COLUMN_ORDER, columnDef, type ColumnId } from './columns.js';

export type Tab = 'overview' | 'details' | 'interfaces' | 'graph' | 'help';
/** In tab order: what Tab / Shift+Tab cycle through and `1`–`5` jump to. */
export const TABS: readonly Tab[] = ['overview', 'details', 'interfaces', 'graph', 'help'];

/** `column: null` is the chronological order (first seen, then id). */
export interface SortState {
  readonly column: ColumnId | null;
  readonly descending: boolean;
}

export type Grouping = 'off' | 'process' | 'unit' | 'container';
/** The order `a` cycles through. */
export const GROUPINGS: readonly Grouping[] = ['off', 'process', 'unit', 'container'];

/** A confirmation waiting for its second key. */
export type Pending = 'quit' | 'clear' | null;

export interface ViewState {
  readonly tab: Tab;
  /** Where Esc goes back to from `tab`. */
  readonly previousTab: Tab;
  /** Key of the selected row (see rowKey / groupKey), null before anything was shown. */
  readonly selectedKey: string | null;
  /** Position of the selection in display order; used when the selected row is gone. */
  readonly selectedIndex: number;
  /** First visible row. */
  readonly scrollTop: number;
  readonly filterText: string;
  /** The filter prompt has the keyboard. */
  readonly filterEditing: boolean;
  readonly sort: SortState;
  readonly grouping: Grouping;
  /** Keys of the expanded groups. */
  readonly expanded: ReadonlySet<string>;
  /** `t`: closed connections shown (greyed). */
  readonly showHistory: boolean;
  /** `p`: Service column shows port numbers. */
  readonly showPortNumbers: boolean;
  /** `d`: hostnames instead of IPs. */
  readonly showHostnames: boolean;
  readonly pending: Pending;
  /** First line shown of a page taller than the screen (Help, Graph, Interfaces); the painter clamps it. */
  readonly pageTop: number;
}

export function initialViewState(): ViewState {
  return {
    tab: 'overview',
    previousTab: 'overview',
    selectedKey: null,
    selectedIndex: 0,
    scrollTop: 0,
    filterText: '',
    filterEditing: false,
    sort: { column: null, descending: false },
    grouping: 'off',
    expanded: new Set<string>(),
    showHistory: false,
    showPortNumbers: false,
    showHostnames: false,
    pending: null,
    pageTop: 0,
  };
}

export type Effect =
  | { kind: 'quit' } // second q, or Ctrl+C
  | { kind: 'copy'; text: string } // c: the selected connection's remote address (as shown: IP or name)
  | { kind: 'clearHistory' }; // x confirmed (second x): the app forgets closed connections it holds

/** blessed's key object, reduced (the app merges blessed's separate `ch` argument into it). */
export interface KeyInput {
  readonly name?: string;
  readonly ch?: string;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly shift?: boolean;
  readonly full?: string;
}

/** `rowIndex`: the clicked row's position in display order (an index into Frame.keys: scrollTop + screen row). */
export type MouseInput = { kind: 'click' | 'doubleclick'; rowIndex: number } | { kind: 'wheelup' | 'wheeldown' };

/** What the reducer needs to know about what is on screen now (built by table-model). */
export interface Frame {
  /** Display order of row keys. */
  readonly keys: readonly string[];
  /** Rows the table shows at once. */
  readonly pageSize: number;
  /** The remote address as shown (IP or hostname, no port) of a connection row, null for groups/unknown keys. */
  readonly remoteOf?: (key: string) => string | null;
}

export interface Update {
  readonly state: ViewState;
  readonly effects: readonly Effect[];
  /**
   * One-line message for the status line, or null for none. Transient: confirmations are also kept in
   * `state.pending`, which the app can show for as long as it is set.
   */
  readonly status: string | null;
}

/** Row key of a connection: its id. */
export function rowKey(id: number): string {
  return String(id);
}

/**
 * Row key of a group: `g` + kind + `=` + value, or `-` for the group of rows without a value. Never collides with
 * a connection key (those are digits only).
 */
export function groupKey(grouping: Grouping, value: string | undefined): string {
  return value === undefined ? `g${grouping}-` : `g${grouping}=${value}`;
}

export function isGroupKey(key: string): boolean {
  return key.startsWith('g');
}

const MESSAGES = {
  quitPending: 'Press q again to quit',
  clearPending: 'Press x again to clear closed connections',
  cleared: 'Closed connections cleared',
  nothingToCopy: 'Nothing to copy: no connection selected',
  reset: 'View reset',
} as const;

export function reduce(state: ViewState, action: Action, frame: Frame): Update {
  // Any key other than the confirming one cancels a pending q or x.
  const pending = state.pending;
  const s: ViewState = pending === null ? state : { ...state, pending: null };
  // A page opens at its top.
  const done = (next: ViewState, status: string | null = null, effects: readonly Effect[] = []): Update => ({
    state: next.tab !== state.tab && next.pageTop !== 0 ? { ...next, pageTop: 0 } : next,
    effects,
    status,
  });

  switch (action.kind) {
    case 'scrollPage':
      return done({ ...s, pageTop: Math.max(0, s.pageTop + action.lines + action.pages * Math.max(1, frame.pageSize)) });
    case 'scrollPageTo':
      return done({ ...s, pageTop: action.end ? Number.MAX_SAFE_INTEGER : 0 });
    case 'move':
      return done(select(s, frame, currentIndex(s, frame) + action.delta));
    case 'page':
      return done(select(s, frame, currentIndex(s, frame) + action.pages * Math.max(1, frame.pageSize)));
    case 'first':
      return done(select(s, frame, 0));
    case 'last':
      return done(select(s, frame, frame.keys.length - 1));
    case 'scroll':
      return done(scroll(s, frame, action.delta));
    case 'clickRow': {
      if (action.rowIndex < 0 || action.rowIndex >= frame.keys.length) return done(s);
      const selected = select(s, frame, action.rowIndex);
      return action.open ? enter(selected, frame) : done(selected);
    }

    case 'nextTab':
    case 'prevTab': {
      const at = TABS.indexOf(s.tab);
      const step = action.kind === 'nextTab' ? 1 : TABS.length - 1;
      return done(toTab(s, TABS[(at + step) % TABS.length]!));
    }
    case 'gotoTab':
      return done(toTab(s, action.tab));
    case 'toggleTab':
      return done(s.tab === action.tab ? back(s) : toTab(s, action.tab));
    case 'enter':
      return enter(s, frame);
    case 'expand':
    case 'collapse':
      return done(expandCollapse(s, frame, action.kind === 'expand'));
    case 'back':
      if (s.tab !== 'overview') return done(back(s));
      return done(s.filterText === '' ? s : { ...s, filterText: '', filterEditing: false });

    case 'filterStart':
      return done({ ...toTab(s, 'overview'), filterEditing: true });
    case 'filterInput':
      return done({ ...s, filterText: s.filterText + action.text });
    case 'filterBackspace':
      return done({ ...s, filterText: dropLastChar(s.filterText) });
    case 'filterClearText':
      return done({ ...s, filterText: '' });
    case 'filterCommit':
      return done({ ...s, filterEditing: false });
    case 'filterCancel':
      return done({ ...s, filterText: '', filterEditing: false });

    case 'sortNext':
      return done({ ...s, sort: nextSort(s.sort) });
    case 'sortFlip':
      return done({ ...s, sort: { column: s.sort.column, descending: !s.sort.descending } });
    case 'groupNext': {
      const grouping = GROUPINGS[(GROUPINGS.indexOf(s.grouping) + 1) % GROUPINGS.length]!;
      const status = grouping === 'off' ? 'Grouping off' : `Grouped by ${grouping === 'unit' ? 'systemd unit' : grouping}`;
      return done({ ...s, grouping, expanded: new Set<string>() }, status);
    }
    case 'toggleHistory':
      return done(
        { ...s, showHistory: !s.showHistory },
        s.showHistory ? 'Closed connections hidden' : 'Closed connections shown',
      );
    case 'clearHistory':
      if (pending === 'clear') return done(s, MESSAGES.cleared, [{ kind: 'clearHistory' }]);
      return done({ ...s, pending: 'clear' }, MESSAGES.clearPending);
    case 'reset': {
      const fresh = initialViewState();
      return done({ ...fresh, tab: s.tab, previousTab: s.previousTab }, MESSAGES.reset);
    }
    case 'togglePorts':
      return done(
        { ...s, showPortNumbers: !s.showPortNumbers },
        s.showPortNumbers ? 'Service names shown' : 'Port numbers shown',
      );
    case 'toggleHostnames':
      return done(
        { ...s, showHostnames: !s.showHostnames },
        s.showHostnames ? 'IP addresses shown' : 'Hostnames shown (where known)',
      );
    case 'copy': {
      const index = currentIndex(s, frame);
      const key = frame.keys[index];
      const text = key === undefined ? null : (frame.remoteOf?.(key) ?? null);
      if (text === null) return done(s, MESSAGES.nothingToCopy);
      return done(s, null, [{ kind: 'copy', text }]);
    }
    case 'quit':
      if (pending === 'quit') return done(s, null, [{ kind: 'quit' }]);
      return done({ ...s, pending: 'quit' }, MESSAGES.quitPending);
    case 'quitNow':
      return done(s, null, [{ kind: 'quit' }]);
    case 'cancel':
      return done(s);
  }
}

/** Index of the selection in `frame`: the selected key's position, else the kept index clamped. */
export function currentIndex(state: ViewState, frame: Frame): number {
  const keys = frame.keys;
  if (keys.length === 0) return -1;
  if (state.selectedKey !== null) {
    // The kept index is right unless rows moved; only then search.
    if (keys[state.selectedIndex] === state.selectedKey) return state.selectedIndex;
    const found = keys.indexOf(state.selectedKey);
    if (found >= 0) return found;
  }
  return clamp(state.selectedIndex, 0, keys.length - 1);
}

/** Scroll position that keeps `index` visible, moving as little as possible. */
export function scrollFor(index: number, scrollTop: number, pageSize: number, count: number): number {
  const page = Math.max(1, pageSize);
  let top = scrollTop;
  if (index < top) top = index;
  else if (index >= top + page) top = index - page + 1;
  return clamp(top, 0, Math.max(0, count - page));
}

function select(state: ViewState, frame: Frame, index: number): ViewState {
  const n = frame.keys.length;
  if (n === 0) return state;
  const i = clamp(index, 0, n - 1);
  const key = frame.keys[i]!;
  const scrollTop = scrollFor(i, state.scrollTop, frame.pageSize, n);
  if (key === state.selectedKey && i === state.selectedIndex && scrollTop === state.scrollTop) return state;
  return { ...state, selectedKey: key, selectedIndex: i, scrollTop };
}

function scroll(state: ViewState, frame: Frame, delta: number): ViewState {
  const n = frame.keys.length;
  if (n === 0) return state;
  const page = Math.max(1, frame.pageSize);
  const top = clamp(state.scrollTop + delta, 0, Math.max(0, n - page));
  const i = clamp(currentIndex(state, frame) + delta, 0, n - 1);
  // The selection moves with the view; `select` then only nudges the view if the two disagree.
  return select({ ...state, scrollTop: top }, frame, i);
}

function toTab(state: ViewState, tab: Tab): ViewState {
  if (tab === state.tab) return state;
  return { ...state, tab, previousTab: state.tab, filterEditing: tab === 'overview' && state.filterEditing };
}

/** Esc (or a toggle key pressed again): to the previous tab, whose own "back" is the Overview. */
function back(state: ViewState): ViewState {
  const target = state.previousTab !== state.tab ? state.previousTab : 'overview';
  return { ...state, tab: target, previousTab: 'overview' };
}

function enter(state: ViewState, frame: Frame): Update {
  const key = frame.keys[currentIndex(state, frame)];
  if (key !== undefined && isGroupKey(key)) return { state: toggleGroup(state, key), effects: [], status: null };
  return { state: toTab(state, 'details'), effects: [], status: null };
}

function toggleGroup(state: ViewState, key: string): ViewState {
  const expanded = new Set(state.expanded);
  if (!expanded.delete(key)) expanded.add(key);
  return { ...state, expanded };
}

/** → expands the selected group; ← collapses it, or the group of the selected member (selecting the group). */
function expandCollapse(state: ViewState, frame: Frame, expand: boolean): ViewState {
  const index = currentIndex(state, frame);
  const key = frame.keys[index];
  if (key === undefined) return state;
  if (isGroupKey(key)) {
    if (state.expanded.has(key) === expand) return state;
    return toggleGroup(state, key);
  }
  if (expand) return state;
  for (let i = index - 1; i >= 0; i--) {
    const k = frame.keys[i]!;
    if (!isGroupKey(k)) continue;
    if (!state.expanded.has(k)) return state;
    return select(toggleGroup(state, k), frame, i);
  }
  return state;
}

/** `s`: chronological → first column → … → last column → chronological, each column in its default direction. */
export function nextSort(sort: SortState): SortState {
  const at = sort.column === null ? -1 : COLUMN_ORDER.indexOf(sort.column);
  const next = COLUMN_ORDER[at + 1];
  if (next === undefined) return { column: null, descending: false };
  return { column: next, descending: columnDef(next).defaultDescending };
}

function dropLastChar(s: string): string {
  // Whole code points, so a pasted emoji does not leave half a surrogate pair behind.
  const chars = Array.from(s);
  chars.pop();
  return chars.join('');
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
