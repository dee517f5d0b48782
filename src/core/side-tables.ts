// SideTables: what slow work (process attribution, name lookups) learned, kept apart from tracking's connections.

import type { FlowInspection } from './dpi-port.js';
import { ServiceNames } from './service-names.js';

/** The process that owns a connection's local socket, and where it runs. */
export interface ProcessOwner {
  readonly pid: number;
  readonly name: string;
  /** systemd unit from the process's cgroup, e.g. `nginx.service`. */
  readonly unit?: string;
  /** Container the process runs in (Docker, Podman, containerd, CRI-O, LXC): its id, and its name when known. */
  readonly containerId?: string;
  readonly containerName?: string;
}

/** What enrichment needs to know of a tracked connection (tracking's Connection has all of it). */
export interface ConnectionKey {
  readonly id: number;
  /** What DPI found so far (passive DNS reads the answers of DNS flows). */
  readonly dpi: FlowInspection | null;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6). */
  readonly protocol: number;
  readonly family: 4 | 6;
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
}

/**
 * Filled by enrichment on ticks, read when rows are built: tracking owns only what packets tell it.
 * Processes are keyed by connection id (attribution is per socket); hostnames by address text (one
 * lookup serves every connection to that address).
 */
export class SideTables {
  /** Port names, from the host's /etc/services where it has one. */
  readonly services: ServiceNames;
  readonly processes = new Map<number, ProcessOwner>();
  readonly hostnames = new Map<string, string>();
  /** Bumped on every change, so snapshot readers can tell nothing changed. */
  version = 0;
  /** Bumped when a hostname is set (rows of any connection to that address may change). */
  hostnamesVersion = 0;

  constructor(services: ServiceNames = new ServiceNames()) {
    this.services = services;
  }

  /** Attribution is write-once: a connection keeps the first owner found for it. */
  setProcess(connectionId: number, owner: ProcessOwner): boolean {
    if (this.processes.has(connectionId)) return false;
    this.processes.set(connectionId, owner);
    this.version++;
    return true;
  }

  setHostname(address: string, name: string): void {
    if (this.hostnames.get(address) === name) return;
    this.hostnames.set(address, name);
    this.version++;
    this.hostnamesVersion++;
  }

  /** A connection has left and its last row was built: its per-connection entries go. */
  forget(connectionId: number): void {
    if (this.processes.delete(connectionId)) this.version++;
  }
}
