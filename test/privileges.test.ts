// /proc/PID/status privileges parsed from saved texts, capability names and masks, the Statistics panel line.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CAPABILITY_NAMES, capabilityMask, capabilityNames, describePrivileges, formatPrivileges, parseProcStatus, readPrivileges,
  setPrivilegeNote,
} from '../src/host/privileges.js';

/** A node process after `setpriv --reuid=65534 … --ambient-caps=-all,+net_raw,+dac_read_search,+sys_ptrace --no-new-privs` (kernel 6.x). */
const DROPPED = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Tgid:\t14432
Ngid:\t0
Pid:\t14432
PPid:\t14420
TracerPid:\t0
Uid:\t65534\t65534\t65534\t65534
Gid:\t65534\t65534\t65534\t65534
FDSize:\t64
Groups:\t 
NStgid:\t14432
VmRSS:\t  217716 kB
Threads:\t11
SigQ:\t0/31760
CapInh:\t0000000000082004
CapPrm:\t0000000000082004
CapEff:\t0000000000082004
CapBnd:\t0000000000082004
CapAmb:\t0000000000082004
NoNewPrivs:\t1
Seccomp:\t0
Seccomp_filters:\t0
Speculation_Store_Bypass:\tthread vulnerable
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t150
nonvoluntary_ctxt_switches:\t3
`;

/** Root with every capability but cap_sys_resource (bit 24) in its bounding set, as on this test machine; sudo-style groups. */
const ROOT = `Name:\tnode
Uid:\t0\t0\t0\t0
Gid:\t0\t0\t0\t0
Groups:\t0 4 27
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t000001fffeffffff
CapBnd:\t000001fffeffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
`;

/** A kernel before 4.3 / 4.10: no CapAmb, no NoNewPrivs. A user with file capabilities on its executable. */
const OLD_KERNEL_USER = `Name:\tnode
Uid:\t1000\t1000\t1000\t1000
Gid:\t1000\t1000\t1000\t1000
Groups:\t1000 27
CapInh:\t0000000000000000
CapPrm:\t0000000000003000
CapEff:\t0000000000003000
CapBnd:\t0000003fffffffff
`;

test('a dropped process: uids, groups, each capability set and no-new-privileges', () => {
  const p = parseProcStatus(DROPPED);
  assert.ok(p !== null);
  assert.deepEqual(p.uids, [65534, 65534, 65534, 65534]);
  assert.deepEqual(p.gids, [65534, 65534, 65534, 65534]);
  assert.deepEqual(p.groups, []);
  for (const set of [p.capInh, p.capPrm, p.capEff, p.capBnd, p.capAmb]) assert.equal(set, 0x82004n);
  assert.deepEqual(capabilityNames(p.capEff), ['dac_read_search', 'net_raw', 'sys_ptrace']);
  assert.equal(p.noNewPrivs, true);
  assert.equal(formatPrivileges(p), 'uid 65534, caps dac_read_search,net_raw,sys_ptrace');
});

test('root: full rights read as "root", with the reason it kept them', () => {
  const p = parseProcStatus(ROOT);
  assert.ok(p !== null);
  assert.deepEqual(p.groups, [0, 4, 27]);
  assert.equal(p.noNewPrivs, false);
  assert.equal(capabilityNames(p.capEff).length, 40);
  assert.ok(!capabilityNames(p.capEff).includes('sys_resource'));
  assert.equal(formatPrivileges(p), 'root');
  assert.equal(formatPrivileges(p, 'sandbox off'), 'root (sandbox off)');
  assert.equal(formatPrivileges(p, 'drop failed'), 'root (drop failed)');
  // Root that holds fewer capabilities than it could (a container, a capability-reduced service) lists them.
  assert.equal(formatPrivileges({ ...p, capEff: 1n << 13n }), 'root, caps net_raw');
  assert.equal(formatPrivileges({ ...p, capEff: 0n }), 'root, no caps');
});

test('older kernels without CapAmb and NoNewPrivs; a user with file capabilities; a user without any', () => {
  const p = parseProcStatus(OLD_KERNEL_USER);
  assert.ok(p !== null);
  assert.equal(p.capAmb, 0n);
  assert.equal(p.noNewPrivs, null);
  assert.deepEqual(p.groups, [1000, 27]);
  assert.equal(formatPrivileges(p), 'uid 1000, caps net_admin,net_raw');
  assert.equal(formatPrivileges({ ...p, capEff: 0n }), 'uid 1000, no caps');
});

test('the effective uid is the one shown (a set-uid style split of real and effective)', () => {
  const p = parseProcStatus(DROPPED.replace('Uid:\t65534\t65534\t65534\t65534', 'Uid:\t1000\t0\t0\t0'));
  assert.ok(p !== null);
  assert.ok(formatPrivileges(p).startsWith('root'));
});

test('malformed or incomplete status texts give null, never a guess', () => {
  assert.equal(parseProcStatus(''), null);
  assert.equal(parseProcStatus(DROPPED.replace(/^Uid:.*$/m, '')), null);
  assert.equal(parseProcStatus(DROPPED.replace(/^Uid:.*$/m, 'Uid:\t1000\t1000')), null);
  assert.equal(parseProcStatus(DROPPED.replace(/^Uid:.*$/m, 'Uid:\t-1\t0\t0\t0')), null);
  assert.equal(parseProcStatus(DROPPED.replace(/^CapEff:.*$/m, 'CapEff:\tzz')), null);
  assert.equal(parseProcStatus(DROPPED.replace(/^CapBnd:.*$/m, '')), null);
  assert.equal(parseProcStatus('Uid: 0 0 0 0\nGid: 0 0 0 0\nCapPrm: 0\nCapEff: 0\n'), null);
});

test('capability names and masks: the kernel numbering, both spellings, bits past the table', () => {
  assert.equal(CAPABILITY_NAMES[13], 'net_raw');
  assert.equal(CAPABILITY_NAMES[2], 'dac_read_search');
  assert.equal(CAPABILITY_NAMES[19], 'sys_ptrace');
  assert.equal(CAPABILITY_NAMES[40], 'checkpoint_restore');
  assert.equal(capabilityMask(['net_raw', 'cap_dac_read_search', 'sys_ptrace']), 0x82004n);
  assert.equal(capabilityMask([]), 0n);
  assert.throws(() => capabilityMask(['net_raww']), /unknown capability/);
  assert.deepEqual(capabilityNames(0n), []);
  assert.deepEqual(capabilityNames((1n << 41n) | 1n), ['chown', 'cap_41']);
  assert.deepEqual(capabilityNames(capabilityMask(['sys_admin', 'bpf'])), ['sys_admin', 'bpf']);
  // Every name maps back to its own bit.
  CAPABILITY_NAMES.forEach((name, bit) => assert.equal(capabilityMask([name]), 1n << BigInt(bit), name));
});

test('live: this process\'s own /proc/self/status, and the panel line with and without a note', () => {
  const p = readPrivileges();
  assert.ok(p !== null, '/proc/self/status readable on Linux');
  assert.equal(p.uids[1], process.geteuid!());
  assert.equal(p.gids[1], process.getegid!());
  setPrivilegeNote(null);
  assert.equal(describePrivileges(), formatPrivileges(p));
  setPrivilegeNote('sandbox off');
  assert.equal(describePrivileges(), formatPrivileges(p, 'sandbox off'));
  assert.match(describePrivileges(), /\(sandbox off\)$/);
  setPrivilegeNote(null);
  // A status file that does not exist (another OS) reads as null.
  assert.equal(readPrivileges(path.join(os.tmpdir(), 'no-such-dir-rnt', 'status')), null);
  // A saved file reads like the live one.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-priv-'));
  try {
    fs.writeFileSync(path.join(dir, 'status'), DROPPED);
    assert.equal(readPrivileges(path.join(dir, 'status'))?.capEff, 0x82004n);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
