// Hostnames: passive DNS (names seen in DNS answers on the wire) always, reverse lookups with --resolve-dns.

import type { ConnectionKey, SideTables } from '../core/side-tables.js';
import type { PassiveDns } from './passive-dns.js';
import { addressOfPtrName, type ReverseDns } from './reverse-dns.js';

/** Ports whose flows carry DNS (plain DNS, mDNS, LLMNR) and so may teach passive DNS. */
const DNS_PORTS = new Set([53, 5353, 5355]);
/** How long a DNS flow is watched for answers after it appears (a response comes within seconds). */
const WATCH_MICROS = 30_000_000;
/** Most DNS flows watched at once; beyond it the oldest are let go. */
const MAX_WATCHED = 8192;

interface Watched {
  c: ConnectionKey;
  sinceMicros: number;
  answersSeen: number;
  /** mDNS and LLMNR flows keep answering (one flow, many names); a plain DNS flow is done once answered. */
  multicast: boolean;
}

export class Hostnames {
  private readonly passive: PassiveDns;
  private readonly reverse: ReverseDns | null;
  /** DNS flows watched for answers, oldest first. */
  private watched: Watched[] = [];
  /** Remote addresses of the connections created since the last tick (rows' address form). */
  private fresh: string[] = [];
  private nowMicros = 0;
  private readonly readsAnswers: boolean;

  /** `readsAnswers`: DPI is on, so DNS flows will carry answers worth watching (with --no-dpi they never do). */
  constructor(passive: PassiveDns, reverse: ReverseDns | null, readsAnswers = true) {
    this.passive = passive;
    this.reverse = reverse;
    this.readsAnswers = readsAnswers;
  }

  created(c: ConnectionKey): void {
    if (this.readsAnswers && (DNS_PORTS.has(c.remotePort) || DNS_PORTS.has(c.localPort))) {
      this.watched.push({ c, sinceMicros: this.nowMicros, answersSeen: 0, multicast: c.remotePort !== 53 && c.localPort !== 53 });
    }
    this.fresh.push(c.remoteAddr);
  }

  apply(nowMicros: number, side: SideTables): boolean {
    this.nowMicros = nowMicros;
    // One pass, no allocation: learn from new answers and keep only the flows still worth watching.
    const watched = this.watched;
    let kept = 0;
    for (let i = 0; i < watched.length; i++) {
      const w = watched[i]!;
      const details = w.c.dpi?.app?.details;
      const answers = details?.dns_answers;
      let answered = false;
      if (details !== undefined && answers !== undefined && answers.length !== w.answersSeen) {
        w.answersSeen = answers.length;
        this.passive.learnDetails(details, nowMicros);
        answered = true;
      }
      if ((!answered || w.multicast) && nowMicros - w.sinceMicros <= WATCH_MICROS) watched[kept++] = w;
    }
    watched.length = kept;
    if (kept > MAX_WATCHED) watched.splice(0, kept - MAX_WATCHED);
    // New connections: a name seen on the wire is what the user's own software asked for, so it comes
    // first; the resolver is asked only for what the wire has not told us.
    let changed = false;
    const fresh = this.fresh;
    this.fresh = [];
    // Nothing learned from the wire (no DPI, or no DNS seen yet) and nothing to ask: no name to find.
    if (this.passive.size === 0 && this.reverse === null) return false;
    for (const address of fresh) {
      const name = this.passive.nameOfCanonical(address, nowMicros);
      if (name !== undefined) {
        if (side.hostnames.get(address) !== name) {
          side.setHostname(address, name);
          changed = true;
        }
      } else if (this.reverse !== null) {
        this.reverse.want(address);
      }
    }
    if (this.reverse !== null && this.reverse.apply(nowMicros, side)) changed = true;
    return changed;
  }

  /**
   * True for a DNS flow made only of our own reverse lookups (PTR queries for addresses we asked about):
   * hidden from events and screens unless --show-ptr-lookups.
   */
  isOwnLookup(queries: readonly string[] | undefined): boolean {
    const reverse = this.reverse;
    if (reverse === null || queries === undefined || queries.length === 0) return false;
    return queries.every((q) => {
      const address = addressOfPtrName(q);
      return address !== undefined && reverse.asked(address);
    });
  }

  /** Waits (at most `timeoutMs`) for the reverse lookups still out: see ReverseDns.settle. */
  finishPending(timeoutMs: number): Promise<void> {
    return this.reverse?.settle(timeoutMs) ?? Promise.resolve();
  }

  close(): void {
    this.reverse?.close();
  }
}
