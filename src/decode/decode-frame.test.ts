// Tests for decodeFrame: hand-built frames on every link type, truncated prefixes and random garbage.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseAddressWords } from '../core/address.js';
import { Fragment, IpProto, L3, LinkType, PacketView, TcpFlag } from '../core/packet-view.js';
import { Skip } from '../core/skip-reason.js';
import { decodeFrame } from './decode-frame.js';
import { prng } from '../../test/support/prng.js';

// ---------------------------------------------------------------------------------------------
// Frame builder
// ---------------------------------------------------------------------------------------------

type Part = Uint8Array | readonly number[];

function cat(...parts: Part[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const be16 = (n: number): number[] => [(n >>> 8) & 255, n & 255];
const be32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];

function words(addr: string): [number, number, number, number] {
  const w = parseAddressWords(addr);
  assert.ok(w, `test address ${addr} parses`);
  return w;
}

function ip4(addr: string): number[] {
  return be32(words(addr)[3]);
}

function ip6(addr: string): number[] {
  return words(addr).flatMap(be32);
}

function fill(n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => (start + i) & 255);
}

interface Ipv4Spec {
  src: string;
  dst: string;
  proto: number;
  payload: Part;
  id?: number;
  ttl?: number;
  /** Option bytes; a multiple of four. */
  options?: number[];
  moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** Overrides the total length field. */
  totalLength?: number;
  /** Overrides the version/IHL byte. */
  vihl?: number;
}

function ipv4(s: Ipv4Spec): Uint8Array {
  const opts = s.options ?? [];
  assert.equal(opts.length % 4, 0);
  const hl = 20 + opts.length;
  const total = s.totalLength ?? hl + s.payload.length;
  const frag = (s.moreFragments === true ? 0x2000 : 0) | (s.fragOffset ?? 0);
  return cat(
    [s.vihl ?? 0x40 | (hl >> 2), 0], be16(total), be16(s.id ?? 0x1234), be16(frag),
    [s.ttl ?? 64, s.proto, 0, 0], ip4(s.src), ip4(s.dst), opts, s.payload,
  );
}

/** An IPv6 extension header: its type and bytes (the next-header byte is filled in by ipv6()). */
interface Ext {
  type: number;
  bytes: number[];
}

/** Hop-by-hop, routing or destination options header of `units` × 8 bytes. */
function optionsExt(type: number, units: number): Ext {
  const bytes = [0, units - 1, ...new Array<number>(units * 8 - 2).fill(0)];
  if (type === 43) bytes[2] = 0; // routing type 0, segments left 0
  else { bytes[2] = 1; bytes[3] = units * 8 - 4; } // one PadN option covering the rest
  return { type, bytes };
}

function fragmentExt(offsetUnits: number, more: boolean, id: number): Ext {
  return { type: 44, bytes: [0, 0, ...be16((offsetUnits << 3) | (more ? 1 : 0)), ...be32(id)] };
}

/** Authentication header with `icvWords` 32-bit words of ICV (RFC 4302: length = total/4 - 2). */
function authExt(icvWords: number): Ext {
  const total = 12 + icvWords * 4;
  return { type: 51, bytes: [0, total / 4 - 2, 0, 0, ...be32(0x100), ...be32(1), ...new Array<number>(icvWords * 4).fill(0)] };
}

interface Ipv6Spec {
  src: string;
  dst: string;
  /** Upper-layer protocol after the extension headers. */
  next: number;
  payload: Part;
  ext?: Ext[];
  hopLimit?: number;
  payloadLength?: number;
}

function ipv6(s: Ipv6Spec): Uint8Array {
  const ext = s.ext ?? [];
  const chain: number[] = [];
  for (let i = 0; i < ext.length; i++) {
    const b = ext[i]!.bytes.slice();
    b[0] = i + 1 < ext.length ? ext[i + 1]!.type : s.next;
    chain.push(...b);
  }
  const first = ext.length > 0 ? ext[0]!.type : s.next;
  const plen = s.payloadLength ?? chain.length + s.payload.length;
  return cat([0x60, 0, 0, 0], be16(plen), [first, s.hopLimit ?? 64], ip6(s.src), ip6(s.dst), chain, s.payload);
}

interface TcpSpec {
  sp: number;
  dp: number;
  seq?: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: number[];
  payload?: Part;
  /** Overrides the data offset nibble (header length / 4). */
  dataOffset?: number;
}

function tcp(s: TcpSpec): Uint8Array {
  const opts = s.options ?? [];
  assert.equal(opts.length % 4, 0);
  const off = s.dataOffset ?? (20 + opts.length) >> 2;
  return cat(
    be16(s.sp), be16(s.dp), be32(s.seq ?? 0), be32(s.ack ?? 0), [off << 4, s.flags], be16(s.window ?? 65535),
    [0, 0, 0, 0], opts, s.payload ?? [],
  );
}

function udp(sp: number, dp: number, payload: Part, length?: number): Uint8Array {
  return cat(be16(sp), be16(dp), be16(length ?? 8 + payload.length), [0, 0], payload);
}

function icmp(type: number, code: number, id: number, seq: number, data: Part = []): Uint8Array {
  return cat([type, code, 0, 0], be16(id), be16(seq), data);
}

function igmpReport(group: string): Uint8Array {
  return cat([0x16, 0, 0, 0], ip4(group));
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function arp(op: number, senderIp: string, targetIp: string, ptype = 0x0800): Uint8Array {
  return cat(be16(1), be16(ptype), [6, 4], be16(op), MAC_A, ip4(senderIp), op === 1 ? [0, 0, 0, 0, 0, 0] : MAC_B, ip4(targetIp));
}

interface Tag {
  tpid: number;
  vid: number;
}

function eth(type: number, payload: Part, tags: Tag[] = []): Uint8Array {
  return cat(MAC_B, MAC_A, ...tags.map((t) => [...be16(t.tpid), ...be16(0x2000 | t.vid)]), be16(type), payload);
}

/** A PPPoE session header (session 0x1234) and the two-byte PPP protocol field around `payload`. */
function pppoe(pppProto: number, payload: Part): Uint8Array {
  return cat([0x11, 0x00], be16(0x1234), be16(2 + payload.length), be16(pppProto), payload);
}

/** An MPLS label stack (bottom-of-stack bit on the last entry, TTL 64) in front of `payload`. */
function mpls(labels: number[], payload: Part): Uint8Array {
  return cat(...labels.map((l, i) => be32(((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0)), payload);
}

function sll(proto: number, payload: Part): Uint8Array {
  return cat(be16(0), be16(1), be16(6), [...MAC_A, 0, 0], be16(proto), payload);
}

function sll2(proto: number, payload: Part): Uint8Array {
  return cat(be16(proto), [0, 0], be32(2), be16(1), [0, 6], [...MAC_A, 0, 0], payload);
}

function nullLink(family: number, littleEndian: boolean, payload: Part): Uint8Array {
  return cat(littleEndian ? le32(family) : be32(family), payload);
}

function pktap(innerDlt: number, inner: Part, headerLength = 108): Uint8Array {
  return cat(le32(headerLength), le32(innerDlt), new Array<number>(headerLength - 8).fill(0), inner);
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers
// ---------------------------------------------------------------------------------------------

const TS = 1_700_000_000_123_456;

interface Decoded {
  code: number;
  view: PacketView;
  /** Where the frame starts in the buffer decodeFrame saw. */
  off: number;
}

/** Decodes `frame` placed at `off` inside a larger buffer whose other bytes are `pad`. */
function decode(frame: Uint8Array, link: number, o: { off?: number; cap?: number; wire?: number; pad?: number; view?: PacketView } = {}): Decoded {
  const off = o.off ?? 7;
  const cap = o.cap ?? frame.length;
  const buf = new Uint8Array(off + cap + 64).fill(o.pad ?? 0xa5);
  buf.set(frame.subarray(0, cap), off);
  const view = o.view ?? new PacketView();
  const code = decodeFrame(buf, off, cap, o.wire ?? frame.length, link, TS, view);
  return { code, view, off };
}

function decodeOk(frame: Uint8Array, link: number, o: Parameters<typeof decode>[2] = {}): Decoded {
  const d = decode(frame, link, o);
  assert.equal(d.code, Skip.OK, `expected OK, got skip code ${d.code}`);
  return d;
}

/** Picks the named fields of the view, for one deepEqual with a readable diff. */
function pick(view: PacketView, expected: Partial<Record<keyof PacketView, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(expected) as (keyof PacketView)[]) out[k] = view[k];
  return out;
}

function expectView(view: PacketView, expected: Partial<Record<keyof PacketView, number>>): void {
  assert.deepEqual(pick(view, expected), expected);
}

function addrFields(src: string, dst: string): Partial<Record<keyof PacketView, number>> {
  const s = words(src);
  const d = words(dst);
  return { src0: s[0], src1: s[1], src2: s[2], src3: s[3], dst0: d[0], dst1: d[1], dst2: d[2], dst3: d[3] };
}

// TCP options of a typical SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes).
const SYN_OPTIONS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...be32(0x01020304), ...be32(0), 1, 3, 3, 7];

const PAYLOAD10 = fill(10, 0x41);

function tcp4(payload: Part = PAYLOAD10): Uint8Array {
  return ipv4({
    src: '10.0.0.1', dst: '93.184.216.34', proto: IpProto.TCP, id: 0xbeef, ttl: 57,
    payload: tcp({ sp: 40000, dp: 443, seq: 0xfffffff0, ack: 0x80000001, flags: TcpFlag.PSH | TcpFlag.ACK, window: 502, options: SYN_OPTIONS, payload }),
  });
}

function udp6(): Uint8Array {
  return ipv6({ src: '2001:db8::1', dst: 'fe80::1:2', next: IpProto.UDP, payload: udp(5353, 53, fill(12)) });
}

// ---------------------------------------------------------------------------------------------
// Field tests
// ---------------------------------------------------------------------------------------------

test('Ethernet + IPv4 + TCP with options: every field', () => {
  const frame = eth(0x0800, tcp4());
  const { view, off } = decodeOk(frame, LinkType.ETHERNET);
  expectView(view, {
    tsMicros: TS, capLength: frame.length, wireLength: frame.length,
    linkHeaderLength: 14, l3: L3.IPV4, ipTotalLength: 20 + 40 + 10, ipProto: IpProto.TCP, ipId: 0xbeef, ttl: 57,
    fragment: Fragment.NONE, vlanId: 0,
    src0: 0, src1: 0, src2: 0xffff, src3: 0x0a000001, dst0: 0, dst1: 0, dst2: 0xffff, dst3: 0x5db8d822,
    srcPort: 40000, dstPort: 443, tcpFlags: TcpFlag.PSH | TcpFlag.ACK, seq: 0xfffffff0, ack: 0x80000001, window: 502,
    payloadOffset: off + 14 + 20 + 40, payloadLength: 10, payloadWireLength: 10,
  });
});

test('Ethernet minimum-size padding is not payload', () => {
  const pkt = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.TCP, payload: tcp({ sp: 1, dp: 2, flags: TcpFlag.ACK }) });
  const frame = cat(eth(0x0800, pkt), new Array<number>(6).fill(0xee));
  assert.equal(frame.length, 60);
  const { view } = decodeOk(frame, LinkType.ETHERNET);
  expectView(view, { ipTotalLength: 40, payloadLength: 0, payloadWireLength: 0, capLength: 60 });
});

test('802.1Q, QinQ and 0x9100 tags: VLAN id of the outer tag and the link header length', () => {
  const inner = tcp4();
  let d = decodeOk(eth(0x0800, inner, [{ tpid: 0x8100, vid: 100 }]), LinkType.ETHERNET);
  expectView(d.view, { linkHeaderLength: 18, vlanId: 100, l3: L3.IPV4, srcPort: 40000, payloadOffset: d.off + 18 + 60 });
  d = decodeOk(eth(0x86dd, udp6(), [{ tpid: 0x88a8, vid: 200 }, { tpid: 0x8100, vid: 4095 }]), LinkType.ETHERNET);
  expectView(d.view, { linkHeaderLength: 22, vlanId: 200, l3: L3.IPV6, srcPort: 5353, dstPort: 53 });
  d = decodeOk(eth(0x0806, arp(1, '10.0.0.1', '10.0.0.2'), [{ tpid: 0x9100, vid: 7 }]), LinkType.ETHERNET);
  expectView(d.view, { linkHeaderLength: 18, vlanId: 7, l3: L3.ARP, arpOp: 1 });
  // Up to eight stacked tags are walked; a ninth is more than any real frame and the frame is malformed.
  const tags = (n: number): Tag[] => Array.from({ length: n }, (_, i) => ({ tpid: 0x8100, vid: i + 1 }));
  d = decodeOk(eth(0x0800, inner, tags(8)), LinkType.ETHERNET);
  expectView(d.view, { linkHeaderLength: 14 + 32, vlanId: 1, l3: L3.IPV4, srcPort: 40000 });
  assert.equal(decode(eth(0x0800, inner, tags(9)), LinkType.ETHERNET).code, Skip.BAD_LINK_HEADER);
});

test('Ethernet: 802.3 length field and unknown ethertypes are unsupported, not malformed', () => {
  assert.equal(decode(eth(0x05dc, tcp4()), LinkType.ETHERNET).code, Skip.UNSUPPORTED_ETHERTYPE);
  assert.equal(decode(eth(0x88cc, fill(40)), LinkType.ETHERNET).code, Skip.UNSUPPORTED_ETHERTYPE);
  assert.equal(decode(eth(0x0800, tcp4()), 9999).code, Skip.UNSUPPORTED_LINK);
});

test('Linux cooked v1 (113) and v2 (276)', () => {
  let d = decodeOk(sll(0x0800, tcp4()), LinkType.LINUX_SLL);
  expectView(d.view, { linkHeaderLength: 16, l3: L3.IPV4, srcPort: 40000, dstPort: 443, payloadOffset: d.off + 16 + 60, payloadLength: 10 });
  d = decodeOk(sll(0x86dd, udp6()), LinkType.LINUX_SLL);
  expectView(d.view, { linkHeaderLength: 16, l3: L3.IPV6, ipProto: IpProto.UDP, srcPort: 5353, payloadLength: 12 });
  d = decodeOk(sll2(0x0800, tcp4()), LinkType.LINUX_SLL2);
  expectView(d.view, { linkHeaderLength: 20, l3: L3.IPV4, srcPort: 40000, payloadOffset: d.off + 20 + 60 });
  d = decodeOk(sll2(0x0806, arp(2, '10.0.0.2', '10.0.0.1')), LinkType.LINUX_SLL2);
  expectView(d.view, { linkHeaderLength: 20, l3: L3.ARP, arpOp: 2 });
  // A non-Ethernet device's 802.2 frame (protocol 4) is not a network layer we decode.
  assert.equal(decode(sll(0x0004, fill(30)), LinkType.LINUX_SLL).code, Skip.UNSUPPORTED_ETHERTYPE);
  assert.equal(decode(sll2(0x0004, fill(30)), LinkType.LINUX_SLL2).code, Skip.UNSUPPORTED_ETHERTYPE);
});

test('BSD loopback NULL (0) in both byte orders and LOOP (108)', () => {
  for (const le of [true, false]) {
    const v4 = decodeOk(nullLink(2, le, tcp4()), LinkType.NULL);
    expectView(v4.view, { linkHeaderLength: 4, l3: L3.IPV4, srcPort: 40000, payloadOffset: v4.off + 4 + 60 });
    for (const af6 of [10, 24, 28, 30]) {
      const v6 = decodeOk(nullLink(af6, le, udp6()), LinkType.NULL);
      expectView(v6.view, { linkHeaderLength: 4, l3: L3.IPV6, dstPort: 53, ...addrFields('2001:db8::1', 'fe80::1:2') });
    }
    assert.equal(decode(nullLink(7, le, tcp4()), LinkType.NULL).code, Skip.UNSUPPORTED_ETHERTYPE, `family 7, le=${le}`);
  }
  let d = decodeOk(nullLink(2, false, tcp4()), LinkType.LOOP);
  expectView(d.view, { linkHeaderLength: 4, l3: L3.IPV4, dstPort: 443 });
  d = decodeOk(nullLink(30, false, udp6()), LinkType.LOOP);
  expectView(d.view, { linkHeaderLength: 4, l3: L3.IPV6, srcPort: 5353 });
});

test('raw IP link types: 12 and 101 by version nibble, 228 IPv4, 229 IPv6', () => {
  for (const link of [LinkType.RAW_OPENBSD, LinkType.RAW]) {
    let d = decodeOk(tcp4(), link);
    expectView(d.view, { linkHeaderLength: 0, l3: L3.IPV4, srcPort: 40000, payloadOffset: d.off + 60 });
    d = decodeOk(udp6(), link);
    expectView(d.view, { linkHeaderLength: 0, l3: L3.IPV6, srcPort: 5353, payloadOffset: d.off + 48 });
    const v5 = tcp4();
    v5[0] = 0x55;
    assert.equal(decode(v5, link).code, Skip.BAD_IP_HEADER);
  }
  expectView(decodeOk(tcp4(), LinkType.IPV4).view, { linkHeaderLength: 0, l3: L3.IPV4 });
  expectView(decodeOk(udp6(), LinkType.IPV6).view, { linkHeaderLength: 0, l3: L3.IPV6 });
  // The link type promises the family: an IPv6 packet on LINKTYPE_IPV4 is a bad header.
  assert.equal(decode(udp6(), LinkType.IPV4).code, Skip.BAD_IP_HEADER);
  assert.equal(decode(tcp4(), LinkType.IPV6).code, Skip.BAD_IP_HEADER);
});

test('PKTAP (258, 149) with an inner Ethernet or raw frame', () => {
  for (const link of [LinkType.PKTAP, LinkType.PKTAP_DARWIN]) {
    let d = decodeOk(pktap(LinkType.ETHERNET, eth(0x0800, tcp4(), [{ tpid: 0x8100, vid: 33 }])), link);
    expectView(d.view, { linkHeaderLength: 108 + 18, vlanId: 33, l3: L3.IPV4, srcPort: 40000, payloadOffset: d.off + 108 + 18 + 60, payloadLength: 10 });
    d = decodeOk(pktap(LinkType.RAW, udp6(), 156), link);
    expectView(d.view, { linkHeaderLength: 156, l3: L3.IPV6, dstPort: 53 });
    assert.equal(decode(pktap(LinkType.LINUX_SLL, sll(0x0800, tcp4())), link).code, Skip.UNSUPPORTED_LINK);
    const short = pktap(LinkType.ETHERNET, eth(0x0800, tcp4()));
    short.set(le32(4), 0); // header length below its own 8 bytes
    assert.equal(decode(short, link).code, Skip.TRUNCATED_LINK);
    short.set(le32(100_000), 0); // header longer than the frame
    assert.equal(decode(short, link).code, Skip.TRUNCATED_LINK);
  }
});

test('IPv4 options are skipped by IHL', () => {
  const pkt = ipv4({
    src: '192.168.1.10', dst: '224.0.0.251', proto: IpProto.UDP, options: [0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00],
    payload: udp(5353, 5353, fill(20)),
  });
  const { view, off } = decodeOk(eth(0x0800, pkt), LinkType.ETHERNET);
  expectView(view, {
    ipTotalLength: 28 + 8 + 20, ipProto: IpProto.UDP, srcPort: 5353, dstPort: 5353,
    payloadOffset: off + 14 + 28 + 8, payloadLength: 20, payloadWireLength: 20, ...addrFields('192.168.1.10', '224.0.0.251'),
  });
});

test('IPv4 fragments: the first carries ports, later ones only addresses and id', () => {
  const first = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, id: 4242, moreFragments: true, payload: udp(5000, 53, fill(100), 3008) });
  let d = decodeOk(eth(0x0800, first), LinkType.ETHERNET);
  // The UDP length names the whole datagram; only this fragment's bytes are payload here.
  expectView(d.view, { fragment: Fragment.FIRST, ipId: 4242, ipProto: IpProto.UDP, srcPort: 5000, dstPort: 53, ipTotalLength: 128, payloadLength: 100, payloadWireLength: 100 });

  const view = d.view; // reuse: a later fragment must not inherit the first one's ports
  const later = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, id: 4242, moreFragments: true, fragOffset: 185, payload: fill(64) });
  d = decodeOk(eth(0x0800, later), LinkType.ETHERNET, { view });
  expectView(d.view, {
    fragment: Fragment.LATER, ipId: 4242, ipProto: IpProto.UDP, ipTotalLength: 84, srcPort: 0, dstPort: 0,
    payloadLength: 0, payloadWireLength: 0, ...addrFields('10.0.0.1', '10.0.0.2'),
  });
  // The last fragment (offset set, no MF) is also a later fragment.
  const last = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, id: 4242, fragOffset: 370, payload: fill(8) });
  expectView(decodeOk(eth(0x0800, last), LinkType.ETHERNET).view, { fragment: Fragment.LATER });
  // A later fragment whose bytes look like a TCP header is not decoded as one.
  const laterTcp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.TCP, fragOffset: 1, payload: tcp({ sp: 1, dp: 2, flags: TcpFlag.SYN }) });
  expectView(decodeOk(eth(0x0800, laterTcp), LinkType.ETHERNET).view, { fragment: Fragment.LATER, srcPort: 0, tcpFlags: 0 });
});

test('IPv6 hop-by-hop + routing + fragment headers before TCP', () => {
  const seg = tcp({ sp: 443, dp: 51000, seq: 7, ack: 9, flags: TcpFlag.SYN | TcpFlag.ACK, options: SYN_OPTIONS });
  const ext = [optionsExt(0, 1), optionsExt(43, 3), fragmentExt(0, true, 0xdeadbeef)];
  const pkt = ipv6({ src: '2001:db8::443', dst: '2001:db8:0:1::5', next: IpProto.TCP, payload: seg, ext, hopLimit: 33 });
  const { view, off } = decodeOk(eth(0x86dd, pkt), LinkType.ETHERNET);
  expectView(view, {
    l3: L3.IPV6, ipTotalLength: 40 + 8 + 24 + 8 + 40, ipProto: IpProto.TCP, ttl: 33, fragment: Fragment.FIRST, ipId: 0xdeadbeef,
    src0: 0x20010db8, src1: 0, src2: 0, src3: 0x443, dst0: 0x20010db8, dst1: 1, dst2: 0, dst3: 5,
    srcPort: 443, dstPort: 51000, seq: 7, ack: 9, tcpFlags: TcpFlag.SYN | TcpFlag.ACK,
    payloadOffset: off + 14 + 40 + 8 + 24 + 8 + 40, payloadLength: 0, payloadWireLength: 0,
  });
});

test('IPv6 fragment header: atomic, later fragment, and AH + destination options', () => {
  const u = udp(1000, 2000, fill(16));
  let d = decodeOk(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP, payload: u, ext: [fragmentExt(0, false, 5)] }), LinkType.RAW);
  expectView(d.view, { fragment: Fragment.NONE, ipId: 5, srcPort: 1000, payloadLength: 16 });

  d = decodeOk(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP, payload: fill(32), ext: [optionsExt(0, 1), fragmentExt(181, false, 77)] }), LinkType.RAW);
  expectView(d.view, { fragment: Fragment.LATER, ipId: 77, ipProto: IpProto.UDP, srcPort: 0, dstPort: 0, payloadLength: 0, ipTotalLength: 40 + 16 + 32 });

  d = decodeOk(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP, payload: u, ext: [authExt(3), optionsExt(60, 2)] }), LinkType.RAW);
  expectView(d.view, { ipProto: IpProto.UDP, srcPort: 1000, dstPort: 2000, payloadOffset: d.off + 40 + 24 + 16 + 8, payloadLength: 16 });

  // Eleven chained headers is not a real packet.
  const many = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP, payload: u, ext: new Array(11).fill(0).map(() => optionsExt(60, 1)) });
  assert.equal(decode(many, LinkType.RAW).code, Skip.BAD_IP_HEADER);
});

test('UDP: the UDP length bounds the payload when sane, else the IP length does', () => {
  // UDP says 8 + 5 while IP carries 8 + 12: the trailing 7 bytes are not payload.
  let d = decodeOk(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, payload: udp(1, 2, fill(12), 13) }), LinkType.RAW);
  expectView(d.view, { payloadLength: 5, payloadWireLength: 5, payloadOffset: d.off + 28 });
  // A UDP length beyond the IP packet is ignored.
  d = decodeOk(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, payload: udp(1, 2, fill(12), 500) }), LinkType.RAW);
  expectView(d.view, { payloadLength: 12, payloadWireLength: 12 });
  // Zero (IPv6 jumbogram style) uses the IP length.
  d = decodeOk(ipv6({ src: '::2', dst: '::3', next: IpProto.UDP, payload: udp(1, 2, fill(12), 0) }), LinkType.RAW);
  expectView(d.view, { payloadLength: 12, payloadWireLength: 12 });
});

test('ICMP and ICMPv6: echo identifier, type, code; bodies are not payload', () => {
  let d = decodeOk(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '8.8.8.8', proto: IpProto.ICMP, payload: icmp(8, 0, 0x1234, 1, fill(56)) })), LinkType.ETHERNET);
  expectView(d.view, {
    ipProto: IpProto.ICMP, icmpType: 8, icmpCode: 0, icmpId: 0x1234, srcPort: 0, dstPort: 0,
    payloadOffset: d.off + 34, payloadLength: 0, payloadWireLength: 64,
  });
  d = decodeOk(eth(0x0800, ipv4({ src: '8.8.8.8', dst: '10.0.0.1', proto: IpProto.ICMP, payload: icmp(0, 0, 0x1234, 1, fill(56)) })), LinkType.ETHERNET);
  expectView(d.view, { icmpType: 0, icmpId: 0x1234 });
  // Destination unreachable quotes a header: the bytes at 4..5 are not an identifier.
  d = decodeOk(eth(0x0800, ipv4({ src: '8.8.8.8', dst: '10.0.0.1', proto: IpProto.ICMP, payload: icmp(3, 3, 0x7777, 0, fill(28)) })), LinkType.ETHERNET);
  expectView(d.view, { icmpType: 3, icmpCode: 3, icmpId: 0 });

  d = decodeOk(eth(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.ICMPV6, payload: icmp(128, 0, 0xabcd, 9, fill(8)) })), LinkType.ETHERNET);
  expectView(d.view, { l3: L3.IPV6, ipProto: IpProto.ICMPV6, icmpType: 128, icmpId: 0xabcd, payloadLength: 0, payloadWireLength: 16 });
  d = decodeOk(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', next: IpProto.ICMPV6, payload: icmp(129, 0, 0xabcd, 9) }), LinkType.RAW);
  expectView(d.view, { icmpType: 129, icmpId: 0xabcd });
  d = decodeOk(ipv6({ src: 'fe80::1', dst: 'ff02::1:ff00:2', next: IpProto.ICMPV6, payload: icmp(135, 0, 0x1111, 0x2222, fill(16)) }), LinkType.RAW);
  expectView(d.view, { icmpType: 135, icmpId: 0 });
  // ICMPv4 numbers inside IPv6 (and the reverse) are not decoded as ICMP.
  d = decodeOk(ipv6({ src: '::2', dst: '::3', next: IpProto.ICMP, payload: icmp(8, 0, 5, 5) }), LinkType.RAW);
  expectView(d.view, { ipProto: IpProto.ICMP, icmpType: 0, icmpId: 0 });
});

test('IGMP is tracked by address pair only', () => {
  const { view } = decodeOk(eth(0x0800, ipv4({ src: '192.168.1.7', dst: '224.0.0.22', proto: IpProto.IGMP, ttl: 1, options: [0x94, 4, 0, 0], payload: igmpReport('239.1.2.3') })), LinkType.ETHERNET);
  expectView(view, { l3: L3.IPV4, ipProto: IpProto.IGMP, ipTotalLength: 32, srcPort: 0, dstPort: 0, payloadLength: 0, ...addrFields('192.168.1.7', '224.0.0.22') });
});

test('ARP request and reply: operation and protocol addresses', () => {
  let d = decodeOk(eth(0x0806, arp(1, '192.168.1.1', '192.168.1.20')), LinkType.ETHERNET);
  expectView(d.view, { l3: L3.ARP, arpOp: 1, ipTotalLength: 28, ipProto: 0, srcPort: 0, dstPort: 0, payloadLength: 0, ...addrFields('192.168.1.1', '192.168.1.20') });
  d = decodeOk(eth(0x0806, arp(2, '192.168.1.20', '192.168.1.1')), LinkType.ETHERNET);
  expectView(d.view, { l3: L3.ARP, arpOp: 2, ...addrFields('192.168.1.20', '192.168.1.1') });
  assert.equal(decode(eth(0x0806, arp(1, '1.1.1.1', '2.2.2.2', 0x86dd)), LinkType.ETHERNET).code, Skip.BAD_ARP);
});

test('malformed IPv4 and TCP headers', () => {
  const ok = tcp4();
  const bad = (mutate: (b: Uint8Array) => void, code: number): void => {
    const b = ok.slice();
    mutate(b);
    assert.equal(decode(b, LinkType.RAW).code, code);
  };
  bad((b) => { b[0] = 0x44; }, Skip.BAD_IP_HEADER); // IHL 4 < 5
  bad((b) => { b[2] = 0; b[3] = 19; }, Skip.BAD_IP_HEADER); // total length below the header
  bad((b) => { b[20 + 12] = 4 << 4; }, Skip.BAD_TRANSPORT_HEADER); // TCP data offset below 5
  bad((b) => { b[2] = 0; b[3] = 40; }, Skip.BAD_TRANSPORT_HEADER); // TCP options run past the IP packet
  // IHL claims 60 bytes but only 24 were captured.
  assert.equal(decode(cat([0x4f], fill(23)), LinkType.RAW).code, Skip.TRUNCATED_IP);
  assert.equal(decode(new Uint8Array(0), LinkType.RAW).code, Skip.TRUNCATED_IP);
});

test('IPv4 total length 0 (segmentation offload) trusts the captured length', () => {
  const pkt = tcp4(fill(100));
  pkt[2] = 0;
  pkt[3] = 0;
  const { view } = decodeOk(eth(0x0800, pkt), LinkType.ETHERNET);
  expectView(view, { ipTotalLength: pkt.length, payloadLength: 100, payloadWireLength: 100 });
});

test('snaplen-truncated packets keep the header lengths and clamp the payload to the capture', () => {
  const frame = eth(0x0800, tcp4(fill(1000)));
  const d = decodeOk(frame, LinkType.ETHERNET, { cap: 100 });
  expectView(d.view, { capLength: 100, wireLength: frame.length, ipTotalLength: 1060, payloadWireLength: 1000, payloadLength: 100 - 74, payloadOffset: d.off + 74 });

  const frame6 = sll(0x86dd, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP, payload: udp(443, 50000, fill(1200)) }));
  const d6 = decodeOk(frame6, LinkType.LINUX_SLL, { cap: 96 });
  expectView(d6.view, { ipTotalLength: 40 + 8 + 1200, payloadWireLength: 1200, payloadLength: 96 - 64 });
});

test('one reused view: nothing leaks from the previous frame', () => {
  const view = new PacketView();
  decodeOk(eth(0x0800, tcp4(), [{ tpid: 0x8100, vid: 12 }]), LinkType.ETHERNET, { view });
  decodeOk(udp6(), LinkType.RAW, { view });
  expectView(view, { vlanId: 0, tcpFlags: 0, seq: 0, ack: 0, srcPort: 5353, linkHeaderLength: 0 });
  decodeOk(eth(0x0800, ipv4({ src: '10.0.0.1', dst: '8.8.8.8', proto: IpProto.ICMP, payload: icmp(8, 0, 99, 1) })), LinkType.ETHERNET, { view });
  decodeOk(sll(0x0806, arp(1, '10.0.0.1', '10.0.0.2')), LinkType.LINUX_SLL, { view });
  expectView(view, { icmpType: 0, icmpId: 0, arpOp: 1, vlanId: 0, ipProto: 0, fragment: Fragment.NONE, payloadOffset: 0 });
});

// ---------------------------------------------------------------------------------------------
// Truncation and garbage
// ---------------------------------------------------------------------------------------------

/** Codes decodeFrame may return (tracking-only codes such as UNMATCHED_FRAGMENT never come from it). */
const DECODER_CODES = new Set<number>([
  Skip.OK, Skip.TRUNCATED_LINK, Skip.UNSUPPORTED_LINK, Skip.UNSUPPORTED_ETHERTYPE, Skip.TRUNCATED_IP,
  Skip.BAD_IP_HEADER, Skip.TRUNCATED_TRANSPORT, Skip.BAD_TRANSPORT_HEADER, Skip.BAD_ARP,
  Skip.PPPOE_DISCOVERY, Skip.UNSUPPORTED_PPP_PROTOCOL, Skip.UNSUPPORTED_MPLS_PAYLOAD, Skip.BAD_LINK_HEADER,
]);

const VIEW_FIELDS = Object.keys(new PacketView()) as (keyof PacketView)[];

function sameView(a: PacketView, b: PacketView): boolean {
  for (const k of VIEW_FIELDS) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Decodes the first `cap` bytes of `frame` twice, once followed by zeros and once by 0xff bytes, and
 * checks the invariants. Equal results prove nothing past the capture was read.
 */
function checkDecode(frame: Uint8Array, cap: number, link: number, off: number, label: string): number {
  const a = decode(frame, link, { cap, off, pad: 0x00 });
  const b = decode(frame, link, { cap, off, pad: 0xff });
  if (a.code !== b.code || !sameView(a.view, b.view)) {
    assert.fail(`${label}: result depends on bytes past the capture (codes ${a.code}/${b.code})`);
  }
  if (!DECODER_CODES.has(a.code)) assert.fail(`${label}: unexpected code ${a.code}`);
  if (a.code === Skip.OK) {
    const v = a.view;
    const end = off + cap;
    if (v.l3 !== L3.IPV4 && v.l3 !== L3.IPV6 && v.l3 !== L3.ARP) assert.fail(`${label}: OK with l3 ${v.l3}`);
    if (v.linkHeaderLength > cap) assert.fail(`${label}: link header ${v.linkHeaderLength} > capture ${cap}`);
    if (v.payloadLength < 0 || v.payloadWireLength < 0 || v.payloadLength > v.payloadWireLength) {
      assert.fail(`${label}: payload ${v.payloadLength} / wire ${v.payloadWireLength}`);
    }
    if (v.payloadLength > 0 && (v.payloadOffset < off + v.linkHeaderLength || v.payloadOffset + v.payloadLength > end)) {
      assert.fail(`${label}: payload [${v.payloadOffset}, +${v.payloadLength}) outside the capture [${off}, ${end})`);
    }
  }
  return a.code;
}

const VALID: [string, number, Uint8Array][] = [
  ['eth tcp4', LinkType.ETHERNET, eth(0x0800, tcp4())],
  ['eth qinq udp6', LinkType.ETHERNET, eth(0x86dd, udp6(), [{ tpid: 0x88a8, vid: 1 }, { tpid: 0x8100, vid: 2 }])],
  ['eth arp', LinkType.ETHERNET, eth(0x0806, arp(2, '10.0.0.2', '10.0.0.1'))],
  ['eth icmp', LinkType.ETHERNET, eth(0x0800, ipv4({ src: '10.0.0.1', dst: '8.8.8.8', proto: IpProto.ICMP, payload: icmp(8, 0, 1, 1, fill(8)) }))],
  ['sll ipv4 options udp', LinkType.LINUX_SLL, sll(0x0800, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, options: [1, 1, 1, 0], payload: udp(1, 2, fill(9)) }))],
  ['sll2 v6 ext tcp', LinkType.LINUX_SLL2, sll2(0x86dd, ipv6({ src: '::5', dst: '::6', next: IpProto.TCP, ext: [optionsExt(0, 1), authExt(1), fragmentExt(0, true, 3)], payload: tcp({ sp: 1, dp: 2, flags: TcpFlag.ACK, options: SYN_OPTIONS, payload: fill(5) }) }))],
  ['null icmp6', LinkType.NULL, nullLink(30, true, ipv6({ src: '::5', dst: '::6', next: IpProto.ICMPV6, payload: icmp(128, 0, 7, 7) }))],
  ['loop igmp', LinkType.LOOP, nullLink(2, false, ipv4({ src: '10.0.0.1', dst: '224.0.0.1', proto: IpProto.IGMP, payload: igmpReport('239.0.0.1') }))],
  ['raw later fragment', LinkType.RAW, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, fragOffset: 3, payload: fill(24) })],
  ['pktap eth tcp', LinkType.PKTAP, pktap(LinkType.ETHERNET, eth(0x0800, tcp4()))],
  ['eth vlan pppoe tcp', LinkType.ETHERNET, eth(0x8864, pppoe(0x0021, tcp4()), [{ tpid: 0x8100, vid: 9 }])],
  ['eth mpls udp6', LinkType.ETHERNET, eth(0x8847, mpls([16, 17, 2], udp6()))],
  ['sll pppoe mpls tcp', LinkType.LINUX_SLL, sll(0x8864, pppoe(0x0281, mpls([99], tcp4())))],
];

test('every prefix of valid frames decodes to a code without reading past the capture', () => {
  for (const [name, link, frame] of VALID) {
    const seen = new Set<number>();
    for (let n = 0; n <= frame.length; n++) seen.add(checkDecode(frame, n, link, 3, `${name} [0, ${n})`));
    assert.ok(seen.has(Skip.OK), `${name}: the full frame decodes`);
    assert.ok(seen.size > 1, `${name}: short prefixes are refused`);
  }
});

test('prefixes of Ethernet + IPv4 + TCP fail at the layer they cut', () => {
  const frame = eth(0x0800, tcp4());
  for (let n = 0; n <= frame.length; n++) {
    const d = decode(frame, LinkType.ETHERNET, { cap: n });
    const want = n < 14 ? Skip.TRUNCATED_LINK : n < 34 ? Skip.TRUNCATED_IP : n < 54 ? Skip.TRUNCATED_TRANSPORT : Skip.OK;
    assert.equal(d.code, want, `prefix ${n}`);
    if (want === Skip.OK) {
      // Options are part of the header: payload starts at 74 and is clamped to the capture.
      assert.equal(d.view.payloadLength, Math.max(0, n - 74), `prefix ${n}`);
      assert.equal(d.view.payloadWireLength, 10);
      assert.equal(d.view.ipTotalLength, 70);
    }
  }
});


const ALL_LINKS = [
  LinkType.NULL, LinkType.ETHERNET, LinkType.RAW_OPENBSD, LinkType.RAW, LinkType.LOOP, LinkType.LINUX_SLL,
  LinkType.PKTAP_DARWIN, LinkType.IPV4, LinkType.IPV6, LinkType.PKTAP, LinkType.LINUX_SLL2, 7,
];

/** Network-layer packets the fuzzer wraps in each link layer. */
const FUZZ_PACKETS = [
  tcp4(), udp6(), VALID[8]![2],
  ipv6({ src: '::5', dst: '::6', next: IpProto.TCP, ext: [optionsExt(0, 1), fragmentExt(0, true, 3)], payload: tcp({ sp: 1, dp: 2, flags: TcpFlag.ACK, payload: fill(5) }) }),
];

/** Plausible frames for `link` to mutate, so fuzzing reaches the deeper layers. */
function templates(link: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let r = 0; r < 30; r++) {
    const net = FUZZ_PACKETS[r % FUZZ_PACKETS.length]!;
    const v6 = net[0]! >> 4 === 6;
    switch (link) {
      case LinkType.ETHERNET:
        if (r % 5 === 0) out.push(eth(0x0806, arp(1, '1.2.3.4', '5.6.7.8')));
        else if (r % 7 === 1) out.push(eth(0x8864, pppoe(v6 ? 0x0057 : 0x0021, net), [{ tpid: 0x88a8, vid: r }, { tpid: 0x8100, vid: r }]));
        else if (r % 7 === 2) out.push(eth(0x8847, mpls([r, r + 1], net)));
        else out.push(eth(v6 ? 0x86dd : 0x0800, net, r % 3 === 0 ? [{ tpid: 0x8100, vid: r }] : []));
        break;
      case LinkType.LINUX_SLL: out.push(sll(v6 ? 0x86dd : 0x0800, net)); break;
      case LinkType.LINUX_SLL2: out.push(sll2(v6 ? 0x86dd : 0x0800, net)); break;
      case LinkType.NULL:
      case LinkType.LOOP: out.push(nullLink(v6 ? 30 : 2, r % 2 === 0, net)); break;
      case LinkType.PKTAP:
      case LinkType.PKTAP_DARWIN: out.push(pktap(LinkType.ETHERNET, eth(v6 ? 0x86dd : 0x0800, net), 8 + 4 * r)); break;
      default: out.push(net);
    }
  }
  return out;
}

test('20,000 random and mutated frames per link type: no throw, valid codes, payload inside the capture', () => {
  const rnd = prng(0x5eed1234);
  let ok = 0;
  for (const link of ALL_LINKS) {
    const pool = templates(link);
    for (let i = 0; i < 20_000; i++) {
      let frame: Uint8Array;
      const kind = i % 3;
      if (kind === 0) {
        frame = new Uint8Array(Math.floor(rnd() * 160));
        for (let j = 0; j < frame.length; j++) frame[j] = Math.floor(rnd() * 256);
      } else {
        frame = pool[Math.floor(rnd() * pool.length)]!.slice();
        const flips = 1 + Math.floor(rnd() * (kind === 1 ? 3 : 12));
        for (let j = 0; j < flips; j++) frame[Math.floor(rnd() * frame.length)] = Math.floor(rnd() * 256);
      }
      const cap = rnd() < 0.3 ? Math.floor(rnd() * (frame.length + 1)) : frame.length;
      const off = Math.floor(rnd() * 5);
      if (checkDecode(frame, cap, link, off, `link ${link} #${i}`) === Skip.OK) ok++;
    }
  }
  // Mutated templates must reach a successful decode often, or the fuzzing never got past the link layer.
  assert.ok(ok > 20_000, `only ${ok} fuzzed frames decoded`);
});
