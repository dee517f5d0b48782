// Monitor: the packet path (frame → decode → tracking) and its counters; packet time says when a tick is due.

import { IpProto, LinkType, PacketView } from '../core/packet-view.js';
import type { CaptureCounters } from '../core/snapshot.js';
import { SKIP_NAMES, Skip, isMalformed } from '../core/skip-reason.js';
import { decodeFrame } from '../decode/decode-frame.js';
import { GTP_U_PORT, gtpInnerOffset } from '../decode/gtp.js';
import { ConnectionTable, type TableOptions } from '../tracking/connection-table.js';

export interface MonitorOptions extends TableOptions {
  tickIntervalMicros: number;
  /**
   * Replay: packet timestamps drive the clock, and `onTick` is called from the packet path whenever a
   * tick interval of packet time has passed. Live: null, and the owner ticks on the wall clock.
   */
  onPacketTick: ((nowMicros: number) => void) | null;
  /** Called after a frame that created connections (live: enrichment looks them up while they exist). */
  onNewConnections?: (() => void) | null;
}

export class Monitor {
  readonly table: ConnectionTable;
  framesSeen = 0;
  framesDecoded = 0;
  /** Latest time seen (packet time offline, wall time live), in microseconds. */
  nowMicros = 0;
  private readonly view = new PacketView();
  private readonly skips = new Float64Array(SKIP_NAMES.length);
  private readonly tickIntervalMicros: number;
  private readonly onPacketTick: ((nowMicros: number) => void) | null;
  private readonly onNewConnections: (() => void) | null;
  /** table.totalCreated when onNewConnections was last called. */
  private createdSeen = 0;
  /** Packet time of the next tick; NaN until the first packet sets it. */
  private nextTickMicros = NaN;

  constructor(opts: MonitorOptions) {
    this.tickIntervalMicros = opts.tickIntervalMicros;
    this.onPacketTick = opts.onPacketTick;
    this.onNewConnections = opts.onNewConnections ?? null;
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
    const onNew = this.onNewConnections;
    if (onNew !== null && this.table.totalCreated !== this.createdSeen) {
      this.createdSeen = this.table.totalCreated;
      onNew();
    }
    const onTick = this.onPacketTick;
    if (onTick !== null) {
      if (Number.isNaN(this.nextTickMicros)) this.nextTickMicros = this.nowMicros + this.tickIntervalMicros;
      else if (this.nowMicros >= this.nextTickMicros) {
        this.nextTickMicros = this.nowMicros + this.tickIntervalMicros;
        onTick(this.nowMicros);
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

  /** Moves the clock forward (never back): the wall clock live, the end of the capture on replay. */
  advance(nowMicros: number): number {
    if (nowMicros > this.nowMicros) this.nowMicros = nowMicros;
    return this.nowMicros;
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
}
