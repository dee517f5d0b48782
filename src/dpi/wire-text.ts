// Text fields from the wire (host names, ALPN ids, HTTP method/target/Host, banners) as bounded strings.

import { MAX_WIRE_STRING } from '../core/app-info.js';

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
    if (i === n) return scratch.toString('latin1', 0, n);
  }
  const s = utf8.decode(bytes.subarray(start, start + Math.min(n, MAX_WIRE_STRING * 4)));
  return s.length > MAX_WIRE_STRING ? s.slice(0, MAX_WIRE_STRING) : s;
}
