// Monitor: frame → decode → tracking on the packet path; tick → expiry, rates, events.

import { DOUBLE_ZERO, IpProto, LinkType, PacketView } from '../core/packet-view.js';
import { SKIP_NAMES, Skip, isMalformed } from '../core/skip-reason.js';
import { decodeFrame } from '../decode/decode-frame.js';
import { GTP_U_PORT, gtpInnerOffset } from '../decode/gtp.js';
import { ConnectionTable, type TableOptions } from '../tracking/connection-table.js';
import type { Connection } from '../tracking/connection.js';
import type { EventSink } from '../core/event-sink.js';
import { buildEvent } from './events.js';

export interface MonitorOptions extends TableOptions {
  tickIntervalMicros: number;
  /** Offline replay: packet timestamps drive ticks. Live: the owner calls tick() on a timer. */
  packetClock: boolean;
  /** Should this connection produce events (display filters such as PTR hiding)? Default: all. */
  eventFilter?: (c: Connection) => boolean;
}

export interface CaptureCounters {
  framesSeen: number;
  framesDecoded: number;
  framesMalformed: number;
  framesSkipped: number;
  /** Count per skip reason name (only non-zero ones). */
  skipped: Record<string, number>;
}

export class Monitor {
  readonly table: ConnectionTable;
  framesSeen = 0;
  framesDecoded = 0;
  /** Latest time seen (packet time offline, wall time live), in microseconds. */
  nowMicros = DOUBLE_ZERO;
  private readonly view = new PacketView();
  private readonly skips = new Float64Array(SKIP_NAMES.length);
  private readonly opts: MonitorOptions;
  private readonly sink: EventSink | null;
  /** Packet time of the next tick; NaN until the first packet sets it. */
  private nextTickMicros = NaN;

  constructor(opts: MonitorOptions, sink: EventSink | null) {
    this.opts = opts;
    this.sink = sink;
    this.table = new ConnectionTable(opts);
  }

  /** The packet path. `buf` is borrowed for the duration of the call. Never throws. */
  readonly handleFrame = (buf: Buffer, offset: number, capLength: number, wireLength: number, linkType: number, tsMicros: number): void => {
    this.framesSeen++;
    if (tsMicros > this.nowMicros) this.nowMicros = tsMicros;
    const view = this.view;
    let code: number;
    try {
      code = decodeFrame(buf, offset, capLength, wireLength, linkType, this.nowMicros, view);
      if (code === Skip.OK) code = this.table.ingest(view, buf);
      if (code === Skip.OK && view.ipProto === IpProto.UDP && view.payloadLength > 0 &&
          (view.dstPort === GTP_U_PORT || view.srcPort === GTP_U_PORT)) {
        this.ingestTunnelled(buf, offset + capLength);
      }
    } catch {
      code = Skip.INTERNAL_ERROR;
    }
    if (code === Skip.OK) this.framesDecoded++;
    else this.skips[code]!++;
    if (this.opts.packetClock) {
      if (Number.isNaN(this.nextTickMicros)) this.nextTickMicros = this.nowMicros + this.opts.tickIntervalMicros;
      else if (this.nowMicros >= this.nextTickMicros) {
        this.tick(this.nowMicros);
        this.nextTickMicros = this.nowMicros + this.opts.tickIntervalMicros;
      }
    }
  };

  /**
   * A GTP-U tunnel's user packet is a connection of its own as well (as tshark shows it): decode the
   * inner IP packet and track it too, counting the outer link header as its link header.
   */
  private ingestTunnelled(buf: Buffer, end: number): void {
    const view = this.view;
    const inner = gtpInnerOffset(buf, view.payloadOffset, view.payloadOffset + view.payloadLength);
    if (inner < 0) return;
    const linkHeaderLength = view.linkHeaderLength;
    if (decodeFrame(buf, inner, end - inner, end - inner, LinkType.RAW, this.nowMicros, view) !== Skip.OK) return;
    view.linkHeaderLength = linkHeaderLength;
    this.table.ingest(view, buf);
  }

  /** Expire, update rates and emit the events that accumulated since the last tick. */
  tick(nowMicros: number): void {
    if (nowMicros > this.nowMicros) this.nowMicros = nowMicros;
    this.table.tick(this.nowMicros);
    this.emitQueued();
  }

  /** End of file or shutdown: every tracked connection gets its closed event, then output is flushed. */
  finish(reason: string): void {
    this.table.closeAll(this.nowMicros, reason);
    this.emitQueued();
  }

  counters(): CaptureCounters {
    const skipped: Record<string, number> = {};
    let malformed = 0;
    let total = 0;
    for (let i = 1; i < this.skips.length; i++) {
      const n = this.skips[i]!;
      if (n === 0) continue;
      skipped[SKIP_NAMES[i]!] = n;
      total += n;
      if (isMalformed(i)) malformed += n;
    }
    return { framesSeen: this.framesSeen, framesDecoded: this.framesDecoded, framesMalformed: malformed, framesSkipped: total, skipped };
  }

  private emitQueued(): void {
    const t = this.table;
    const sink = this.sink;
    const filter = this.opts.eventFilter;
    const now = this.nowMicros;
    const dpiOn = this.opts.inspector !== null;
    // New before closed, so a connection born and gone within one tick still reads in order.
    for (const c of t.created) {
      if (sink === null) continue;
      if (filter !== undefined && !filter(c)) continue;
      c.announced = true;
      sink.write(buildEvent(c, 'new_connection', now, dpiOn));
    }
    t.created.length = 0;
    for (const c of t.closed) {
      if (sink === null || !c.announced) continue;
      sink.write(buildEvent(c, 'connection_closed', c.closedAtMicros, dpiOn));
    }
    t.closed.length = 0;
    sink?.flush();
  }
}
