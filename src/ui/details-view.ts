// Details screen: every field of one connection as labelled, wrapped, tag-safe lines.

import type { ConnectionRow } from '../core/snapshot.js';
import { formatBytes, formatCount, formatDuration, formatEndpoint, formatRate } from './format.js';
import { cutTagged, paint, safeCut, safePad, textWidth, wrapUntrusted, wrapWords, type Style } from './tags.js';

export interface DetailsOptions {
  /** Endpoints lead with the hostname (the `d` toggle); the other form follows in brackets either way. */
  readonly showHostnames: boolean;
  readonly color: boolean;
  /** How times of day are shown (default 'local'; tests use 'utc'). */
  readonly timeZone?: 'local' | 'utc';
}

/** Lines a single value may wrap to before it is cut (an HTTP path or DNS answer list can be long). */
const MAX_VALUE_LINES = 6;

/** Staleness colour of a connection at `fraction` of its timeout (white < 75 %, yellow to 90 %, red above). */
export function stalenessStyle(fraction: number): Style | null {
  if (fraction > 0.9) return 'red';
  if (fraction >= 0.75) return 'yellow';
  return null;
}

/** A time of day with the date and milliseconds: "2024-05-01 13:04:05.123". */
export function formatTimestamp(micros: number, timeZone: 'local' | 'utc' = 'local'): string {
  if (!Number.isFinite(micros)) return '—';
  const d = new Date(Math.floor(micros / 1000));
  const utc = timeZone === 'utc';
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const [y, mo, day, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${y}-${p(mo)}-${p(day)} ${p(h)}:${p(mi)}:${p(s)}.${p(d.getUTCMilliseconds(), 3)}${utc ? ' UTC' : ''}`;
}

// A value is either our own text (trusted: numbers, labels we wrote) or text from the network or the
// host (untrusted: always wrapped through tagSafe before it reaches a tagged line).
type Value = { readonly trusted: string; readonly style?: Style | null } | { readonly untrusted: string };

const own = (text: string, style?: Style | null): Value => ({ trusted: text, style });
const wire = (text: string): Value => ({ untrusted: text });

class Builder {
  readonly lines: string[] = [];
  constructor(private readonly width: number, private readonly labelWidth: number, private readonly color: boolean) {}

  section(name: string): void {
    if (this.lines.length > 0) this.lines.push('');
    this.lines.push(cutTagged(paint(name, ['bold', 'cyan'], this.color), this.width));
  }

  /**
   * `label  value`, the value wrapped under itself; when the label is too long for its column, or the
   * screen too narrow for two columns, the value goes below the label instead.
   */
  field(label: string, value: Value): void {
    const stacked = textWidth(label) > this.labelWidth || this.width - this.labelWidth - 1 < 12;
    const indent = stacked ? 2 : this.labelWidth + 1;
    const valueWidth = Math.max(1, this.width - indent);
    const pieces = 'untrusted' in value
      ? wrapUntrusted(value.untrusted, valueWidth, MAX_VALUE_LINES)
      : wrapWords(value.trusted, valueWidth)
        .slice(0, MAX_VALUE_LINES)
        .map((p) => (value.style ? paint(p, value.style, this.color) : p));
    // Labels are ours, but DPI detail keys come from classifiers: escaped all the same.
    if (stacked) {
      this.lines.push(cutTagged(paint(safeCut(label, this.width), 'gray', this.color), this.width));
      for (const p of pieces) this.lines.push(cutTagged(`  ${p}`, this.width));
      return;
    }
    const head = paint(safePad(label, this.labelWidth), 'gray', this.color);
    pieces.forEach((p, i) => {
      this.lines.push(cutTagged(`${i === 0 ? head : ' '.repeat(this.labelWidth)} ${p}`, this.width));
    });
  }
}

/** A DPI detail value as text: lists joined with ", ", everything else as written. */
function detailText(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return String(v);
}

/** Endpoint text: address:port, the hostname first when `showHostnames` and known, the other form in brackets. */
function endpoint(addr: string, port: number, hasPorts: boolean, hostname: string | undefined, showHostnames: boolean): string {
  const p = hasPorts ? port : undefined;
  const ip = formatEndpoint(addr, p);
  if (hostname === undefined || hostname === '' || hostname === addr) return ip;
  const named = p === undefined ? hostname : `${hostname}:${p}`;
  return showHostnames ? `${named} (${ip})` : `${ip} (${hostname})`;
}

/** Every field of `row` at `nowMicros`, each line at most `width` columns. */
export function detailsLines(row: ConnectionRow | null, nowMicros: number, width: number, opts: DetailsOptions): string[] {
  if (width <= 0) return [];
  const color = opts.color;
  if (row === null) return [cutTagged(paint('No connection selected.', 'gray', color), width)];
  const labelWidth = Math.min(18, Math.max(8, Math.floor(width * 0.35)));
  const b = new Builder(width, labelWidth, color);
  const tz = opts.timeZone ?? 'local';

  b.section(`Connection #${row.id}`);
  b.field('Protocol', wire(`${row.protocol} (IPv${row.family})`));
  b.field('Local', wire(endpoint(row.localAddr, row.localPort, row.hasPorts, row.localHostname, opts.showHostnames)));
  b.field('Remote', wire(endpoint(row.remoteAddr, row.remotePort, row.hasPorts, row.remoteHostname, opts.showHostnames)));
  if (row.hasPorts) b.field('Service', row.service === undefined ? own('—') : wire(row.service));
  b.field('State', wire(row.state));
  b.field('Direction', own(row.direction ?? 'unknown'));

  b.section('Process');
  if (row.processName === undefined && row.pid === undefined) {
    b.field('Name', own('— (not attributed)', 'gray'));
  } else {
    b.field('Name', row.processName === undefined ? own('—') : wire(row.processName));
    b.field('PID', own(row.pid === undefined ? '—' : String(row.pid)));
  }
  if (row.processUnit !== undefined) b.field('Unit', wire(row.processUnit));
  if (row.containerName !== undefined || row.containerId !== undefined) {
    const id = row.containerId === undefined ? '' : row.containerId.slice(0, 12);
    const text = row.containerName === undefined ? id : id === '' ? row.containerName : `${row.containerName} (${id})`;
    b.field('Container', wire(text));
  }

  b.section('Application');
  if (row.app === null) {
    b.field('Protocol', own('— (not identified)', 'gray'));
  } else {
    b.field('Protocol', wire(row.app.protocol));
    // Only labels not read from a handshake or a message say how they were reached; a port's guess in grey.
    const confidence = row.app.confidence;
    if (confidence === 'port') b.field('Confidence', own('guessed from the port alone (not inspected content)', 'gray'));
    else if (confidence === 'mid-stream') b.field('Confidence', own('mid-stream (framing recognised, no handshake seen)'));
    if (row.app.domain !== undefined) b.field('Domain', wire(row.app.domain));
    // Every detail the classifier set, generically: a new classifier's keys show without changes here.
    const details = row.app.details;
    for (const key of Object.keys(details).sort()) {
      const v = details[key];
      if (v === undefined) continue;
      b.field(key, wire(detailText(v)));
    }
  }

  b.section('Traffic');
  b.field('Bytes ↓ / ↑', own(`${formatBytes(row.bytesReceived)} / ${formatBytes(row.bytesSent)}`));
  b.field('Packets ↓ / ↑', own(`${formatCount(row.packetsReceived)} / ${formatCount(row.packetsSent)}`));
  b.field('Rate ↓ / ↑', own(`${formatRate(row.receiveRateBps)} / ${formatRate(row.sendRateBps)}`));

  if (row.tcp !== null) {
    b.section('TCP analytics');
    const n = (v: number): Value => own(formatCount(v), v > 0 ? 'yellow' : null);
    b.field('Retransmits', n(row.tcp.retransmits));
    b.field('Out-of-order', n(row.tcp.outOfOrder));
    b.field('Fast retransmits', n(row.tcp.fastRetransmits));
    b.field('Duplicate ACKs', n(row.tcp.dupAcks));
  }

  b.section('Timing');
  const end = row.closedAtMicros ?? nowMicros;
  b.field('First seen', own(formatTimestamp(row.firstSeenMicros, tz)));
  b.field('Last seen', own(formatTimestamp(row.lastSeenMicros, tz)));
  b.field('Age', own(formatDuration(Math.max(0, end - row.firstSeenMicros))));
  const idle = Math.max(0, end - row.lastSeenMicros);
  if (row.timeoutMicros > 0) {
    const fraction = idle / row.timeoutMicros;
    const text = `${formatDuration(idle)} of ${formatDuration(row.timeoutMicros)} timeout (${Math.floor(fraction * 100)}%)`;
    b.field('Idle', own(text, row.closedAtMicros === undefined ? stalenessStyle(fraction) : null));
  } else {
    b.field('Idle', own(formatDuration(idle)));
  }
  if (row.closedAtMicros !== undefined) {
    b.field('Closed', own(formatTimestamp(row.closedAtMicros, tz), 'gray'));
    b.field('Close reason', row.closeReason === undefined ? own('—') : wire(row.closeReason));
  }
  return b.lines;
}
