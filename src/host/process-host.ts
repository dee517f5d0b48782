// The Linux ProcessHost: sockets from /proc/net, owners from /proc/PID/fd, names, cgroups and container names.

import * as fs from 'node:fs';
import { containerName, defaultContainerStateRoots, parseCgroup, type CgroupInfo } from './cgroup.js';
import { readSocketTables, type ConnectionEndpoints } from './proc-net.js';
import { sockDiagLookup } from './sock-diag.js';
import { ProcPids, processName } from './proc-pids.js';

/** What enrich/process-attribution.ts asks of the host (its ProcessHost, matched structurally: host does not import enrich). */
export function linuxProcessHost(root = '/proc') {
  const pids = new ProcPids(root);
  const roots = defaultContainerStateRoots();
  const names = new Map<string, string | undefined>();
  return {
    sockets: () => readSocketTables(root),
    // One kernel lookup per connection (sock_diag), in this process's namespace only: a fixture root has none.
    socketServing: (e: ConnectionEndpoints) => (root === '/proc' ? sockDiagLookup(e) : undefined),
    owners: pids,
    scanAll: (): number => pids.scanAll().denied,
    scanNewFirst: (wanted: ReadonlySet<number>) => { pids.scanNewFirst(wanted); },
    processName: (pid: number) => processName(root, pid),
    cgroup: (pid: number): CgroupInfo | undefined => {
      try {
        return parseCgroup(fs.readFileSync(`${root}/${pid}/cgroup`, 'utf8'));
      } catch {
        return undefined; // the process is gone, or cgroups are not mounted
      }
    },
    containerName: (info: CgroupInfo): string | undefined => {
      if (info.containerRuntime === undefined || info.containerId === undefined) return undefined;
      // A container keeps its name for life: one read of the runtime's state files per container.
      const key = `${info.containerRuntime}/${info.containerId}`;
      if (!names.has(key)) names.set(key, containerName(info.containerRuntime, info.containerId, roots));
      return names.get(key);
    },
  };
}
