// Help screen: every key, the filter syntax and what the row colours mean, wrapped to the width.

import { cutTagged, paint, textWidth, wrapWords, type Style } from './tags.js';

type Entry = readonly [keys: string, what: string];

interface Group {
  readonly title: string;
  readonly entries: readonly Entry[];
}

const GROUPS: readonly Group[] = [
  {
    title: 'Navigation',
    entries: [
      ['↑ / k', 'previous connection'],
      ['↓ / j', 'next connection'],
      ['g / G', 'first / last connection'],
      ['PgUp / PgDn', 'one screen up / down (Help, Graph, Interfaces: ↑/↓ and PgUp/PgDn scroll the page)'],
      ['mouse', 'click selects, double-click opens details, wheel scrolls'],
    ],
  },
  {
    title: 'Views',
    entries: [
      ['Tab / Shift+Tab', 'next / previous tab'],
      ['1 – 5', 'jump to a tab: Overview, Details, Interfaces, Graph, Help'],
      ['Enter', 'details of the selected connection'],
      ['i', 'interface statistics (toggle)'],
      ['h / ?', 'this help (toggle)'],
      ['Esc', 'go back; on the Overview, clear the filter'],
    ],
  },
  {
    title: 'Actions',
    entries: [
      ['/', 'filter (live while typing; arrows still move)'],
      ['a', 'group rows by process, then systemd unit, then container, then none; a group row counts its connections and sums their rates; Enter or → opens it, ← closes it'],
      ['t', 'show closed connections too (greyed; bounded history)'],
      ['x', 'clear closed connections (press twice to confirm)'],
      ['r', 'reset the view: sort, filter, grouping, toggles and selection'],
      ['c', 'copy the remote address (clipboard tool, else the terminal via OSC 52)'],
      ['p', 'service names ↔ port numbers'],
      ['d', 'hostnames ↔ IP addresses (when names are known)'],
    ],
  },
  {
    title: 'Sorting',
    entries: [
      ['s', 'next sort column, left to right, then back to chronological'],
      ['S', 'flip the sort direction'],
      ['', 'columns: Protocol, Local, Remote, State, Service, Application, Down/Up, Process'],
      ['', 'bandwidth sorts by down + up, highest first; text columns A→Z'],
    ],
  },
  {
    title: 'Quit',
    entries: [
      ['q q', 'quit (press q twice)'],
      ['Ctrl+C', 'quit at once'],
    ],
  },
];

const FILTER_KEYWORDS: readonly Entry[] = [
  ['port:', 'either port contains it (port:44 → 443, 8443)'],
  ['sport:', 'source port'],
  ['dport:', 'destination port'],
  ['src:', 'source address or hostname'],
  ['dst:', 'destination address or hostname'],
  ['process:', 'process name'],
  ['sni:', 'TLS / QUIC server name'],
  ['ssh:', 'SSH version or software'],
  ['state:', 'connection state (state:established, state:syn_recv)'],
  ['proto:', 'protocol (proto:tcp, proto:udp)'],
  ['service:', 'service name (service:https)'],
  ['app:', 'application protocol (app:dns, app:quic)'],
  ['unit:', 'systemd unit of the process'],
  ['container:', 'container name or id'],
];

const FILTER_NOTES: readonly string[] = [
  'Keywords are case-insensitive. Text without a keyword matches any field.',
  'A value between slashes is a regular expression: sni:/^api\\./ or /goo+gle/.',
  'Terms separated by spaces must all match (AND): proto:tcp dport:443 sni:github',
  'Enter keeps the filter, Esc clears it; an invalid regular expression shows a hint.',
];

const STALENESS: readonly [Style | null, string, string][] = [
  [null, 'white', 'active: idle under 75 % of its timeout'],
  ['yellow', 'yellow', 'stale: 75–90 % of its timeout'],
  ['red', 'red', 'about to be removed: over 90 % of its timeout'],
];

/** `keys  what` (keys bold, in `style` when given), the description wrapped under itself. */
function entryLines(
  keys: string, what: string, keyWidth: number, width: number, color: boolean, style: Style | null = null,
): string[] {
  // Keys too long for their column, or a screen too narrow for two columns: the description goes below.
  const narrow = width - keyWidth - 1 < 16;
  const stacked = narrow || textWidth(keys) > keyWidth;
  const indent = narrow ? 2 : keyWidth + 1;
  const desc = wrapWords(what, width - indent);
  const key = paint(keys, style === null ? 'bold' : ['bold', style], color);
  if (stacked) return [...(keys === '' ? [] : [key]), ...desc.map((l) => ' '.repeat(indent) + l)];
  return desc.map((l, i) => `${i === 0 ? key + ' '.repeat(Math.max(0, keyWidth - textWidth(keys))) : ' '.repeat(keyWidth)} ${l}`);
}

/** The Help screen for a box `width` columns wide (the app scrolls it when taller than the box). */
export function helpLines(width: number, color: boolean): string[] {
  if (width <= 0) return [];
  const keyWidth = Math.min(16, Math.max(6, Math.floor(width * 0.3)));
  const out: string[] = [];
  const heading = (text: string): void => {
    if (out.length > 0) out.push('');
    for (const l of wrapWords(text, width)) out.push(paint(l, ['bold', 'cyan'], color));
  };
  out.push(paint('rustnet-ts — keys', 'bold', color));
  for (const g of GROUPS) {
    heading(g.title);
    for (const [keys, what] of g.entries) out.push(...entryLines(keys, what, keyWidth, width, color));
  }
  heading('Filter keywords');
  for (const [keys, what] of FILTER_KEYWORDS) out.push(...entryLines(keys, what, keyWidth, width, color));
  out.push('');
  for (const note of FILTER_NOTES) out.push(...wrapWords(note, width));
  heading('Row colours (time idle against the connection\'s timeout)');
  for (const [style, name, what] of STALENESS) out.push(...entryLines(name, what, keyWidth, width, color, style));
  out.push(...wrapWords('Closed connections (t) are grey.', width).map((l) => paint(l, 'gray', color)));
  return out.map((l) => cutTagged(l, width));
}
