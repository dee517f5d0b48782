// Test support: the real program in a real terminal — a detached tmux session of fixed size, keys sent, the pane
// read back as text. Every wait is bounded; sessions are killed even when a test fails.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface TmuxSession {
  readonly name: string;
  /** The pane's visible text, one string per row, trailing spaces trimmed. */
  capture(): string[];
  /**
   * The scrollback and the visible rows together. tmux scrolls the pane when it marks a dead pane
   * (remain-on-exit), so what a command printed before it ended may sit in the history by then.
   */
  captureAll(): string[];
  /** The visible rows with their colour and attribute escape sequences (`capture-pane -e`). */
  captureStyled(): string[];
  /** tmux send-keys arguments, e.g. 'q', 'Enter', 'Escape', '/', 'C-c', 'BTab'. */
  keys(...keys: string[]): void;
  /** Literal text, each character as a key. */
  type(text: string): void;
  /**
   * Polls until `check` holds for what `read` returns (default: the visible rows) and the screen has settled
   * (reads the same 40 ms later), every 50 ms, at most `timeoutMs`; throws with the last screen otherwise.
   */
  waitFor(check: (lines: string[]) => boolean, what: string, timeoutMs?: number, read?: () => string[]): Promise<string[]>;
  /** Resizes the window (and so the pane: one pane per session). */
  resize(width: number, height: number): void;
  /** The pid of the command tmux started in the pane. */
  panePid(): number;
  /** Whether the pane shows the alternate screen now. */
  alternateScreen(): boolean;
  /** True while the command still runs in the pane. */
  alive(): boolean;
  /** The command's exit status once it has ended (remain-on-exit keeps the pane), else null. */
  exitStatus(): number | null;
  kill(): void;
}

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function lines(text: string): string[] {
  // capture-pane ends its output with a newline: no extra empty row for it.
  const rows = text.split('\n');
  if (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows.map((l) => l.replace(/\s+$/, ''));
}

/** Synchronous pause (startTmux is synchronous); only for the rare retry below. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs a command that may start the tmux server. When the last session of a server has just been killed, the
 * server is on its way out and a client can reach it in that moment: tmux then says "server exited
 * unexpectedly" (or "lost server"). A moment later a new server starts normally, so try again, a few times.
 */
function tmuxStarting(...args: string[]): string {
  for (let attempt = 1; ; attempt++) {
    try {
      return tmux(...args);
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      if (attempt >= 5 || !/server exited unexpectedly|lost server|no server running/.test(stderr)) throw err;
      pause(100 * attempt);
    }
  }
}

let counter = 0;
/** How long a screen must stay the same to count as painted (see waitFor). */
const SETTLE_MS = 40;

/** Starts `command` (a shell command line) in a new detached session of width × height. */
export function startTmux(command: string, opts: { width?: number; height?: number; env?: Record<string, string> } = {}): TmuxSession {
  const name = `rustnet-test-${process.pid}-${++counter}`;
  const env = Object.entries({ TERM: 'xterm-256color', NCURSES_NO_UTF8_ACS: '1', LANG: 'C.UTF-8', ...opts.env })
    .map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
  // One tmux command line: remain-on-exit is set before the server runs its loop again, so even a command that
  // ends at once keeps its pane (and its exit status) for the test to read.
  tmuxStarting('new-session', '-d', '-s', name, '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 45),
    `env ${env} ${command}`, ';', 'set-option', '-t', name, 'remain-on-exit', 'on');
  const session: TmuxSession = {
    name,
    capture: () => lines(tmux('capture-pane', '-p', '-t', name)),
    captureAll: () => lines(tmux('capture-pane', '-p', '-S', '-', '-E', '-', '-t', name)),
    captureStyled: () => lines(tmux('capture-pane', '-p', '-e', '-t', name)),
    keys: (...keys) => { tmux('send-keys', '-t', name, ...keys); },
    // `--`: text starting with '-' is text, not an option.
    type: (text) => { tmux('send-keys', '-t', name, '-l', '--', text); },
    async waitFor(check, what, timeoutMs = 10_000, read = session.capture) {
      const deadline = Date.now() + timeoutMs;
      let rows: string[] = [];
      for (;;) {
        rows = read();
        if (check(rows)) {
          // A big repaint reaches tmux in several pieces: the title may be new while the rows below are not yet.
          // Only a screen that reads the same a moment later is taken.
          await new Promise((r) => setTimeout(r, SETTLE_MS));
          const again = read();
          if (again.join('\n') === rows.join('\n')) return rows;
          continue;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${rows.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    resize: (width, height) => { tmux('resize-window', '-t', name, '-x', String(width), '-y', String(height)); },
    panePid: () => Number(tmux('display-message', '-p', '-t', name, '#{pane_pid}').trim()),
    alternateScreen: () => tmux('display-message', '-p', '-t', name, '#{alternate_on}').trim() === '1',
    alive: () => tmux('display-message', '-p', '-t', name, '#{pane_dead}').trim() === '0',
    exitStatus: () => {
      const [dead, status] = tmux('display-message', '-p', '-t', name, '#{pane_dead}|#{pane_dead_status}').trim().split('|');
      // The status is empty for a moment after the pane is marked dead (and when a signal ended the command).
      return dead === '1' && status !== undefined && /^\d+$/.test(status) ? Number(status) : null;
    },
    kill: () => { spawnSync('tmux', ['kill-session', '-t', name]); },
  };
  return session;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether any line contains `text`. */
export function hasText(lines: string[], text: string): boolean {
  return lines.some((l) => l.includes(text));
}

/** The pids whose parent is `pid` (from /proc: no procps needed). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // The command name (field 2) may hold spaces and parentheses: the fields after its last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) out.push(Number(entry));
  }
  return out;
}
