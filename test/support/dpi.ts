// Test support for the DPI tests: bytes, contexts, a seeded PRNG, feeding sessions, TLS hello builders, capture payloads.

import { readFileSync } from 'node:fs';
import { ipStart } from '../../scripts/lib/pcap-ip-start.mjs';
import type { AppInfo } from '../../src/core/app-info.js';
import type { DpiContext, FlowInspection } from '../../src/core/dpi-port.js';
import { Verdict, type Classifier } from '../../src/dpi/classifier.js';
import { DpiEngine } from '../../src/dpi/engine.js';
import { prng } from './prng.js';
export { prng };

// ---------------------------------------------------------------------------------------------
// Bytes

/** Hex digits to bytes; white space is ignored so captures can be pasted in lines. */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** One byte per character (U+0000..U+00FF), so test strings can carry any byte. */
export function latin1(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

/** The parts (arrays of bytes or byte lists) one after the other in a new array. */
export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Big-endian 16-bit field. */
export function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

/** Big-endian 32-bit field. */
export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness, so a failing fuzz case reproduces


/** Random bytes, between 0 and maxLength - 1 of them. */
export function randomBytes(rnd: () => number, maxLength: number): Uint8Array {
  const b = new Uint8Array(Math.floor(rnd() * maxLength));
  for (let k = 0; k < b.length; k++) b[k] = Math.floor(rnd() * 256);
  return b;
}

/** A copy of `b` with 1 to `most` bytes set to random values. */
export function mutated(b: Uint8Array, rnd: () => number, most: number): Uint8Array {
  const out = b.slice();
  const n = 1 + Math.floor(rnd() * most);
  for (let k = 0; k < n && out.length > 0; k++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Contexts and feeding

/** Context of one payload sent from srcPort to dstPort. */
export function flowCtx(transport: number, srcPort: number, dstPort: number, fromClient = true, seq = 0): DpiContext {
  return { transport, fromClient, srcPort, dstPort, seq: seq >>> 0, tsMicros: 0 };
}

/** Context of a TCP segment of a connection from clientPort to serverPort, in either direction. */
export function tcpCtx(fromClient: boolean, seq: number, clientPort: number, serverPort: number): DpiContext {
  return fromClient
    ? flowCtx(6, clientPort, serverPort, true, seq)
    : flowCtx(6, serverPort, clientPort, false, seq);
}

/** What one payload alone does: the classifier's score, then a fresh session's verdict and app. */
export function classifyOnce(
  classifier: Classifier,
  bytes: Uint8Array,
  ctx: DpiContext,
): { score: number; verdict: number; app: AppInfo | null } {
  const score = classifier.detect(bytes, 0, bytes.length, ctx);
  const s = classifier.start();
  const verdict = s.feed(bytes, 0, bytes.length, ctx);
  return { score, verdict, app: s.app };
}

/** One TCP segment of a test conversation. */
export interface Seg {
  data: Uint8Array;
  fromClient: boolean;
  seq: number;
  /** Capture frame it came from, when it did. */
  frame?: number;
}

/** Segments cutting `data` at the given offsets, numbered from `seq`. */
export function cut(data: Uint8Array, at: number[], seq: number, fromClient = true): Seg[] {
  const out: Seg[] = [];
  let prev = 0;
  for (const p of [...at, data.length]) {
    out.push({ data: data.subarray(prev, p), fromClient, seq: (seq + prev) >>> 0 });
    prev = p;
  }
  return out;
}

export interface FeedOptions {
  clientPort: number;
  serverPort: number;
  /**
   * Byte the segment is surrounded by in a larger buffer, which is overwritten with it after the
   * call: sessions must honour off/len and copy what they keep. Pick one the protocol could mistake.
   */
  fill: number;
  /** Called after each feed, e.g. to follow the session's state. */
  after?: (seg: Seg, app: AppInfo | null) => void;
}

/** Feed segments to a new session until it says anything but MORE; returns its app and every verdict. */
export function feedSegments(
  classifier: Classifier,
  segs: readonly Seg[],
  opts: FeedOptions,
): { app: AppInfo | null; verdicts: number[] } {
  const s = classifier.start();
  const verdicts: number[] = [];
  for (const g of segs) {
    const scratch = new Uint8Array(g.data.length + 16).fill(opts.fill);
    scratch.set(g.data, 5);
    const v = s.feed(scratch, 5, g.data.length, tcpCtx(g.fromClient, g.seq, opts.clientPort, opts.serverPort));
    scratch.fill(opts.fill);
    verdicts.push(v);
    opts.after?.(g, s.app);
    if (v !== Verdict.MORE) break;
  }
  return { app: s.app, verdicts };
}

// ---------------------------------------------------------------------------------------------
// TLS handshake builders (RFC 8446 §4, §5.1), as plain byte lists so tests can break any field

export function extension(type: number, body: number[]): number[] {
  return [...u16(type), ...u16(body.length), ...body];
}

/** server_name with one host_name entry (RFC 6066 §3). */
export function sniExt(name: string): number[] {
  const n = [...latin1(name)];
  return extension(0, [...u16(n.length + 3), 0, ...u16(n.length), ...n]);
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1). */
export function alpnExt(protocols: string[]): number[] {
  const list = protocols.flatMap((p) => [p.length, ...latin1(p)]);
  return extension(16, [...u16(list.length), ...list]);
}

/** supported_versions in its ClientHello form (RFC 8446 §4.2.1). */
export function versionsExt(versions: number[]): number[] {
  return extension(43, [versions.length * 2, ...versions.flatMap(u16)]);
}

function handshake(type: number, body: number[]): number[] {
  return [type, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff, ...body];
}

/** A ClientHello handshake message (RFC 8446 §4.1.2); `exts` null leaves the extensions block out. */
export function clientHelloMessage(exts: number[] | null, legacy = 0x0303): number[] {
  return handshake(1, [
    ...u16(legacy),
    ...new Array<number>(32).fill(7), // random
    0, // legacy_session_id
    ...u16(4), 0x13, 0x01, 0xc0, 0x2f, // cipher_suites
    1, 0, // compression: null
    ...(exts === null ? [] : [...u16(exts.length), ...exts]),
  ]);
}

/** A ServerHello handshake message (RFC 8446 §4.1.3). */
export function serverHelloMessage(exts: number[] | null, legacy = 0x0303): number[] {
  return handshake(2, [
    ...u16(legacy),
    ...new Array<number>(32).fill(9),
    0,
    0x13, 0x01, // cipher_suite
    0, // compression
    ...(exts === null ? [] : [...u16(exts.length), ...exts]),
  ]);
}

/** A TLS 1.3 style ClientHello with optional SNI and ALPN, supported_versions 1.3 and `pad` bytes of padding. */
export function clientHello(opts: { sni?: string; alpn?: string[]; pad?: number }): Uint8Array {
  const exts: number[] = [];
  if (opts.sni !== undefined) exts.push(...sniExt(opts.sni));
  if (opts.alpn !== undefined) exts.push(...alpnExt(opts.alpn));
  exts.push(...versionsExt([0x0304]));
  // RFC 7685: the padding extension, zeros.
  if (opts.pad) exts.push(...extension(21, new Array<number>(opts.pad).fill(0)));
  return Uint8Array.from(clientHelloMessage(exts));
}

/** Frame handshake bytes into TLS records of at most `size` bytes (RFC 8446 §5.1). */
export function records(message: ArrayLike<number>, size = 16384, version = 0x0301): Uint8Array {
  const out: number[] = [];
  const m = Array.from(message);
  for (let p = 0; p < m.length; p += size) {
    const chunk = m.slice(p, p + size);
    out.push(22, ...u16(version), ...u16(chunk.length), ...chunk);
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Fixtures shared by several tests

/**
 * zeek__http__connect-with-header frame 9: ::1:52522 → ::1:80, seq 1321751451, 223 bytes. A TLS
 * ClientHello (SNI secure.newegg.com, ALPN h2, spdy/3.1, http/1.1) inside an HTTP CONNECT tunnel.
 */
export const CONNECT_TUNNEL_CLIENT_HELLO = hex(`
  16030100da010000d60303a43f932faf9f14443fa4652e5a396d5d86c3a3c5589b74e07ffe288cc67b00cd2041b61a5c
  a7c5409b77315c4ca08006d740ea0335c6db933c43275ed00b196f000016c02bc02fc00ac009c013c01400330039002f
  0035000a010000770000001600140000117365637572652e6e65776567672e636f6dff01000100000a00080006001700
  180019000b00020100002300003374000000100017001502683208737064792f332e3108687474702f312e3100050005
  0100000000000d001600140401050106010201040305030603020304020202
`);

/** RFC 9001 A.2 / RFC 9369 A.2: the CRYPTO frame of the sample client Initial; its ClientHello starts at byte 4. */
export const RFC9001_CRYPTO_FRAME = hex(`
  060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a00080006001d00170018001000070005
  04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408050806002d00020101001c0002400100
  3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806048000ffff`);

/** RFC 9001 A.2: the protected client Initial (1200 bytes, DCID 8394c8f03e515708), its ClientHello naming example.com. */
export const RFC9001_INITIAL = hex(`
  c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11
  d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399
  1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c
  8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212
  30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5
  457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208
  4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec
  4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3
  485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db
  059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c
  7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8
  9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556
  be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74
  68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a
  c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
  f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632
  291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964
  25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd
  14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff
  ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198
  e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd
  c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73
  203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f
  cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e
  fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade
  a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047
  90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
  162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4
  40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0
  6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
  8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0
  be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400
  54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab
  760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9
  f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4
  056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064
  7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241
  e221af44860018ab0856972e194cd934`);

// ---------------------------------------------------------------------------------------------
// Captures: a tiny classic-pcap reader and flows replayed through the DPI engine

/** One TCP segment's or UDP datagram's payload from a capture. */
export interface Payload {
  frame: number;
  transport: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  seq: number;
  payload: Uint8Array;
}

/**
 * Payloads of a classic pcap (link types NULL, Ethernet with VLAN tags, raw IP, Linux SLL/SLL2,
 * and PKTAP-style headers), each with the frame it completes. Independent of the decoder under
 * test; IP fragments are put back together like tshark does.
 */
export function readPayloads(path: string): Payload[] {
  const d = new Uint8Array(readFileSync(path));
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const linkType = dv.getUint32(20, le) & 0xffff;
  const out: Payload[] = [];
  const fragments = new Map<string, Fragments>();
  let o = 24;
  let frame = 0;
  while (o + 16 <= d.length) {
    const incl = dv.getUint32(o + 8, le);
    const start = o + 16;
    o = start + incl;
    frame++;
    if (o > d.length) break;
    const ip = ipStart(d, start, o, linkType);
    if (ip < 0) continue;
    const seg = transportOf(d, dv, ip, o, fragments);
    if (seg !== null) out.push({ ...seg, frame });
  }
  return out;
}

/** IP fragments of one datagram; like tshark, the datagram counts on the frame that completes it. */
interface Fragments {
  proto: number;
  src: string;
  dst: string;
  parts: Array<{ at: number; data: Uint8Array }>;
  total: number;
}

function reassemble(
  table: Map<string, Fragments>, key: string, proto: number, src: string, dst: string,
  at: number, more: boolean, data: Uint8Array,
): Uint8Array | null {
  let f = table.get(key);
  if (f === undefined) {
    f = { proto, src, dst, parts: [], total: -1 };
    table.set(key, f);
  }
  f.parts.push({ at, data });
  if (!more) f.total = at + data.length;
  if (f.total < 0) return null;
  const whole = new Uint8Array(f.total);
  let covered = 0;
  for (const part of [...f.parts].sort((x, y) => x.at - y.at)) {
    if (part.at > covered) return null;
    whole.set(part.data.subarray(0, Math.max(0, Math.min(part.data.length, f.total - part.at))), part.at);
    covered = Math.max(covered, part.at + part.data.length);
  }
  if (covered < f.total) return null;
  table.delete(key);
  return whole;
}

function transportOf(
  d: Uint8Array, dv: DataView, ip: number, e: number, fragments: Map<string, Fragments>,
): Omit<Payload, 'frame'> | null {
  if (ip >= e) return null;
  const version = d[ip]! >> 4;
  let proto: number;
  let p: number;
  let end: number;
  let src: string;
  let dst: string;
  let body: Uint8Array;
  if (version === 4) {
    proto = d[ip + 9]!;
    p = ip + (d[ip]! & 15) * 4;
    end = Math.min(e, ip + dv.getUint16(ip + 2));
    src = Array.from(d.subarray(ip + 12, ip + 16)).join('.');
    dst = Array.from(d.subarray(ip + 16, ip + 20)).join('.');
    body = d.subarray(p, end);
    const frag = dv.getUint16(ip + 6);
    if ((frag & 0x3fff) !== 0) {
      const key = `4|${src}|${dst}|${dv.getUint16(ip + 4)}|${proto}`;
      const whole = reassemble(fragments, key, proto, src, dst, (frag & 0x1fff) * 8, (frag & 0x2000) !== 0, body.slice());
      if (whole === null) return null;
      body = whole;
    }
  } else if (version === 6) {
    proto = d[ip + 6]!;
    p = ip + 40;
    end = Math.min(e, p + dv.getUint16(ip + 4));
    src = Buffer.from(d.subarray(ip + 8, ip + 24)).toString('hex');
    dst = Buffer.from(d.subarray(ip + 24, ip + 40)).toString('hex');
    let fragAt = -1;
    let more = false;
    let fragId = 0;
    while (proto === 0 || proto === 43 || proto === 60 || proto === 44) {
      if (proto === 44) {
        const v = dv.getUint16(p + 2);
        fragAt = v & 0xfff8;
        more = (v & 1) !== 0;
        fragId = dv.getUint32(p + 4);
        proto = d[p]!;
        p += 8;
        continue;
      }
      proto = d[p]!;
      p += (d[p + 1]! + 1) * 8;
    }
    body = d.subarray(p, end);
    if (fragAt >= 0) {
      const whole = reassemble(fragments, `6|${src}|${dst}|${fragId}`, proto, src, dst, fragAt, more, body.slice());
      if (whole === null) return null;
      body = whole;
    }
  } else {
    return null;
  }
  const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (proto === 17 && body.length >= 8) {
    return { transport: 17, src, sport: bv.getUint16(0), dst, dport: bv.getUint16(2), seq: 0, payload: body.slice(8) };
  }
  if (proto === 6 && body.length >= 20) {
    const hl = (body[12]! >> 4) * 4;
    return {
      transport: 6, src, sport: bv.getUint16(0), dst, dport: bv.getUint16(2),
      seq: bv.getUint32(4), payload: body.slice(hl),
    };
  }
  return null;
}

/** One flow of a capture after its payloads went through a DpiEngine. */
export interface InspectedFlow {
  /** Transport and both endpoints ("address|port", in sorted order). */
  key: string;
  transport: number;
  /** "address|port" of the side that sent the first packet, and of the other side. */
  client: string;
  server: string;
  /** Source and destination port of the flow's first packet. */
  ports: [number, number];
  /** Frames that carried a payload. */
  frames: number[];
  /** What the engine learned, once every payload was inspected. */
  app: AppInfo | null;
  done: boolean;
  /** Frame after which the flow first had a domain. */
  domainFrame: number | undefined;
}

/** Feed every payload to a DpiEngine holding `classifiers`, flow by flow, as connection tracking would. */
export function inspectFlows(
  payloads: readonly Payload[],
  classifiers: readonly Classifier[],
): { flows: Map<string, InspectedFlow>; frameFlow: Map<number, string> } {
  const engine = new DpiEngine(classifiers);
  const flows = new Map<string, InspectedFlow>();
  const inspections = new Map<string, FlowInspection>();
  const frameFlow = new Map<number, string>();
  for (const s of payloads) {
    const a = `${s.src}|${s.sport}`;
    const b = `${s.dst}|${s.dport}`;
    const key = `${s.transport}|${a < b ? a + '|' + b : b + '|' + a}`;
    let f = flows.get(key);
    let insp = inspections.get(key);
    if (f === undefined || insp === undefined) {
      f = { key, transport: s.transport, client: a, server: b, ports: [s.sport, s.dport], frames: [], app: null, done: false, domainFrame: undefined };
      insp = engine.begin();
      flows.set(key, f);
      inspections.set(key, insp);
    }
    frameFlow.set(s.frame, key);
    if (s.payload.length === 0) continue;
    f.frames.push(s.frame);
    const ctx = flowCtx(s.transport, s.sport, s.dport, a === f.client, s.seq);
    // Hand a buffer with junk around the payload, as a capture buffer would be, then scribble
    // on it: the classifiers must have copied what they kept.
    const buf = new Uint8Array(s.payload.length + 8).fill(0xee);
    buf.set(s.payload, 3);
    engine.inspect(insp, buf, 3, s.payload.length, ctx);
    buf.fill(0x55);
    f.app = insp.app;
    f.done = insp.done;
    if (f.domainFrame === undefined && insp.app?.domain !== undefined) f.domainFrame = s.frame;
  }
  return { flows, frameFlow };
}
