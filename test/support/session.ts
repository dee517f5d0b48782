// Test support: a Session driven by hand — frames fed one by one, ticks called or fired, events kept in memory.

import type { ConnectionEvent, EventSink } from '../../src/core/event-sink.js';
import type { FrameSink, PacketSource } from '../../src/core/packet-source.js';
import { LinkType } from '../../src/core/packet-view.js';
import type { SourceInfo } from '../../src/core/snapshot.js';
import { Session, type Scheduler, type SessionEnd, type SessionOptions } from '../../src/pipeline/session.js';

export class MemorySink implements EventSink {
  readonly events: ConnectionEvent[] = [];
  flushes = 0;
  closes = 0;
  backlogged = false;
  write(e: ConnectionEvent): void { this.events.push(e); }
  flush(): void { this.flushes++; }
  whenWritable(): Promise<void> { return Promise.resolve(); }
  close(): Promise<void> {
    this.closes++;
    return Promise.resolve();
  }
}

/** A source whose frames the test hands in; its input ends when the test says so. */
export class ManualSource implements PacketSource {
  readonly packetClock: boolean;
  opens = 0;
  stops = 0;
  closes = 0;
  received = 0;
  private sink: FrameSink | null = null;
  private finishRun: (() => void) | null = null;
  private failRun: ((err: unknown) => void) | null = null;

  constructor(packetClock: boolean) {
    this.packetClock = packetClock;
  }

  open(): SourceInfo {
    this.opens++;
    return { kind: this.packetClock ? 'replay' : 'live', name: 'manual', linkType: LinkType.ETHERNET, description: 'test frames', filter: '' };
  }

  run(sink: FrameSink): Promise<void> {
    this.sink = sink;
    return new Promise<void>((resolve, reject) => {
      this.finishRun = resolve;
      this.failRun = reject;
    });
  }

  feed(frame: Uint8Array, tsMicros: number, linkType: number = LinkType.ETHERNET): void {
    this.feedRaw(Buffer.from(frame), 0, frame.length, frame.length, linkType, tsMicros);
  }

  /** One frame exactly as a capture layer hands it over (captured length may be below the wire length). */
  feedRaw(buf: Buffer, offset: number, capLength: number, wireLength: number, linkType: number, tsMicros: number): void {
    if (this.sink === null) throw new Error('feed before the session runs');
    this.received++;
    this.sink(buf, offset, capLength, wireLength, linkType, tsMicros);
  }

  /** End of input (as end of file). */
  end(): void { this.finishRun?.(); }
  /** Damaged input. */
  breakWith(err: unknown): void { this.failRun?.(err); }

  stop(): void {
    this.stops++;
    this.end();
  }

  close(): void { this.closes++; }
  stats(): { received: number; dropped: number | null } { return { received: this.received, dropped: null }; }
}

/** Interval tasks that run only when the test fires them. */
export class ManualScheduler implements Scheduler {
  private readonly tasks = new Set<() => void>();
  every(_intervalMs: number, fn: () => void): () => void {
    this.tasks.add(fn);
    return () => this.tasks.delete(fn);
  }
  get pending(): number { return this.tasks.size; }
  fire(): void { for (const fn of this.tasks) fn(); }
}

export interface Harness {
  session: Session;
  source: ManualSource;
  sink: MemorySink;
  scheduler: ManualScheduler;
  /** Settles when the session has stopped and its outputs are closed. */
  done: Promise<SessionEnd>;
}

/** Opens and runs a session over a ManualSource (packet clock unless `live`), outputs in memory. */
export function runManual(opts: Partial<SessionOptions> & { live?: boolean } = {}): Harness {
  const source = new ManualSource(opts.live !== true);
  const sink = new MemorySink();
  const scheduler = new ManualScheduler();
  const session = new Session(source, () => [sink], {
    maxConnections: 10_000, showLocalhost: true, localAddresses: null, inspector: null, tickIntervalMs: 1000,
    scheduler, ...opts,
  });
  session.open();
  const done = session.run();
  return { session, source, sink, scheduler, done };
}
