// Text fields from the wire (host names, ALPN ids, HTTP method/target/Host, banners) as bounded strings.

import { MAX_WIRE_STRING } from '../core/app-info.js';
import { latin1String } from '../core/bytes.js';

const utf8 = new TextDecoder();
/** Short ASCII fields are copied here and turned into a string in one call. */
const scratch = Buffer.allocUnsafe(MAX_WIRE_STRING);

/**
 * bytes[start..end) decoded as UTF-8 (invalid sequences become U+FFFD), cut to MAX_WIRE_STRING
 * code units. Most fields are short ASCII: those skip the decoder, which costs more per call than
 * copying the whole field.
 */
export function wireText(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n <= MAX_WIRE_STRING) {
    let i = 0;
    for (; i < n; i++) {
      const c = bytes[start + i]!;
      if (c >= 0x80) break;
      scratch[i] = c;
    }
    if (i === n) return latin1String(scratch, 0, n);
  }
  const s = utf8.decode(bytes.subarray(start, start + Math.min(n, MAX_WIRE_STRING * 4)));
  return s.length > MAX_WIRE_STRING ? s.slice(0, MAX_WIRE_STRING) : s;
}

/** bytes[start..end) one character per byte (ISO 8859-1), cut to MAX_WIRE_STRING; one native call. */
export function latin1Text(bytes: Uint8Array, start: number, end: number): string {
  const n = Math.min(end - start, MAX_WIRE_STRING);
  if (n <= 0) return '';
  for (let i = 0; i < n; i++) scratch[i] = bytes[start + i]!;
  return latin1String(scratch, 0, n);
}

/**
 * Tokens that recur on most connections (ALPN protocol ids, HTTP methods): returned as the one shared
 * string instead of a new one per connection, which each event would keep alive until it is written.
 */
const COMMON_TOKENS = ['h2', 'http/1.1', 'h3', 'http/1.0', 'spdy/3.1', 'h2c', 'GET', 'POST', 'HEAD', 'PUT', 'CONNECT'];
const COMMON_BYTES = COMMON_TOKENS.map((t) => Uint8Array.from(t, (c) => c.charCodeAt(0)));

/** wireText, but one of COMMON_TOKENS comes back as the shared string. */
export function wireToken(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  for (let k = 0; k < COMMON_BYTES.length; k++) {
    const t = COMMON_BYTES[k]!;
    if (t.length !== n) continue;
    let i = 0;
    while (i < n && bytes[start + i] === t[i]) i++;
    if (i === n) return COMMON_TOKENS[k]!;
  }
  return wireText(bytes, start, end);
}
