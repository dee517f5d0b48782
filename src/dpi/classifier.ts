// The interface every protocol classifier implements; the engine picks and drives them.

import type { AppInfo, AppProtocol } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';

export type { DpiContext } from '../core/dpi-port.js';

/** Transport bits for Classifier.transports. */
export const Transport = { TCP: 1, UDP: 2, BOTH: 3 } as const;

/** How sure detect() is that a payload starts this protocol. */
export const Score = {
  /** Not this protocol. */
  NO: 0,
  /** Only the port suggests it (e.g. UDP 123 for NTP); content is not decisive. */
  PORT: 1,
  /**
   * The payload fits the protocol's framing as it looks in the middle of a stream (e.g. a TLS record
   * header), without the start of a handshake or message: enough to let the session look further,
   * not enough to beat content another classifier recognises.
   */
  FRAMING: 2,
  /** The content itself has this protocol's shape (magic bytes, structure checks passed). */
  CONTENT: 3,
} as const;

/** What a session says after each feed(). */
export const Verdict = {
  /** Keep feeding payloads of this flow. */
  MORE: 1,
  /** Finished: the engine stops inspecting this flow. */
  DONE: 2,
  /** Not this protocol after all: the engine drops this session and may try another classifier. */
  REJECT: 3,
} as const;

/** Per-flow parsing state of one classifier. */
export interface ClassifierSession {
  /**
   * Feed one payload (TCP segment or UDP datagram). `buf` is borrowed: copy any bytes you keep.
   * Must never throw, whatever the bytes; bounded work and memory per call.
   */
  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number;
  /** What was recognised so far (null until recognised). Mutated in place as more is learned. */
  readonly app: AppInfo | null;
}

export interface Classifier {
  /** Short id, e.g. 'tls'. */
  readonly id: string;
  /** Transport.TCP, Transport.UDP or Transport.BOTH. */
  readonly transports: number;
  /**
   * Cheap, allocation-free check of one payload: Score.NO, Score.PORT or Score.CONTENT.
   * Called on payloads until some classifier claims the flow. Must never throw.
   */
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number;
  /**
   * New per-flow session; the payload passed to detect() is fed to it next. `score` is what detect()
   * said of that payload (a session may skip checks detect() already made on the same bytes). `seen`:
   * payloads of the flow inspected before that one (0: it is the flow's first), so a stream protocol
   * can tell that it joins the connection after its start and label it 'mid-stream'.
   */
  start(score?: number, seen?: number): ClassifierSession;
  /**
   * The protocol the flow's ports alone suggest (443 → HTTPS), or undefined. The engine shows it with
   * confidence 'port' while no classifier has recognised the flow's content, and keeps it when none
   * does. Optional: a classifier without a port of its own has no guess. Must never throw.
   */
  guess?(ctx: DpiContext): AppProtocol | undefined;
}
