// The Overview filter: text such as `dport:443 sni:/goo.*le/ firefox` parsed once into tests, then matched per row.
//
// Grammar: terms separated by whitespace, all must match (AND). A term is `keyword:value` for a known keyword
// (case-insensitive), else free text. A value is a case-insensitive substring, or a case-insensitive regular
// expression when written `/re/` (the closing slash is optional, so the table follows along while a regex is
// typed; a regex cannot contain a space, use `\s`). An empty value (`port:` while typing) matches everything.
// An invalid regex is reported in `errors` and its term is left out, never thrown.
//
// Keywords: port sport dport src dst process sni ssh state proto service app unit container.
// - `src`/`dst`, `sport`/`dport` follow the direction: outgoing src = local, incoming src = remote, unknown
//   direction either side. Addresses match the IP or the hostname.
// - `sni`: details.sni; `ssh`: every ssh_* detail (banners, software); `app`: application protocol or domain;
//   `process`: name or pid; `unit`: systemd unit; `container`: container name or id.
// - Free text looks at everything the table can show: protocol, addresses, hostnames, ports, `ip:port`, state,
//   service, application and domain, process name and pid, unit and container. (`ip:port` only for text with a
//   colon in it, ports and pid only for digits or a regex: the other tests cannot match those.)
// Every test is a RegExp with the `i` flag (plain text is escaped into one), so matching allocates nothing for
// most fields and needs no lower-casing of row strings.

import type { ConnectionRow } from '../core/snapshot.js';
import { formatEndpoint } from './format.js';

export type FilterField =
  | 'port' | 'sport' | 'dport' | 'src' | 'dst' | 'process' | 'sni' | 'ssh' | 'state' | 'proto' | 'service'
  | 'app' | 'unit' | 'container' | 'text';

export const FILTER_KEYWORDS: readonly Exclude<FilterField, 'text'>[] = [
  'port', 'sport', 'dport', 'src', 'dst', 'process', 'sni', 'ssh', 'state', 'proto', 'service', 'app', 'unit',
  'container',
];
const KEYWORDS: ReadonlySet<string> = new Set(FILTER_KEYWORDS);

export interface FilterTerm {
  readonly field: FilterField;
  /** The value as typed (without the keyword). */
  readonly value: string;
  readonly regex: boolean;
  readonly test: RegExp;
  /** Free text only: whether numbers (ports, pid) or `ip:port` texts can match, so others skip building them. */
  readonly numbers: boolean;
  readonly endpoints: boolean;
}

export interface ParsedFilter {
  readonly text: string;
  readonly terms: readonly FilterTerm[];
  /** One message per invalid regex, e.g. `invalid regex /[/: Unterminated character class`. */
  readonly errors: readonly string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function parseFilter(text: string): ParsedFilter {
  const terms: FilterTerm[] = [];
  const errors: string[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    let field: FilterField = 'text';
    let value = word;
    const colon = word.indexOf(':');
    if (colon > 0) {
      const keyword = word.slice(0, colon).toLowerCase();
      // Unknown prefixes stay free text, so IPv6 addresses (`fe80::1`) and `host:port` still work.
      if (KEYWORDS.has(keyword)) {
        field = keyword as FilterField;
        value = word.slice(colon + 1);
      }
    }
    // Nothing typed yet after the keyword or the opening slash: no constraint (yet).
    if (value === '' || value === '/') continue;
    if (value.startsWith('/')) {
      const body = value.length > 2 && value.endsWith('/') ? value.slice(1, -1) : value.slice(1);
      try {
        // Only a regex with a colon can need `ip:port` texts (which cost a string per row to build).
        terms.push({ field, value, regex: true, test: new RegExp(body, 'i'), numbers: true, endpoints: body.includes(':') });
      } catch (err) {
        const why = err instanceof Error ? err.message.replace(/^.*: /, '') : String(err);
        errors.push(`invalid regex /${body}/: ${why}`);
      }
      continue;
    }
    terms.push({
      field, value, regex: false, test: new RegExp(escapeRegExp(value), 'i'),
      numbers: /^[0-9]+$/.test(value), endpoints: value.includes(':'),
    });
  }
  return { text, terms, errors };
}

let cached: ParsedFilter = parseFilter('');

/** parseFilter, remembered for the last text: the table asks every tick, the text changes on key presses. */
export function compileFilter(text: string): ParsedFilter {
  if (cached.text !== text) cached = parseFilter(text);
  return cached;
}

function has(re: RegExp, s: string | undefined): boolean {
  return s !== undefined && re.test(s);
}

/** Port numbers as text, made once per port for the whole run (filters test them for every row). */
const PORT_TEXT: (string | undefined)[] = [];

function portText(port: number): string {
  return (PORT_TEXT[port] ??= String(port));
}

function hasPort(re: RegExp, port: number, row: ConnectionRow): boolean {
  return row.hasPorts && re.test(portText(port));
}

function side(re: RegExp, addr: string, hostname: string | undefined): boolean {
  return re.test(addr) || has(re, hostname);
}

function matchesTerm(t: FilterTerm, row: ConnectionRow): boolean {
  const re = t.test;
  switch (t.field) {
    case 'port':
      return hasPort(re, row.localPort, row) || hasPort(re, row.remotePort, row);
    case 'sport':
    case 'dport': {
      // Source is the local side of outgoing connections and the remote side of incoming ones.
      const wantsLocal = (t.field === 'sport') === (row.direction === 'outgoing');
      if (row.direction === undefined) return hasPort(re, row.localPort, row) || hasPort(re, row.remotePort, row);
      return wantsLocal ? hasPort(re, row.localPort, row) : hasPort(re, row.remotePort, row);
    }
    case 'src':
    case 'dst': {
      const local = (): boolean => side(re, row.localAddr, row.localHostname);
      const remote = (): boolean => side(re, row.remoteAddr, row.remoteHostname);
      if (row.direction === undefined) return local() || remote();
      const wantsLocal = (t.field === 'src') === (row.direction === 'outgoing');
      return wantsLocal ? local() : remote();
    }
    case 'process':
      return has(re, row.processName) || (row.pid !== undefined && re.test(String(row.pid)));
    case 'sni': {
      const sni = row.app?.details.sni;
      return typeof sni === 'string' && re.test(sni);
    }
    case 'ssh': {
      const details = row.app?.details;
      if (details === undefined) return false;
      for (const key in details) {
        if (!key.startsWith('ssh_')) continue;
        const v = details[key];
        if (typeof v === 'string' ? re.test(v) : Array.isArray(v) && v.some((x) => re.test(x))) return true;
      }
      return false;
    }
    case 'state':
      return re.test(row.state);
    case 'proto':
      return re.test(row.protocol);
    case 'service':
      return has(re, row.service);
    case 'app':
      return row.app !== null && (re.test(row.app.protocol) || has(re, row.app.domain));
    case 'unit':
      return has(re, row.processUnit);
    case 'container':
      return has(re, row.containerName) || has(re, row.containerId);
    case 'text':
      return matchesText(t, row);
  }
}

function matchesText(t: FilterTerm, row: ConnectionRow): boolean {
  const re = t.test;
  if (
    re.test(row.protocol) || side(re, row.remoteAddr, row.remoteHostname) ||
    side(re, row.localAddr, row.localHostname) || re.test(row.state) || has(re, row.service) ||
    has(re, row.processName) || has(re, row.processUnit) || has(re, row.containerName)
  ) {
    return true;
  }
  if (row.app !== null && (re.test(row.app.protocol) || has(re, row.app.domain))) return true;
  // Text with letters cannot match a number, and only text with a colon can span address and port.
  if (t.numbers) {
    if (row.pid !== undefined && re.test(String(row.pid))) return true;
    if (hasPort(re, row.remotePort, row) || hasPort(re, row.localPort, row)) return true;
  }
  if (t.endpoints && row.hasPorts) {
    // `10.0.0.1:443` as copied from the screen.
    if (re.test(formatEndpoint(row.remoteAddr, row.remotePort)) || re.test(formatEndpoint(row.localAddr, row.localPort))) {
      return true;
    }
  }
  return false;
}

/** True when every term matches (an empty filter matches every row). */
export function matchesFilter(filter: ParsedFilter, row: ConnectionRow): boolean {
  for (const t of filter.terms) if (!matchesTerm(t, row)) return false;
  return true;
}
