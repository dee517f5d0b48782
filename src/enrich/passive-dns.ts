// PassiveDns: names learned from DNS answers seen on the wire, applied to side tables for the addresses wanted.

import { LRUCache } from 'lru-cache';
import { formatAddress, parseAddressWords } from '../core/address.js';
import type { AppDetails } from '../core/app-info.js';
import type { SideTables } from '../core/side-tables.js';
import { addressOfPtrName } from './reverse-dns.js';

export interface PassiveDnsOptions {
  /** Addresses remembered; the least recently learned or read go first. */
  maxEntries?: number;
  /**
   * How long a learned name stays usable. DPI details carry answers without their record TTLs, so one
   * fixed span stands in for them.
   */
  ttlMicros?: number;
  /** Addresses wanted at once; the oldest wants give way beyond this. */
  maxWanted?: number;
}

interface Learned {
  readonly name: string;
  readonly learnedMicros: number;
}

const DEFAULT_MAX_ENTRIES = 50_000;
const DEFAULT_TTL_MICROS = 60 * 60 * 1_000_000;
const DEFAULT_MAX_WANTED = 16_384;

/**
 * Maps each address a DNS response handed out to the name the client asked for, so a connection to it
 * can show that name (what the user typed, not the CDN's PTR). Takes answers exactly as the DNS classifier
 * lists them in `dns_answers`: A/AAAA as address text, CNAME and PTR targets as names, all sections merged.
 */
export class PassiveDns {
  private readonly cache: LRUCache<string, Learned>;
  private readonly ttlMicros: number;
  private readonly maxWanted: number;
  /** Insertion order is age: the first entry is the oldest want. */
  private readonly wanted = new Set<string>();
  /** Wanted addresses that were wanted or learned since the last apply(): only these can change a hostname. */
  private touched = new Set<string>();

  constructor(options: PassiveDnsOptions = {}) {
    this.cache = new LRUCache<string, Learned>({ max: Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES) });
    this.ttlMicros = options.ttlMicros ?? DEFAULT_TTL_MICROS;
    this.maxWanted = Math.max(1, options.maxWanted ?? DEFAULT_MAX_WANTED);
  }

  /**
   * Learns from one response to `queryName`. Every address among `answers` maps to `queryName`; names
   * among them (CNAME targets along the chain) are skipped, so the chain's addresses keep the name the
   * client asked for. A PTR query (`…in-addr.arpa`, `…ip6.arpa`) maps its address to the first answer
   * that is a name outside .arpa (RFC 2317 delegations answer with a CNAME into .arpa first).
   */
  learn(queryName: string, answers: readonly string[], nowMicros: number): void {
    const query = queryName.endsWith('.') ? queryName.slice(0, -1) : queryName;
    if (query.length === 0 || answers.length === 0) return;
    const ptrAddress = addressOfPtrName(query);
    if (ptrAddress !== undefined) {
      for (const answer of answers) {
        if (canonicalAddress(answer) !== undefined) continue;
        const name = answer.endsWith('.') ? answer.slice(0, -1) : answer;
        if (name.length === 0 || name.toLowerCase().endsWith('.arpa')) continue;
        this.remember(ptrAddress, name, nowMicros);
        return;
      }
      return;
    }
    for (const answer of answers) {
      const address = canonicalAddress(answer);
      if (address !== undefined) this.remember(address, query, nowMicros);
    }
  }

  /**
   * Learns from a DNS connection's DPI details when they are unambiguous: one distinct query name (the
   * classifier merges every message of a flow, so with several names no answer can be tied to one).
   */
  learnDetails(details: Readonly<AppDetails>, nowMicros: number): void {
    const queries = details.dns_queries;
    const answers = details.dns_answers;
    if (queries === undefined || queries.length !== 1 || answers === undefined) return;
    this.learn(queries[0]!, answers, nowMicros);
  }

  /** The name last learned for `address`, unless older than the TTL at `nowMicros`. */
  nameOf(address: string, nowMicros: number): string | undefined {
    const key = canonicalAddress(address);
    return key === undefined ? undefined : this.nameOfCanonical(key, nowMicros);
  }

  /**
   * nameOf for an address already in the form rows print (tracking's formatAddress): the per-connection
   * path, which must not parse every address again (50,000 connections a minute on the bench replay).
   */
  nameOfCanonical(key: string, nowMicros: number): string | undefined {
    if (this.cache.size === 0) return undefined;
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    if (nowMicros - entry.learnedMicros > this.ttlMicros) {
      this.cache.delete(key);
      return undefined;
    }
    return entry.name;
  }

  /** Asks for `address`'s name to be set in the side tables whenever it is (or becomes) known. */
  want(address: string): void {
    const key = canonicalAddress(address);
    if (key === undefined) return;
    // Re-adding moves it to the young end.
    this.wanted.delete(key);
    if (this.wanted.size >= this.maxWanted) {
      const oldest = this.wanted.values().next().value;
      if (oldest !== undefined) {
        this.wanted.delete(oldest);
        this.touched.delete(oldest);
      }
    }
    this.wanted.add(key);
    this.touched.add(key);
  }

  /** Sets hostnames for wanted addresses wanted or learned since the last tick; true when one changed. */
  apply(nowMicros: number, side: SideTables): boolean {
    if (this.touched.size === 0) return false;
    const touched = this.touched;
    this.touched = new Set();
    let changed = false;
    for (const address of touched) {
      const name = this.nameOf(address, nowMicros);
      if (name !== undefined && side.hostnames.get(address) !== name) {
        side.setHostname(address, name);
        changed = true;
      }
    }
    return changed;
  }

  /** Addresses remembered (stale ones included until evicted or looked at). */
  get size(): number {
    return this.cache.size;
  }

  private remember(address: string, name: string, nowMicros: number): void {
    // The latest answer wins: a shared (CDN) address shows the name asked for most recently.
    this.cache.set(address, { name, learnedMicros: nowMicros });
    if (this.wanted.has(address)) this.touched.add(address);
  }
}

/** Address text as rows print it (RFC 5952, IPv4-mapped as dotted IPv4), or undefined for a name. */
function canonicalAddress(text: string): string | undefined {
  // Names (CNAME/PTR targets) are most answers that are not addresses: a cheap test spares the parse.
  if (!text.includes(':') && !/^[0-9.]+$/.test(text)) return undefined;
  const words = parseAddressWords(text);
  return words === null ? undefined : formatAddress(...words);
}
