// Blessed tag helpers: what a tagged line looks like on screen (strip, width, cut, pad) and colour-or-not styling.

import { displaySafe, tagSafe } from './sanitize.js';

/** The styles our screens use; colours are dropped under --no-color / NO_COLOR, bold and underline stay. */
export type Style = 'bold' | 'underline' | 'cyan' | 'gray' | 'red' | 'yellow' | 'green' | 'blue' | 'magenta';

const ATTRIBUTES: ReadonlySet<Style> = new Set<Style>(['bold', 'underline']);

// The same tag grammar as blessed's parser (Element._parseTags): `{name}`, `{/name}`, `{/}`.
const TAG = /\{(\/?)([\w\-,;!#]*)\}/g;

/** Colour tags the screens emit, for tests and callers that must check `color: false` output. */
export const COLOR_TAG = /\{\/?[a-z]+-(?:fg|bg)\}/;

function tagName(style: Style): string {
  return ATTRIBUTES.has(style) ? style : `${style}-fg`;
}

/**
 * `text` (already safe: our own words, numbers, or tagSafe output) wrapped in the tags of `styles`;
 * colour styles are left out when `color` is false.
 */
export function paint(text: string, styles: Style | readonly Style[], color: boolean): string {
  if (text === '') return '';
  const list = (typeof styles === 'string' ? [styles] : styles).filter((s) => color || ATTRIBUTES.has(s));
  if (list.length === 0) return text;
  const open = list.map((s) => `{${tagName(s)}}`).join('');
  const close = list.slice().reverse().map((s) => `{/${tagName(s)}}`).join('');
  return `${open}${text}${close}`;
}

/** What blessed shows for a tagged line: tags removed, `{open}`/`{close}` turned back into braces. */
export function stripTags(tagged: string): string {
  return tagged.replace(TAG, (whole, slash: string, name: string) => {
    if (name === 'open') return '{';
    if (name === 'close') return '}';
    // blessed prints an empty `{}` as it is; every other tag is an attribute change.
    return slash === '' && name === '' ? whole : '';
  });
}

/**
 * Terminal columns of one character. Deliberately generous: East Asian wide and fullwidth characters and
 * everything outside the BMP (emoji) count 2, so a line that fits here also fits when the terminal draws
 * them wide; it also makes the width never smaller than the string's `.length`.
 */
export function charWidth(codePoint: number): number {
  if (codePoint > 0xffff) return 2;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6)
  ) {
    return 2;
  }
  return 1;
}

/** Columns of plain (untagged) text. */
export function textWidth(plain: string): number {
  let w = 0;
  for (const ch of plain) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Columns a tagged line takes on screen. */
export function visibleWidth(tagged: string): number {
  return textWidth(stripTags(tagged));
}

/** Plain text cut to `width` columns, ending in '…' when cut. */
export function cutText(plain: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(plain) <= width) return plain;
  let out = '';
  let w = 0;
  for (const ch of plain) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/**
 * Our own text (trusted, untagged) broken at spaces into lines of at most `width` columns; a word wider
 * than a line is broken at the width rather than left to be cut off with '…'. Text that fits comes back
 * as it is (empty text is one empty line); a width of 0 or less gives no lines.
 */
export function wrapWords(text: string, width: number): string[] {
  if (width <= 0) return [];
  if (textWidth(text) <= width) return [text];
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    const next = cur === '' ? word : `${cur} ${word}`;
    if (textWidth(next) <= width) {
      cur = next;
      continue;
    }
    if (cur !== '') out.push(cur);
    cur = word;
    while (textWidth(cur) > width) {
      const head = leadingColumns(cur, width);
      out.push(head);
      cur = cur.slice(head.length);
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}

// The longest start of `plain` within `width` columns, never empty: a character wider than the whole
// width still moves the wrap forward instead of looping on it.
function leadingColumns(plain: string, width: number): string {
  let out = '';
  let w = 0;
  for (const ch of plain) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (out !== '' && w + cw > width) break;
    out += ch;
    w += cw;
  }
  return out;
}

/**
 * A tagged line cut to `width` visible columns, ending in '…' when cut. Tags are never split; a styled
 * line that is cut ends with `{/}`, so no style leaks past the cut.
 */
export function cutTagged(tagged: string, width: number): string {
  if (width <= 0) return '';
  if (visibleWidth(tagged) <= width) return tagged;
  let out = '';
  let w = 0;
  let last = 0;
  let styled = false;
  const limit = width - 1; // room for the ellipsis
  const end = (): string => (styled ? `${out}…{/}` : `${out}…`);
  const pieces = tagged.matchAll(TAG);
  const addText = (text: string): boolean => {
    for (const ch of text) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > limit) return false;
      out += ch;
      w += cw;
    }
    return true;
  };
  for (const m of pieces) {
    if (!addText(tagged.slice(last, m.index))) return end();
    const name = m[2]!;
    if (name === 'open' || name === 'close' || (m[1] === '' && name === '')) {
      if (w + (name === '' ? 2 : 1) > limit) return end();
      w += name === '' ? 2 : 1;
    } else {
      styled = true;
    }
    out += m[0];
    last = m.index + m[0].length;
  }
  addText(tagged.slice(last));
  return end();
}

/** A tagged line padded with spaces to exactly `width` visible columns (cut first when longer). */
export function padTagged(tagged: string, width: number): string {
  const cut = cutTagged(tagged, width);
  return cut + ' '.repeat(Math.max(0, width - visibleWidth(cut)));
}

/** Every line cut to `width`. */
export function fitLines(lines: readonly string[], width: number): string[] {
  return lines.map((l) => cutTagged(l, width));
}

/**
 * Untrusted text (from the network or the host) made safe and broken into pieces of at most `width`
 * columns, each tag-escaped; at most `maxLines` pieces, the last ending in '…' when more remained.
 */
export function wrapUntrusted(raw: string, width: number, maxLines = Number.POSITIVE_INFINITY): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const safe = displaySafe(raw);
  const pieces: string[] = [];
  let cur = '';
  let w = 0;
  for (const ch of safe) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width) {
      pieces.push(cur);
      cur = '';
      w = 0;
    }
    cur += ch;
    w += cw;
  }
  if (cur !== '' || pieces.length === 0) pieces.push(cur);
  if (pieces.length > maxLines) {
    const kept = pieces.slice(0, maxLines);
    kept[maxLines - 1] = cutText(`${kept[maxLines - 1]!}…`, width);
    return kept.map((p) => tagSafe(p, Number.MAX_SAFE_INTEGER));
  }
  // Already safe: tagSafe here only escapes braces (displaySafe is idempotent on its own output).
  return pieces.map((p) => tagSafe(p, Number.MAX_SAFE_INTEGER));
}

/** Untrusted text made safe and cut to `width` columns (tag-escaped). */
export function safeCut(raw: string, width: number): string {
  return tagSafe(cutText(displaySafe(raw), width), Number.MAX_SAFE_INTEGER);
}

/** Untrusted text made safe, cut and padded with spaces to exactly `width` columns (tag-escaped). */
export function safePad(raw: string, width: number): string {
  if (width <= 0) return '';
  const plain = cutText(displaySafe(raw), width);
  return tagSafe(plain, Number.MAX_SAFE_INTEGER) + ' '.repeat(Math.max(0, width - textWidth(plain)));
}

/** Columns untrusted text takes once made safe. */
export function safeWidth(raw: string): number {
  return textWidth(displaySafe(raw));
}
