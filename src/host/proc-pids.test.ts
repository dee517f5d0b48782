// ProcPids and processName over a fake /proc of real symlinks in a temp dir; failures injected where root can't stage them.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeProcFs, ProcPids, processName, type ProcFs } from './proc-pids.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
/** The real fd links of the capture process (pid 4512), one 'fd target' per line. */
const FIXTURE_LINKS: [string, string][] = fs.readFileSync(FIXTURES + 'fd-links.txt', 'utf8').trim().split('\n')
  .map((line) => {
    const space = line.indexOf(' ');
    return [line.slice(0, space), line.slice(space + 1)];
  });
const FIXTURE_SOCKETS = [100259, 100260, 100261, 100262, 100263, 100264, 100265, 100266, 100267, 100268, 100269, 100270, 100271, 100272];

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A fresh fake /proc: pid → [fd, link target] pairs, plus the non-pid entries a real /proc has. */
function fakeProc(pids: Record<number, [string, string][]>): string {
  const root = fs.mkdtempSync(`${os.tmpdir()}/proc-pids-`);
  roots.push(root);
  fs.mkdirSync(`${root}/net`);
  fs.mkdirSync(`${root}/sys`);
  fs.symlinkSync('4512', `${root}/self`);
  for (const [pid, links] of Object.entries(pids)) addPid(root, Number(pid), links);
  return root;
}

function addPid(root: string, pid: number, links: [string, string][]): void {
  fs.mkdirSync(`${root}/${pid}/fd`, { recursive: true });
  for (const [fd, target] of links) fs.symlinkSync(target, `${root}/${pid}/fd/${fd}`);
}

function sockets(...inodes: number[]): [string, string][] {
  return inodes.map((inode, i) => [String(i + 3), `socket:[${inode}]`]);
}

/** Records the directories read, and lets a test fail chosen paths. */
function recordingFs(fail: (op: 'readdir' | 'readlink', path: string) => void = () => {}): ProcFs & { dirs: string[]; links: string[] } {
  const dirs: string[] = [];
  const links: string[] = [];
  return {
    dirs,
    links,
    readdir(path) {
      dirs.push(path);
      fail('readdir', path);
      return nodeProcFs.readdir(path);
    },
    readlink(path) {
      links.push(path);
      fail('readlink', path);
      return nodeProcFs.readlink(path);
    },
    readFile: nodeProcFs.readFile,
  };
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code });
}

test('a full scan maps the captured socket links to their pid and ignores pipes, files and anon inodes', () => {
  const root = fakeProc({ 4512: FIXTURE_LINKS, 1: sockets(9001) });
  const pids = new ProcPids(root);
  const stats = pids.scanAll();
  assert.deepEqual([...pids.inodePids.keys()].sort(), [...FIXTURE_SOCKETS, 9001].sort());
  for (const inode of FIXTURE_SOCKETS) assert.equal(pids.inodePids.get(inode), 4512);
  assert.equal(pids.inodePids.get(9001), 1);
  assert.equal(pids.inodePids.has(100938), false, 'pipe:[100938] is not a socket');
  assert.deepEqual(stats, { pidsScanned: 2, linksRead: FIXTURE_LINKS.length + 1, denied: 0, vanished: 0, failed: 0, missing: 0, stoppedEarly: false });
  assert.deepEqual([...pids.seenPids].sort(), [1, 4512]);
});

test('a socket held by two processes has no owner until one lets go', () => {
  const root = fakeProc({ 10: sockets(500, 501), 11: sockets(500) });
  const pids = new ProcPids(root);
  pids.scanAll();
  assert.equal(pids.inodePids.has(500), false);
  assert.deepEqual([...(pids.sharedInodes.get(500) ?? [])].sort(), [10, 11]);
  assert.equal(pids.inodePids.get(501), 10);
  fs.rmSync(`${root}/11/fd/3`);
  pids.scanPids([11]);
  assert.equal(pids.inodePids.get(500), 10);
  assert.equal(pids.sharedInodes.has(500), false);
});

test('a process that vanishes mid-scan, and a descriptor closed mid-scan, are counted and skipped', () => {
  const root = fakeProc({ 20: sockets(600), 21: sockets(601), 22: sockets(602, 603) });
  const procFs = recordingFs((op, path) => {
    // The real race: the directory is gone by the time it is read, so the error is the kernel's ENOENT.
    if (op === 'readdir' && path === `${root}/21/fd`) fs.rmSync(`${root}/21`, { recursive: true });
    if (op === 'readlink' && path === `${root}/22/fd/3`) fs.rmSync(path);
  });
  const pids = new ProcPids(root, procFs);
  const stats = pids.scanAll();
  assert.deepEqual(stats, { pidsScanned: 2, linksRead: 2, denied: 0, vanished: 2, failed: 0, missing: 0, stoppedEarly: false });
  assert.deepEqual([...pids.inodePids].sort(), [[600, 20], [603, 22]]);
  assert.equal(pids.seenPids.has(21), false);
});

test('EACCES on an fd directory or link is counted; the rest of that pid is not tried', () => {
  // Root reads every /proc/PID/fd whatever the mode bits say, so the refusal is injected.
  const root = fakeProc({ 30: sockets(700), 31: sockets(701, 702, 703), 32: sockets(704), 33: sockets(705) });
  const procFs = recordingFs((op, path) => {
    if (op === 'readdir' && path === `${root}/30/fd`) throw errno('EACCES');
    if (op === 'readlink' && path.startsWith(`${root}/31/fd/`)) throw errno('EPERM');
    if (op === 'readdir' && path === `${root}/33/fd`) throw errno('ELOOP');
  });
  const pids = new ProcPids(root, procFs);
  const stats = pids.scanAll();
  assert.deepEqual(stats, { pidsScanned: 2, linksRead: 1, denied: 2, vanished: 0, failed: 1, missing: 0, stoppedEarly: false });
  assert.equal(procFs.links.filter((p) => p.startsWith(`${root}/31/`)).length, 1);
  assert.deepEqual([...pids.inodePids], [[704, 32]]);
  // Refused pids still count as seen: a new-first scan does not retry them before the new ones.
  assert.deepEqual([...pids.seenPids].sort(), [30, 31, 32, 33]);
});

test('scanNewFirst reads new pids first and stops once the wanted inodes have owners', () => {
  const root = fakeProc({ 40: sockets(800), 41: sockets(801), 42: sockets(802) });
  const procFs = recordingFs();
  const pids = new ProcPids(root, procFs);
  pids.scanAll();

  addPid(root, 43, sockets(803));
  addPid(root, 44, sockets(804));
  procFs.dirs.length = 0;
  let stats = pids.scanNewFirst(new Set([804]));
  assert.equal(pids.inodePids.get(804), 44);
  assert.deepEqual(procFs.dirs, [root, `${root}/44/fd`], 'the listing, then the newest pid, which holds the wanted inode');
  assert.deepEqual([stats.pidsScanned, stats.stoppedEarly, stats.missing], [1, true, 0]);
  assert.equal(pids.seenPids.has(43), false, 'not read yet, so still new next time');

  // An old pid opened the wanted socket: the new pid (43) first, then old ones until found.
  fs.symlinkSync('socket:[805]', `${root}/41/fd/9`);
  procFs.dirs.length = 0;
  stats = pids.scanNewFirst(new Set([805]));
  assert.equal(procFs.dirs[1], `${root}/43/fd`);
  assert.ok(procFs.dirs.includes(`${root}/41/fd`));
  assert.equal(pids.inodePids.get(805), 41);
  assert.equal(pids.inodePids.get(803), 43);
  assert.equal(stats.missing, 0);

  // Nobody holds it: every pid is read once, and the scan says what is still missing.
  procFs.dirs.length = 0;
  stats = pids.scanNewFirst(new Set([999, 800]));
  assert.deepEqual([stats.pidsScanned, stats.stoppedEarly, stats.missing], [5, false, 1]);

  // Already known, or nothing wanted: only the listing.
  procFs.dirs.length = 0;
  stats = pids.scanNewFirst(new Set([800]));
  assert.deepEqual([procFs.dirs, stats.pidsScanned, stats.stoppedEarly], [[root], 0, true]);
  procFs.dirs.length = 0;
  pids.scanNewFirst(new Set());
  assert.deepEqual(procFs.dirs, [root]);
});

test('pids that exited are forgotten by the next new-first scan', () => {
  const root = fakeProc({ 50: sockets(900), 51: sockets(901) });
  const pids = new ProcPids(root);
  pids.scanAll();
  fs.rmSync(`${root}/51`, { recursive: true });
  pids.scanNewFirst(new Set([900]));
  assert.equal(pids.inodePids.has(901), false);
  assert.equal(pids.seenPids.has(51), false);
  assert.equal(pids.inodePids.get(900), 50);
});

test('scanPids reads only the pids asked for, replacing what each held', () => {
  const root = fakeProc({ 60: sockets(1000), 61: sockets(1001) });
  const procFs = recordingFs();
  const pids = new ProcPids(root, procFs);
  pids.scanPids([61, 404]);
  assert.deepEqual(procFs.dirs, [`${root}/61/fd`, `${root}/404/fd`]);
  assert.deepEqual([...pids.inodePids], [[1001, 61]]);
  fs.rmSync(`${root}/61/fd/3`);
  fs.symlinkSync('socket:[1002]', `${root}/61/fd/4`);
  const stats = pids.scanPids([61, 60], new Set([1002]));
  assert.deepEqual([...pids.inodePids], [[1002, 61]]);
  assert.deepEqual([stats.pidsScanned, stats.stoppedEarly], [1, true]);
});

test('a missing /proc root reads as no processes', () => {
  const pids = new ProcPids(`${os.tmpdir()}/no-such-proc-${process.pid}`);
  assert.deepEqual(pids.scanAll(), { pidsScanned: 0, linksRead: 0, denied: 0, vanished: 0, failed: 0, missing: 0, stoppedEarly: false });
  assert.equal(pids.scanNewFirst(new Set([1])).missing, 1);
});

function writeProcess(root: string, pid: number, p: { comm: string; exe?: string; cmdline?: string }): void {
  fs.mkdirSync(`${root}/${pid}`, { recursive: true });
  fs.writeFileSync(`${root}/${pid}/comm`, `${p.comm}\n`);
  if (p.exe !== undefined) fs.symlinkSync(p.exe, `${root}/${pid}/exe`);
  if (p.cmdline !== undefined) fs.writeFileSync(`${root}/${pid}/cmdline`, p.cmdline);
}

test('processName: comm, completed from exe or argv[0] when the kernel cut it at 15 bytes', () => {
  const root = fakeProc({});
  writeProcess(root, 1, { comm: 'node', exe: '/usr/bin/node' });
  writeProcess(root, 2, { comm: 'systemd-journal', exe: '/usr/lib/systemd/systemd-journald' });
  writeProcess(root, 3, { comm: 'gnome-shell-cal', exe: '/usr/libexec/gnome-shell-calendar-server (deleted)' });
  // Another user's process: no exe link to read, argv[0] still readable.
  writeProcess(root, 4, { comm: 'containerd-shim', cmdline: '/usr/bin/containerd-shim-runc-v2\0-namespace\0moby\0' });
  // A script: comm is the script's name, exe the interpreter, argv[0] too; the cut name stays.
  writeProcess(root, 5, { comm: 'backup-database', exe: '/usr/bin/python3.12', cmdline: '/usr/bin/python3\0/opt/backup-database-nightly.py\0' });
  // Multi-call binary: exe does not extend the name, argv[0] does.
  writeProcess(root, 6, { comm: 'really-long-app', exe: '/bin/busybox', cmdline: 'really-long-applet-name\0x\0' });
  // A name of exactly 15 characters that was not cut.
  writeProcess(root, 7, { comm: 'exactly15chars_', exe: '/opt/exactly15chars_' });
  writeProcess(root, 8, { comm: 'kworker/u8:1-events_unbound'.slice(0, 15) });
  assert.equal(processName(root, 1), 'node');
  assert.equal(processName(root, 2), 'systemd-journald');
  assert.equal(processName(root, 3), 'gnome-shell-calendar-server');
  assert.equal(processName(root, 4), 'containerd-shim-runc-v2');
  assert.equal(processName(root, 5), 'backup-database');
  assert.equal(processName(root, 6), 'really-long-applet-name');
  assert.equal(processName(root, 7), 'exactly15chars_');
  assert.equal(processName(root, 8), 'kworker/u8:1-ev');
  assert.equal(processName(root, 404), null);
});

test('processName falls back to argv[0] when reading exe is refused', () => {
  const root = fakeProc({});
  writeProcess(root, 9, { comm: 'chromium-browse', exe: '/usr/lib/chromium/chromium-browser', cmdline: '/usr/lib/chromium/chromium-browser-stable\0' });
  const refuseExe: ProcFs = { ...nodeProcFs, readlink: (p) => { if (p.endsWith('/exe')) throw errno('EACCES'); return nodeProcFs.readlink(p); } };
  assert.equal(processName(root, 9), 'chromium-browser');
  assert.equal(processName(root, 9, refuseExe), 'chromium-browser-stable');
});
