// Test support: a tiny authoritative DNS server on 127.0.0.1 answering PTR queries from a map, or staying silent.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface DnsServerOptions {
  /** address → name its PTR query answers with; other names get NXDOMAIN. */
  names?: Readonly<Record<string, string>>;
  /** Never answer (timeouts). */
  silent?: boolean;
  /** Answer this long after the query arrives (to hold queries outstanding). */
  delayMs?: number;
  ttlSeconds?: number;
}

const TYPE_PTR = 12;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;

/**
 * Built independently of src/enrich (its own name building and wire encoding), so the client's
 * lookups are checked against a second reading of RFC 1035 rather than against themselves.
 */
export class DnsServer {
  /** Every query received, retransmissions included. */
  received = 0;
  /** Question names received, lower-cased, in arrival order. */
  readonly questions: string[] = [];
  /** Queries received and not (yet) answered; silent servers never answer. */
  outstanding = 0;
  maxOutstanding = 0;
  private readonly socket: Socket;
  private readonly byPtrName = new Map<string, string>();
  private readonly silent: boolean;
  private readonly delayMs: number;
  private readonly ttlSeconds: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(socket: Socket, options: DnsServerOptions) {
    this.socket = socket;
    this.silent = options.silent ?? false;
    this.delayMs = options.delayMs ?? 0;
    this.ttlSeconds = options.ttlSeconds ?? 300;
    for (const [address, name] of Object.entries(options.names ?? {})) this.byPtrName.set(arpaName(address), name);
    socket.on('message', (msg, rinfo) => this.onQuery(msg, rinfo));
  }

  static async start(options: DnsServerOptions = {}): Promise<DnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new DnsServer(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** `127.0.0.1:PORT`, as a resolver's server. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** How many queries asked about `name` (any case, without the trailing dot). */
  queriesFor(name: string): number {
    const n = name.toLowerCase();
    return this.questions.filter((q) => q === n).length;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onQuery(msg: Buffer, rinfo: RemoteInfo): void {
    this.received++;
    const question = readQuestion(msg);
    if (question !== null) this.questions.push(question.name);
    if (this.silent) {
      this.outstanding++;
      this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
      return;
    }
    const reply = this.reply(msg, question);
    if (reply === null) return;
    if (this.delayMs <= 0) {
      this.socket.send(reply, rinfo.port, rinfo.address);
      return;
    }
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.outstanding--;
      this.socket.send(reply, rinfo.port, rinfo.address);
    }, this.delayMs);
    this.timers.add(timer);
  }

  private reply(msg: Buffer, question: Question | null): Buffer | null {
    if (msg.length < 12) return null;
    // RFC 1035 §4.1.1: copy ID, opcode and RD; set QR and AA.
    const flagsIn = msg.readUInt16BE(2);
    if (flagsIn & 0x8000) return null;
    const baseFlags = 0x8000 | (flagsIn & 0x7800) | 0x0400 | (flagsIn & 0x0100);
    if (question === null) {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(msg.readUInt16BE(0), 0);
      h.writeUInt16BE(baseFlags | RCODE_FORMERR, 2);
      return h;
    }
    const name = this.byPtrName.get(question.name);
    const answer = name !== undefined && question.type === TYPE_PTR && question.cls === CLASS_IN;
    const rcode = name === undefined ? RCODE_NXDOMAIN : 0;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(baseFlags | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer ? 1 : 0, 6);
    // The question echoed byte for byte (case included: resolvers may check it, RFC 5452 §9.1).
    const echoed = msg.subarray(12, question.end);
    if (!answer) return Buffer.concat([header, echoed]);
    const rdata = encodeName(name);
    const rr = Buffer.alloc(12);
    // Owner name: a compression pointer to the question's name at offset 12 (RFC 1035 §4.1.4).
    rr.writeUInt16BE(0xc000 | 12, 0);
    rr.writeUInt16BE(TYPE_PTR, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(this.ttlSeconds, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([header, echoed, rr, rdata]);
  }
}

interface Question {
  /** Lower-cased, dot-joined, no trailing dot. */
  name: string;
  type: number;
  cls: number;
  /** Offset just past QCLASS. */
  end: number;
}

/** The single question of a query (uncompressed, as queries are), or null when there is none. */
function readQuestion(msg: Buffer): Question | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let p = 12;
  for (;;) {
    if (p >= msg.length) return null;
    const len = msg[p]!;
    if (len === 0) break;
    if (len > 63 || p + 1 + len > msg.length) return null;
    labels.push(msg.toString('latin1', p + 1, p + 1 + len).toLowerCase());
    p += 1 + len;
  }
  p += 1;
  if (p + 4 > msg.length) return null;
  return { name: labels.join('.'), type: msg.readUInt16BE(p), cls: msg.readUInt16BE(p + 2), end: p + 4 };
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.')) {
    if (label.length === 0) continue;
    const bytes = Buffer.from(label, 'latin1');
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** The PTR query name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function arpaName(address: string): string {
  if (isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!isIPv6(address)) throw new Error(`not an address: ${address}`);
  const [head = '', tail] = address.toLowerCase().split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...(tail === undefined ? [] : zeros), ...tailGroups];
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return `${hex.split('').reverse().join('.')}.ip6.arpa`;
}
