// Keys and mouse → actions → reduce: every key of the Overview, tabs, filter prompt, confirmations and effects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyToAction, mouseToAction, printable } from '../src/ui/keys.js';
import {
  TABS, groupKey, initialViewState, reduce, type Frame, type KeyInput, type MouseInput, type Update, type ViewState,
} from '../src/ui/view-state.js';

/** 30 connection rows, keys "1".."30", 10 per page; remote address derived from the key. */
const FRAME: Frame = {
  keys: Array.from({ length: 30 }, (_, i) => String(i + 1)),
  pageSize: 10,
  remoteOf: (key) => (key.startsWith('g') ? null : `10.0.0.${key}`),
};

/** blessed-like key objects. */
const K = {
  ch: (ch: string): KeyInput => ({ ch, full: ch, ...(/^[a-z]$/.test(ch) ? { name: ch } : {}), ...(/^[A-Z]$/.test(ch) ? { name: ch.toLowerCase(), shift: true } : {}) }),
  named: (name: string, extra: Partial<KeyInput> = {}): KeyInput => ({ name, full: name, ...extra }),
  ctrl: (name: string): KeyInput => ({ name, ctrl: true, full: `C-${name}` }),
};

function press(state: ViewState, key: KeyInput, frame: Frame = FRAME): Update {
  const action = keyToAction(key, state);
  assert.notEqual(action, null, `key ${JSON.stringify(key)} should act`);
  return reduce(state, action!, frame);
}

function pressAll(state: ViewState, keys: readonly KeyInput[], frame: Frame = FRAME): ViewState {
  return keys.reduce((s, k) => press(s, k, frame).state, state);
}

const S0 = initialViewState();
/** Selected at index `i` of FRAME. */
const at = (i: number, over: Partial<ViewState> = {}): ViewState => ({ ...S0, selectedKey: FRAME.keys[i]!, selectedIndex: i, ...over });

test('initial state: Overview, chronological, nothing toggled', () => {
  assert.equal(S0.tab, 'overview');
  assert.deepEqual(TABS, ['overview', 'details', 'interfaces', 'graph', 'help']);
  assert.deepEqual(S0.sort, { column: null, descending: false });
  assert.equal(S0.grouping, 'off');
  assert.equal(S0.filterText, '');
  assert.equal(S0.filterEditing, false);
  assert.equal(S0.showHistory || S0.showHostnames || S0.showPortNumbers, false);
  assert.equal(S0.pending, null);
});

test('printable reads ch, full or the letter name; control keys and chords are not text', () => {
  assert.equal(printable({ ch: 'a' }), 'a');
  assert.equal(printable({ name: 's', shift: true, full: 'S-s' }), 'S');
  assert.equal(printable({ full: '/' }), '/');
  assert.equal(printable({ name: 'space', ch: ' ' }), ' ');
  assert.equal(printable({ name: 'escape', ch: '\x1b' }), null);
  assert.equal(printable({ name: 'enter', ch: '\r' }), null);
  assert.equal(printable({ name: 'up', full: 'up' }), null);
  assert.equal(printable({ name: 'c', ctrl: true }), null);
});

test('↑/k ↓/j move one row, clamped at both ends', () => {
  assert.equal(press(at(5), K.named('down')).state.selectedKey, '7');
  assert.equal(press(at(5), K.ch('j')).state.selectedKey, '7');
  assert.equal(press(at(5), K.named('up')).state.selectedKey, '5');
  assert.equal(press(at(5), K.ch('k')).state.selectedKey, '5');
  assert.equal(press(at(0), K.named('up')).state.selectedIndex, 0);
  assert.equal(press(at(29), K.ch('j')).state.selectedIndex, 29);
  // Before anything was selected, ↓ goes to the second row (the first is implicitly selected).
  assert.equal(press(S0, K.ch('j')).state.selectedKey, '2');
});

test('g/G/Home/End jump to the ends; PgUp/PgDn move a page; the view scrolls to keep the selection visible', () => {
  const last = press(at(3), K.ch('G')).state;
  assert.equal(last.selectedKey, '30');
  assert.equal(last.scrollTop, 20);
  const first = press(last, K.ch('g')).state;
  assert.equal(first.selectedKey, '1');
  assert.equal(first.scrollTop, 0);
  assert.equal(press(at(3), K.named('end')).state.selectedKey, '30');
  assert.equal(press(at(20), K.named('home')).state.selectedKey, '1');
  const down = press(at(3), K.named('pagedown')).state;
  assert.equal(down.selectedIndex, 13);
  assert.equal(down.scrollTop, 4); // row 13 is the last visible one
  const up = press(down, K.named('pageup')).state;
  assert.equal(up.selectedIndex, 3);
  assert.equal(up.scrollTop, 3);
  assert.equal(press(at(25), K.named('pagedown')).state.selectedIndex, 29);
});

test('navigation on an empty table does nothing', () => {
  const empty: Frame = { keys: [], pageSize: 10 };
  assert.equal(press(S0, K.ch('j'), empty).state, S0);
  assert.equal(press(S0, K.ch('G'), empty).state, S0);
});

test('Tab / Shift+Tab cycle the tabs, 1–5 jump, Esc goes back', () => {
  const seen: string[] = [];
  let s = S0;
  for (let i = 0; i < TABS.length; i++) {
    s = press(s, K.named('tab')).state;
    seen.push(s.tab);
  }
  assert.deepEqual(seen, ['details', 'interfaces', 'graph', 'help', 'overview']);
  assert.equal(press(S0, K.named('tab', { shift: true, full: 'S-tab' })).state.tab, 'help');
  for (let n = 1; n <= 5; n++) assert.equal(press(S0, K.ch(String(n))).state.tab, TABS[n - 1]);
  const graph = press(S0, K.ch('4')).state;
  assert.equal(press(graph, K.named('escape')).state.tab, 'overview');
  // Details → Help → Esc → Details → Esc → Overview.
  const help = pressAll(S0, [K.ch('2'), K.ch('5')]);
  const back1 = press(help, K.named('escape')).state;
  assert.equal(back1.tab, 'details');
  assert.equal(press(back1, K.named('escape')).state.tab, 'overview');
});

test('i and h toggle Interfaces and Help (back to where they were opened from)', () => {
  const ifaces = press(S0, K.ch('i')).state;
  assert.equal(ifaces.tab, 'interfaces');
  assert.equal(press(ifaces, K.ch('i')).state.tab, 'overview');
  const details = press(S0, K.ch('2')).state;
  const help = press(details, K.ch('h')).state;
  assert.equal(help.tab, 'help');
  assert.equal(press(help, K.ch('h')).state.tab, 'details');
  assert.equal(press(S0, K.ch('?')).state.tab, 'help');
});

test('Enter opens Details of the selected connection; blessed\'s duplicate "return" is ignored', () => {
  assert.equal(press(at(4), K.named('enter')).state.tab, 'details');
  assert.equal(keyToAction(K.named('return'), at(4)), null);
  // Enter outside the Overview has no meaning.
  const details = press(at(4), K.named('enter')).state;
  assert.equal(keyToAction(K.named('enter'), details), null);
  // Navigation still works in Details (step through connections); on the Graph it scrolls the page.
  assert.equal(press(details, K.ch('j')).state.selectedKey, '6');
  assert.deepEqual(keyToAction(K.ch('j'), { ...S0, tab: 'graph' }), { kind: 'scrollPage', lines: 1, pages: 0 });
});

test('pages without rows (Help, Graph, Interfaces) scroll with the movement keys; a new tab opens at its top', () => {
  const help: ViewState = { ...S0, tab: 'help' };
  const frame: Frame = { keys: [], pageSize: 20 };
  let s = press(help, K.ch('j'), frame).state;
  assert.equal(s.pageTop, 1);
  s = press(s, K.named('pagedown'), frame).state;
  assert.equal(s.pageTop, 21);
  s = press(s, K.named('up'), frame).state;
  assert.equal(s.pageTop, 20);
  assert.equal(press(s, K.ch('g'), frame).state.pageTop, 0);
  assert.equal(press(s, K.ch('G'), frame).state.pageTop, Number.MAX_SAFE_INTEGER, 'the painter clamps it to the last page');
  assert.equal(press(help, K.named('pageup'), frame).state.pageTop, 0, 'never above the top');
  assert.equal(s.selectedKey, help.selectedKey, 'the selection does not move');
  const graph = press(s, K.ch('4'), frame).state;
  assert.equal(graph.tab, 'graph');
  assert.equal(graph.pageTop, 0);
});

test('Enter / → / ← expand and collapse the selected group', () => {
  const gFirefox = groupKey('process', 'firefox');
  const gNone = groupKey('process', undefined);
  const collapsed: Frame = { keys: [gFirefox, gNone], pageSize: 10 };
  const s = { ...S0, grouping: 'process' as const, selectedKey: gFirefox, selectedIndex: 0 };
  const opened = press(s, K.named('enter'), collapsed).state;
  assert.equal(opened.tab, 'overview');
  assert.ok(opened.expanded.has(gFirefox));
  assert.ok(!press(opened, K.named('enter'), collapsed).state.expanded.has(gFirefox));
  assert.ok(press(s, K.named('right'), collapsed).state.expanded.has(gFirefox));
  // ← on a member collapses its group and selects the group row.
  const expanded: Frame = { keys: [gFirefox, '11', '12', gNone], pageSize: 10 };
  const onMember = { ...opened, selectedKey: '12', selectedIndex: 2 };
  const back = press(onMember, K.named('left'), expanded).state;
  assert.ok(!back.expanded.has(gFirefox));
  assert.equal(back.selectedKey, gFirefox);
  // Enter on a member is Details.
  assert.equal(press(onMember, K.named('enter'), expanded).state.tab, 'details');
  // Without grouping, ← and → do nothing.
  assert.equal(keyToAction(K.named('right'), S0), null);
});

test('group keys never collide with connection keys or each other', () => {
  const keys = [groupKey('process', 'firefox'), groupKey('process', undefined), groupKey('unit', 'firefox'), groupKey('process', '-'), '17'];
  assert.equal(new Set(keys).size, keys.length);
});

test('/ opens the filter prompt: letters are text (even q, s, j), Backspace deletes, arrows still move', () => {
  let s = press(at(2), K.ch('/')).state;
  assert.equal(s.filterEditing, true);
  for (const ch of 'sni:goo q') s = press(s, ch === ' ' ? { name: 'space', ch: ' ', full: 'space' } : K.ch(ch)).state;
  assert.equal(s.filterText, 'sni:goo q');
  assert.equal(s.pending, null);
  s = press(s, K.named('backspace')).state;
  s = press(s, K.named('backspace')).state;
  assert.equal(s.filterText, 'sni:goo');
  assert.equal(press(s, K.named('down')).state.selectedKey, '4');
  assert.equal(press(s, K.named('up')).state.selectedKey, '2');
  assert.equal(press(s, K.named('pagedown')).state.selectedIndex, 12);
  assert.equal(press(s, K.ctrl('u')).state.filterText, '');
  // Enter keeps the filter and leaves the prompt; Esc in the prompt clears it.
  const kept = press(s, K.named('enter')).state;
  assert.equal(kept.filterEditing, false);
  assert.equal(kept.filterText, 'sni:goo');
  assert.equal(kept.tab, 'overview');
  const cleared = press(s, K.named('escape')).state;
  assert.equal(cleared.filterEditing, false);
  assert.equal(cleared.filterText, '');
  // Esc on the Overview clears a kept filter; / again edits it.
  assert.equal(press(kept, K.named('escape')).state.filterText, '');
  const again = press(kept, K.ch('/')).state;
  assert.equal(again.filterEditing, true);
  assert.equal(again.filterText, 'sni:goo');
  // Backspace removes whole characters.
  assert.equal(press({ ...again, filterText: 'a😀' }, K.named('backspace')).state.filterText, 'a');
  // / from another tab goes to the Overview.
  assert.equal(press({ ...S0, tab: 'graph' }, K.ch('/')).state.tab, 'overview');
});

test('s cycles the sort, S flips it', () => {
  const s1 = press(S0, K.ch('s')).state;
  assert.deepEqual(s1.sort, { column: 'protocol', descending: false });
  const flipped = press(s1, K.ch('S')).state;
  assert.deepEqual(flipped.sort, { column: 'protocol', descending: true });
  const s2 = press(flipped, K.ch('s')).state;
  assert.deepEqual(s2.sort, { column: 'local', descending: false });
  const toBandwidth = pressAll(S0, Array.from({ length: 7 }, () => K.ch('s')));
  assert.deepEqual(toBandwidth.sort, { column: 'bandwidth', descending: true });
  assert.deepEqual(pressAll(toBandwidth, [K.ch('s'), K.ch('s')]).sort, { column: null, descending: false });
});

test('a cycles grouping process → unit → container → off and forgets expanded groups', () => {
  const g1 = press(S0, K.ch('a'));
  assert.equal(g1.state.grouping, 'process');
  assert.equal(g1.status, 'Grouped by process');
  const withOpen = { ...g1.state, expanded: new Set([groupKey('process', 'x')]) };
  const g2 = press(withOpen, K.ch('a'));
  assert.equal(g2.state.grouping, 'unit');
  assert.equal(g2.state.expanded.size, 0);
  assert.equal(g2.status, 'Grouped by systemd unit');
  const g3 = press(g2.state, K.ch('a')).state;
  assert.equal(g3.grouping, 'container');
  const off = press(g3, K.ch('a'));
  assert.equal(off.state.grouping, 'off');
  assert.equal(off.status, 'Grouping off');
});

test('t, p and d toggle history, port numbers and hostnames with a status message', () => {
  const t = press(S0, K.ch('t'));
  assert.equal(t.state.showHistory, true);
  assert.equal(t.status, 'Closed connections shown');
  assert.equal(press(t.state, K.ch('t')).state.showHistory, false);
  const p = press(S0, K.ch('p'));
  assert.equal(p.state.showPortNumbers, true);
  assert.equal(p.status, 'Port numbers shown');
  assert.equal(press(p.state, K.ch('p')).status, 'Service names shown');
  const d = press(S0, K.ch('d'));
  assert.equal(d.state.showHostnames, true);
  assert.equal(press(d.state, K.ch('d')).state.showHostnames, false);
});

test('x asks, a second x emits clearHistory; any other key cancels', () => {
  const ask = press(S0, K.ch('x'));
  assert.equal(ask.state.pending, 'clear');
  assert.match(ask.status!, /press x again/i);
  assert.deepEqual(ask.effects, []);
  const confirm = press(ask.state, K.ch('x'));
  assert.deepEqual(confirm.effects, [{ kind: 'clearHistory' }]);
  assert.equal(confirm.state.pending, null);
  const cancelled = press(ask.state, K.ch('j'));
  assert.equal(cancelled.state.pending, null);
  assert.deepEqual(press(cancelled.state, K.ch('x')).effects, []);
  // A key with no meaning of its own still cancels.
  const unmapped = keyToAction(K.ch('z'), ask.state);
  assert.deepEqual(unmapped, { kind: 'cancel' });
  assert.equal(reduce(ask.state, unmapped!, FRAME).state.pending, null);
  assert.equal(keyToAction(K.ch('z'), S0), null);
});

test('q asks, a second q quits; another key in between cancels; Ctrl+C quits at once, even in the prompt', () => {
  const ask = press(S0, K.ch('q'));
  assert.equal(ask.state.pending, 'quit');
  assert.match(ask.status!, /press q again to quit/i);
  assert.deepEqual(ask.effects, []);
  assert.deepEqual(press(ask.state, K.ch('q')).effects, [{ kind: 'quit' }]);
  const cancelled = press(ask.state, K.named('down')).state;
  assert.equal(cancelled.pending, null);
  assert.deepEqual(press(cancelled, K.ch('q')).effects, []);
  // q then x: x asks its own question, q no longer pending.
  const switched = press(ask.state, K.ch('x')).state;
  assert.equal(switched.pending, 'clear');
  assert.deepEqual(press(S0, K.ctrl('c')).effects, [{ kind: 'quit' }]);
  assert.deepEqual(press({ ...S0, filterEditing: true }, K.ctrl('c')).effects, [{ kind: 'quit' }]);
});

test('r resets sort, filter, grouping, toggles and selection, on the current tab', () => {
  const busy: ViewState = {
    ...at(12, { scrollTop: 5 }), sort: { column: 'process', descending: true }, filterText: 'ssh', grouping: 'unit',
    showHistory: true, showHostnames: true, showPortNumbers: true, expanded: new Set(['gunit=x']),
  };
  const r = press(busy, K.ch('r'));
  assert.equal(r.status, 'View reset');
  assert.deepEqual({ ...r.state, expanded: [...r.state.expanded] }, { ...S0, expanded: [] });
});

test('c copies the selected remote address; nothing selected gives a status instead', () => {
  const copy = press(at(6), K.ch('c'));
  assert.deepEqual(copy.effects, [{ kind: 'copy', text: '10.0.0.7' }]);
  const none = press(S0, K.ch('c'), { keys: [], pageSize: 10, remoteOf: () => null });
  assert.deepEqual(none.effects, []);
  assert.match(none.status!, /no connection selected/);
  const group = press({ ...S0, selectedKey: 'gprocess=x' }, K.ch('c'), { keys: ['gprocess=x'], pageSize: 10, remoteOf: () => null });
  assert.match(group.status!, /no connection selected/);
  assert.deepEqual(group.effects, []);
});

test('mouse: click selects a visible row, double click opens Details, the wheel scrolls by 3', () => {
  const scrolled = at(12, { scrollTop: 10 });
  const click = (m: MouseInput, s: ViewState): Update => reduce(s, mouseToAction(m, s)!, FRAME);
  const clicked = click({ kind: 'click', rowIndex: 14 }, scrolled).state; // the 5th visible row
  assert.equal(clicked.selectedKey, '15');
  assert.equal(clicked.tab, 'overview');
  const opened = click({ kind: 'doubleclick', rowIndex: 10 }, scrolled).state;
  assert.equal(opened.selectedKey, '11');
  assert.equal(opened.tab, 'details');
  // A click below the last row changes nothing.
  assert.equal(click({ kind: 'click', rowIndex: 30 }, scrolled).state.selectedKey, '13');
  assert.equal(click({ kind: 'click', rowIndex: 14 }, scrolled).state.scrollTop, 10);
  const down = click({ kind: 'wheeldown' }, scrolled).state;
  assert.equal(down.scrollTop, 13);
  assert.equal(down.selectedIndex, 15);
  const up = click({ kind: 'wheelup' }, down).state;
  assert.equal(up.scrollTop, 10);
  assert.equal(up.selectedIndex, 12);
  // At the end the view stops; the selection keeps moving inside it.
  const end = click({ kind: 'wheeldown' }, at(27, { scrollTop: 20 })).state;
  assert.equal(end.scrollTop, 20);
  assert.equal(end.selectedIndex, 29);
  // Mouse events belong to the Overview table.
  assert.equal(mouseToAction({ kind: 'click', rowIndex: 1 }, { ...S0, tab: 'help' }), null);
});
