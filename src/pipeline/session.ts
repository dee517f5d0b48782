// Session: open → run → stop of one packet source with its outputs, and the tick that orders everything else.

import { RustnetError } from '../core/errors.js';
import type { EventSink } from '../core/event-sink.js';
import type { FrameSink, PacketSource } from '../core/packet-source.js';
import type { ServiceNames } from '../core/service-names.js';
import { SideTables, type ConnectionKey } from '../core/side-tables.js';
import type { CaptureCounters, ConnectionRow, InterfaceRow, Snapshot, SourceInfo } from '../core/snapshot.js';
import type { Connection } from '../tracking/connection.js';
import { buildEvent } from './events.js';
import { Monitor } from './monitor.js';
import { connectionRow } from './rows.js';
import type { TableOptions } from '../tracking/connection-table.js';

/** Calls `fn` every `intervalMs` until the returned function is called (injected so tests need no sleeps). */
export interface Scheduler {
  every(intervalMs: number, fn: () => void): () => void;
}

export const systemScheduler: Scheduler = {
  every(intervalMs, fn) {
    const timer = setInterval(fn, intervalMs);
    return () => clearInterval(timer);
  },
};

/** Wall-clock time in microseconds. */
export function wallClockMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Slow work whose results land on a tick (process owners, host names, interface counters). */
export interface Enricher {
  /**
   * Applies whatever finished since the last tick; true when something a reader shows changed.
   * `connections` are the ones tracked now (those closed since the last tick are still joined with
   * what this call sets: their closed events come after it).
   */
  apply(nowMicros: number, side: SideTables, connections: readonly ConnectionKey[]): boolean;
  /**
   * Live capture: called from the event loop soon after the packet path created connections
   * (coalesced; at most once per turn of the loop), for work that must look before a short-lived
   * connection is gone. Results still land through apply().
   */
  noticeNew?(connections: readonly ConnectionKey[]): void;
  /** Each connection created since the last tick, before apply() (e.g. to want its remote address's name). */
  created?(c: ConnectionKey): void;
  /** Interface counters, for enrichers that keep them. */
  interfaces?(): readonly InterfaceRow[];
  /**
   * At the end of the input (not on a stop): resolves when work still out (lookups) has come back, or
   * after `timeoutMs`; its results land in the last ticks, before the remaining connections close.
   */
  finishPending?(timeoutMs: number): Promise<void>;
}

/**
 * Sees every frame after the monitor handled it (capture export). It must copy what it keeps: `buf` is borrowed.
 * `connection` is the one the frame was counted in (null when it was skipped), passed only when wanted.
 */
export interface FrameObserver {
  readonly wantsConnection: boolean;
  observe(buf: Buffer, offset: number, capLength: number, wireLength: number, linkType: number, tsMicros: number,
    connection: ConnectionKey | null): void;
  /** Each tick, after enrichment results landed and before the connections that left are forgotten. */
  tick(): void;
  /** Writes what it still holds and releases its output; idempotent. */
  close(): Promise<void>;
}

/** Something that shows snapshots (a screen, a metrics reader). */
export interface SnapshotReader {
  render(snapshot: Snapshot): void;
}

export interface SessionOptions extends Omit<TableOptions, 'sampleRates'> {
  tickIntervalMs: number;
  /** Wall clock for live sources (default: the system's). */
  clock?: () => number;
  scheduler?: Scheduler;
  readers?: SnapshotReader[];
  enrichers?: Enricher[];
  /** Should this connection's events be written (display filters such as PTR hiding)? Default: all. */
  eventFilter?: (row: ConnectionRow) => boolean;
  /** Closed connections kept for readers (the UI's history view). */
  historyLimit?: number;
  /** Port names (default: the built-in table). */
  services?: ServiceNames;
  /** Opened with the outputs (after the source): an observer of every frame, such as a capture export. */
  frameObserver?: (source: SourceInfo, side: SideTables) => FrameObserver;
  /**
   * When the input ends, keep everything as it is (a screen shows the final state) until stop(); the
   * connections still open are then closed as at the end of the file.
   */
  holdAtEnd?: boolean;
}

/** How a session ended. */
export interface SessionEnd {
  /** What the connections still open were closed with: end of the input, or a stop (signal, key, error). */
  reason: 'end_of_file' | 'shutdown';
  /** Damaged input, or an error of our own (exit code 70); null when the run ended normally. */
  failure: RustnetError | null;
}

const DEFAULT_HISTORY = 1000;
/** Longest wait at the end of the input for enrichment still out (reverse DNS answers). */
const SETTLE_MS = 2000;

export class Session {
  readonly side: SideTables;
  private readonly source: PacketSource;
  private readonly openSinks: () => EventSink[];
  private readonly opts: SessionOptions;
  private readonly clock: () => number;
  private readonly scheduler: Scheduler;
  private readonly readers: SnapshotReader[];
  private readonly enrichers: Enricher[];
  private monitorOrNull: Monitor | null = null;
  private info: SourceInfo | null = null;
  private sinks: EventSink[] = [];
  private observer: FrameObserver | null = null;
  private stopReason: SessionEnd['reason'] | null = null;
  private failure: RustnetError | null = null;
  private wake: (() => void) | null = null;
  private readonly stopped = new Promise<void>((resolve) => { this.wake = resolve; });
  private finishing: Promise<void> | null = null;
  private ended = false;
  /** The input ran out (a stop after that still closes connections as 'end_of_file'). */
  private inputEnded = false;
  // Snapshot bookkeeping.
  private readonly history: ConnectionRow[] = [];
  private generation = 0;
  private lastSnapshot: Snapshot | null = null;
  private lastSignature = '';
  private changedByEnrichers = false;
  /** Clock and frame count at the last table sweep. */
  private lastTickMicros = NaN;
  private lastTickFrames = 0;
  /** Side table versions the connections' cached rows were built with. */
  private rowsSideVersion = -1;
  private rowsHostnamesVersion = -1;

  constructor(source: PacketSource, openSinks: () => EventSink[], opts: SessionOptions) {
    this.source = source;
    this.openSinks = openSinks;
    this.opts = opts;
    this.clock = opts.clock ?? wallClockMicros;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.readers = opts.readers ?? [];
    this.enrichers = opts.enrichers ?? [];
    this.side = new SideTables(opts.services);
  }

  /** The packet path's owner; available once run() has opened the source. */
  get monitor(): Monitor {
    if (this.monitorOrNull === null) throw new Error('Session.monitor before run()');
    return this.monitorOrNull;
  }

  get sourceInfo(): SourceInfo | null {
    return this.info;
  }

  /**
   * Opens the source, then the outputs (so a bad input leaves no empty log behind). Throws a
   * RustnetError when either fails, and leaves nothing open then.
   */
  open(): SourceInfo {
    const source = this.source;
    const info = source.open();
    try {
      this.sinks = this.openSinks();
      this.observer = this.opts.frameObserver?.(info, this.side) ?? null;
    } catch (err) {
      for (const s of this.sinks) void s.close();
      this.sinks = [];
      source.close();
      throw err;
    }
    this.info = info;
    const o = this.opts;
    this.monitorOrNull = new Monitor({
      maxConnections: o.maxConnections,
      showLocalhost: o.showLocalhost,
      localAddresses: o.localAddresses,
      inspector: o.inspector,
      // Rates are for readers (a screen); a headless event log has no use for them.
      sampleRates: this.readers.length > 0,
      tickIntervalMicros: this.opts.tickIntervalMs * 1000,
      onPacketTick: source.packetClock ? (now) => this.tick(now) : null,
      onNewConnections: !source.packetClock && this.enrichers.some((e) => e.noticeNew !== undefined) ? () => this.scheduleNotice() : null,
    });
    return info;
  }

  /**
   * Runs an opened session until the input ends or stop()/fail() is called, then stops in order: every
   * open connection closed in the events, outputs drained and closed.
   */
  async run(): Promise<SessionEnd> {
    const source = this.source;
    const packetClock = source.packetClock;
    const cancelTicks = packetClock ? null : this.scheduler.every(this.opts.tickIntervalMs, () => this.tick(this.clock()));
    const sinks = this.sinks;
    const pace = async (): Promise<void> => {
      for (const s of sinks) if (s.backlogged) await s.whenWritable();
    };
    try {
      if (this.stopReason === null) await Promise.race([source.run(this.frameSink(), pace), this.stopped]);
      if (this.stopReason === null && this.failure === null && this.opts.holdAtEnd === true) {
        this.inputEnded = true;
        // Packet time drove the ticks: the frames after the last one are shown now, then held.
        if (packetClock) this.tick(this.monitor.nowMicros);
        await this.stopped;
      }
    } catch (err) {
      this.failure ??= asRustnetError(err);
    } finally {
      cancelTicks?.();
    }
    await this.finish();
    return { reason: this.stopReason ?? 'end_of_file', failure: this.failure };
  }

  /**
   * What the source delivers to: the monitor's packet path itself, or with an observer a tee that hands it each
   * frame afterwards (and, when it wants it, the connection the frame was counted in).
   */
  private frameSink(): FrameSink {
    const observer = this.observer;
    const monitor = this.monitor;
    const handle = monitor.handleFrame;
    if (observer === null) return handle;
    if (!observer.wantsConnection) {
      return (buf, offset, capLength, wireLength, linkType, tsMicros) => {
        handle(buf, offset, capLength, wireLength, linkType, tsMicros);
        observer.observe(buf, offset, capLength, wireLength, linkType, tsMicros, null);
      };
    }
    const table = monitor.table;
    return (buf, offset, capLength, wireLength, linkType, tsMicros) => {
      const decoded = monitor.framesDecoded;
      handle(buf, offset, capLength, wireLength, linkType, tsMicros);
      // A decoded frame was counted in a connection, the table's latest.
      observer.observe(buf, offset, capLength, wireLength, linkType, tsMicros, monitor.framesDecoded !== decoded ? table.lastConnection : null);
    };
  }

  /** Ends the run in order (signals, a quit key). Idempotent; the first reason stays. */
  stop(): void {
    this.stopReason ??= this.inputEnded ? 'end_of_file' : 'shutdown';
    this.source.stop();
    this.wake?.();
  }

  /** An error escaped somewhere (a timer, a rejected promise): the same orderly stop, reported as internal. */
  fail(err: unknown): void {
    this.failure ??= asRustnetError(err);
    this.stop();
  }

  private noticeScheduled = false;

  /** Coalesces the packet path's "new connections" into one call per turn of the event loop. */
  private scheduleNotice(): void {
    if (this.noticeScheduled || this.ended) return;
    this.noticeScheduled = true;
    setImmediate(() => {
      this.noticeScheduled = false;
      if (this.ended) return;
      const list = this.monitor.table.list;
      for (const e of this.enrichers) e.noticeNew?.(list);
    });
  }

  /**
   * One tick, in order: expire idle connections (and sample rates) → apply enrichment results →
   * events for connections created and closed since the last tick → snapshot for readers → flush outputs.
   */
  tick(nowMicros: number): void {
    if (this.ended) return;
    const monitor = this.monitor;
    const now = monitor.advance(nowMicros);
    // A clock that stood still since the last tick (a replay held at its end) expires and samples nothing.
    if (now !== this.lastTickMicros || monitor.framesSeen !== this.lastTickFrames) {
      monitor.table.tick(now);
      this.lastTickMicros = now;
      this.lastTickFrames = monitor.framesSeen;
    }
    for (const e of this.enrichers) {
      const created = e.created;
      if (created !== undefined) monitor.table.peekCreated((c) => created.call(e, c));
    }
    for (const e of this.enrichers) if (e.apply(now, this.side, monitor.table.list)) this.changedByEnrichers = true;
    this.observer?.tick();
    this.emitEvents();
    if (this.readers.length > 0) {
      const snapshot = this.snapshot();
      for (const r of this.readers) r.render(snapshot);
    }
    for (const s of this.sinks) s.flush();
  }

  /**
   * Everything the monitor knows, as plain rows. Built on demand (a screen, a metrics reader), never per
   * packet; a call when nothing changed returns the previous snapshot with the same generation.
   */
  snapshot(): Snapshot {
    const monitor = this.monitor;
    const table = monitor.table;
    const now = monitor.nowMicros;
    // Rates fall towards zero while nothing arrives: every rate sample taken makes a new snapshot.
    // Live capture's drop counters change without a frame seen (the dropped ones never arrive).
    const drops = this.source.stats();
    const signature = `${monitor.framesSeen}/${table.totalRemoved}/${this.side.version}/${this.history.length}/${table.samplesTaken}/${drops.dropped}/${drops.interfaceDropped}`;
    const previous = this.lastSnapshot;
    if (previous !== null && signature === this.lastSignature && !this.changedByEnrichers) {
      return previous;
    }
    this.changedByEnrichers = false;
    this.lastSignature = signature;
    const list = table.list;
    const rows: ConnectionRow[] = new Array<ConnectionRow>(list.length);
    const side = this.side;
    // A row is rebuilt only when something it shows may have changed: most connections of a large table
    // are idle between two ticks, and rebuilding 100,000 rows a second would be most of a screen's cost.
    // The table marks slots whose packets, state, timeout or rates changed; side tables changed as a whole
    // (a process found, a hostname learned) send every row through a closer look.
    const sideChanged = side.version !== this.rowsSideVersion;
    const hostnamesChanged = side.hostnamesVersion !== this.rowsHostnamesVersion;
    for (let i = 0; i < list.length; i++) {
      const last = table.slotRow(i) as ConnectionRow | null | undefined;
      if (!table.takeChanged(i) && last != null) {
        if (!sideChanged) {
          rows[i] = last;
          continue;
        }
        const c = list[i]!;
        if (last.pid === side.processes.get(c.id)?.pid &&
            (!hostnamesChanged || (last.remoteHostname === side.hostnames.get(c.remoteAddr) && last.localHostname === side.hostnames.get(c.localAddr)))) {
          rows[i] = last;
          continue;
        }
      }
      const row = connectionRow(list[i]!, now, side, true);
      table.setSlotRow(i, row);
      rows[i] = row;
    }
    this.rowsSideVersion = side.version;
    this.rowsHostnamesVersion = side.hostnamesVersion;
    const totals = table.totals;
    let interfaces: readonly InterfaceRow[] = [];
    for (const e of this.enrichers) if (e.interfaces !== undefined) interfaces = e.interfaces();
    const snapshot: Snapshot = {
      generation: ++this.generation,
      nowMicros: now,
      source: this.info!,
      connections: rows,
      recentlyClosed: this.history.slice(),
      tcp: { retransmits: totals.retransmits, outOfOrder: totals.outOfOrder, fastRetransmits: totals.fastRetransmits },
      capture: withDrops(monitor.counters(), drops),
      connectionsCreated: table.totalCreated,
      connectionsEvicted: table.evicted,
      interfaces,
    };
    this.lastSnapshot = snapshot;
    return snapshot;
  }

  private emitEvents(): void {
    const table = this.monitor.table;
    const sinks = this.sinks;
    const filter = this.opts.eventFilter;
    const side = this.side;
    const now = this.monitor.nowMicros;
    // New before closed, so a connection born and gone within one tick still reads in order.
    table.drainCreated((c: Connection) => {
      const row = connectionRow(c, now, side);
      if (filter !== undefined && !filter(row)) return;
      c.announced = true;
      const event = buildEvent(row, 'new_connection');
      for (const s of sinks) s.write(event);
    });
    const keep = this.readers.length > 0 ? (this.opts.historyLimit ?? DEFAULT_HISTORY) : 0;
    table.drainClosed((c: Connection) => {
      const announced = c.announced;
      if (!announced && keep === 0) {
        side.forget(c.id);
        return;
      }
      const row = connectionRow(c, c.closedAtMicros, side);
      side.forget(c.id);
      if (announced) {
        const event = buildEvent(row, 'connection_closed');
        for (const s of sinks) s.write(event);
      }
      if (keep > 0) {
        this.history.push(row);
        if (this.history.length > keep) this.history.splice(0, this.history.length - keep);
      }
    });
  }

  /** The orderly stop, once: release the source, close what is still open, last snapshot, drain outputs. */
  private finish(): Promise<void> {
    this.finishing ??= (async () => {
      const source = this.source;
      source.stop();
      source.close();
      const monitor = this.monitor;
      // Live: one last tick at the moment of the stop. Replay: the clock stays at the last packet.
      if (!source.packetClock) this.tick(this.clock());
      if (this.stopReason === null && this.failure === null && this.enrichers.some((e) => e.finishPending !== undefined)) {
        // The input ran out: let the last connections' lookups come back (bounded), so their closed events
        // carry what they found. A stop (signal, quit key) does not wait.
        this.tick(monitor.nowMicros);
        await Promise.all(this.enrichers.map((e) => e.finishPending?.(SETTLE_MS)));
      }
      monitor.table.closeAll(monitor.nowMicros, this.stopReason ?? 'end_of_file');
      this.tick(monitor.nowMicros);
      this.ended = true;
      await Promise.all([...this.sinks.map((s) => s.close()), this.observer?.close()]);
    })();
    return this.finishing;
  }
}

/** The monitor's frame counters with the source's drop counters, where it reports them. */
function withDrops(counters: CaptureCounters, drops: ReturnType<PacketSource['stats']>): CaptureCounters {
  if (drops.dropped !== null) counters.kernelDropped = drops.dropped;
  if (drops.interfaceDropped !== undefined && drops.interfaceDropped !== null) counters.interfaceDropped = drops.interfaceDropped;
  return counters;
}

function asRustnetError(err: unknown): RustnetError {
  if (err instanceof RustnetError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const e = new RustnetError('INTERNAL', `internal error: ${message}`, 70);
  if (err instanceof Error && err.stack !== undefined) e.stack = err.stack;
  return e;
}

/**
 * SIGINT, SIGTERM and SIGHUP stop the session in order, and so does an error nothing else caught.
 * Returns the function that removes the handlers.
 */
export function bindProcessEvents(session: Session): () => void {
  const onSignal = (): void => session.stop();
  const onError = (err: unknown): void => session.fail(err);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}
