// IP addresses as four 32-bit words: formatting (RFC 5952 for IPv6) and classification.

import { latin1String } from './bytes.js';
import { isIpv4Mapped } from './packet-view.js';

/** Longest IPv6 text is 39 characters. */
const scratch = Buffer.allocUnsafe(48);
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Formats an address held as four words; IPv4-mapped words print as dotted IPv4. */
export function formatAddress(w0: number, w1: number, w2: number, w3: number): string {
  if (isIpv4Mapped(w0, w1, w2)) return formatIpv4(w3);
  const group = (i: number): number => {
    const w = i < 2 ? w0 : i < 4 ? w1 : i < 6 ? w2 : w3;
    return (i & 1) === 0 ? w >>> 16 : w & 0xffff;
  };
  // RFC 5952 §4.2: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (group(i) !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && group(j) === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  // RFC 5952 §4.1, §4.3: no leading zeros, lowercase hex. Written into a scratch buffer and decoded
  // once: concatenating the pieces would leave a rope of a dozen nodes per address, which lives as
  // long as the connection and is flattened again by every JSON encode.
  const t = scratch;
  let n = 0;
  for (let i = 0; i < 8;) {
    if (i === bestStart) {
      t[n++] = 0x3a;
      t[n++] = 0x3a;
      i += bestLen;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) t[n++] = 0x3a;
    const g = group(i);
    for (let shift = g >= 0x1000 ? 12 : g >= 0x100 ? 8 : g >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) {
      t[n++] = HEX_DIGITS[(g >>> shift) & 0xf]!;
    }
    i++;
  }
  return latin1String(t, 0, n);
}

export function isLoopbackWords(w0: number, w1: number, w2: number, w3: number): boolean {
  if (isIpv4Mapped(w0, w1, w2)) return w3 >>> 24 === 127;
  return w0 === 0 && w1 === 0 && w2 === 0 && w3 === 1;
}

/** Parses a textual IPv4/IPv6 address into four words (IPv4 mapped), or null. */
export function parseAddressWords(text: string): [number, number, number, number] | null {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return [0, 0, 0xffff, ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0];
  }
  if (!s.includes(':')) return null;
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
    if (tail.includes('::')) return null;
  }
  const toGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes('.')) {
        const w = parseAddressWords(p);
        if (!w || w[2] !== 0xffff) return null;
        out.push(w[3] >>> 16, w[3] & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  if (!h || !t) return null;
  const missing = 8 - h.length - t.length;
  if (dbl < 0 ? missing !== 0 : missing < 1) return null;
  const g = [...h, ...new Array<number>(dbl < 0 ? 0 : missing).fill(0), ...t];
  return [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}
