// PassiveDns: names learned from DNS answers seen on the wire, by the address they handed out.

import { formatAddress, parseAddressWords } from '../core/address.js';
import type { AppDetails } from '../core/app-info.js';
import { addressOfPtrName } from './reverse-dns.js';

export interface PassiveDnsOptions {
  /** Addresses remembered (about); the ones learned longest ago go first. */
  maxEntries?: number;
  /**
   * How long a learned name stays usable. DPI details carry answers without their record TTLs, so one
   * fixed span stands in for them.
   */
  ttlMicros?: number;
}

const DEFAULT_MAX_ENTRIES = 50_000;
const DEFAULT_TTL_MICROS = 60 * 60 * 1_000_000;
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** A part written with a leading zero ("010"): parse it to get the canonical text. */
const LEADING_ZERO = /(^|\.)0\d/;

/**
 * Maps each address a DNS response handed out to the name the client asked for, so a connection to it
 * can show that name (what the user typed, not the CDN's PTR). Takes answers exactly as the DNS classifier
 * lists them in `dns_answers`: A/AAAA as address text, CNAME and PTR targets as names, all sections merged.
 */
export class PassiveDns {
  /**
   * Two generations instead of an LRU: names go into `young`; when it holds half the bound, or has been
   * filling for half the TTL, it becomes `old` and the previous old generation is dropped whole. Freshness
   * is kept per generation (an entry counts as fresh while its generation began within the TTL), so an
   * entry is one string in one Map: bounded, O(1), no per-entry object. lru-cache's set() and an object
   * per answer cost about 0.2 s of the bench replay's 19,000 DNS flows.
   */
  private young = new Map<string, string>();
  private old = new Map<string, string>();
  private youngSinceMicros = 0;
  private oldSinceMicros = 0;
  private readonly generationSize: number;
  private readonly ttlMicros: number;

  constructor(options: PassiveDnsOptions = {}) {
    this.generationSize = Math.max(1, Math.floor((options.maxEntries ?? DEFAULT_MAX_ENTRIES) / 2));
    this.ttlMicros = options.ttlMicros ?? DEFAULT_TTL_MICROS;
  }

  /**
   * Learns from one response to `queryName`. Every address among `answers` maps to `queryName`; names
   * among them (CNAME targets along the chain) are skipped, so the chain's addresses keep the name the
   * client asked for. A PTR query (`…in-addr.arpa`, `…ip6.arpa`) maps its address to the first answer
   * that is a name outside .arpa (RFC 2317 delegations answer with a CNAME into .arpa first).
   */
  learn(queryName: string, answers: readonly string[], nowMicros: number): void {
    this.learnFrom(queryName, answers, nowMicros, canonicalAddress);
  }

  private learnFrom(queryName: string, answers: readonly string[], nowMicros: number, addressOf: (text: string) => string | undefined): void {
    const query = queryName.endsWith('.') ? queryName.slice(0, -1) : queryName;
    if (query.length === 0 || answers.length === 0) return;
    const ptrAddress = addressOfPtrName(query);
    if (ptrAddress !== undefined) {
      for (const answer of answers) {
        if (addressOf(answer) !== undefined) continue;
        const name = answer.endsWith('.') ? answer.slice(0, -1) : answer;
        if (name.length === 0 || name.toLowerCase().endsWith('.arpa')) continue;
        this.remember(ptrAddress, name, nowMicros);
        return;
      }
      return;
    }
    for (const answer of answers) {
      const address = addressOf(answer);
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
    this.learnFrom(queries[0]!, answers, nowMicros, classifierAddress);
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
    const young = this.young.get(key);
    if (young !== undefined) return nowMicros - this.youngSinceMicros > this.ttlMicros ? undefined : young;
    const old = this.old.get(key);
    if (old !== undefined) return nowMicros - this.oldSinceMicros > this.ttlMicros ? undefined : old;
    return undefined;
  }

  /** Addresses remembered (stale ones included until their generation is dropped). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  private remember(address: string, name: string, nowMicros: number): void {
    // The latest answer wins: a shared (CDN) address shows the name asked for most recently.
    if (this.young.size === 0) this.youngSinceMicros = nowMicros;
    this.young.set(address, name);
    if (this.young.size >= this.generationSize || nowMicros - this.youngSinceMicros > this.ttlMicros / 2) {
      this.old = this.young;
      this.oldSinceMicros = this.youngSinceMicros;
      this.young = new Map();
    }
  }
}

/**
 * canonicalAddress for answers as the DNS classifier wrote them: its IPv6 text is already formatAddress's
 * (parsing and printing it again was the larger part of learning), except IPv4-mapped ones, which it
 * writes as ::ffff:a.b.c.d and rows print as dotted IPv4.
 */
function classifierAddress(text: string): string | undefined {
  if (!text.includes(':')) return canonicalAddress(text);
  return text.startsWith('::ffff:') && text.indexOf(':', 7) < 0 ? text.slice(7) : text;
}

/** Address text as rows print it (RFC 5952, IPv4-mapped as dotted IPv4), or undefined for a name. */
function canonicalAddress(text: string): string | undefined {
  // Names (CNAME/PTR targets) are most answers that are not addresses: a cheap test spares the parse.
  if (!text.includes(':')) {
    if (!DOTTED_QUAD.test(text)) return undefined;
    // The DNS classifier prints A records as plain dotted quads, already the form rows print.
    if (!LEADING_ZERO.test(text)) return text;
  }
  const words = parseAddressWords(text);
  return words === null ? undefined : formatAddress(...words);
}
