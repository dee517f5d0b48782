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
}

export class Hostnames {
  private readonly passive: PassiveDns;
  private readonly reverse: ReverseDns | null;
  private readonly watched = new Map<number, Watched>();
  private nowMicros = 0;

  constructor(passive: PassiveDns, reverse: ReverseDns | null) {
    this.passive = passive;
    this.reverse = reverse;
  }

  created(c: ConnectionKey): void {
    if (DNS_PORTS.has(c.remotePort) || DNS_PORTS.has(c.localPort)) {
      if (this.watched.size >= MAX_WATCHED) {
        const oldest = this.watched.keys().next().value;
        if (oldest !== undefined) this.watched.delete(oldest);
      }
      this.watched.set(c.id, { c, sinceMicros: this.nowMicros, answersSeen: 0 });
    }
    this.passive.want(c.remoteAddr);
    // Ask the resolver only for what the wire has not told us already.
    if (this.reverse !== null && this.passive.nameOf(c.remoteAddr, this.nowMicros) === undefined) this.reverse.want(c.remoteAddr);
  }

  apply(nowMicros: number, side: SideTables): boolean {
    this.nowMicros = nowMicros;
    for (const [id, w] of this.watched) {
      const details = w.c.dpi?.app?.details;
      const answers = details?.dns_answers;
      if (details !== undefined && answers !== undefined && answers.length !== w.answersSeen) {
        w.answersSeen = answers.length;
        this.passive.learnDetails(details, nowMicros);
      }
      if (nowMicros - w.sinceMicros > WATCH_MICROS) this.watched.delete(id);
    }
    // Reverse first, passive last: a name seen on the wire is what the user's own software asked for.
    const fromReverse = this.reverse?.apply(nowMicros, side) ?? false;
    const fromWire = this.passive.apply(nowMicros, side);
    return fromReverse || fromWire;
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

  close(): void {
    this.reverse?.close();
  }
}
