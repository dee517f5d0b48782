// ReverseDns: PTR lookups of remote addresses through c-ares, bounded and cached, applied to side tables on ticks.

import { Resolver } from 'node:dns';
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import { formatAddress, formatIpv4, parseAddressWords } from '../core/address.js';
import { RustnetError } from '../core/errors.js';
import { isIpv4Mapped } from '../core/packet-view.js';
import type { SideTables } from '../core/side-tables.js';

const MICROS_PER_SECOND = 1_000_000;

export interface ReverseDnsOptions {
  /** `ADDR[:PORT]` of the server to ask (IPv6 in brackets with a port, `[::1]:5353`); default: the system's. */
  server?: string;
  /** c-ares's timeout per try (c-ares 1.34 backs off, so a try may last up to twice this). */
  timeoutMs?: number;
  /** Sends per query, first one included. */
  tries?: number;
  /** Queries outstanding at once; further wants wait in a queue. */
  maxInFlight?: number;
  /** Wants waiting for a free slot; beyond this the oldest are dropped. */
  maxQueued?: number;
  /** Addresses whose outcome (name or failure) is remembered. */
  maxEntries?: number;
  answerTtlMicros?: number;
  /** How long an address that gave no name (NXDOMAIN, no data, timeout) is not asked again. */
  failureTtlMicros?: number;
  /** Clock in microseconds for the cache; default: the `nowMicros` of the latest apply(). */
  now?: () => number;
}

export interface ReverseDnsStats {
  /** Queries handed to the resolver. */
  sent: number;
  /** Queries that came back with a name. */
  answered: number;
  /** Queries that came back without a usable name (NXDOMAIN, no data, refused, bad name), timeouts apart. */
  failed: number;
  timedOut: number;
  /** Queries ended by close(). */
  cancelled: number;
  inFlight: number;
  queued: number;
  /** Wants dropped because the queue was full. */
  dropped: number;
  /** Wants for addresses never worth asking about (see worthResolving). */
  skipped: number;
  /** Outcomes remembered in the cache (expired ones included until evicted or looked at). */
  cached: number;
}

interface Outcome {
  /** null: asked and got no usable name. */
  readonly name: string | null;
  readonly expiresMicros: number;
}

const DEFAULTS = {
  timeoutMs: 2000,
  tries: 2,
  maxInFlight: 32,
  maxQueued: 4096,
  maxEntries: 10_000,
  answerTtlMicros: 10 * 60 * MICROS_PER_SECOND,
  failureTtlMicros: 60 * MICROS_PER_SECOND,
};

/**
 * Resolves remote addresses to names without ever blocking a tick: want() queues a PTR query (c-ares,
 * never getnameinfo, whose thread pool a slow resolver would fill), callbacks only record what came back,
 * and apply() moves it into the side tables. At most `maxInFlight` queries are outstanding; one address is
 * never asked twice at once, nor again while its outcome is cached.
 */
export class ReverseDns {
  private readonly resolver: Resolver;
  private readonly opts: typeof DEFAULTS;
  private readonly clock: (() => number) | undefined;
  private lastApplyMicros = 0;
  private readonly cache: LRUCache<string, Outcome>;
  /** Waiting for a free slot, oldest first (a Set keeps insertion order and drops its first cheaply). */
  private readonly queued = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** Came back since the last apply(): name, or null for no name. */
  private finished = new Map<string, string | null>();
  /** Cached names wanted again since the last apply() (side tables may not have them, e.g. a new session). */
  private ready: string[] = [];
  private closed = false;
  /** settle() calls waiting for the queue and the queries in flight to run out. */
  private readonly idleWaiters = new Set<() => void>();
  private readonly counts = { sent: 0, answered: 0, failed: 0, timedOut: 0, cancelled: 0, dropped: 0, skipped: 0 };

  constructor(options: ReverseDnsOptions = {}) {
    this.opts = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      tries: options.tries ?? DEFAULTS.tries,
      maxInFlight: Math.max(1, options.maxInFlight ?? DEFAULTS.maxInFlight),
      maxQueued: Math.max(0, options.maxQueued ?? DEFAULTS.maxQueued),
      maxEntries: Math.max(1, options.maxEntries ?? DEFAULTS.maxEntries),
      answerTtlMicros: options.answerTtlMicros ?? DEFAULTS.answerTtlMicros,
      failureTtlMicros: options.failureTtlMicros ?? DEFAULTS.failureTtlMicros,
    };
    this.clock = options.now;
    // Expiry is kept in the value and checked against our clock: lru-cache's own TTL reads performance.now().
    this.cache = new LRUCache<string, Outcome>({ max: this.opts.maxEntries });
    this.resolver = new Resolver({ timeout: this.opts.timeoutMs, tries: this.opts.tries });
    if (options.server !== undefined) this.resolver.setServers([parseDnsServer(options.server)]);
  }

  /** Asks for the name of `address` (as rows print it) unless it is cached, pending or not worth asking. */
  want(address: string): void {
    if (this.closed) return;
    const words = parseAddressWords(address);
    if (words === null || !worthResolving(words)) {
      this.counts.skipped++;
      return;
    }
    const key = formatAddress(...words);
    if (this.queued.has(key) || this.inFlight.has(key) || this.finished.has(key)) return;
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (cached.expiresMicros > this.now()) {
        if (cached.name !== null) this.ready.push(key);
        return;
      }
      this.cache.delete(key);
    }
    if (this.inFlight.size < this.opts.maxInFlight) {
      this.send(key);
      return;
    }
    if (this.opts.maxQueued === 0) {
      this.counts.dropped++;
      return;
    }
    if (this.queued.size >= this.opts.maxQueued) {
      // Overloaded: the newest connections are the ones on screen, so the oldest wants give way.
      const oldest = this.queued.values().next().value;
      if (oldest !== undefined) this.queued.delete(oldest);
      this.counts.dropped++;
    }
    this.queued.add(key);
  }

  /** Moves names that came back since the last tick into `side`; true when a hostname there changed. */
  apply(nowMicros: number, side: SideTables): boolean {
    this.lastApplyMicros = nowMicros;
    const now = this.now();
    let changed = false;
    if (this.finished.size > 0) {
      const finished = this.finished;
      this.finished = new Map();
      for (const [address, name] of finished) {
        const ttl = name === null ? this.opts.failureTtlMicros : this.opts.answerTtlMicros;
        this.cache.set(address, { name, expiresMicros: now + ttl });
        if (name !== null && side.hostnames.get(address) !== name) {
          side.setHostname(address, name);
          changed = true;
        }
      }
    }
    if (this.ready.length > 0) {
      const ready = this.ready;
      this.ready = [];
      for (const address of ready) {
        const name = this.cache.get(address)?.name;
        if (name != null && side.hostnames.get(address) !== name) {
          side.setHostname(address, name);
          changed = true;
        }
      }
    }
    return changed;
  }

  /** True when we sent (or are sending) a query for `address`: its PTR traffic on the wire is our own. */
  asked(address: string): boolean {
    return this.inFlight.has(address) || this.finished.has(address) || this.cache.has(address);
  }

  stats(): ReverseDnsStats {
    return { ...this.counts, inFlight: this.inFlight.size, queued: this.queued.size, cached: this.cache.size };
  }

  /**
   * Resolves once no query is queued or in flight (answers still wait for the next apply), or after
   * `timeoutMs`, whichever comes first: at the end of a replay, the last connections' names can still
   * make it into their closed events.
   */
  settle(timeoutMs: number): Promise<void> {
    if (this.closed || (this.inFlight.size === 0 && this.queued.size === 0)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      const self = this;
      function finish(): void {
        clearTimeout(timer);
        self.idleWaiters.delete(finish);
        resolve();
      }
      this.idleWaiters.add(finish);
    });
  }

  /** Cancels every outstanding query and forgets the queue; later wants are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const wake of [...this.idleWaiters]) wake();
    this.counts.cancelled += this.inFlight.size;
    this.inFlight.clear();
    this.queued.clear();
    // Callbacks still arrive (with ECANCELLED) after this returns; they find nothing in flight and do nothing.
    this.resolver.cancel();
  }

  private now(): number {
    return this.clock !== undefined ? this.clock() : this.lastApplyMicros;
  }

  private send(address: string): void {
    const name = ptrName(address);
    if (name === undefined) return;
    this.inFlight.add(address);
    this.counts.sent++;
    // resolvePtr rather than reverse(): reverse() falls back to /etc/hosts after DNS and then reports a
    // timeout as ENOTFOUND, so timeouts could not be told from NXDOMAIN, nor cached differently later.
    this.resolver.resolvePtr(name, (err, names) => this.done(address, err, names));
  }

  private done(address: string, err: NodeJS.ErrnoException | null, names: string[] | undefined): void {
    // Not in flight: cancelled by close(), whose count already has it.
    if (!this.inFlight.delete(address)) return;
    let name: string | null = null;
    if (err !== null) {
      if (err.code === 'ETIMEOUT') this.counts.timedOut++;
      else this.counts.failed++;
    } else {
      name = displayName(names?.[0]);
      if (name === null) this.counts.failed++;
      else this.counts.answered++;
    }
    this.finished.set(address, name);
    this.pump();
    if (this.inFlight.size === 0 && this.queued.size === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  /** Starts queued queries while slots are free (from callbacks: starting a query never blocks). */
  private pump(): void {
    while (!this.closed && this.inFlight.size < this.opts.maxInFlight && this.queued.size > 0) {
      const next = this.queued.values().next().value;
      if (next === undefined) return;
      this.queued.delete(next);
      this.send(next);
    }
  }
}

/**
 * Whether a PTR query for these words can say anything useful. Skipped: unspecified and "this network"
 * (0/8, ::), loopback (127/8, ::1: it is us), link-local (169.254/16, fe80::/10: only mDNS knows those
 * names), multicast and reserved (224/3 incl. broadcast, ff00::/8). Private ranges and ULAs are asked:
 * home routers answer for their leases.
 */
export function worthResolving(words: readonly [number, number, number, number]): boolean {
  const [w0, w1, w2, w3] = words;
  if (isIpv4Mapped(w0, w1, w2)) {
    const first = w3 >>> 24;
    if (first === 0 || first === 127 || first >= 224) return false;
    return w3 >>> 16 !== 0xa9fe;
  }
  if (w0 === 0 && w1 === 0 && w2 === 0 && (w3 === 0 || w3 === 1)) return false;
  if (w0 >>> 22 === 0x3fa) return false;
  return w0 >>> 24 !== 0xff;
}

/**
 * The PTR query name for an address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa nibbles), or
 * undefined when it is no address. IPv4-mapped IPv6 is asked about as IPv4, the name its owner answers for.
 */
export function ptrName(address: string): string | undefined {
  const words = parseAddressWords(address);
  if (words === null) return undefined;
  const [w0, w1, w2, w3] = words;
  if (isIpv4Mapped(w0, w1, w2)) {
    return `${w3 & 255}.${(w3 >>> 8) & 255}.${(w3 >>> 16) & 255}.${w3 >>> 24}.in-addr.arpa`;
  }
  const nibbles: string[] = [];
  for (const w of [w3, w2, w1, w0]) {
    for (let shift = 0; shift < 32; shift += 4) nibbles.push(((w >>> shift) & 0xf).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

const OCTET_LABEL = /^(?:0|[1-9][0-9]{0,2})$/;
const NIBBLE_LABEL = /^[0-9a-f]$/;

/**
 * The address a PTR query name asks about, as rows print it (`4.3.2.1.in-addr.arpa` → `1.2.3.4`, 32
 * ip6.arpa nibbles → RFC 5952 text), or undefined for any other name. Shorter in-addr.arpa names are
 * zones (RFC 2317 delegation), not addresses. Lets the session recognise its own lookups on the wire.
 */
export function addressOfPtrName(queryName: string): string | undefined {
  // RFC 4343: names compare without regard to ASCII case; a trailing dot only marks the name absolute.
  let name = queryName.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4) return undefined;
    let a = 0;
    for (let i = 3; i >= 0; i--) {
      const label = labels[i]!;
      if (!OCTET_LABEL.test(label)) return undefined;
      const octet = Number(label);
      if (octet > 255) return undefined;
      a = a * 256 + octet;
    }
    return formatIpv4(a);
  }
  if (name.endsWith('.ip6.arpa')) {
    const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32) return undefined;
    const words = [0, 0, 0, 0];
    for (let i = 0; i < 32; i++) {
      const label = labels[31 - i]!;
      if (!NIBBLE_LABEL.test(label)) return undefined;
      const w = i >>> 3;
      words[w] = ((words[w]! << 4) | parseInt(label, 16)) >>> 0;
    }
    return formatAddress(words[0]!, words[1]!, words[2]!, words[3]!);
  }
  return undefined;
}

/**
 * `ADDR[:PORT]` (IPv6 with a port in brackets: `[::1]:5353`; bare IPv6 without one) as `Resolver.setServers`
 * takes it, port always written. Throws a USAGE error for anything else.
 */
export function parseDnsServer(text: string): string {
  const bad = (): RustnetError =>
    new RustnetError('USAGE', `invalid DNS server "${text}": give ADDR or ADDR:PORT, IPv6 in brackets with a port ([::1]:5353)`);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!isIPv6(host)) throw bad();
  } else if (isIPv6(text)) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (!isIPv4(host)) throw bad();
  }
  let port = 53;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw bad();
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad();
  }
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Longest presentation name (RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text). */
const MAX_NAME_TEXT = 253;

/**
 * A PTR target as we show it: trailing dot dropped, or null when there is none or it holds characters a
 * terminal could act on (PTR records are written by whoever owns the address block).
 */
function displayName(name: string | undefined): string | null {
  if (name === undefined) return null;
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  if (text.length === 0 || text.length > MAX_NAME_TEXT) return null;
  if (/[\u0000-\u0020\u007f-\u009f]/.test(text)) return null;
  return text;
}
