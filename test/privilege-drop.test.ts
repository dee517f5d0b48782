// Privilege drop: the decisions and setpriv options as pure functions, then the built CLI started as root on lo:
// the capturing process runs as the user with exactly three capabilities and still captures and attributes.
//
// Needs root and `npm run build`. Traffic: a few UDP datagrams on 127.0.0.1 between two sockets of this process.
// The user is 65534 (nobody/nogroup, present on every Debian-like system) through SUDO_UID/SUDO_GID.

import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openLogger } from '../src/output/logger.js';
import { capabilityMask, parseProcStatus, type ProcessPrivileges } from '../src/host/privileges.js';
import {
  LIVE_CAPABILITIES, chooseTarget, decide, diagnosticLogPath, exitStatus, findInPath, parseGroup, parsePasswd, setprivArgs,
  writableBy,
} from '../src/privilege-drop.js';
import { CORPUS } from './support/corpus.js';
import { readJsonl, runCli, startCli, waitForEvent, withTimeout } from './support/cli.js';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-drop-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const USER = 65534;
const AS_SUDO_USER = ['env', `SUDO_UID=${USER}`, `SUDO_GID=${USER}`];
const THREE = capabilityMask(LIVE_CAPABILITIES);
const STEP_MS = 8000;
const PCAP = path.join(CORPUS, 'pcap', 'zeek__tcp__retransmit-fast009.pcap');

// ---------------------------------------------------------------------------------------------------------------
// Pure parts

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
bob:x:1001:0::/home/bob:/bin/sh
broken line
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
sudo:x:27:alice
alice:x:1000:
nogroup:x:65534:
`;

test('the target user: sudo\'s invoking user, else nobody/nogroup; never root', () => {
  const users = parsePasswd(PASSWD);
  const groups = parseGroup(GROUP);
  assert.equal(users.length, 5);
  assert.deepEqual(chooseTarget({ SUDO_UID: '1000', SUDO_GID: '1000' }, users, groups), { uid: 1000, gid: 1000, user: 'alice' });
  // SUDO_GID missing: the user's primary group.
  assert.deepEqual(chooseTarget({ SUDO_UID: '1000' }, users, groups), { uid: 1000, gid: 1000, user: 'alice' });
  // A primary group of 0 would keep root's group rights: nogroup instead.
  assert.deepEqual(chooseTarget({ SUDO_UID: '1001' }, users, groups), { uid: 1001, gid: 65534, user: 'bob' });
  assert.deepEqual(chooseTarget({ SUDO_UID: '1001', SUDO_GID: '0' }, users, groups), { uid: 1001, gid: 65534, user: 'bob' });
  // A uid the passwd file does not know (LDAP user, container) still works by number.
  assert.deepEqual(chooseTarget({ SUDO_UID: '4242', SUDO_GID: '4242' }, users, groups), { uid: 4242, gid: 4242, user: 'uid 4242' });
  const nobody = { uid: 65534, gid: 65534, user: 'nobody' };
  assert.deepEqual(chooseTarget({}, users, groups), nobody);
  // Root ran sudo (SUDO_UID=0), or the variables are garbage: nobody.
  assert.deepEqual(chooseTarget({ SUDO_UID: '0', SUDO_GID: '0' }, users, groups), nobody);
  for (const bad of ['', 'alice', '-1', '1e3', '4294967295', '99999999999']) {
    assert.deepEqual(chooseTarget({ SUDO_UID: bad }, users, groups), nobody, bad);
  }
  // No passwd or group file at all: 65534 by number.
  assert.deepEqual(chooseTarget({}, [], []), { uid: 65534, gid: 65534, user: 'uid 65534' });
  // Fedora names the group "nobody".
  assert.equal(chooseTarget({}, users, [{ name: 'nobody', gid: 99 }]).gid, 99);
});

test('setpriv options: user, cleared groups, the same three capabilities in bounding, inheritable and ambient sets, no-new-privs', () => {
  const args = setprivArgs({ uid: 1000, gid: 1000, user: 'alice' }, LIVE_CAPABILITIES, true);
  assert.deepEqual(args, [
    '--reuid=1000', '--regid=1000', '--clear-groups',
    '--bounding-set=-all,+net_raw,+dac_read_search,+sys_ptrace',
    '--inh-caps=-all,+net_raw,+dac_read_search,+sys_ptrace',
    '--ambient-caps=-all,+net_raw,+dac_read_search,+sys_ptrace',
    '--no-new-privs', '--securebits=+no_setuid_fixup,+no_setuid_fixup_locked', '--pdeathsig=SIGTERM',
  ]);
  const none = setprivArgs({ uid: 5, gid: 6, user: 'x' }, [], false);
  assert.ok(none.includes('--ambient-caps=-all'));
  assert.ok(!none.some((a) => a.startsWith('--pdeathsig')));
});

test('decisions: --no-sandbox keeps, non-root has nothing to drop, strict refuses what cannot be done, other OSes say so', () => {
  assert.deepEqual(decide({ platform: 'linux', euid: 0, sandbox: true, strict: false }), { kind: 'drop' });
  assert.deepEqual(decide({ platform: 'linux', euid: 0, sandbox: true, strict: true }), { kind: 'drop' });
  const off = decide({ platform: 'linux', euid: 0, sandbox: false, strict: false });
  assert.equal(off.kind === 'keep' && off.note, 'sandbox off');
  assert.equal(off.kind === 'keep' && off.message, null, '--no-sandbox is said by the user, not to them');
  const user = decide({ platform: 'linux', euid: 1000, sandbox: true, strict: false });
  assert.equal(user.kind === 'keep' && user.message, null);
  const userStrict = decide({ platform: 'linux', euid: 1000, sandbox: true, strict: true });
  assert.equal(userStrict.kind, 'refuse');
  assert.match(userStrict.kind === 'refuse' ? userStrict.reason : '', /not started as root/);
  const mac = decide({ platform: 'darwin', euid: 0, sandbox: true, strict: false });
  assert.equal(mac.kind === 'keep' && mac.message, 'privilege reduction is not supported on this platform; continuing with full rights');
  assert.equal(mac.kind === 'keep' && mac.note, 'not supported');
  assert.equal(decide({ platform: 'darwin', euid: 0, sandbox: true, strict: true }).kind, 'refuse');
  assert.equal(decide({ platform: 'win32', euid: undefined, sandbox: true, strict: true }).kind, 'refuse');
  const win = decide({ platform: 'win32', euid: undefined, sandbox: true, strict: false });
  assert.equal(win.kind === 'keep' && win.message, null);
});

test('who may write an existing file once groups are cleared; exit status of the child', () => {
  assert.equal(writableBy({ uid: 1000, gid: 1000, mode: 0o100600 }, 1000, 1000), true);
  assert.equal(writableBy({ uid: 1000, gid: 1000, mode: 0o100400 }, 1000, 1000), false);
  assert.equal(writableBy({ uid: 0, gid: 1000, mode: 0o100660 }, 1000, 1000), true);
  assert.equal(writableBy({ uid: 0, gid: 0, mode: 0o100644 }, 1000, 1000), false);
  assert.equal(writableBy({ uid: 0, gid: 0, mode: 0o020666 }, 1000, 1000), true, '/dev/null');
  // Owner bits rule for the owner even when "other" may write (as the kernel decides).
  assert.equal(writableBy({ uid: 1000, gid: 0, mode: 0o100466 }, 1000, 1000), false);
  assert.equal(exitStatus(0, null), 0);
  assert.equal(exitStatus(2, null), 2);
  assert.equal(exitStatus(null, 'SIGKILL'), 137);
  assert.equal(exitStatus(null, 'SIGTERM'), 143);
});

test('the diagnostic log the parent prepares is the file output/logger.ts then opens', async () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'logname-'));
  for (const when of [new Date(2026, 0, 2, 3, 4, 5), new Date(2026, 11, 31, 23, 59, 59)]) {
    const { file, logger } = await openLogger('info', dir, when);
    logger.flush();
    assert.equal(file, diagnosticLogPath(when, dir));
  }
});

test('setpriv is looked up in PATH as a shell would', () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'path-'));
  const fake = path.join(dir, 'setpriv');
  fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o644 });
  assert.equal(findInPath('setpriv', `/nonexistent:${dir}`), null, 'not executable');
  fs.chmodSync(fake, 0o755);
  assert.equal(findInPath('setpriv', `/nonexistent::${dir}`), fake);
  assert.equal(findInPath('setpriv', ''), null);
  assert.equal(findInPath('setpriv', path.relative(process.cwd(), dir)), null, 'relative PATH entries are skipped');
  assert.equal(findInPath('setpriv', undefined), null);
});

// ---------------------------------------------------------------------------------------------------------------
// The built CLI, started as root

/** Pids whose parent is `pid` (from /proc/PID/stat: the field after the command name in brackets). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

function statusOf(pid: number): { text: string; privileges: ProcessPrivileges } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const privileges = parseProcStatus(text);
  assert.ok(privileges !== null, `/proc/${pid}/status parses`);
  return { text, privileges };
}

/** Running, or at most a zombie waiting for its parent. */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
}

async function udpPair(): Promise<{ a: dgram.Socket; b: dgram.Socket; ports: [number, number] }> {
  const bind = (s: dgram.Socket): Promise<number> => new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s.address().port));
  });
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  const ports: [number, number] = [await bind(a), await bind(b)];
  return { a, b, ports };
}

test('started as root: the capturing process runs as the user with exactly three capabilities, and captures and attributes', async (t) => {
  assert.equal(process.geteuid?.(), 0, 'this test starts the monitor as root');
  const cwd = fs.mkdtempSync(path.join(TMP, 'live-'));
  const log = path.join(cwd, 'events.jsonl');
  const cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '--json-log', log, '-r', '100', '-l', 'info'],
    { prefix: AS_SUDO_USER, cwd });
  const { a, b, ports } = await udpPair();
  try {
    const parent = cli.child.pid!;
    const kids = childrenOf(parent);
    assert.equal(kids.length, 1, `one child of the root parent: ${kids.join(', ')}`);
    const monitor = kids[0]!;
    const { text, privileges: p } = statusOf(monitor);
    assert.deepEqual(p.uids, [USER, USER, USER, USER]);
    assert.deepEqual(p.gids, [USER, USER, USER, USER]);
    assert.deepEqual(p.groups, []);
    assert.equal(p.capEff, THREE, 'CapEff');
    assert.equal(p.capPrm, THREE, 'CapPrm');
    assert.equal(p.capBnd, THREE, 'CapBnd');
    assert.equal(p.capAmb, THREE, 'CapAmb');
    assert.equal(p.noNewPrivs, true);
    assert.match(text, /^Name:\s+node$/m, 'setpriv exec\'d node in place');
    // The parent stays root and small; it only waits.
    assert.equal(statusOf(parent).privileges.uids[1], 0);
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${parent}/status`, 'utf8'))?.[1]);
    const anonKb = Number(/^RssAnon:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${parent}/status`, 'utf8'))?.[1]);
    t.diagnostic(`root parent: RSS ${(rssKb / 1024).toFixed(1)} MB, of which private (anonymous) ${(anonKb / 1024).toFixed(1)} MB`);
    // Output files: created for the user before the drop.
    assert.equal(fs.statSync(log).uid, USER, 'JSON log owned by the user');
    const logs = path.join(cwd, 'logs');
    assert.equal(fs.statSync(logs).uid, USER, 'logs/ owned by the user');
    assert.equal(fs.statSync(logs).mode & 0o777, 0o700);
    const [diag] = fs.readdirSync(logs);
    assert.ok(diag !== undefined, 'a diagnostic log');
    assert.equal(fs.statSync(path.join(logs, diag)).uid, USER);
    assert.equal(fs.statSync(path.join(logs, diag)).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(path.join(logs, diag), 'utf8'), /"msg":"privileges reduced: running as [^"]* \(uid 65534\) with dac_read_search,net_raw,sys_ptrace"/);

    // Capture and attribution still work: two sockets of this (root) process talk over lo.
    for (let i = 0; i < 3; i++) a.send(Buffer.alloc(40, 0x61), ports[1], '127.0.0.1');
    const opened = await waitForEvent(log, (e) => e.event === 'new_connection' && e.protocol === 'UDP'
      && [e.source_port, e.destination_port].sort().join() === [...ports].sort().join(), STEP_MS);
    // Attribution lands on a tick (100 ms); give it a few before the stop.
    if (opened.pid === undefined) await delay(500);
    const exit = await cli.stop('SIGTERM');
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(running(monitor), false, 'the child ended with the parent');
    const closed = readJsonl(log).filter((e) => e.event === 'connection_closed' && e.protocol === 'UDP'
      && [e.source_port, e.destination_port].sort().join() === [...ports].sort().join());
    assert.equal(closed.length, 1, 'SIGTERM to the parent: the child closed its connections in the log');
    assert.equal(closed[0]!.pid, process.pid, 'attributed to this process across users (cap_sys_ptrace, cap_dac_read_search)');
    assert.match(exit.stderr, /frames, \d+ decoded/, 'the summary of a clean stop');
  } finally {
    cli.kill();
    a.close();
    b.close();
  }
});

test('--no-sandbox: the monitor itself keeps root, no child', async () => {
  const cli = await startCli(['--no-tui', '-i', 'lo', '--json-log', '/dev/null', '--no-sandbox'], { prefix: AS_SUDO_USER });
  try {
    const pid = cli.child.pid!;
    const { privileges: p } = statusOf(pid);
    assert.equal(p.uids[1], 0);
    assert.equal(p.capEff, p.capBnd, 'every capability root has');
    assert.deepEqual(childrenOf(pid), []);
    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, /privilege/);
  } finally {
    cli.kill();
  }
});

test('--sandbox-strict: exit 1 with one line when the drop is impossible (not root; no setpriv)', async () => {
  const notRoot = await runCli(['--no-tui', '-i', 'lo', '--sandbox-strict'],
    { prefix: ['setpriv', `--reuid=${USER}`, `--regid=${USER}`, '--clear-groups'], cwd: TMP });
  assert.equal(notRoot.code, 1, notRoot.stderr);
  assertOneLine(notRoot.stderr, /^rustnet-ts: --sandbox-strict: cannot reduce privileges: not started as root/);
  const noSetpriv = await runCli(['--no-tui', '-i', 'lo', '--sandbox-strict', '--json-log', path.join(TMP, 'never.jsonl')],
    { prefix: ['env', 'PATH=/nonexistent-rnt', `SUDO_UID=${USER}`] });
  assert.equal(noSetpriv.code, 1, noSetpriv.stderr);
  assertOneLine(noSetpriv.stderr, /^rustnet-ts: --sandbox-strict: cannot reduce privileges: setpriv \(util-linux\) not found in PATH$/);
  assert.equal(fs.existsSync(path.join(TMP, 'never.jsonl')), false, 'nothing created before giving up');
  const both = await runCli(['--no-tui', '--sandbox-strict', '--no-sandbox']);
  assert.equal(both.code, 2);
  assertOneLine(both.stderr, /contradict/);
});

test('without strict, a drop that cannot be applied continues as root and says so once, before capture starts', async () => {
  const cli = await startCli(['--no-tui', '-i', 'lo', '--json-log', '/dev/null'], { prefix: ['env', 'PATH=/nonexistent-rnt'] });
  try {
    const pid = cli.child.pid!;
    assert.equal(statusOf(pid).privileges.uids[1], 0);
    assert.deepEqual(childrenOf(pid), []);
    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
    const notices = exit.stderr.split('\n').filter((l) => l.includes('cannot reduce privileges'));
    assert.deepEqual(notices, ['rustnet-ts: cannot reduce privileges (setpriv (util-linux) not found in PATH); continuing with full rights '
      + '(--sandbox-strict stops instead, --no-sandbox skips the attempt)']);
    assert.ok(exit.stderr.indexOf('cannot reduce') < exit.stderr.indexOf('capturing on'));
  } finally {
    cli.kill();
  }
});

test('the parent\'s exit status is the child\'s (128 + n for a signal); a SIGKILLed parent takes the child with it', async () => {
  const first = await startCli(['--no-tui', '-i', 'lo', '--json-log', '/dev/null'], { prefix: AS_SUDO_USER });
  try {
    const [child] = childrenOf(first.child.pid!);
    assert.ok(child !== undefined);
    process.kill(child, 'SIGKILL');
    const exit = await first.stop('SIGCONT');
    assert.equal(exit.code, 137);
  } finally {
    first.kill();
  }
  const second = await startCli(['--no-tui', '-i', 'lo', '--json-log', '/dev/null'], { prefix: AS_SUDO_USER });
  const [child] = childrenOf(second.child.pid!);
  try {
    assert.ok(child !== undefined);
    await second.stop('SIGKILL');
    // The parent death signal (SIGTERM) stops the orphan cleanly.
    await withTimeout((async () => { while (running(child)) await delay(20); })(), STEP_MS, `child ${child} to end after its parent`);
  } finally {
    second.kill();
    if (child !== undefined && running(child)) process.kill(child, 'SIGKILL');
  }
});

test('replay as root drops too and still reads a root-only capture (cap_dac_read_search); logs/ of root\'s is fine', async () => {
  const cwd = fs.mkdtempSync(path.join(TMP, 'replay-'));
  const secret = path.join(cwd, 'secret');
  fs.mkdirSync(secret, { mode: 0o700 });
  const pcap = path.join(secret, 'capture.pcap');
  fs.copyFileSync(PCAP, pcap);
  fs.chmodSync(pcap, 0o600);
  // A logs/ folder root made earlier, which the user cannot write into: the parent makes the file for them.
  fs.mkdirSync(path.join(cwd, 'logs'), { mode: 0o755 });
  const log = path.join(cwd, 'events.jsonl');
  const r = await runCli(['--read', pcap, '--no-tui', '--json-log', log, '-l', 'info'], { prefix: AS_SUDO_USER, cwd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(log).uid, USER);
  assert.deepEqual(readJsonl(log).map((e) => e.event), ['new_connection', 'connection_closed']);
  const [diag] = fs.readdirSync(path.join(cwd, 'logs'));
  assert.ok(diag !== undefined);
  assert.equal(fs.statSync(path.join(cwd, 'logs')).uid, 0, 'an existing logs/ is left as it is');
  const text = fs.readFileSync(path.join(cwd, 'logs', diag), 'utf8');
  // A replay needs only to read its file.
  assert.match(text, /"msg":"privileges reduced: running as [^"]* \(uid 65534\) with dac_read_search"/);
  assert.match(text, /replay finished/);
});

test('an existing output file the user may not write: strict exits 1, otherwise root keeps writing it and says why', async () => {
  const log = path.join(TMP, 'roots.jsonl');
  fs.writeFileSync(log, '', { mode: 0o644 });
  const strict = await runCli(['--read', PCAP, '--no-tui', '--json-log', log, '--sandbox-strict'], { prefix: AS_SUDO_USER });
  assert.equal(strict.code, 1, strict.stderr);
  assertOneLine(strict.stderr, /^rustnet-ts: --sandbox-strict: cannot reduce privileges: .*roots\.jsonl exists and is not writable by nobody$/);
  const lax = await runCli(['--read', PCAP, '--no-tui', '--json-log', log], { prefix: AS_SUDO_USER });
  assert.equal(lax.code, 0, lax.stderr);
  assert.match(lax.stderr, /cannot reduce privileges \(.*roots\.jsonl exists and is not writable by nobody\); continuing with full rights/);
  assert.equal(fs.statSync(log).uid, 0, 'never chowned');
  assert.equal(readJsonl(log).length, 2);
});
