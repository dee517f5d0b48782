// SideTables: what slow work (process attribution, name lookups) learned, kept apart from tracking's connections.

/** The process that owns a connection's local socket. */
export interface ProcessOwner {
  readonly pid: number;
  readonly name: string;
}

/**
 * Filled by enrichment on ticks, read when rows are built: tracking owns only what packets tell it.
 * Processes are keyed by connection id (attribution is per socket); hostnames by address text (one
 * lookup serves every connection to that address).
 */
export class SideTables {
  readonly processes = new Map<number, ProcessOwner>();
  readonly hostnames = new Map<string, string>();
  /** Bumped on every change, so snapshot readers can tell nothing changed. */
  version = 0;

  setProcess(connectionId: number, owner: ProcessOwner): void {
    this.processes.set(connectionId, owner);
    this.version++;
  }

  setHostname(address: string, name: string): void {
    if (this.hostnames.get(address) === name) return;
    this.hostnames.set(address, name);
    this.version++;
  }

  /** A connection has left and its last row was built: its per-connection entries go. */
  forget(connectionId: number): void {
    if (this.processes.delete(connectionId)) this.version++;
  }
}
