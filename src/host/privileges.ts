// The process's own privileges from /proc/self/status (uids, groups, capability sets), and the line that shows them.

import * as fs from 'node:fs';

/**
 * Capability names by bit number, as in linux/capability.h (without the `cap_` prefix). A bit past the end of
 * this table (a newer kernel) is shown as `cap_<n>`.
 */
export const CAPABILITY_NAMES: readonly string[] = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

/** The privileges of one process as /proc/PID/status states them. */
export interface ProcessPrivileges {
  /** Real, effective, saved and filesystem uid. */
  uids: [number, number, number, number];
  gids: [number, number, number, number];
  /** Supplementary groups. */
  groups: number[];
  /** Capability sets as bit masks (bit n = capability n). */
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  /** Ambient set; 0 on kernels before 4.3, which do not list it. */
  capAmb: bigint;
  /** null on kernels before 4.10, which do not list it. */
  noNewPrivs: boolean | null;
}

function idQuad(value: string | undefined): [number, number, number, number] | null {
  if (value === undefined) return null;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) return null;
  const [a, b, c, d] = parts.map(Number) as [number, number, number, number];
  return [a, b, c, d];
}

function mask(value: string | undefined): bigint | null {
  if (value === undefined) return null;
  const hex = value.trim();
  return /^[0-9a-fA-F]{1,32}$/.test(hex) ? BigInt(`0x${hex}`) : null;
}

/** Parses the text of /proc/PID/status; null when a line it needs (Uid, Gid, CapPrm, CapEff, CapBnd) is missing or malformed. */
export function parseProcStatus(text: string): ProcessPrivileges | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const uids = idQuad(fields.get('Uid'));
  const gids = idQuad(fields.get('Gid'));
  const capPrm = mask(fields.get('CapPrm'));
  const capEff = mask(fields.get('CapEff'));
  const capBnd = mask(fields.get('CapBnd'));
  if (uids === null || gids === null || capPrm === null || capEff === null || capBnd === null) return null;
  const groupText = (fields.get('Groups') ?? '').trim();
  const groups = groupText === '' ? [] : groupText.split(/\s+/).filter((g) => /^\d+$/.test(g)).map(Number);
  const nnp = fields.get('NoNewPrivs')?.trim();
  return {
    uids,
    gids,
    groups,
    capInh: mask(fields.get('CapInh')) ?? 0n,
    capPrm,
    capEff,
    capBnd,
    capAmb: mask(fields.get('CapAmb')) ?? 0n,
    noNewPrivs: nnp === undefined ? null : nnp === '1',
  };
}

/** Names of the capabilities set in `bits`, lowest bit first. */
export function capabilityNames(bits: bigint): string[] {
  const names: string[] = [];
  for (let n = 0; bits >> BigInt(n) !== 0n; n++) {
    if ((bits >> BigInt(n)) & 1n) names.push(CAPABILITY_NAMES[n] ?? `cap_${n}`);
  }
  return names;
}

/** The mask of named capabilities ('net_raw' or 'cap_net_raw'). Throws on a name it does not know. */
export function capabilityMask(names: readonly string[]): bigint {
  let bits = 0n;
  for (const raw of names) {
    const name = raw.replace(/^cap_/, '');
    let n = CAPABILITY_NAMES.indexOf(name);
    if (n < 0 && /^\d+$/.test(name)) n = Number(name);
    if (n < 0) throw new Error(`unknown capability ${raw}`);
    bits |= 1n << BigInt(n);
  }
  return bits;
}

/** Why a process that could have dropped its rights still holds them; shown in brackets after the rights. */
export type PrivilegeNote = 'sandbox off' | 'drop failed' | 'not supported';

/**
 * One short line for the Statistics panel: `uid 1000, caps net_raw,dac_read_search,sys_ptrace`, `root` (every
 * capability its bounding set allows), `root, caps net_raw` (a root with fewer), `uid 1000, no caps`; the note,
 * if any, in brackets: `root (sandbox off)`.
 */
export function formatPrivileges(p: ProcessPrivileges, note: PrivilegeNote | null = null): string {
  const euid = p.uids[1];
  const caps = capabilityNames(p.capEff);
  let text: string;
  if (euid === 0) text = p.capEff === p.capBnd ? 'root' : caps.length === 0 ? 'root, no caps' : `root, caps ${caps.join(',')}`;
  else text = caps.length === 0 ? `uid ${euid}, no caps` : `uid ${euid}, caps ${caps.join(',')}`;
  return note === null ? text : `${text} (${note})`;
}

/** This process's privileges now; null where there is no /proc (not Linux) or it cannot be read. */
export function readPrivileges(statusPath = '/proc/self/status'): ProcessPrivileges | null {
  try {
    return parseProcStatus(fs.readFileSync(statusPath, 'utf8'));
  } catch {
    return null;
  }
}

let note: PrivilegeNote | null = null;
let described: string | null = null;

/** Set once at start by the privilege drop: why full rights were kept (null: they were not, or nothing to drop). */
export function setPrivilegeNote(value: PrivilegeNote | null): void {
  note = value;
  described = null;
}

/**
 * What this process runs with, for the Statistics panel, e.g. `uid 1000, caps net_raw,dac_read_search,sys_ptrace`
 * or `root (sandbox off)`. Privileges do not change once the monitor runs, so /proc is read on the first call only.
 */
export function describePrivileges(): string {
  if (described !== null) return described;
  const p = readPrivileges();
  if (p !== null) {
    described = formatPrivileges(p, note);
  } else {
    // No /proc: the uid is all we can tell (and nothing at all on Windows).
    const euid = process.geteuid?.();
    const base = euid === undefined ? 'unknown' : euid === 0 ? 'root' : `uid ${euid}`;
    described = note === null ? base : `${base} (${note})`;
  }
  return described;
}
