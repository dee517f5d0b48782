// Test support: network namespaces a test creates and removes (`ip netns`), skipped only when the kernel refuses.

import { execFileSync } from 'node:child_process';

/** Runs `ip` with a bounded wait; its output, or a thrown error carrying its stderr. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What a failed command said (its stderr, else the error's message). */
export function errorText(err: unknown): string {
  const e = err as { stderr?: string | Buffer; message?: string };
  return `${e.stderr?.toString().trim() || e.message || String(err)}`;
}

/**
 * Creates a namespace (removing a leftover of the same name first); returns null, or why the kernel refused
 * (the only reason to skip). Other failures throw.
 */
export function addNetns(name: string): string | null {
  delNetns(name);
  try {
    ip('netns', 'add', name);
    return null;
  } catch (err) {
    const text = errorText(err);
    if (/not permitted|permission denied|EPERM|EACCES|read-only file system/i.test(text)) return `ip netns add refused: ${text}`;
    throw new Error(`ip netns add ${name} failed: ${text}`);
  }
}

export function delNetns(name: string): void {
  try {
    ip('netns', 'del', name);
  } catch {
    // Already gone (or never made).
  }
}
