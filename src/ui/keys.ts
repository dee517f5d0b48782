// Keys and mouse events → Actions for the view-state reducer; what a key means depends on the tab and filter mode.
//
// blessed reports Enter twice ('return' then 'enter'); only 'enter' is mapped, so one press acts once. Printable
// characters are read from `ch`, else from a one-character `full`, else from a letter `name` (+ shift).
// In the filter prompt the cursor stays at the end: text is appended, Backspace deletes the last character,
// Ctrl+U empties the prompt; ←/→ do nothing there, ↑/↓/PgUp/PgDn/Home/End still move the selection.

import type { KeyInput, MouseInput, Tab, ViewState } from './view-state.js';
import { TABS } from './view-state.js';

export type Action =
  // Selection (rows in display order).
  | { kind: 'move'; delta: number }
  | { kind: 'page'; pages: number }
  /** Help, Graph, Interfaces (no rows to select): scroll the page by lines and screens, or to an end. */
  | { kind: 'scrollPage'; lines: number; pages: number }
  | { kind: 'scrollPageTo'; end: boolean }
  | { kind: 'first' }
  | { kind: 'last' }
  /** Mouse wheel: view and selection move by `delta` rows. */
  | { kind: 'scroll'; delta: number }
  /** Mouse: `rowIndex` in display order (see MouseInput); `open` for a double click (details, or toggle a group). */
  | { kind: 'clickRow'; rowIndex: number; open: boolean }
  // Tabs.
  | { kind: 'nextTab' }
  | { kind: 'prevTab' }
  | { kind: 'gotoTab'; tab: Tab }
  /** `i` / `h`: open that tab, or go back if it is the one shown. */
  | { kind: 'toggleTab'; tab: 'interfaces' | 'help' }
  /** Enter: details of the selected connection, or expand/collapse the selected group. */
  | { kind: 'enter' }
  | { kind: 'expand' }
  | { kind: 'collapse' }
  /** Esc outside the filter prompt: previous tab, or on the Overview clear the filter. */
  | { kind: 'back' }
  // Filter prompt.
  | { kind: 'filterStart' }
  | { kind: 'filterInput'; text: string }
  | { kind: 'filterBackspace' }
  | { kind: 'filterClearText' }
  | { kind: 'filterCommit' }
  | { kind: 'filterCancel' }
  // Table options.
  | { kind: 'sortNext' }
  | { kind: 'sortFlip' }
  | { kind: 'groupNext' }
  | { kind: 'toggleHistory' }
  /** `x`: first press asks, second clears. */
  | { kind: 'clearHistory' }
  | { kind: 'reset' }
  | { kind: 'togglePorts' }
  | { kind: 'toggleHostnames' }
  | { kind: 'copy' }
  /** `q`: first press asks, second quits. */
  | { kind: 'quit' }
  /** Ctrl+C. */
  | { kind: 'quitNow' }
  /** A key with no meaning here: it still cancels a pending q/x. */
  | { kind: 'cancel' };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The printable text a key types, or null (control keys, Ctrl/Meta chords, named keys such as arrows). */
export function printable(key: KeyInput): string | null {
  if (key.ctrl === true || key.meta === true) return null;
  if (key.name === 'space') return ' ';
  if (key.ch !== undefined && key.ch !== '') return CONTROL.test(key.ch) ? null : key.ch;
  if (key.full !== undefined && Array.from(key.full).length === 1 && !CONTROL.test(key.full)) return key.full;
  if (key.name !== undefined && /^[a-z]$/.test(key.name)) return key.shift === true ? key.name.toUpperCase() : key.name;
  return null;
}

/** Selection moves shared by normal and filter mode. */
function navigation(key: KeyInput): Action | null {
  switch (key.name) {
    case 'up': return { kind: 'move', delta: -1 };
    case 'down': return { kind: 'move', delta: 1 };
    case 'pageup': return { kind: 'page', pages: -1 };
    case 'pagedown': return { kind: 'page', pages: 1 };
    case 'home': return { kind: 'first' };
    case 'end': return { kind: 'last' };
    default: return null;
  }
}

const NAVIGATES: ReadonlySet<Tab> = new Set<Tab>(['overview', 'details']);

/** A selection move, on a page without rows: the same key scrolls the page. */
function pageScroll(nav: Action): Action | null {
  switch (nav.kind) {
    case 'move': return { kind: 'scrollPage', lines: nav.delta, pages: 0 };
    case 'page': return { kind: 'scrollPage', lines: 0, pages: nav.pages };
    case 'first': return { kind: 'scrollPageTo', end: false };
    case 'last': return { kind: 'scrollPageTo', end: true };
    default: return null;
  }
}

export function keyToAction(key: KeyInput, state: ViewState): Action | null {
  const nothing: Action | null = state.pending !== null ? { kind: 'cancel' } : null;
  if (key.ctrl === true && key.name === 'c') return { kind: 'quitNow' };

  if (state.filterEditing) {
    // The prompt has the keyboard: letters are text, not commands; arrows still move the selection.
    switch (key.name) {
      case 'enter': return { kind: 'filterCommit' };
      case 'escape': return { kind: 'filterCancel' };
      case 'backspace': return { kind: 'filterBackspace' };
      case 'return':
      case 'linefeed': return null;
      default: break;
    }
    if (key.ctrl === true && key.name === 'u') return { kind: 'filterClearText' };
    const nav = navigation(key);
    if (nav !== null) return nav;
    const text = printable(key);
    return text !== null ? { kind: 'filterInput', text } : nothing;
  }

  const nav = navigation(key);
  if (nav !== null) return NAVIGATES.has(state.tab) ? nav : pageScroll(nav) ?? nothing;
  switch (key.name) {
    case 'tab': return key.shift === true ? { kind: 'prevTab' } : { kind: 'nextTab' };
    case 'enter': return state.tab === 'overview' ? { kind: 'enter' } : nothing;
    case 'return':
    case 'linefeed': return null;
    case 'escape': return { kind: 'back' };
    case 'right': return state.tab === 'overview' && state.grouping !== 'off' ? { kind: 'expand' } : nothing;
    case 'left': return state.tab === 'overview' && state.grouping !== 'off' ? { kind: 'collapse' } : nothing;
    default: break;
  }
  if (key.ctrl === true || key.meta === true) return nothing;

  const ch = printable(key);
  const navigates = NAVIGATES.has(state.tab);
  switch (ch) {
    case 'k': return navigates ? { kind: 'move', delta: -1 } : { kind: 'scrollPage', lines: -1, pages: 0 };
    case 'j': return navigates ? { kind: 'move', delta: 1 } : { kind: 'scrollPage', lines: 1, pages: 0 };
    case 'g': return navigates ? { kind: 'first' } : { kind: 'scrollPageTo', end: false };
    case 'G': return navigates ? { kind: 'last' } : { kind: 'scrollPageTo', end: true };
    case '1': case '2': case '3': case '4': case '5':
      return { kind: 'gotoTab', tab: TABS[Number(ch) - 1]! };
    case 'i': return { kind: 'toggleTab', tab: 'interfaces' };
    case 'h':
    case '?': return { kind: 'toggleTab', tab: 'help' };
    case '/': return { kind: 'filterStart' };
    case 's': return { kind: 'sortNext' };
    case 'S': return { kind: 'sortFlip' };
    case 'a': return { kind: 'groupNext' };
    case 't': return { kind: 'toggleHistory' };
    case 'x': return { kind: 'clearHistory' };
    case 'r': return { kind: 'reset' };
    case 'p': return { kind: 'togglePorts' };
    case 'd': return { kind: 'toggleHostnames' };
    case 'c': return navigates ? { kind: 'copy' } : nothing;
    case 'q': return { kind: 'quit' };
    default: return nothing;
  }
}

/** Mouse events act on the Overview's table only. */
export function mouseToAction(m: MouseInput, state: ViewState): Action | null {
  if (state.tab !== 'overview') return null;
  switch (m.kind) {
    case 'click': return { kind: 'clickRow', rowIndex: m.rowIndex, open: false };
    case 'doubleclick': return { kind: 'clickRow', rowIndex: m.rowIndex, open: true };
    case 'wheelup': return { kind: 'scroll', delta: -3 };
    case 'wheeldown': return { kind: 'scroll', delta: 3 };
  }
}
