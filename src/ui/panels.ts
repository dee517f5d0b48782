// The Overview's right column: Traffic, Network Stats, Interfaces and Statistics panels as tagged lines.

import type { InterfaceRow, Snapshot } from '../core/snapshot.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import { blockChart } from './graph-view.js';
import { cutTagged, paint, safeCut, safeWidth, type Style } from './tags.js';
import type { StatusFacts, TrafficHistory } from './traffic-history.js';

export type { StatusFacts } from './traffic-history.js';

/** `Label: value` where the label may be shortened to `short` when the line would not fit. */
function labelled(label: string, short: string, value: string, valueWidth: number, width: number, color: boolean): string {
  const name = label.length + 2 + valueWidth <= width ? label : short;
  return cutTagged(`${paint(`${name}:`, 'gray', color)} ${value}`, width);
}

/**
 * Traffic over the last samples: per direction a label with the current rate, then a sparkline (one
 * column per sample, newest right) scaled to the largest value in view. Fits `width`×`height`.
 */
export function trafficPanel(h: TrafficHistory, width: number, height: number, color: boolean): string[] {
  if (width <= 0 || height <= 0) return [];
  const latest = h.latest();
  const rx = latest?.rxBps ?? 0;
  const tx = latest?.txBps ?? 0;
  if (height === 1) {
    return [cutTagged(`${paint('↓', 'green', color)} ${formatRate(rx)} ${paint('↑', 'cyan', color)} ${formatRate(tx)}`, width)];
  }
  if (latest === undefined) {
    return [cutTagged(`${paint('↓ RX', 'green', color)} 0 B/s  ${paint('↑ TX', 'cyan', color)} 0 B/s`, width),
      cutTagged(paint('waiting for the first sample', 'gray', color), width)];
  }
  const shown = h.last(width);
  const rxValues = shown.map((s) => s.rxBps);
  const txValues = shown.map((s) => s.txBps);
  const rxPeak = Math.max(0, ...rxValues);
  const txPeak = Math.max(0, ...txValues);
  if (height < 4) {
    // Compact: the rate as a prefix, the sparkline in the rest of the line.
    const prefixWidth = Math.max(formatRate(rx).length, formatRate(tx).length) + 3;
    const line = (arrow: string, style: Style, rate: number, values: number[]): string => {
      const room = width - prefixWidth;
      const prefix = `${paint(arrow, style, color)} ${formatRate(rate).padEnd(prefixWidth - 3)} `;
      return cutTagged(room >= 4 ? prefix + paint(blockChart(values, room, 1)[0]!, style, color) : prefix, width);
    };
    const lines = [line('↓', 'green', rx, rxValues), line('↑', 'cyan', tx, txValues)];
    if (height === 3) lines.push(cutTagged(paint(spanText(h, width), 'gray', color), width));
    return lines;
  }
  const rows = height - 2;
  const rxRows = Math.ceil(rows / 2);
  const txRows = rows - rxRows;
  const head = (arrow: string, style: Style, rate: number, peak: number): string =>
    cutTagged(`${paint(arrow, ['bold', style], color)} ${paint(formatRate(rate), 'bold', color)}` +
      paint(` peak ${formatRate(peak)} ${spanText(h, width)}`, 'gray', color), width);
  return [
    head('↓ RX', 'green', rx, rxPeak),
    ...blockChart(rxValues, width, rxRows, rxPeak).map((r) => paint(r, 'green', color)),
    head('↑ TX', 'cyan', tx, txPeak),
    ...blockChart(txValues, width, txRows, txPeak).map((r) => paint(r, 'cyan', color)),
  ];
}

// "over 1m 00s": how much time the visible sparkline covers.
function spanText(h: TrafficHistory, width: number): string {
  const span = h.spanMicros(width);
  return span > 0 ? `over ${formatDuration(span)}` : '';
}

/** TCP health as `active / total` (active: summed over the open rows; total: since the start) and TCP flows. */
export function networkStatsPanel(s: Snapshot, width: number, color: boolean): string[] {
  if (width <= 0) return [];
  let retransmits = 0;
  let outOfOrder = 0;
  let fast = 0;
  let flows = 0;
  for (const r of s.connections) {
    if (r.tcp === null) continue;
    flows++;
    retransmits += r.tcp.retransmits;
    outOfOrder += r.tcp.outOfOrder;
    fast += r.tcp.fastRetransmits;
  }
  const pair = (active: number, total: number): [string, number] => {
    const text = `${formatCount(active)} / ${formatCount(total)} total`;
    const styled = total > 0
      ? `${paint(formatCount(active), active > 0 ? 'yellow' : 'green', color)} / ${formatCount(total)} total`
      : text;
    return [styled, text.length];
  };
  const rows: [string, string, [string, number]][] = [
    ['TCP Retransmits', 'Retrans', pair(retransmits, s.tcp.retransmits)],
    ['Out-of-Order', 'OOO', pair(outOfOrder, s.tcp.outOfOrder)],
    ['Fast Retransmits', 'Fast rtx', pair(fast, s.tcp.fastRetransmits)],
    ['Active TCP Flows', 'TCP flows', [formatCount(flows), formatCount(flows).length]],
  ];
  return rows.map(([label, short, [value, valueWidth]]) => labelled(label, short, value, valueWidth, width, color));
}

function hasTraffic(i: InterfaceRow): boolean {
  return i.rxBytes > 0 || i.txBytes > 0 || i.rxPackets > 0 || i.txPackets > 0;
}

/** Interfaces the Overview shows: those with traffic, the captured one first, then by current rate. */
export function activeInterfaces(s: Snapshot, limit = 3): InterfaceRow[] {
  return s.interfaces.filter(hasTraffic)
    .sort((a, b) => Number(b.captured) - Number(a.captured) ||
      b.rxRateBps + b.txRateBps - (a.rxRateBps + a.txRateBps) || a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** Up to 3 active interfaces: `name: X ↓ / Y ↑` and their cumulative errors and drops. */
export function interfacesPanel(s: Snapshot, width: number, color: boolean): string[] {
  if (width <= 0) return [];
  if (s.interfaces.length === 0) {
    const text = s.source.kind === 'replay'
      ? 'Interface counters are live-only (this is a replay).'
      : 'No interface counters available.';
    return [cutTagged(paint(text, 'gray', color), width)];
  }
  const shown = activeInterfaces(s);
  if (shown.length === 0) return [cutTagged(paint('No interface has traffic yet.', 'gray', color), width)];
  const lines: string[] = [];
  for (const i of shown) {
    const long = `${formatRate(i.rxRateBps)} ↓ / ${formatRate(i.txRateBps)} ↑`;
    // Narrow: without the slash, so the name keeps its room.
    const rates = safeWidth(i.name) + 2 + long.length <= width
      ? long
      : `${formatRate(i.rxRateBps)} ↓ ${formatRate(i.txRateBps)} ↑`;
    const nameRoom = Math.max(1, width - rates.length - 2);
    const name = safeCut(i.name, Math.min(nameRoom, safeWidth(i.name)));
    lines.push(cutTagged(`${paint(`${name}:`, i.captured ? ['bold', 'cyan'] : 'bold', color)} ${rates}`, width));
    const errors = i.rxErrors + i.txErrors;
    const drops = i.rxDropped + i.txDropped;
    const errText = (n: number): string => paint(formatCount(n), n > 0 ? 'red' : 'green', color);
    const totals = `Errors (Total): ${formatCount(errors)}  Drops (Total): ${formatCount(drops)}`;
    lines.push(cutTagged(totals.length <= width
      ? `${paint('Errors (Total):', 'gray', color)} ${errText(errors)}  ` +
        `${paint('Drops (Total):', 'gray', color)} ${errText(drops)}`
      : `${paint('Err:', 'gray', color)} ${errText(errors)} ${paint('Drop:', 'gray', color)} ${errText(drops)}`, width));
  }
  return lines;
}

/** How the run is going: source, packets, connections, process detection, privileges, replay progress. */
export function statisticsPanel(s: Snapshot, facts: StatusFacts, width: number, color: boolean): string[] {
  if (width <= 0) return [];
  const src = s.source;
  const c = s.capture;
  const kv = (label: string, short: string, value: string, valueWidth: number): string =>
    labelled(label, short, value, valueWidth, width, color);
  // Untrusted text (interface names, paths, filters) cut to what is left after the label.
  const room = (label: string): number => Math.max(1, width - label.length - 2);
  const lines: string[] = [];

  // Most telling first: the app shows as many lines as its box holds.
  const kind = src.kind === 'replay' ? 'File' : 'Interface';
  const sourceText = `${src.name} (${src.description})`;
  lines.push(kv(kind, kind, safeCut(sourceText, room(kind)), Math.min(room(kind), safeWidth(sourceText))));
  if (facts.replay !== null) {
    const text = facts.replay.progress;
    lines.push(kv('Replay', 'Replay', safeCut(text, room('Replay')), safeWidth(text)));
  }
  if (src.filter !== '') lines.push(kv('BPF filter', 'Filter', safeCut(src.filter, room('Filter')), safeWidth(src.filter)));

  const packets = `${formatCount(c.framesSeen)} seen, ${formatCount(c.framesDecoded)} decoded`;
  lines.push(kv('Packets', 'Pkts', packets, packets.length));
  const drops = facts.kernelDrops === null
    ? paint('not reported', 'gray', color)
    : paint(formatCount(facts.kernelDrops), facts.kernelDrops > 0 ? 'red' : 'green', color);
  lines.push(kv('Kernel drops', 'Drops', drops, facts.kernelDrops === null ? 12 : formatCount(facts.kernelDrops).length));
  const conns = `${formatCount(s.connections.length)} now, ${formatCount(s.connectionsCreated)} created, ` +
    `${formatCount(s.connectionsEvicted)} evicted`;
  const connsStyled = s.connectionsEvicted > 0
    ? `${formatCount(s.connections.length)} now, ${formatCount(s.connectionsCreated)} created, ` +
      `${paint(formatCount(s.connectionsEvicted), 'yellow', color)} evicted`
    : conns;
  lines.push(kv('Connections', 'Conns', connsStyled, conns.length));
  if (facts.localhostHidden) {
    const hidden = c.skipped['localhost_filtered'] ?? 0;
    const text = hidden > 0
      ? `loopback hidden: ${formatCount(hidden)} packets (--show-localhost to show)`
      : 'loopback hidden (--show-localhost to show)';
    lines.push(cutTagged(paint(text, 'yellow', color), width));
  }
  const detection = facts.processDetection;
  lines.push(kv('Process detection', 'Process', safeCut(detection, room('Process')), safeWidth(detection)));
  lines.push(kv('Privileges', 'Privs', safeCut(facts.privileges, room('Privs')), safeWidth(facts.privileges)));
  const skipped = `${formatCount(c.framesSkipped)} (malformed ${formatCount(c.framesMalformed)})`;
  const skippedStyled = c.framesMalformed > 0
    ? `${formatCount(c.framesSkipped)} (malformed ${paint(formatCount(c.framesMalformed), 'yellow', color)})`
    : skipped;
  lines.push(kv('Skipped', 'Skip', skippedStyled, skipped.length));
  return lines;
}
