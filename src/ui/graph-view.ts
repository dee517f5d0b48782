// Graph screen: traffic and connections over time, application mix, top processes — pure text charts.

import { formatCount, formatDuration, formatRate } from './format.js';
import { cutTagged, padTagged, paint, safeCut, safePad, safeWidth, textWidth, type Style } from './tags.js';
import type { TrafficHistory, TrafficSample } from './traffic-history.js';

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
// Left-to-right eighth blocks for horizontal bars: index n is n eighths of a cell.
const HBLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'] as const;

/** Eighths of a `cells`-high column a value gets: 0 only for 0, so any traffic at all leaves a mark. */
function eighths(value: number, max: number, cells: number): number {
  if (!(value > 0) || !(max > 0)) return 0;
  return Math.min(cells * 8, Math.max(1, Math.round((value / max) * cells * 8)));
}

/**
 * One-row sparkline of exactly `width` columns: one column per value, newest right, blank where there
 * is no sample yet or the value is 0. Scaled to `max` (default: the largest value shown).
 */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  return blockChart(values, width, 1, max)[0] ?? '';
}

/**
 * A column chart `rows` high and exactly `width` wide (top row first), eight levels per row: one column
 * per value, the newest on the right. Scaled to `max` (default: the largest value shown).
 */
export function blockChart(values: readonly number[], width: number, rows: number, max?: number): string[] {
  if (width <= 0 || rows <= 0) return [];
  const shown = values.length > width ? values.slice(values.length - width) : values;
  const top = max ?? Math.max(0, ...shown);
  const levels = shown.map((v) => eighths(v, top, rows));
  const pad = width - shown.length;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const floor = (rows - 1 - r) * 8; // eighths below this row
    let line = ' '.repeat(pad);
    for (const l of levels) {
      const inRow = Math.min(8, l - floor);
      line += inRow <= 0 ? ' ' : BLOCKS[inRow - 1]!;
    }
    out.push(line);
  }
  return out;
}

/** A horizontal bar `width` columns wide for `value` of `max`, in eighths of a cell, padded with spaces. */
export function hbar(value: number, max: number, width: number): string {
  if (width <= 0) return '';
  const e = max > 0 && value > 0 ? Math.max(1, Math.round((value / max) * width * 8)) : 0;
  const bar = '█'.repeat(Math.floor(e / 8)) + HBLOCKS[e % 8]!;
  return bar + ' '.repeat(Math.max(0, width - textWidth(bar)));
}

// One block of the screen: at least `min` lines, comfortable at `want`; past that only charts grow.
interface Section {
  readonly min: number;
  readonly want: number;
  /** Share of spare lines it asks for on the way to `want`. */
  readonly weight: number;
  /** Share of the lines left once every section has what it wants (0: a list, no use for more). */
  readonly grow: number;
  render(width: number, height: number): string[];
}

const AXIS_WIDTH = 11; // "↓2.00 MB/s┤": label of at most 10 columns plus the axis
const AXIS_MIN_WIDTH = 30; // narrower, the axis would eat a third of the chart: the scale goes in the title

/** Chart rows with the scale on the left of the top row when there is room, else the bare chart. */
function axisChart(
  values: readonly number[], width: number, rows: number, label: string, style: Style, color: boolean,
): string[] {
  const axis = width >= AXIS_MIN_WIDTH;
  return blockChart(values, chartWidthFor(width), rows).map((row, i) => {
    const body = paint(row, style, color);
    if (!axis) return body;
    const left = i === 0 ? label.padStart(AXIS_WIDTH - 1) + '┤' : ' '.repeat(AXIS_WIDTH - 1) + '│';
    return paint(left, 'gray', color) + body;
  });
}

function title(text: string, color: boolean): string {
  return paint(text, ['bold', 'cyan'], color);
}

/** Columns left for the chart itself once the axis (shown from AXIS_MIN_WIDTH up) has its share. */
function chartWidthFor(width: number): number {
  return width >= AXIS_MIN_WIDTH ? width - AXIS_WIDTH : width;
}

function trafficSection(h: TrafficHistory, color: boolean): Section {
  return {
    min: 3, want: 9, weight: 2, grow: 3,
    render(width, height) {
      const latest = h.latest();
      if (latest === undefined) return [title('Traffic', color), paint('no samples yet', 'gray', color)];
      const n = chartWidthFor(width);
      const shown = h.last(n);
      const rx = shown.map((s) => s.rxBps);
      const tx = shown.map((s) => s.txBps);
      const rxMax = Math.max(0, ...rx);
      const txMax = Math.max(0, ...tx);
      const span = h.spanMicros(n);
      const head = `Traffic ↓ ${formatRate(latest.rxBps)} ↑ ${formatRate(latest.txBps)}` +
        (span > 0 ? ` · last ${formatDuration(span)}` : '');
      // Without an axis the scale goes into the title, so the chart still says what full height means.
      const scale = width >= AXIS_MIN_WIDTH ? '' : ` (max ↓ ${formatRate(rxMax)} ↑ ${formatRate(txMax)})`;
      const rows = height - 1;
      const rxRows = Math.ceil(rows / 2);
      const txRows = rows - rxRows;
      return [
        title(head, color) + paint(scale, 'gray', color),
        ...axisChart(rx, width, rxRows, `↓${formatRate(rxMax)}`, 'green', color),
        ...axisChart(tx, width, txRows, `↑${formatRate(txMax)}`, 'cyan', color),
      ];
    },
  };
}

function connectionsSection(h: TrafficHistory, color: boolean): Section {
  return {
    min: 2, want: 5, weight: 1, grow: 1,
    render(width, height) {
      const latest = h.latest();
      if (latest === undefined) return [title('Connections', color), paint('no samples yet', 'gray', color)];
      const shown = h.last(chartWidthFor(width));
      const counts = shown.map((s: TrafficSample) => s.connections);
      const peak = Math.max(0, ...counts);
      const head = `Connections ${formatCount(latest.connections)} ` +
        `(TCP ${formatCount(latest.tcp)} · UDP ${formatCount(latest.udp)} · other ${formatCount(latest.other)})` +
        (width >= AXIS_MIN_WIDTH ? '' : ` max ${formatCount(peak)}`);
      return [title(head, color), ...axisChart(counts, width, height - 1, formatCount(peak), 'yellow', color)];
    },
  };
}

function appsSection(h: TrafficHistory, color: boolean): Section {
  const mix = h.appMix();
  return {
    min: 2, want: 1 + Math.min(10, Math.max(1, mix.length)), weight: 1, grow: 0,
    render(width, height) {
      const total = mix.reduce((n, a) => n + a.count, 0);
      const lines = [title(`Applications (${formatCount(total)} connections)`, color)];
      if (mix.length === 0) return [...lines, paint('no connections', 'gray', color)];
      const room = height - 1;
      if (room <= 1 && mix.length > 1) {
        // One line for several protocols: the counts alone, most first.
        return [...lines, mix.map((a) => `${safeCut(a.name, 12)} ${formatCount(a.count)}`).join(' · ')];
      }
      const shown = mix.length > room ? mix.slice(0, Math.max(0, room - 1)) : mix;
      const nameWidth = Math.min(12, Math.max(...shown.map((a) => safeWidth(a.name)), 4));
      const countWidth = Math.max(...shown.map((a) => formatCount(a.count).length));
      const max = shown[0]?.count ?? 0;
      for (const a of shown) {
        const pct = `${Math.round((a.count / total) * 100)}%`.padStart(4);
        const barWidth = width - nameWidth - countWidth - pct.length - 3;
        const name = safePad(a.name, nameWidth);
        const bar = barWidth >= 3 ? ` ${paint(hbar(a.count, max, barWidth), 'green', color)}` : '';
        lines.push(`${name}${bar} ${formatCount(a.count).padStart(countWidth)} ${pct}`);
      }
      if (shown.length < mix.length) {
        const rest = mix.slice(shown.length).reduce((n, a) => n + a.count, 0);
        lines.push(paint(`+ ${mix.length - shown.length} more (${formatCount(rest)} connections)`, 'gray', color));
      }
      return lines;
    },
  };
}

function processesSection(h: TrafficHistory, color: boolean): Section {
  const top = h.topProcesses(20);
  return {
    min: 2, want: 1 + Math.min(10, Math.max(1, top.length)), weight: 1, grow: 0,
    render(width, height) {
      const lines = [title('Top processes (by rate)', color)];
      if (top.length === 0) return [...lines, paint('no connections', 'gray', color)];
      const shown = top.slice(0, height - 1);
      // Narrow: the rates alone, so the name keeps some room.
      const wide = width >= 50;
      const rates = shown.map((p) => (wide
        ? `↓ ${formatRate(p.rxBps)} ↑ ${formatRate(p.txBps)} ${formatCount(p.connections)} conn`
        : `↓${formatRate(p.rxBps)} ↑${formatRate(p.txBps)}`));
      const rateWidth = Math.max(...rates.map((r) => r.length));
      const nameWidth = Math.max(8, width - rateWidth - 1);
      shown.forEach((p, i) => lines.push(`${safePad(p.name, nameWidth)} ${rates[i]!.padStart(rateWidth)}`));
      return lines;
    },
  };
}

/**
 * Sections stacked in `height` lines: the first ones (by priority) that fit at their minimum, a blank line
 * between them, spare lines shared by weight up to what each can use. Shown in `order`.
 */
function stack(sections: readonly Section[], order: readonly number[], width: number, height: number): string[] {
  const chosen: number[] = [];
  let used = 0;
  for (let i = 0; i < sections.length; i++) {
    const need = sections[i]!.min + (chosen.length > 0 ? 1 : 0);
    if (used + need <= height) {
      chosen.push(i);
      used += need;
    }
  }
  const heights = new Map<number, number>(chosen.map((i) => [i, sections[i]!.min]));
  let spare = height - used;
  // Spare lines one at a time: first towards what each section wants (by weight), then to the charts.
  const give = (share: (s: Section, lines: number) => number): boolean => {
    let best = -1;
    let bestScore = 0;
    for (const i of chosen) {
      const score = share(sections[i]!, heights.get(i)!);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best < 0) return false;
    heights.set(best, heights.get(best)! + 1);
    spare--;
    return true;
  };
  while (spare > 0 && give((s, lines) => (lines < s.want ? s.weight / lines : 0)));
  while (spare > 0 && give((s, lines) => s.grow / lines));
  const out: string[] = [];
  for (const i of order) {
    const hgt = heights.get(i);
    if (hgt === undefined) continue;
    if (out.length > 0) out.push('');
    out.push(...sections[i]!.render(width, hgt).slice(0, hgt));
  }
  return out.slice(0, height).map((l) => cutTagged(l, width));
}

/** The Graph screen in `width`×`height`: at most `height` lines, each at most `width` columns. */
export function graphLines(h: TrafficHistory, width: number, height: number, color: boolean): string[] {
  if (width <= 0 || height <= 0) return [];
  const traffic = trafficSection(h, color);
  const conns = connectionsSection(h, color);
  const apps = appsSection(h, color);
  const procs = processesSection(h, color);
  if (height < 3) {
    // Too small for any chart: the numbers alone.
    const latest = h.latest();
    const lines = [
      latest === undefined ? 'no samples yet'
        : `↓ ${formatRate(latest.rxBps)} ↑ ${formatRate(latest.txBps)} · ${formatCount(latest.connections)} connections`,
      h.appMix().slice(0, 4).map((a) => `${safeCut(a.name, 12)} ${formatCount(a.count)}`).join(' · '),
    ];
    return lines.slice(0, height).map((l) => cutTagged(l, width));
  }
  if (width >= 100 && height >= 8) {
    const leftWidth = Math.floor(width * 0.6) - 2;
    const rightWidth = width - leftWidth - 3;
    const left = stack([traffic, conns], [0, 1], leftWidth, height);
    const right = stack([apps, procs], [0, 1], rightWidth, height);
    const rows = Math.max(left.length, right.length);
    const sep = paint(' │ ', 'gray', color);
    const out: string[] = [];
    for (let i = 0; i < rows; i++) out.push(padTagged(left[i] ?? '', leftWidth) + sep + (right[i] ?? ''));
    return out;
  }
  // Priority when space is short: traffic, applications, connections, processes; shown in reading order.
  return stack([traffic, apps, conns, procs], [0, 2, 1, 3], width, height);
}
