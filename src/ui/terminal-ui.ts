// TerminalUi: the blessed screen. Paints what the pure views compute from the latest Snapshot and the view state,
// turns keys and mouse into actions, and applies their effects (quit, copy, clear) in this one place.

import blessed from 'blessed';
import * as path from 'node:path';
import type { Snapshot, ConnectionRow } from '../core/snapshot.js';
import type { SnapshotReader } from '../pipeline/session.js';
import { copyText, clipboardyWrite, type CopyResult } from './clipboard.js';
import { detailsLines } from './details-view.js';
import { graphLines } from './graph-view.js';
import { helpLines } from './help-view.js';
import { interfacesTable } from './interfaces-view.js';
import { keyToAction, mouseToAction } from './keys.js';
import { interfacesPanel, networkStatsPanel, statisticsPanel, trafficPanel } from './panels.js';
import { tagSafe } from './sanitize.js';
import { cutTagged, visibleWidth } from './tags.js';
import { buildTable, type TableModel } from './table-model.js';
import { TrafficHistory, type StatusFacts } from './traffic-history.js';
import { TABS, initialViewState, reduce, type Effect, type Frame, type KeyInput, type Tab, type ViewState } from './view-state.js';

/** Smallest terminal the screens are laid out for. */
export const MIN_WIDTH = 60;
export const MIN_HEIGHT = 15;
const TAB_NAMES: Record<Tab, string> = { overview: 'Overview', details: 'Details', interfaces: 'Interfaces', graph: 'Graph', help: 'Help' };
/** Two clicks on one row within this many milliseconds open its details. */
const DOUBLE_CLICK_MS = 400;

export interface TerminalUiOptions {
  /** Colours on (false for --no-color or NO_COLOR). */
  readonly color: boolean;
  /** Facts the Snapshot does not carry (privileges, process detection, replay progress); read at each paint. */
  readonly facts: () => StatusFacts;
  /** The session's tick (the Traffic history's step). */
  readonly refreshIntervalMs: number;
  /** Called when the user quits (q q, Ctrl+C): the owner stops the session. */
  readonly onQuit: () => void;
  /** Terminal streams (tests pass in-memory ones); default: the process's stdin/stdout. */
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
  /** Copies text (default: clipboardy, else OSC 52). */
  readonly copy?: (text: string) => Promise<CopyResult>;
  /** Wall clock in ms, for double clicks and status expiry (tests inject one). */
  readonly nowMs?: () => number;
}

interface Boxes {
  readonly tabs: blessed.Widgets.BoxElement;
  readonly table: blessed.Widgets.BoxElement;
  readonly traffic: blessed.Widgets.BoxElement;
  readonly network: blessed.Widgets.BoxElement;
  readonly interfaces: blessed.Widgets.BoxElement;
  readonly statistics: blessed.Widgets.BoxElement;
  readonly page: blessed.Widgets.BoxElement;
  readonly status: blessed.Widgets.BoxElement;
}

export class TerminalUi implements SnapshotReader {
  readonly screen: blessed.Widgets.Screen;
  private readonly opts: TerminalUiOptions;
  private readonly boxes: Boxes;
  private readonly traffic: TrafficHistory;
  private readonly nowMs: () => number;
  private snapshot: Snapshot | null = null;
  private view: ViewState = initialViewState();
  private model: TableModel | null = null;
  /** Closed connections shown with `t`, newest last; `x` forgets them. */
  private history: ConnectionRow[] = [];
  private historyClearedAtMicros = -1;
  private status: { text: string; untilMs: number } | null = null;
  private lastClick: { row: number; atMs: number } | null = null;
  private destroyed = false;
  /** The facts (privileges, replay progress) as last painted. */
  private paintedFacts = '';

  constructor(opts: TerminalUiOptions) {
    this.opts = opts;
    this.nowMs = opts.nowMs ?? (() => Date.now());
    this.traffic = new TrafficHistory(120, opts.refreshIntervalMs * 1000);
    const term = process.env.TERM ?? 'xterm';
    this.screen = blessed.screen({
      input: opts.input,
      output: opts.output,
      // blessed cannot parse Debian 12's newer terminfo entries; its own xterm-256color entry works for them.
      terminal: /256color/.test(term) || term.startsWith('tmux') || term.startsWith('screen') ? 'xterm-256color' : term,
      smartCSR: true,
      fullUnicode: true,
      warnings: false,
      autoPadding: false,
      title: 'rustnet-ts',
      forceUnicode: true,
    } as blessed.Widgets.IScreenOptions);
    // Box lines, arrows and blocks are written as UTF-8 characters, never through the terminal's alternate
    // character set (which tmux and some terminals show as letters when the locale is not detected).
    (this.screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    this.boxes = this.layoutBoxes();
    this.screen.on('keypress', (ch: string | undefined, key: KeyInput | undefined) => this.onKey(ch, key));
    this.screen.on('resize', () => this.paint());
    const table = this.boxes.table;
    table.on('click', (data: { y: number }) => this.onClick(data.y));
    table.on('wheelup', () => this.onMouse({ kind: 'wheelup' }));
    table.on('wheeldown', () => this.onMouse({ kind: 'wheeldown' }));
    this.paint();
  }

  /** SnapshotReader: a new tick's rows. */
  render(snapshot: Snapshot): void {
    if (this.destroyed) return;
    if (snapshot.generation === this.snapshot?.generation) {
      // Nothing new to show (an idle tick): paint only when a status message has run out meanwhile, or the
      // facts beside the snapshot changed (a replay that just ended).
      const statusExpired = this.status !== null && this.nowMs() > this.status.untilMs;
      if (!statusExpired && JSON.stringify(this.opts.facts()) === this.paintedFacts) return;
    } else {
      this.traffic.push(snapshot);
      this.collectHistory(snapshot);
    }
    this.snapshot = snapshot;
    this.paint();
  }

  /** Restores the terminal; idempotent (quit, signals, errors and process exit all come here). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.screen.destroy();
  }

  /** The screen as text, one string per row (tests, and docs/screens). */
  text(): string[] {
    // blessed keeps each painted cell as [attributes, character].
    const lines = (this.screen as unknown as { lines: [number, string][][] }).lines;
    return lines.map((row) => row.map((cell) => cell[1]).join('').replace(/\s+$/, ''));
  }

  private layoutBoxes(): Boxes {
    const screen = this.screen;
    const box = (opts: blessed.Widgets.BoxOptions): blessed.Widgets.BoxElement =>
      blessed.box({ parent: screen, tags: true, wrap: false, ...opts });
    const border = { type: 'line' } as const;
    const style = { border: { fg: this.opts.color ? 'blue' : undefined } };
    return {
      tabs: box({ top: 0, left: 0, height: 1, width: '100%' }),
      table: box({ top: 1, left: 0, border, style, clickable: true }),
      traffic: box({ top: 1, border, style, label: ' Traffic ' }),
      network: box({ border, style, label: ' Network Stats ' }),
      interfaces: box({ border, style, label: ' Interfaces ' }),
      statistics: box({ border, style, label: ' Statistics ' }),
      page: box({ top: 1, left: 0, width: '100%', border, style }),
      status: box({ left: 0, height: 1, width: '100%' }),
    };
  }

  private get width(): number {
    return this.screen.width as number;
  }

  private get height(): number {
    return this.screen.height as number;
  }

  /** Everything on screen from the current snapshot and view state. */
  paint(): void {
    if (this.destroyed) return;
    const b = this.boxes;
    const width = this.width;
    const height = this.height;
    const all = [b.tabs, b.table, b.traffic, b.network, b.interfaces, b.statistics, b.page, b.status];
    if (width < MIN_WIDTH || height < MIN_HEIGHT) {
      for (const el of all) el.hide();
      b.page.show();
      b.page.position.top = 0;
      b.page.width = width;
      b.page.height = height;
      b.page.removeLabel();
      // Short lines: the message itself must fit the small terminal; a pending quit is said here too.
      const lines = [`Terminal too small: ${width}×${height}.`, `Needs at least ${MIN_WIDTH}×${MIN_HEIGHT}.`, 'Enlarge it, or q q to quit.'];
      if (this.status !== null) lines.push(tagSafe(this.status.text));
      b.page.setContent(lines.join('\n'));
      this.screen.render();
      return;
    }
    b.page.position.top = 1;
    b.tabs.show();
    b.status.show();
    const mainHeight = height - 2;
    b.status.position.top = height - 1;
    this.paintTabs();
    const snapshot = this.snapshot;
    const color = this.opts.color;
    // The table model is needed on every tab: details show its selection, keys act on its row order.
    // The panels only beside a table that keeps its main columns; a narrower terminal is all table.
    const rightWidth = width >= 150 ? 44 : width >= 120 ? 36 : 0;
    const tableWidth = width - rightWidth;
    if (snapshot !== null) {
      this.model = buildTable(snapshot, this.view, tableWidth - 2, mainHeight - 3, {
        nowMicros: snapshot.nowMicros,
        history: this.history,
        color,
      });
      this.view = this.model.state;
    }
    for (const el of all) if (el !== b.tabs && el !== b.status) el.hide();
    const tab = this.view.tab;
    if (tab === 'overview') {
      b.table.show();
      b.table.width = tableWidth;
      b.table.height = mainHeight;
      const m = this.model;
      b.table.setLabel(` ${m?.title ?? 'Active Connections'} `);
      const body = m === null ? ['Waiting for the first packets…'] : [m.header, ...m.lines];
      if (m !== null && m.lines.length === 0 && m.emptyMessage !== null) body.push(m.emptyMessage);
      b.table.setContent(body.join('\n'));
      if (rightWidth > 0) this.paintPanels(tableWidth, rightWidth, mainHeight);
    } else {
      b.page.show();
      b.page.width = width;
      b.page.height = mainHeight;
      const lines = this.pageLines(tab, width - 2, mainHeight - 2);
      const inner = mainHeight - 2;
      // Pages taller than the screen scroll (↑/↓, PgUp/PgDn, g/G); the label says there is more.
      const maxTop = Math.max(0, lines.length - inner);
      // The view state asks; what the page can show decides (a request past the end stops at it).
      const top = Math.min(this.view.pageTop, maxTop);
      if (top !== this.view.pageTop) this.view = { ...this.view, pageTop: top };
      const more = maxTop === 0 ? '' : ` (${top + 1}–${Math.min(lines.length, top + inner)} of ${lines.length}, ↑/↓ to scroll)`;
      b.page.setLabel(` ${TAB_NAMES[tab]}${more} `);
      b.page.setContent(lines.slice(top, top + inner).join('\n'));
    }
    this.paintStatus();
    this.screen.render();
  }

  private paintTabs(): void {
    const color = this.opts.color;
    const cells = TABS.map((t, i) => {
      const name = ` ${i + 1} ${TAB_NAMES[t]} `;
      return t === this.view.tab ? `{inverse}${name}{/inverse}` : name;
    });
    const brand = color ? '{bold}{cyan-fg}rustnet-ts{/cyan-fg}{/bold}' : '{bold}rustnet-ts{/bold}';
    this.boxes.tabs.setContent(`${brand} ${cells.join('│')}`);
  }

  private paintPanels(left: number, width: number, height: number): void {
    const b = this.boxes;
    const snapshot = this.snapshot;
    const color = this.opts.color;
    const inner = width - 2;
    const trafficHeight = 7;
    const networkHeight = 6;
    const interfacesHeight = Math.min(8, Math.max(4, height - trafficHeight - networkHeight - 8));
    const statisticsHeight = height - trafficHeight - networkHeight - interfacesHeight;
    let top = 1;
    const place = (el: blessed.Widgets.BoxElement, h: number, lines: string[]): void => {
      el.show();
      el.position.top = top;
      el.left = left;
      el.width = width;
      el.height = h;
      el.setContent(lines.slice(0, Math.max(0, h - 2)).join('\n'));
      top += h;
    };
    place(b.traffic, trafficHeight, trafficPanel(this.traffic, inner, trafficHeight - 2, color));
    if (snapshot === null) return;
    place(b.network, networkHeight, networkStatsPanel(snapshot, inner, color));
    place(b.interfaces, interfacesHeight, interfacesPanel(snapshot, inner, color));
    if (statisticsHeight >= 3) place(b.statistics, statisticsHeight, statisticsPanel(snapshot, this.opts.facts(), inner, color));
  }

  private pageLines(tab: Tab, width: number, height: number): string[] {
    const snapshot = this.snapshot;
    const color = this.opts.color;
    switch (tab) {
      case 'details':
        return detailsLines(this.model?.selected ?? null, snapshot?.nowMicros ?? 0, width, { showHostnames: true, color });
      case 'interfaces':
        return snapshot === null ? [] : interfacesTable(snapshot, width, height, color);
      case 'graph':
        return graphLines(this.traffic, width, height, color);
      case 'help':
        return helpLines(width, color);
      default:
        return [];
    }
  }

  private paintStatus(): void {
    const now = this.nowMs();
    if (this.status !== null && now > this.status.untilMs) this.status = null;
    const facts = this.opts.facts();
    this.paintedFacts = JSON.stringify(facts);
    let left: string;
    if (this.model?.filterLine != null) left = this.model.filterLine;
    else if (this.status !== null) left = tagSafe(this.status.text);
    else left = 'h help · / filter · s sort · a group · t history · q q quit';
    let right = '';
    if (facts.replay !== null) right = tagSafe(`replay ${path.basename(facts.replay.file)}: ${facts.replay.progress}`);
    const width = this.width;
    // The left part (filter, message) matters most; the replay's progress gets what room is left, if enough.
    const leftText = cutTagged(left, width);
    const room = width - visibleWidth(leftText) - 2;
    const rightText = room >= 12 ? cutTagged(right, room) : '';
    const gap = Math.max(0, width - visibleWidth(leftText) - visibleWidth(rightText));
    this.boxes.status.setContent(`${leftText}${' '.repeat(gap)}${rightText}`);
  }

  private frame(): Frame {
    return this.model?.frame ?? { keys: [], pageSize: Math.max(1, this.height - 5) };
  }

  private onKey(_ch: string | undefined, key: KeyInput | undefined): void {
    if (this.destroyed || key === undefined) return;
    // blessed reports Enter twice ('return', then 'enter'); act on one of them.
    if (key.name === 'return') return;
    const action = keyToAction(key, this.view);
    if (action === null) return;
    this.apply(reduce(this.view, action, this.frame()));
  }

  private onMouse(m: Parameters<typeof mouseToAction>[0]): void {
    if (this.destroyed) return;
    const action = mouseToAction(m, this.view);
    if (action !== null) this.apply(reduce(this.view, action, this.frame()));
  }

  private onClick(screenY: number): void {
    const table = this.boxes.table;
    const model = this.model;
    if (model === null || this.view.tab !== 'overview') return;
    // Border row, then the header row, then the visible rows from scrollTop.
    const line = screenY - (table.atop as number) - 2;
    if (line < 0) return;
    const row = model.scrollTop + line;
    if (row >= model.keys.length) return;
    const now = this.nowMs();
    const double = this.lastClick !== null && this.lastClick.row === row && now - this.lastClick.atMs <= DOUBLE_CLICK_MS;
    this.lastClick = double ? null : { row, atMs: now };
    this.onMouse({ kind: double ? 'doubleclick' : 'click', rowIndex: row });
  }

  private apply(update: { state: ViewState; effects: readonly Effect[]; status: string | null }): void {
    this.view = update.state;
    if (update.status !== null) this.status = { text: update.status, untilMs: this.nowMs() + 4000 };
    for (const effect of update.effects) this.effect(effect);
    this.paint();
  }

  private effect(effect: Effect): void {
    switch (effect.kind) {
      case 'quit':
        this.opts.onQuit();
        return;
      case 'clearHistory':
        this.history = [];
        this.historyClearedAtMicros = this.snapshot?.nowMicros ?? 0;
        return;
      case 'copy': {
        const copy = this.opts.copy ?? ((text: string) => copyText(text, {
          env: process.env,
          desktopWrite: clipboardyWrite,
          terminalWrite: (bytes) => { (this.screen.program.output as NodeJS.WritableStream).write(bytes); },
        }));
        void copy(effect.text).then((result) => {
          this.status = { text: result.message, untilMs: this.nowMs() + 4000 };
          this.paint();
        });
        return;
      }
    }
  }

  /** Closed connections arrive in Snapshot.recentlyClosed (bounded, newest last); keep the ones not cleared. */
  private collectHistory(snapshot: Snapshot): void {
    this.history = snapshot.recentlyClosed.filter((r) => (r.closedAtMicros ?? 0) > this.historyClearedAtMicros);
  }

}
