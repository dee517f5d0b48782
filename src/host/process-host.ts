// The Linux ProcessHost: sockets from /proc/net, owners from /proc/PID/fd, names, cgroups and container names.

import * as fs from 'node:fs';
import { containerName, defaultContainerStateRoots, parseCgroup, type CgroupInfo } from './cgroup.js';
import { readSocketTables, type SocketEntry } from './proc-net.js';
import { ProcPids, processName } from './proc-pids.js';

/** The shape enrich/process-attribution.ts asks for (kept structural: host does not import enrich). */
export interface LinuxProcessHost {
  sockets(): SocketEntry[];
  readonly owners: ProcPids;
  scanAll(): void;
  scanNewFirst(wanted: ReadonlySet<number>): void;
  processName(pid: number): string | null;
  cgroup(pid: number): CgroupInfo | undefined;
  containerName(info: CgroupInfo): string | undefined;
}

export function linuxProcessHost(root = '/proc'): LinuxProcessHost {
  const pids = new ProcPids(root);
  const roots = defaultContainerStateRoots();
  const names = new Map<string, string | undefined>();
  return {
    sockets: () => readSocketTables(root),
    owners: pids,
    scanAll: () => { pids.scanAll(); },
    scanNewFirst: (wanted) => { pids.scanNewFirst(wanted); },
    processName: (pid) => processName(root, pid),
    cgroup: (pid) => {
      try {
        return parseCgroup(fs.readFileSync(`${root}/${pid}/cgroup`, 'utf8'));
      } catch {
        return undefined; // the process is gone, or cgroups are not mounted
      }
    },
    containerName: (info) => {
      if (info.containerRuntime === undefined || info.containerId === undefined) return undefined;
      // A container keeps its name for life: one read of the runtime's state files per container.
      const key = `${info.containerRuntime}/${info.containerId}`;
      if (!names.has(key)) names.set(key, containerName(info.containerRuntime, info.containerId, roots));
      return names.get(key);
    },
  };
}
