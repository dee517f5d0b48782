// Test support: the real TerminalUi on in-memory terminal streams, fed by a corpus replay at packet time; keys, text, expected screens.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ReplaySource } from '../../src/capture/replay-source.js';
import { DpiEngine } from '../../src/dpi/engine.js';
import { defaultClassifiers } from '../../src/dpi/default-classifiers.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { Hostnames } from '../../src/enrich/hostnames.js';
import { PassiveDns } from '../../src/enrich/passive-dns.js';
import { Session, type SessionEnd } from '../../src/pipeline/session.js';
import { TerminalUi } from '../../src/ui/terminal-ui.js';
import type { StatusFacts } from '../../src/ui/traffic-history.js';
import { ManualScheduler, MemorySink } from './session.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Expected screens, one text file per screen (rewritten with UPDATE_SCREENS=1). */
export const SCREENS = path.resolve(here, '../screens');

/**
 * The bytes a terminal sends for the keys the tests press. blessed 0.1.81 reads a lone ESC as the Escape key at
 * once (no wait for a following byte), so each key is one write of its own.
 */
export const KEY = {
  enter: '\r',
  escape: '\x1b',
  up: '\x1b[A',
  down: '\x1b[B',
  tab: '\t',
  shiftTab: '\x1b[Z',
  ctrlC: '\x03',
} as const;

/**
 * A terminal's output side: records every byte the screen writes, and tells blessed its size (blessed reads
 * `columns`/`rows` and listens for 'resize', as on a TTY).
 */
export class MemoryTerminal extends Writable {
  readonly isTTY = true;
  columns: number;
  rows: number;
  private readonly chunks: Buffer[] = [];

  constructor(columns: number, rows: number) {
    super();
    this.columns = columns;
    this.rows = rows;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'utf8'));
    done();
  }

  /** Everything written so far, as bytes. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Everything written so far, one character per byte (so any byte pattern can be searched for). */
  latin1(): string {
    return this.bytes().toString('latin1');
  }

  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

/** Facts with no host-dependent strings: the Statistics panel and status line read the same on every machine. */
export function fixedFacts(file: string): StatusFacts {
  return {
    processDetection: "none (a replay's sockets are gone)",
    privileges: 'test (no capture privileges)',
    localhostHidden: false,
    kernelDrops: null,
    replay: { file, progress: 'finished, holding the final state (q q to quit)' },
  };
}

/** setImmediate turns waited at most for blessed to handle one key (it handles input synchronously on 'data'). */
const KEY_TURNS = 20;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface ScreenOptions {
  columns: number;
  rows: number;
  color?: boolean;
  facts?: StatusFacts;
  /** DPI on unless false. */
  dpi?: boolean;
  /**
   * The file's name as the screen shows it (Statistics panel, status line). Default: its path from the
   * repository root, so a screen does not depend on where the repository is checked out.
   */
  shownName?: string;
  /** The screen's own copy (clipboard tool or OSC 52) instead of a stub. */
  realCopy?: boolean;
}

const REPO = path.resolve(here, '../..');

/** A TerminalUi on in-memory streams showing the held final state of a replayed capture. */
export class ScreenHarness {
  readonly ui: TerminalUi;
  readonly input: PassThrough;
  readonly output: MemoryTerminal;
  readonly session: Session;
  readonly source: ReplaySource;
  /** Every snapshot the session handed to the screen, in order. */
  readonly snapshots: Snapshot[] = [];
  /** Times onQuit was called (q q, Ctrl+C). */
  quits = 0;
  /** Screens to compare with their expected files once the test's own assertions have passed. */
  private readonly kept: { name: string; lines: string[] }[] = [];
  private readonly hostnames = new Hostnames(new PassiveDns(), null);
  private keypresses = 0;
  private done: Promise<SessionEnd> | null = null;
  private settled = false;

  private constructor(file: string, o: ScreenOptions) {
    this.input = new PassThrough();
    this.output = new MemoryTerminal(o.columns, o.rows);
    const shownName = o.shownName ?? path.relative(REPO, file);
    const facts = o.facts ?? fixedFacts(shownName);
    // TerminalUi picks blessed's terminal from TERM (read once, here); only blessed's own xterm-256color entry
    // parses on Debian 12, and the screens must not depend on the TERM the tests run under.
    const term = process.env.TERM;
    process.env.TERM = 'xterm-256color';
    try {
      this.ui = this.newUi(o, facts);
    } finally {
      if (term === undefined) delete process.env.TERM;
      else process.env.TERM = term;
    }
    // Registered after the UI's own listener: when this one runs, the UI has acted on the key.
    this.ui.screen.on('keypress', () => { this.keypresses++; });
    this.source = new ReplaySource(file, '');
    const sink = new MemorySink();
    this.session = new Session(this.source, () => [sink], {
      maxConnections: 100_000,
      showLocalhost: true,
      localAddresses: null,
      inspector: o.dpi === false ? null : new DpiEngine(defaultClassifiers()),
      tickIntervalMs: 1000,
      // As `--read FILE` runs: names from DNS answers on the wire, no resolver (nothing leaves the machine).
      enrichers: [this.hostnames],
      // Packet time drives the ticks; the scheduler is never fired, so no wall-clock tick can sneak in.
      scheduler: new ManualScheduler(),
      readers: [{
        render: (s) => {
          // The source's name is the path the test opened; the screen gets the checkout-independent one.
          const shown: Snapshot = { ...s, source: { ...s.source, name: shownName } };
          this.snapshots.push(shown);
          this.ui.render(shown);
        },
      }],
      holdAtEnd: true,
    });
  }

  private newUi(o: ScreenOptions, facts: StatusFacts): TerminalUi {
    return new TerminalUi({
      input: this.input,
      output: this.output,
      color: o.color ?? true,
      refreshIntervalMs: 1000,
      facts: () => facts,
      onQuit: () => {
        this.quits++;
        this.session.stop();
      },
      // Never the real clipboard (nor an OSC 52 write) from a test, unless it asks for the screen's own.
      copy: o.realCopy === true ? undefined : (text) => Promise.resolve({ ok: true, message: `copied ${text}` }),
      nowMs: () => 0,
    });
  }

  /** Replays `file` as fast as it reads (packet clock) and resolves once the final state is held on screen. */
  static async open(file: string, o: ScreenOptions): Promise<ScreenHarness> {
    const h = new ScreenHarness(file, o);
    try {
      h.session.open();
      h.done = h.session.run();
      void h.done.then(() => { h.settled = true; });
      // The source yields a turn per batch of frames; the session's final tick follows its end in the same turn.
      for (let turns = 0; !h.source.progress().ended; turns++) {
        if (h.settled) throw new Error(`replay of ${file} stopped before its end: ${String((await h.done).failure)}`);
        if (turns > 10_000) throw new Error(`replay of ${file} did not end`);
        await nextTurn();
      }
      await nextTurn();
      assert.ok(h.snapshots.length > 0, 'the session rendered at least one snapshot');
      return h;
    } catch (err) {
      // A screen left up would keep the test process alive.
      if (h.done !== null) {
        h.session.stop();
        await h.done;
      }
      h.ui.destroy();
      throw err;
    }
  }

  /** Presses each key in turn (raw terminal bytes, one write per key) and waits until blessed has handled it. */
  async press(...keys: string[]): Promise<void> {
    for (const k of keys) {
      const before = this.keypresses;
      this.input.write(k);
      for (let turns = 0; this.keypresses === before; turns++) {
        if (turns > KEY_TURNS) throw new Error(`blessed did not handle the key ${JSON.stringify(k)}`);
        await nextTurn();
      }
    }
  }

  /** The painted screen, one string per row, trailing spaces removed. */
  text(): string[] {
    return this.ui.text();
  }

  /**
   * Screen rows drawn in inverse video across `fromCol..toCol` (the Overview's selection bar), for what text()
   * cannot show. blessed keeps each cell as [flags << 18 | fg << 9 | bg, char]; inverse is flag 8.
   */
  inverseRows(fromCol: number, toCol: number): number[] {
    const cells = (this.ui.screen as unknown as { lines: [number, string][][] }).lines;
    const out: number[] = [];
    cells.forEach((row, y) => {
      const span = row.slice(fromCol, toCol);
      if (span.length > 0 && span.every(([attr]) => ((attr >> 18) & 8) !== 0)) out.push(y);
    });
    return out;
  }

  /**
   * Keeps `lines` to compare with test/screens/<name>.txt later, in compareKept(): a test first asserts the
   * facts it is about, so a failure names what broke before any wall of screen text.
   */
  keepScreen(name: string, lines: string[]): void {
    this.kept.push({ name, lines });
  }

  /** Compares (or with UPDATE_SCREENS=1 rewrites) every screen kept so far. */
  compareKept(): void {
    for (const k of this.kept.splice(0)) expectScreen(k.name, k.lines);
  }

  /** Lets blessed flush its buffered writes to the output (it writes on the next tick). */
  async flush(): Promise<void> {
    await nextTurn();
  }

  /** Stops the session, restores the terminal, and returns how the session ended. */
  async close(): Promise<SessionEnd> {
    this.session.stop();
    const end = await this.done!;
    this.hostnames.close();
    this.ui.destroy();
    await this.flush();
    return end;
  }
}

/**
 * Compares `lines` with test/screens/<name>.txt line by line (rewrites the file when UPDATE_SCREENS=1). The
 * first differing line is named, so a failure reads as "line 7 differs" rather than a wall of text.
 */
export function expectScreen(name: string, lines: readonly string[]): void {
  const file = path.join(SCREENS, `${name}.txt`);
  const actual = `${lines.join('\n')}\n`;
  if (process.env.UPDATE_SCREENS === '1') {
    fs.mkdirSync(SCREENS, { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  assert.ok(fs.existsSync(file), `no expected screen ${file}; run with UPDATE_SCREENS=1 to write it`);
  const expected = fs.readFileSync(file, 'utf8').split('\n');
  const got = actual.split('\n');
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    assert.equal(got[i], expected[i], `${name}: line ${i + 1} differs from ${path.relative(process.cwd(), file)} (UPDATE_SCREENS=1 rewrites it)`);
  }
}

/** An expected screen as the lines text() returns (for comparing one state with another screen's file). */
export function readScreen(name: string): string[] {
  return fs.readFileSync(path.join(SCREENS, `${name}.txt`), 'utf8').replace(/\n$/, '').split('\n');
}
