// Privilege drop: a monitor started as root runs on in a child, through util-linux setpriv, as the invoking user with three capabilities.
//
// Why a re-exec: Node 20 can neither exec in place nor keep capabilities across setuid (that needs prctl), and
// the capabilities must survive into the monitor itself: cap_net_raw to open the capture, cap_dac_read_search
// and cap_sys_ptrace to read other users' /proc/PID/fd for process attribution. setpriv sets uid, gid, groups,
// the bounding set, no-new-privileges and the inheritable + ambient sets (ambient capabilities are what survive
// the exec of an ordinary binary for a non-root uid), then execs node. The root parent only creates the output
// files for the user, starts the child, passes signals on and returns the child's exit status; the capture is
// opened by the child, after the drop, so packet parsing never runs as root.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Config } from './cli.js';
import { RustnetError } from './core/errors.js';
import {
  capabilityMask, capabilityNames, readPrivileges, setPrivilegeNote, type PrivilegeNote, type ProcessPrivileges,
} from './host/privileges.js';

/** Environment variable that tells the child it is the reduced monitor (it never re-executes itself). */
export const DROP_MARKER = 'RUSTNET_PRIVILEGE_DROP';
/** Live capture: capture, and process attribution across users. */
export const LIVE_CAPABILITIES: readonly string[] = ['net_raw', 'dac_read_search', 'sys_ptrace'];
/** A replay only reads its file, which may be root's own. */
export const REPLAY_CAPABILITIES: readonly string[] = ['dac_read_search'];
/** The user when no sudo user is known (or it is root itself). */
const NOBODY_ID = 65534;
/** Signals the parent hands to the child; the child's session stops cleanly on each. */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The child gets this when the parent dies without passing a signal on (SIGKILL): it must not run on unowned. */
const DEATH_SIGNAL = 'SIGTERM';
/** The diagnostic log's folder and file modes, as output/logger.ts creates them. */
const LOG_DIR = 'logs';
const LOG_DIR_MODE = 0o700;
const LOG_FILE_MODE = 0o600;
/** As output/json-event-log.ts creates the JSON log. */
const JSON_LOG_MODE = 0o640;
/** As output/capture-export.ts creates a capture export (packets are private). */
const CAPTURE_EXPORT_MODE = 0o600;

/** Who the monitor continues as. */
export interface DropTarget {
  uid: number;
  gid: number;
  /** For messages and the log: the user name, or `uid N` when the passwd file does not know it. */
  user: string;
}

export interface PasswdEntry { name: string; uid: number; gid: number }
export interface GroupEntry { name: string; gid: number }

/** What the drop did, for main(). */
export interface PrivilegeOutcome {
  /** Set in the root parent once the reduced monitor has exited: main() returns it and does nothing else. */
  exitCode: number | null;
  /** Time for the diagnostic log's file name: in the child, the one the parent created that file for. */
  logStartedAt: Date;
  /** One line in the diagnostic log (info) saying what was applied. */
  report(log: { info(obj: object, msg: string): void }): void;
}

/** What the parent tells the child through DROP_MARKER. */
interface MarkerData {
  uid: number;
  gid: number;
  user: string;
  logStartMs: number;
  /** Wanted capabilities the parent did not hold itself, so could not pass on. */
  missing: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Pure parts

/** Lines of /etc/passwd → entries (malformed lines skipped). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** Lines of /etc/group → entries (malformed lines skipped). */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]) });
  }
  return out;
}

/** A uid or gid from the environment: decimal, below 2^32 - 1 (that value means "no id"); otherwise null. */
function idFrom(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n < 0xffffffff ? n : null;
}

/**
 * The user to continue as: sudo's invoking user (SUDO_UID, SUDO_GID, else that user's primary group), or
 * nobody/nogroup. Root as the sudo user, or group 0, would keep root's files writable: nobody/nogroup instead.
 */
export function chooseTarget(env: NodeJS.ProcessEnv, passwd: PasswdEntry[], groups: GroupEntry[]): DropTarget {
  const nobody = passwd.find((e) => e.name === 'nobody');
  const nogroup = groups.find((g) => g.name === 'nogroup') ?? groups.find((g) => g.name === 'nobody');
  const fallbackGid = nogroup?.gid ?? (nobody !== undefined && nobody.gid !== 0 ? nobody.gid : NOBODY_ID);
  const uid = idFrom(env.SUDO_UID);
  if (uid !== null && uid !== 0) {
    const entry = passwd.find((e) => e.uid === uid);
    const gid = idFrom(env.SUDO_GID) ?? entry?.gid ?? null;
    return { uid, gid: gid === null || gid === 0 ? fallbackGid : gid, user: entry?.name ?? `uid ${uid}` };
  }
  const nobodyUid = nobody !== undefined && nobody.uid !== 0 ? nobody.uid : NOBODY_ID;
  return { uid: nobodyUid, gid: fallbackGid, user: nobody?.name ?? `uid ${nobodyUid}` };
}

/** setpriv's options (before `--`) that turn root into `target` holding only `caps`. */
export function setprivArgs(target: DropTarget, caps: readonly string[], deathSignal: boolean): string[] {
  const set = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  return [
    `--reuid=${target.uid}`, `--regid=${target.gid}`, '--clear-groups',
    // The bounding set caps what any later exec could gain; inheritable + ambient carry the rest over node's exec.
    `--bounding-set=${set}`, `--inh-caps=${set}`, `--ambient-caps=${set}`,
    '--no-new-privs',
    // access(2) (fs.existsSync) checks with the real uid and, for a non-root one, without any capability unless
    // this bit is set: a root-only capture file would then "not exist" although cap_dac_read_search can open it.
    // Locked: the monitor cannot change it (nor its uid: it holds no cap_setuid).
    '--securebits=+no_setuid_fixup,+no_setuid_fixup_locked',
    ...(deathSignal ? [`--pdeathsig=${DEATH_SIGNAL}`] : []),
  ];
}

/** Whether `uid` with primary group `gid` and no other groups (the child clears them) may write a file of this mode and owner. */
export function writableBy(st: { uid: number; gid: number; mode: number }, uid: number, gid: number): boolean {
  if (st.uid === uid) return (st.mode & 0o200) !== 0;
  if (st.gid === gid) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}

/** Exit status of the parent for the child's end: its code, or 128 + the signal number that killed it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : os.constants.signals[signal];
  return n === undefined ? 1 : 128 + n;
}

/** The diagnostic log output/logger.ts opens for `now` (logs/rustnet_YYYY-MM-DD_HH-MM-SS.log, local time). */
export function diagnosticLogPath(now: Date, dir = LOG_DIR): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`;
  return path.join(dir, `rustnet_${stamp}.log`);
}

/** What to do at start (in a process that is not the reduced child itself). */
export type DropDecision =
  | { kind: 'keep'; note: PrivilegeNote | null; message: string | null; logMessage: string }
  | { kind: 'refuse'; reason: string }
  | { kind: 'drop' };

/** Keep the rights as they are, refuse (--sandbox-strict cannot be met), or drop; pure, from the facts at start. */
export function decide(facts: { platform: NodeJS.Platform; euid: number | undefined; sandbox: boolean; strict: boolean }): DropDecision {
  const { platform, euid, sandbox, strict } = facts;
  if (!sandbox) {
    return { kind: 'keep', note: euid === 0 ? 'sandbox off' : null, message: null, logMessage: 'privileges kept (--no-sandbox)' };
  }
  if (platform !== 'linux') {
    if (strict) return { kind: 'refuse', reason: 'privilege reduction is not supported on this platform' };
    // Only worth saying where there is something to reduce.
    return euid === 0
      ? { kind: 'keep', note: 'not supported', message: 'privilege reduction is not supported on this platform; continuing with full rights', logMessage: 'privilege reduction is not supported on this platform' }
      : { kind: 'keep', note: null, message: null, logMessage: 'not started as root; no privileges to reduce' };
  }
  if (euid !== 0) {
    if (strict) return { kind: 'refuse', reason: 'not started as root, so there are no root rights to give up (start it with sudo, or leave out --sandbox-strict)' };
    return { kind: 'keep', note: null, message: null, logMessage: 'not started as root; no privileges to reduce' };
  }
  return { kind: 'drop' };
}

// ---------------------------------------------------------------------------------------------------------------
// Host parts

function say(line: string): void {
  process.stderr.write(`rustnet-ts: ${line}\n`);
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The first executable file named `name` in PATH (as a shell finds it, but never relative to the current folder), or null. */
export function findInPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(':')) {
    // Root must not run whatever `setpriv` the folder it was started in holds.
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/**
 * Makes `file` ready for the user: created here (never following a link: O_EXCL) and given to them with fchown,
 * or, when it exists already, checked to be writable by them (an existing file is never chowned: it may be
 * anyone's). Returns why the user could not write it, or null. Other failures (no such folder, read-only file
 * system) are left for the monitor to report as the output error it reports without a drop.
 */
function handOver(file: string, mode: number, target: DropTarget): string | null {
  const c = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(file, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return null;
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return null;
    }
    return writableBy(st, target.uid, target.gid) ? null : `${file} exists and is not writable by ${target.user}`;
  }
  try {
    fs.fchownSync(fd, target.uid, target.gid);
  } finally {
    fs.closeSync(fd);
  }
  return null;
}

/** logs/ for the user: made here and chowned through a descriptor (not a path another process could swap). */
function handOverLogDir(target: DropTarget): void {
  try {
    fs.mkdirSync(LOG_DIR, { mode: LOG_DIR_MODE });
  } catch {
    return; // Exists (theirs or not: the file inside is what must be theirs), or cannot be made: the monitor says so.
  }
  const c = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(LOG_DIR, c.O_RDONLY | c.O_DIRECTORY | c.O_NOFOLLOW);
  } catch {
    return; // Swapped for something else since: left to the monitor's own error.
  }
  try {
    fs.fchownSync(fd, target.uid, target.gid);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs setpriv with the drop options on `node --version`: proves setpriv, the options and the kernel (ambient caps) work. */
function probe(setpriv: string, args: string[]): string | null {
  const r = spawnSync(setpriv, [...args, '--', process.execPath, '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (r.error !== undefined) return `${setpriv}: ${r.error.message}`;
  if (r.status === 0 && r.stdout.trim() === process.version) return null;
  const first = r.stderr.trim().split('\n')[0];
  return first !== undefined && first !== '' ? first : `${setpriv} exited with ${r.status ?? r.signal}`;
}

function keep(note: PrivilegeNote | null, logMessage: string, fields: object): PrivilegeOutcome {
  setPrivilegeNote(note);
  const logStartedAt = new Date();
  return { exitCode: null, logStartedAt, report: (log) => log.info({ privileges: fields }, logMessage) };
}

/** A drop that cannot be applied: strict stops (exit 1), otherwise full rights are kept and that is said once. */
function failed(reason: string, strict: boolean): PrivilegeOutcome {
  if (strict) throw new RustnetError('CAPTURE_PERMISSION', `--sandbox-strict: cannot reduce privileges: ${reason}`, 1);
  say(`cannot reduce privileges (${reason}); continuing with full rights (--sandbox-strict stops instead, --no-sandbox skips the attempt)`);
  return keep('drop failed', `privilege reduction failed, running with full rights: ${reason}`, { uid: process.geteuid?.(), reason });
}

/** In the child: what setpriv left us with, checked. */
function reducedChild(markerText: string, strict: boolean): PrivilegeOutcome {
  let marker: Partial<MarkerData> = {};
  try {
    marker = JSON.parse(markerText) as Partial<MarkerData>;
  } catch {
    // A marker we did not write: the checks below still tell the truth.
  }
  const p = readPrivileges();
  if (p === null || p.uids.includes(0)) {
    // Never re-execute from here (that could loop): report the failure instead.
    return failed(p === null ? 'cannot read /proc/self/status' : 'the re-executed monitor still runs as root', strict);
  }
  setPrivilegeNote(null);
  const logStartedAt = typeof marker.logStartMs === 'number' ? new Date(marker.logStartMs) : new Date();
  const caps = capabilityNames(p.capEff);
  return {
    exitCode: null,
    logStartedAt,
    report: (log) => log.info({ privileges: childFields(p, marker) },
      `privileges reduced: running as ${marker.user ?? `uid ${p.uids[1]}`} (uid ${p.uids[1]}) with ${caps.length === 0 ? 'no capabilities' : caps.join(',')}`),
  };
}

function childFields(p: ProcessPrivileges, marker: Partial<MarkerData>): object {
  return {
    uid: p.uids[1],
    gid: p.gids[1],
    user: marker.user,
    groups: p.groups,
    capabilities: capabilityNames(p.capEff),
    ambient: capabilityNames(p.capAmb),
    bounding: capabilityNames(p.capBnd),
    noNewPrivs: p.noNewPrivs,
    missing: marker.missing ?? [],
    parentPid: process.ppid,
  };
}

/**
 * Call early in main(), once the command line is parsed and checked, before any output is opened. Started as root with the sandbox on (Linux), this
 * process becomes a thin parent: it runs the monitor as a reduced child and resolves, once that exits, with the
 * exit status to return. In every other case (the child itself, --no-sandbox, not root, a failed drop without
 * --sandbox-strict) it resolves with exitCode null and the monitor runs here. Throws RustnetError (exit 1) when
 * --sandbox-strict cannot be satisfied.
 */
export async function reducePrivileges(config: Config, argv: readonly string[]): Promise<PrivilegeOutcome> {
  const markerText = process.env[DROP_MARKER];
  if (markerText !== undefined) {
    // Not for anything this process starts (tcpdump, a clipboard helper).
    delete process.env[DROP_MARKER];
    return reducedChild(markerText, config.sandboxStrict);
  }
  const euid = process.geteuid?.();
  const decision = decide({ platform: process.platform, euid, sandbox: config.sandbox, strict: config.sandboxStrict });
  if (decision.kind === 'refuse') throw new RustnetError('CAPTURE_PERMISSION', `--sandbox-strict: cannot reduce privileges: ${decision.reason}`, 1);
  if (decision.kind === 'keep') {
    if (decision.message !== null) say(decision.message);
    const own = readPrivileges();
    return keep(decision.note, decision.logMessage, { uid: euid, capabilities: own === null ? undefined : capabilityNames(own.capEff) });
  }

  const target = chooseTarget(process.env, parsePasswd(readOr('/etc/passwd')), parseGroup(readOr('/etc/group')));
  const wanted = config.read === undefined ? LIVE_CAPABILITIES : REPLAY_CAPABILITIES;
  // A capability this process lacks (a container's bounding set) cannot be passed on; setpriv would refuse it.
  const own = readPrivileges();
  const caps = own === null ? wanted : wanted.filter((c) => (own.capPrm & capabilityMask([c])) !== 0n);
  const missing = wanted.filter((c) => !caps.includes(c));
  const script = process.argv[1];
  if (script === undefined) return failed('cannot tell which script to run again', config.sandboxStrict);
  const setpriv = findInPath('setpriv', process.env.PATH);
  if (setpriv === null) return failed('setpriv (util-linux) not found in PATH', config.sandboxStrict);
  // --pdeathsig came with util-linux 2.38; without it the drop still holds, only a SIGKILLed parent leaves the child running.
  let args = setprivArgs(target, caps, true);
  let problem = probe(setpriv, args);
  if (problem !== null) {
    const without = setprivArgs(target, caps, false);
    if (probe(setpriv, without) === null) {
      args = without;
      problem = null;
    }
  }
  if (problem !== null) return failed(problem, config.sandboxStrict);

  // The output files, created now by root and handed to the user, so that the reduced monitor can write them.
  const logStartedAt = new Date();
  const outputs: [string, number][] = [];
  if (config.jsonLog !== undefined && config.jsonLog !== '-') outputs.push([config.jsonLog, JSON_LOG_MODE]);
  const captureExport = config.pcapngExport ?? config.pcapExport;
  if (captureExport !== undefined) outputs.push([captureExport, CAPTURE_EXPORT_MODE]);
  if (config.logLevel !== undefined) {
    handOverLogDir(target);
    outputs.push([diagnosticLogPath(logStartedAt), LOG_FILE_MODE]);
  }
  for (const [file, mode] of outputs) {
    const refusal = handOver(file, mode, target);
    if (refusal !== null) return failed(refusal, config.sandboxStrict);
  }

  const marker: MarkerData = { uid: target.uid, gid: target.gid, user: target.user, logStartMs: logStartedAt.getTime(), missing };
  const command = [...args, '--', process.execPath, ...process.execArgv, script, ...argv];
  const status = await runChild(setpriv, command, { ...process.env, [DROP_MARKER]: JSON.stringify(marker) });
  if (status === 'not started') return failed('setpriv could not be started', config.sandboxStrict);
  return { exitCode: status, logStartedAt, report: () => {} };
}

/**
 * Runs the reduced monitor with this process's stdio and waits for it. Signals meant for us go on to the child;
 * a terminal's Ctrl+C reaches the child directly as well (same process group), which is harmless: the monitor's
 * stop is idempotent. Meanwhile none of them ends this process, so its exit status is always the child's.
 */
function runChild(setpriv: string, command: string[], env: NodeJS.ProcessEnv): Promise<number | 'not started'> {
  return new Promise((resolve) => {
    const child = spawn(setpriv, command, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const s of FORWARDED) process.on(s, forward);
    let settled = false;
    const done = (result: number | 'not started'): void => {
      if (settled) return;
      settled = true;
      for (const s of FORWARDED) process.off(s, forward);
      resolve(result);
    };
    let started = false;
    child.once('spawn', () => { started = true; });
    child.once('error', () => {
      if (!started) done('not started');
    });
    child.once('exit', (code, signal) => done(exitStatus(code, signal)));
  });
}
