// Untrusted text (SNI, Host, paths, banners, DNS names, process names) made safe to paint on a terminal.
//
// Neutralised at display, never by dropping data: the row keeps what the wire said, the screen shows control
// characters as visible escapes, so a hostile packet cannot move the cursor, recolour or retitle the terminal.

/** Longest untrusted string shown in one piece (after escaping); longer ones end in '…'. */
export const DISPLAY_LIMIT = 256;

// C0 controls, DEL, C1 controls, and the Unicode formatting characters that reorder or hide text
// (bidi embeddings/overrides/isolates, zero-width and line/paragraph separators).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `s` with every unsafe character shown as \xNN or \uNNNN, cut to `limit` characters. */
export function displaySafe(s: string, limit = DISPLAY_LIMIT): string {
  const safe = s.replace(UNSAFE, escapeChar);
  return safe.length > limit ? `${safe.slice(0, Math.max(0, limit - 1))}…` : safe;
}

/** displaySafe, and braces escaped for blessed's tag parser (for content painted with `tags: true`). */
export function tagSafe(s: string, limit = DISPLAY_LIMIT): string {
  return displaySafe(s, limit).replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}
