// Test support: run the built CLI as a child process (wait for its ready line, stop it) and read its JSON log.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ConnectionEvent } from '../../src/core/event-sink.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built entry point (`npm run build`); spawned with plain node, not tsx, so it starts fast. */
export const CLI_PATH = path.resolve(here, '../../dist/main.js');
/** What the CLI prints on stderr once the capture is open and frames are being delivered. */
export const READY_TEXT = 'capturing on';

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Command words put before `node dist/main.js`, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec, not fork). */
  prefix?: string[];
  /** How long to wait for the ready line (start) or for the exit (run). */
  timeoutMs?: number;
  /** Working directory of the child (default: this process's). */
  cwd?: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and waits for the exit; SIGKILLs and rejects when it does not come within timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<CliExit>;
  /** SIGKILL if still running (for finally blocks); never throws. */
  kill(): void;
}

function spawnCli(args: string[], prefix: string[], cwd?: string): ChildProcess {
  const argv = [...prefix, process.execPath, CLI_PATH, ...args];
  return spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd });
}

function collect(child: ChildProcess): { out: () => string; err: () => string; exited: Promise<CliExit> } {
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { out: () => out, err: () => err, exited };
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Rejects with `what` when `p` has not settled within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the CLI and resolves once its stderr shows the ready line; rejects (child killed) if it exits or stalls first. */
export async function startCli(args: string[], opts: CliOptions = {}): Promise<RunningCli> {
  const child = spawnCli(args, opts.prefix ?? [], opts.cwd);
  const io = collect(child);
  const kill = (): void => {
    if (alive(child)) child.kill('SIGKILL');
  };
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (io.err().includes(READY_TEXT)) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    io.exited.then(
      (e) => reject(new Error(`CLI exited (code ${e.code}, signal ${e.signal}) before it was ready: ${e.stderr.trim()}`)),
      reject,
    );
  });
  try {
    await withTimeout(ready, opts.timeoutMs ?? 10_000, `'${READY_TEXT}' from rustnet-ts ${args.join(' ')}`);
  } catch (err) {
    kill();
    throw err;
  }
  return {
    child,
    stdout: io.out,
    stderr: io.err,
    async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<CliExit> {
      if (alive(child)) child.kill(signal);
      try {
        return await withTimeout(io.exited, timeoutMs, `exit after ${signal}`);
      } catch (err) {
        kill();
        throw err;
      }
    },
    kill,
  };
}

/** Runs the CLI to completion (for commands that exit by themselves, such as errors). */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliExit> {
  const child = spawnCli(args, opts.prefix ?? [], opts.cwd);
  const io = collect(child);
  try {
    return await withTimeout(io.exited, opts.timeoutMs ?? 10_000, `rustnet-ts ${args.join(' ')} to exit`);
  } finally {
    if (alive(child)) child.kill('SIGKILL');
  }
}

/** Every event in a JSON-lines log (missing file: none). A line that is not JSON fails the test. */
export function readJsonl(file: string): ConnectionEvent[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l, i) => {
    try {
      return JSON.parse(l) as ConnectionEvent;
    } catch {
      throw new Error(`${file} line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
    }
  });
}

/** Polls a JSON-lines log until an event matches; rejects after timeoutMs. */
export async function waitForEvent(file: string, match: (e: ConnectionEvent) => boolean, timeoutMs = 5000): Promise<ConnectionEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A line may be half written while we read; only complete lines count.
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      if (line === '') continue;
      const e = JSON.parse(line) as ConnectionEvent;
      if (match(e)) return e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for an event in ${file}`);
    await delay(25);
  }
}
