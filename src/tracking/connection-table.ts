// ConnectionTable: ingest decoded packets into connections; sweep expiry and rates once per tick.

import { formatAddress, isLoopbackWords } from '../core/address.js';
import type { DpiContext, PayloadInspector } from '../core/dpi-port.js';
import { ARP_PROTO, Fragment, IpProto, L3, TcpFlag, type PacketView } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { Connection, LastOp, TcpState } from './connection.js';
import { warmUp } from './engine-warm-up.js';
import { FlowTable, KEY_WORDS } from './flow-table.js';
import { sampleRates } from './rate.js';
import { UDP_ACTIVE_MICROS, UDP_STALE_FRACTION } from './state-name.js';
import { TcpTotals, analyzeTcpSegment } from './tcp-analytics.js';
import { advanceTcpState } from './tcp-state.js';
import { ACTIVE_IDLE_MICROS, refreshAppTimeout, timeoutMicros } from './timeouts.js';

/** Tells which addresses belong to this host (live capture); absent offline. */
export interface LocalAddressSet {
  isLocal(w0: number, w1: number, w2: number, w3: number): boolean;
}

export interface TableOptions {
  maxConnections: number;
  showLocalhost: boolean;
  /** null: offline replay, where the initiator of each connection is taken as local. */
  localAddresses: LocalAddressSet | null;
  inspector: PayloadInspector | null;
  /** Keep up/down rates current on each tick (a display needs them; a headless event log does not). */
  sampleRates?: boolean;
}

/** Slot flags: the connection's rates are not zero (they need a sample each tick). */
const SLOT_HOT = 1;
/** Slot flags: something a reader shows may have changed since it last took the slot's change mark. */
const SLOT_CHANGED = 2;

/** First fragments remembered so later fragments can be attributed to their flow. */
const MAX_FRAGMENT_ENTRIES = 4096;

export class ConnectionTable {
  /** Every tracked connection, in no particular order. */
  readonly list: Connection[] = [];
  readonly totals = new TcpTotals();
  totalCreated = 0;
  totalRemoved = 0;
  evicted = 0;
  /** Rate samples taken so far: unchanged between two ticks, no rate changed either. */
  samplesTaken = 0;
  /** The connection the latest counted packet belonged to (a capture export's comment names its process). */
  lastConnection: Connection | null = null;
  /** Connections created / removed since the owner last drained them (in that order). */
  private readonly created: Connection[] = [];
  private readonly closed: Connection[] = [];

  private readonly flows: FlowTable<Connection>;
  /** Id of the next connection: unique within this table, so within a run. */
  private nextId = 1;
  /**
   * Per list slot: the time before which the connection certainly has not expired, or 0 after a
   * packet (re-evaluate). The sweep scans this dense array and touches only connections that are due.
   */
  private deadlines = new Float64Array(1024);
  /** Per list slot: SLOT_HOT while the connection's rates are not zero, SLOT_CHANGED (see takeChanged). */
  private slotFlags = new Uint8Array(1024);
  /** Per list slot: whatever a reader keeps for the connection (the pipeline: its last snapshot row). */
  private readonly slotRows: unknown[] = [];
  /** Time of the previous tick (rates of connections idle since then need no new sample); before any, a time before all. */
  private lastTickMicros = -0.5;
  private readonly key = new Uint32Array(KEY_WORDS);
  private readonly fragments = new Map<string, Connection>();
  private readonly ctx: DpiContext = { transport: 0, fromClient: false, srcPort: 0, dstPort: 0, seq: 0, tsMicros: 0 };
  private readonly opts: TableOptions;
  /** Rates and row bookkeeping for snapshot readers (sampleRates); a headless run skips both. */
  private readonly forReaders: boolean;

  constructor(opts: TableOptions) {
    this.opts = opts;
    this.forReaders = opts.sampleRates !== false;
    this.flows = new FlowTable<Connection>(Math.min(opts.maxConnections, 65536));
    warmUp(this);
  }

  /** Applies one decoded packet. Returns Skip.OK, or why it was not counted. `buf` is borrowed. */
  ingest(v: PacketView, buf: Uint8Array): number {
    if (!this.opts.showLocalhost &&
        (isLoopbackWords(v.src0, v.src1, v.src2, v.src3) || isLoopbackWords(v.dst0, v.dst1, v.dst2, v.dst3))) {
      return Skip.LOCALHOST_FILTERED;
    }
    const now = v.tsMicros;
    if (v.fragment === Fragment.LATER) return this.ingestLaterFragment(v, now);

    let proto: number;
    let sp: number;
    let dp: number;
    if (v.l3 === L3.ARP) {
      proto = ARP_PROTO;
      sp = 0;
      dp = 0;
    } else {
      proto = v.ipProto;
      if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
        sp = v.icmpId;
        dp = v.icmpId;
      } else {
        sp = v.srcPort;
        dp = v.dstPort;
      }
    }
    // Canonical order: side A is the smaller (address, port), so both directions share one key.
    const srcIsA = compareEndpoints(v, sp, dp) <= 0;
    const k = this.key;
    k[0] = proto;
    if (srcIsA) {
      k[1] = ((sp << 16) | dp) >>> 0;
      k[2] = v.src0; k[3] = v.src1; k[4] = v.src2; k[5] = v.src3;
      k[6] = v.dst0; k[7] = v.dst1; k[8] = v.dst2; k[9] = v.dst3;
    } else {
      k[1] = ((dp << 16) | sp) >>> 0;
      k[2] = v.dst0; k[3] = v.dst1; k[4] = v.dst2; k[5] = v.dst3;
      k[6] = v.src0; k[7] = v.src1; k[8] = v.src2; k[9] = v.src3;
    }
    const flags = v.tcpFlags;
    let c = this.flows.get(k);
    if (c !== undefined && proto === IpProto.TCP && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN &&
        (c.tcpState === TcpState.CLOSED || c.tcpState === TcpState.TIME_WAIT)) {
      // A fresh SYN on a finished tuple is a new connection (port reuse).
      this.remove(c, now, 'replaced');
      c = undefined;
    }
    if (c === undefined) c = this.create(v, proto, sp, dp, srcIsA, now);

    const fromLocal = srcIsA === c.localIsA;
    this.count(c, fromLocal, v.linkHeaderLength + v.ipTotalLength, now);

    if (proto === IpProto.TCP) {
      const space = v.payloadWireLength + ((flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
      advanceTcpState(c, flags, fromLocal, (v.seq + space) >>> 0, v.ack);
      analyzeTcpSegment(c, fromLocal, flags, v.seq, v.ack, v.payloadWireLength, this.totals);
    } else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      const t = v.icmpType;
      if (t === 8 || t === 128) c.lastOp = LastOp.ECHO_REQUEST;
      else if (t === 0 || t === 129) c.lastOp = LastOp.ECHO_REPLY;
    } else if (proto === ARP_PROTO) {
      c.lastOp = v.arpOp === 2 ? LastOp.ARP_REPLY : LastOp.ARP_REQUEST;
    }
    if (v.fragment === Fragment.FIRST) this.rememberFragment(v, c);

    const inspector = this.opts.inspector;
    if (inspector !== null && !c.dpiDone && v.payloadLength > 0 && (proto === IpProto.TCP || proto === IpProto.UDP)) {
      let d = c.dpi;
      if (d === null) d = c.dpi = inspector.begin();
      const ctx = this.ctx;
      ctx.transport = proto;
      ctx.fromClient = fromLocal === c.localIsClient;
      ctx.srcPort = v.srcPort;
      ctx.dstPort = v.dstPort;
      ctx.seq = v.seq;
      ctx.tsMicros = now;
      inspector.inspect(d, buf, v.payloadOffset, v.payloadLength, ctx);
      refreshAppTimeout(c);
      if (d.done) c.dpiDone = true;
    }
    return Skip.OK;
  }

  /** Adds one packet to a connection's counters and marks it for re-evaluation at the next sweep. */
  private count(c: Connection, fromLocal: boolean, bytes: number, now: number): void {
    if (fromLocal) {
      c.bytesSent += bytes;
      c.packetsSent++;
    } else {
      c.bytesReceived += bytes;
      c.packetsReceived++;
    }
    if (now > c.lastSeenMicros) c.lastSeenMicros = now;
    this.deadlines[c.slot] = 0;
    this.lastConnection = c;
  }

  /** Once per tick: remove connections idle past their timeout, then update every rate. */
  tick(nowMicros: number): void {
    const list = this.list;
    const deadlines = this.deadlines;
    const rates = this.forReaders;
    // A connection with no packet since the last tick and both rates at zero keeps them at zero without a
    // sample (sampleRates bridges the gap when traffic resumes): a large idle table costs one comparison each.
    const since = this.lastTickMicros;
    this.lastTickMicros = nowMicros;
    const flags = this.slotFlags;
    for (let i = list.length - 1; i >= 0; i--) {
      if (deadlines[i]! > nowMicros) {
        // No packet since the connection was last looked at, and nothing it shows depends on time before
        // its deadline: only rates still falling need a sample (and the connection object is not touched).
        if (rates && (flags[i]! & SLOT_HOT) !== 0) this.sample(list[i]!, i, nowMicros, since);
        continue;
      }
      const c = list[i]!;
      const idle = nowMicros - c.lastSeenMicros;
      const timeout = timeoutMicros(c, nowMicros);
      if (idle > timeout) {
        this.remove(c, nowMicros, c.tcpState === TcpState.CLOSED ? 'closed' : 'timeout');
        continue;
      }
      // Timeouts only change when idleness crosses ACTIVE_IDLE_MICROS, and a UDP state when it crosses
      // UDP_ACTIVE_MICROS or the stale share of the timeout (or a packet arrives, which resets the
      // deadline): the earliest of those moments is safe to sleep until.
      const seen = c.lastSeenMicros;
      let due = seen + timeout;
      if (idle < ACTIVE_IDLE_MICROS) due = Math.min(due, seen + ACTIVE_IDLE_MICROS);
      // Readers (a screen) see UDP states change with idleness; events do not need those wake-ups.
      if (rates && c.protocol === IpProto.UDP) {
        if (idle < UDP_ACTIVE_MICROS) due = Math.min(due, seen + UDP_ACTIVE_MICROS);
        else if (idle < UDP_STALE_FRACTION * timeout) due = Math.min(due, seen + UDP_STALE_FRACTION * timeout);
      }
      deadlines[i] = due;
      if (rates) {
        flags[i]! |= SLOT_CHANGED;
        if (seen >= since || (flags[i]! & SLOT_HOT) !== 0) this.sample(c, i, nowMicros, since);
      }
    }
  }

  private sample(c: Connection, slot: number, nowMicros: number, previousTickMicros: number): void {
    sampleRates(c, nowMicros, previousTickMicros);
    this.samplesTaken++;
    this.slotFlags[slot] = c.sendRateBps !== 0 || c.receiveRateBps !== 0 ? SLOT_HOT | SLOT_CHANGED : SLOT_CHANGED;
  }

  /**
   * Whether anything a reader shows of the connection in `slot` may have changed since the last call for
   * that slot (packets, a new state or timeout, rates); clears the mark. With slotRow/setSlotRow, a reader
   * rebuilds only the rows that changed.
   */
  takeChanged(slot: number): boolean {
    const flags = this.slotFlags[slot]!;
    this.slotFlags[slot] = flags & ~SLOT_CHANGED;
    // A packet after the last sweep: the next sweep would mark it.
    return (flags & SLOT_CHANGED) !== 0 || this.deadlines[slot] === 0;
  }

  /** The row kept for the slot, or undefined. */
  slotRow(slot: number): unknown {
    return this.slotRows[slot];
  }

  /** Keeps `row` for the slot (only for a table kept for readers: a headless one does not move rows with slots). */
  setSlotRow(slot: number, row: unknown): void {
    if (this.forReaders) this.slotRows[slot] = row;
  }

  /** Connections created since the last drain, oldest first, without draining them. */
  peekCreated(visit: (c: Connection) => void): void {
    const q = this.created;
    for (let i = 0; i < q.length; i++) visit(q[i]!);
  }

  /** Connections created since the last call, oldest first (they may have left again since). */
  drainCreated(visit: (c: Connection) => void): void {
    const q = this.created;
    for (let i = 0; i < q.length; i++) visit(q[i]!);
    q.length = 0;
  }

  /** Connections that left the table since the last call, in the order they left. */
  drainClosed(visit: (c: Connection) => void): void {
    const q = this.closed;
    for (let i = 0; i < q.length; i++) visit(q[i]!);
    q.length = 0;
  }

  /** Removes every connection (end of file, shutdown) so each gets its closed event. */
  closeAll(nowMicros: number, reason: string): void {
    for (let i = this.list.length - 1; i >= 0; i--) this.remove(this.list[i]!, nowMicros, reason);
    this.fragments.clear();
  }

  private create(v: PacketView, proto: number, sp: number, dp: number, srcIsA: boolean, now: number): Connection {
    if (this.list.length >= this.opts.maxConnections) this.evictStalest(now);
    // The initiator: a SYN-ACK's sender is the server; otherwise the first packet's sender.
    const srcIsClient = !(proto === IpProto.TCP && (v.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK));
    let srcIsLocal = srcIsClient;
    const local = this.opts.localAddresses;
    if (local !== null) {
      const s = local.isLocal(v.src0, v.src1, v.src2, v.src3);
      const d = local.isLocal(v.dst0, v.dst1, v.dst2, v.dst3);
      if (s !== d) srcIsLocal = s;
    }
    const srcAddr = formatAddress(v.src0, v.src1, v.src2, v.src3);
    const dstAddr = formatAddress(v.dst0, v.dst1, v.dst2, v.dst3);
    const family = v.l3 === L3.IPV6 ? 6 : 4;
    const c = srcIsLocal
      ? new Connection(this.nextId++, proto, family, srcAddr, sp, dstAddr, dp, this.key.slice(), srcIsA, srcIsClient, now)
      : new Connection(this.nextId++, proto, family, dstAddr, dp, srcAddr, sp, this.key.slice(), !srcIsA, !srcIsClient, now);
    this.flows.set(c.key, c);
    c.slot = this.list.length;
    this.list.push(c);
    if (c.slot >= this.deadlines.length) {
      const grown = new Float64Array(this.deadlines.length * 2);
      grown.set(this.deadlines);
      this.deadlines = grown;
      const flags = new Uint8Array(grown.length);
      flags.set(this.slotFlags);
      this.slotFlags = flags;
    }
    this.deadlines[c.slot] = 0;
    if (this.forReaders) {
      this.slotFlags[c.slot] = SLOT_CHANGED;
      this.slotRows[c.slot] = null;
    }
    this.created.push(c);
    this.totalCreated++;
    return c;
  }

  private remove(c: Connection, now: number, reason: string): void {
    this.flows.delete(c.key);
    const last = this.list.pop()!;
    if (last !== c) {
      this.list[c.slot] = last;
      this.deadlines[c.slot] = this.deadlines[last.slot]!;
      if (this.forReaders) {
        this.slotFlags[c.slot] = this.slotFlags[last.slot]!;
        this.slotRows[c.slot] = this.slotRows[last.slot];
      }
      last.slot = c.slot;
    }
    if (this.forReaders) this.slotRows.length = this.list.length;
    c.slot = -1;
    c.closedAtMicros = now;
    c.closeReason = reason;
    this.totalRemoved++;
    this.closed.push(c);
  }

  /** At the connection cap: drop the stalest 1 % (at least one) so eviction cost is amortised. */
  private evictStalest(now: number): void {
    const n = Math.max(1, Math.floor(this.list.length / 100));
    const victims = this.list.slice().sort((a, b) => a.lastSeenMicros - b.lastSeenMicros).slice(0, n);
    for (const c of victims) this.remove(c, now, 'evicted');
    this.evicted += victims.length;
  }

  private fragmentKey(v: PacketView): string {
    return `${v.ipProto}/${v.ipId}/${v.src0},${v.src1},${v.src2},${v.src3}/${v.dst0},${v.dst1},${v.dst2},${v.dst3}`;
  }

  private rememberFragment(v: PacketView, c: Connection): void {
    if (this.fragments.size >= MAX_FRAGMENT_ENTRIES) {
      const oldest = this.fragments.keys().next().value;
      if (oldest !== undefined) this.fragments.delete(oldest);
    }
    this.fragments.set(this.fragmentKey(v), c);
  }

  private ingestLaterFragment(v: PacketView, now: number): number {
    const c = this.fragments.get(this.fragmentKey(v));
    if (c === undefined || c.slot < 0) return Skip.UNMATCHED_FRAGMENT;
    // Same source address as the connection's local side means the fragment was sent by us.
    const fromLocal = formatAddress(v.src0, v.src1, v.src2, v.src3) === c.localAddr;
    this.count(c, fromLocal, v.linkHeaderLength + v.ipTotalLength, now);
    return Skip.OK;
  }
}

/** Orders (src address, src port) against (dst address, dst port). */
function compareEndpoints(v: PacketView, sp: number, dp: number): number {
  if (v.src0 !== v.dst0) return v.src0 < v.dst0 ? -1 : 1;
  if (v.src1 !== v.dst1) return v.src1 < v.dst1 ? -1 : 1;
  if (v.src2 !== v.dst2) return v.src2 < v.dst2 ? -1 : 1;
  if (v.src3 !== v.dst3) return v.src3 < v.dst3 ? -1 : 1;
  return sp - dp;
}
