// A process's systemd unit and container from /proc/PID/cgroup, and container names from runtime state files.

import * as fs from 'node:fs';

export type ContainerRuntime = 'docker' | 'podman' | 'containerd' | 'cri-o' | 'lxc';

export interface CgroupInfo {
  /** e.g. 'nginx.service', 'session-2.scope', 'user@1000.service/app.slice/app-gnome-firefox-1234.scope'. */
  unit?: string;
  containerRuntime?: ContainerRuntime;
  /** The full 64-hex id, or the container name for LXC/LXD (they have no other id). */
  containerId?: string;
  /** The cgroup path the unit came from; '' when the text held no cgroup line. */
  path: string;
}

interface Container {
  runtime: ContainerRuntime;
  id: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
// Scope names the runtimes give their containers under the systemd cgroup driver. The id must be hex, which
// leaves out the runtimes' monitor processes (libpod-conmon-<id>, crio-conmon-<id>): they are not in the container.
const SCOPES: readonly [RegExp, ContainerRuntime][] = [
  [/^docker-([0-9a-f]{64})\.scope$/, 'docker'],
  [/^libpod-([0-9a-f]{64})(?:\.scope)?$/, 'podman'],
  [/^cri-containerd-([0-9a-f]{64})\.scope$/, 'containerd'],
  [/^nerdctl-([0-9a-f]{64})\.scope$/, 'containerd'],
  [/^crio-([0-9a-f]{64})(?:\.scope)?$/, 'cri-o'],
];

/** The innermost container named by a cgroup path (nested containers: the last match wins). */
function containerOf(segments: readonly string[]): Container | undefined {
  let found: Container | undefined;
  let underKubepods = false;
  // Older LXC puts containers at /lxc/<name> (LXC 4 on v1: /lxc.payload/<name>); only that next segment names one.
  const lxcParent = segments.findIndex((s) => s === 'lxc' || s === 'lxc.payload');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] ?? '';
    if (s.startsWith('kubepods')) underKubepods = true;
    let hit: Container | undefined;
    for (const [re, runtime] of SCOPES) {
      const m = re.exec(s);
      if (m !== null) hit = { runtime, id: m[1] ?? '' };
    }
    if (hit === undefined && HEX64.test(s)) {
      // cgroupfs driver: docker puts containers at /docker/<id>, kubelet at /kubepods/<qos>/pod<uid>/<id>.
      if (segments[i - 1] === 'docker') hit = { runtime: 'docker', id: s };
      else if (underKubepods) hit = { runtime: 'containerd', id: s };
    }
    // LXC 4+ and LXD on v2: lxc.payload.<name> (lxc.monitor.<name> is the host-side monitor, not the container).
    const payload = /^lxc\.payload\.(.+)$/.exec(s);
    if (payload !== null) hit = { runtime: 'lxc', id: payload[1] ?? '' };
    else if (lxcParent !== -1 && i === lxcParent + 1) hit = { runtime: 'lxc', id: s };
    if (hit !== undefined) found = hit;
  }
  return found;
}

const LEAF_UNIT = /\.(?:service|scope)$/;
const USER_MANAGER = /^user@\d+\.service$/;

/** The systemd unit a cgroup path belongs to, or undefined when the path names none (e.g. '/', '/docker/<id>'). */
function unitOf(segments: readonly string[]): string | undefined {
  let last = -1;
  for (let i = segments.length - 1; i >= 0; i--) {
    if (LEAF_UNIT.test(segments[i] ?? '')) {
      last = i;
      break;
    }
  }
  if (last !== -1) {
    // Under a user manager the leaf alone ('app-…-1234.scope') hides whose session it is; keep the tail from user@N.
    const user = segments.findIndex((s) => USER_MANAGER.test(s));
    if (user !== -1 && user <= last) return segments.slice(user, last + 1).join('/');
    return segments[last];
  }
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] ?? '';
    if (s.endsWith('.slice')) return s;
  }
  return undefined;
}

function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * Parses /proc/PID/cgroup. cgroup v2 has one line `0::/path`; v1 has one line per hierarchy
 * (`N:controllers:/path`), hybrid systems both. The path is taken from the name=systemd line, then the unified
 * line, then any other (the first that is not '/'): under hybrid Docker with the cgroupfs driver the unified
 * line still says containerd.service while name=systemd says /docker/<id>. The container is looked for in the
 * same order over every line, because some setups only move a process in the v1 controllers.
 */
export function parseCgroup(text: string): CgroupInfo {
  let systemd: string | undefined;
  let unified: string | undefined;
  const others: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const a = line.indexOf(':');
    const b = a === -1 ? -1 : line.indexOf(':', a + 1);
    if (b === -1) continue;
    const hierarchy = line.slice(0, a);
    const controllers = line.slice(a + 1, b);
    // A removed cgroup reads as '/path (deleted)'.
    const path = line.slice(b + 1).replace(/ \(deleted\)$/, '');
    if (!/^\d+$/.test(hierarchy) || !path.startsWith('/')) continue;
    if (hierarchy === '0' && controllers === '') unified ??= path;
    else if (controllers.split(',').includes('name=systemd')) systemd ??= path;
    else others.push(path);
  }
  const ordered = [systemd, unified, ...others].filter((p): p is string => p !== undefined);
  const path = ordered.find((p) => p !== '/') ?? ordered[0] ?? '';
  const info: CgroupInfo = { path };
  const unit = unitOf(segmentsOf(path));
  if (unit !== undefined) info.unit = unit;
  for (const p of ordered) {
    const c = containerOf(segmentsOf(p));
    if (c !== undefined) {
      info.containerRuntime = c.runtime;
      info.containerId = c.id;
      break;
    }
  }
  return info;
}

/** Where the runtimes keep their state; injectable so tests (and non-default data roots) can point elsewhere. */
export interface ContainerStateRoots {
  /** Docker's data-root ('/var/lib/docker'; rootless: ~/.local/share/docker). */
  readonly docker: string;
  /** Podman/containers-storage graph roots, searched in order (root's, then the user's). */
  readonly podman: readonly string[];
}

/** The default state roots; rootless Podman stores of other users need their paths passed in. */
export function defaultContainerStateRoots(home: string | undefined = process.env.HOME): ContainerStateRoots {
  const podman = ['/var/lib/containers/storage'];
  if (home !== undefined && home !== '') podman.push(`${home}/.local/share/containers/storage`);
  return { docker: '/var/lib/docker', podman };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function dockerName(id: string, root: string): string | undefined {
  const config = readJson(`${root}/containers/${id}/config.v2.json`);
  if (typeof config !== 'object' || config === null) return undefined;
  const name = (config as Record<string, unknown>)['Name'];
  if (typeof name !== 'string') return undefined;
  const bare = name.replace(/^\//, '');
  return bare === '' ? undefined : bare;
}

function podmanName(id: string, roots: readonly string[]): string | undefined {
  for (const root of roots) {
    const list = readJson(`${root}/overlay-containers/containers.json`);
    if (!Array.isArray(list)) continue;
    for (const entry of list as unknown[]) {
      if (typeof entry !== 'object' || entry === null) continue;
      const e = entry as Record<string, unknown>;
      if (e['id'] !== id) continue;
      const names = e['names'];
      const first: unknown = Array.isArray(names) ? names[0] : undefined;
      if (typeof first === 'string' && first !== '') return first;
    }
  }
  return undefined;
}

/**
 * A container's name read from the runtime's state files, without a daemon call: Docker's config.v2.json and
 * containers-storage's containers.json. Other runtimes keep names only in their daemons: undefined. Reads files
 * on every call, so callers cache by id. Never throws.
 */
export function containerName(
  runtime: ContainerRuntime,
  id: string,
  roots: ContainerStateRoots = defaultContainerStateRoots(),
): string | undefined {
  // The id becomes part of a path: only a full hex id may, never '../'.
  if (!HEX64.test(id)) return undefined;
  if (runtime === 'docker') return dockerName(id, roots.docker);
  if (runtime === 'podman') return podmanName(id, roots.podman);
  return undefined;
}
