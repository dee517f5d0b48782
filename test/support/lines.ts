// Test support: checks on the tagged lines the UI views return (width, and hostile text left harmless).

import assert from 'node:assert/strict';
import { stripTags, visibleWidth } from '../../src/ui/tags.js';

/** A string from the network that tries an OSC title, a blessed tag and a right-to-left override. */
export const HOSTILE = 'evil\x1b]0;pwned\x07{bold}x{/bold}\u202e';

/** Every line takes at most `width` columns on screen. */
export function assertFits(lines: readonly string[], width: number, what: string): void {
  for (const l of lines) assert.ok(visibleWidth(l) <= width, `${what} at ${width}: ${JSON.stringify(stripTags(l))} is ${visibleWidth(l)} wide`);
}

/** Nothing a terminal would act on: no control characters at all, no unescaped brace from HOSTILE. */
export function assertInert(lines: readonly string[], what: string): void {
  for (const l of lines) {
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(l, /[\u0000-\u001f\u007f-\u009f\u202e]/, `${what}: raw control character in ${JSON.stringify(l)}`);
    assert.ok(!l.includes('{bold}x'), `${what}: hostile tag left active in ${JSON.stringify(l)}`);
  }
}
