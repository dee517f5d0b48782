// Encapsulations (C9): PPPoE, MPLS and stacked VLAN tags in hand-made captures, compared with tshark, cut short and garbled.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { L3, LinkType, PacketView } from '../src/core/packet-view.js';
import { SKIP_NAMES, Skip, isMalformed } from '../src/core/skip-reason.js';
import { decodeFrame } from '../src/decode/decode-frame.js';
import { MAX_MPLS_LABELS, MAX_VLAN_TAGS } from '../src/decode/link.js';
import { TcpConversation, udpPayloadFrame, type TimedFrame } from './support/capture-writer.js';
import { replay } from './support/corpus.js';
import type { Endpoint } from './support/frames.js';
import { concat, u16, u32 } from './support/dpi.js';
import { prng } from './support/prng.js';
import { runManual } from './support/session.js';

// ---------------------------------------------------------------------------------------------
// Building frames: an IP packet inside any stack of link layers
// ---------------------------------------------------------------------------------------------


/** Wraps a network-layer packet (or an inner layer's bytes) in one more layer. */
type Wrap = (inner: Uint8Array) => Uint8Array;
interface Tag { tpid: number; vid: number }

const ip: Wrap = (x) => x;
const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

/** The ethertype field and any VLAN tags before `type`: each tag is its TPID then its TCI (priority 1). */
function typeField(type: number, tags: readonly Tag[]): number[] {
  return [...tags.flatMap((t) => [...u16(t.tpid), ...u16(0x2000 | t.vid)]), ...u16(type)];
}

function ether(type: number, inner: Wrap = ip, tags: readonly Tag[] = []): Wrap {
  return (x) => concat(MAC_B, MAC_A, typeField(type, tags), inner(x));
}

/** Linux cooked capture v1 (16 bytes, protocol last) and v2 (20 bytes, protocol first). */
function sll(type: number, inner: Wrap = ip, tags: readonly Tag[] = []): Wrap {
  return (x) => concat(u16(0), u16(1), u16(6), [...MAC_A, 0, 0], typeField(type, tags), inner(x));
}

function sll2(type: number, inner: Wrap = ip, tags: readonly Tag[] = []): Wrap {
  return (x) => {
    const field = typeField(type, tags);
    // The protocol opens the header; any VLAN tags follow the 20 bytes, as libpcap writes them.
    return concat(field.slice(0, 2), [0, 0], u32(2), u16(1), [0, 6], [...MAC_A, 0, 0], field.slice(2), inner(x));
  };
}

/** A PPPoE session header (session 0x1234, RFC 2516) and the PPP protocol field, one byte when compressed. */
function pppoe(pppProto: number, inner: Wrap = ip, compressed = false): Wrap {
  return (x) => {
    const body = inner(x);
    const proto = compressed ? [pppProto] : u16(pppProto);
    return concat([0x11, 0x00], u16(0x1234), u16(proto.length + body.length), proto, body);
  };
}

/** An MPLS label stack (RFC 3032): traffic class 0, bottom-of-stack on the last entry, TTL 64. */
function mpls(labels: readonly number[], inner: Wrap = ip): Wrap {
  return (x) => concat(...labels.map((l, i) => u32(((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0)), inner(x));
}

const vlan = (...vids: number[]): Tag[] => vids.map((vid) => ({ tpid: 0x8100, vid }));
const labels = (n: number): number[] => Array.from({ length: n }, (_, i) => 16 + i);

/** The IP packet of a support-built Ethernet frame. */
const ipOf = (frame: Uint8Array): Uint8Array => frame.subarray(14);

function dnsName(name: string): number[] {
  return [...name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]), 0];
}

function dnsQuery(id: number, name: string, type: number): Uint8Array {
  return Uint8Array.from([...u16(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName(name), ...u16(type), 0, 1]);
}

function dnsAnswer(id: number, name: string, type: number, rdata: number[]): Uint8Array {
  return Uint8Array.from([
    ...u16(id), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...dnsName(name), ...u16(type), 0, 1,
    0xc0, 0x0c, ...u16(type), 0, 1, ...u32(300), ...u16(rdata.length), ...rdata,
  ]);
}

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** A capture under construction: frames one millisecond apart, each IP packet wrapped as asked. */
class CaptureBuilder {
  readonly frames: TimedFrame[] = [];
  private ts = 1_700_000_000_000_000;

  constructor(readonly name: string, readonly linkType: number) {}

  /** Frames that carry no IP (discovery, PPP control, pseudowires): given whole. */
  raw(bytes: Uint8Array): this {
    this.frames.push({ tsMicros: this.ts, bytes });
    this.ts += 1000;
    return this;
  }

  packets(wrap: Wrap, ipPackets: Uint8Array[]): this {
    for (const p of ipPackets) this.raw(wrap(p));
    return this;
  }

  /** Handshake, an HTTP request naming `host` and its response: 7 frames. */
  http(wrap: Wrap, client: Endpoint, server: Endpoint, host: string): this {
    const c = new TcpConversation(client, server, 0).handshake()
      .send(true, ascii(`GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: encap-test\r\n\r\n`))
      .send(false, ascii('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'));
    return this.packets(wrap, c.frames.map((f) => ipOf(f.bytes)));
  }

  /** A DNS query and its answer (A, or AAAA for an IPv6 client). */
  dns(wrap: Wrap, client: Endpoint, server: Endpoint, name: string): this {
    const v6 = client[0].includes(':');
    const type = v6 ? 28 : 1;
    const rdata = v6 ? [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 0x53] : [192, 0, 2, 53];
    return this.packets(wrap, [
      ipOf(udpPayloadFrame(client, server, dnsQuery(client[1], name, type))),
      ipOf(udpPayloadFrame(server, client, dnsAnswer(client[1], name, type, rdata))),
    ]);
  }

  /** `n` datagrams from `a` to `b` and `m` back, with a few bytes each. */
  udp(wrap: Wrap, a: Endpoint, b: Endpoint, n: number, m = 0): this {
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(ipOf(udpPayloadFrame(a, b, ascii(`ping ${i}`))));
    for (let i = 0; i < m; i++) out.push(ipOf(udpPayloadFrame(b, a, ascii(`pong ${i}!`))));
    return this.packets(wrap, out);
  }

  write(dir: string): string {
    const file = path.join(dir, `${this.name}.pcap`);
    fs.writeFileSync(file, pcapBytes(this.frames, this.linkType));
    return file;
  }
}

/** Classic pcap, microsecond times, little-endian, one link type. */
function pcapBytes(frames: readonly TimedFrame[], linkType: number): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(linkType, 20);
  return Buffer.concat([header, ...frames.map((f) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(f.tsMicros / 1e6), 0);
    h.writeUInt32LE(f.tsMicros % 1e6, 4);
    h.writeUInt32LE(f.bytes.length, 8);
    h.writeUInt32LE(f.bytes.length, 12);
    return Buffer.concat([h, f.bytes]);
  })]);
}

// ---------------------------------------------------------------------------------------------
// The captures, and what tshark 4.0.17 says of them
// ---------------------------------------------------------------------------------------------

const V4 = (a: string, p: number): Endpoint => [a, p];
const PADI = [0x11, 0x09, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]; // service-name tag, empty
const LCP_CONF_REQ = [0x01, 0x01, 0x00, 0x0e, 0x01, 0x04, 0x05, 0xd4, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78];
const IPCP_CONF_REQ = [0x01, 0x01, 0x00, 0x0a, 0x03, 0x06, 10, 0, 0, 1];
/** An Ethernet pseudowire under MPLS: control word 0, then a whole Ethernet frame. */
const PW_ETHERNET = concat([0, 0, 0, 0], ether(0x0800)(ipOf(udpPayloadFrame(V4('10.9.9.1', 1), V4('10.9.9.2', 2), ascii('pw')))));

interface Known {
  capture: CaptureBuilder;
  /**
   * tshark's conversations: "proto A:port B:port frames a>b/b>a bytes a>b/b>a [names]", A the lower
   * endpoint; bytes are whole frames (none of these frames has Ethernet padding). Names are the HTTP host
   * or DNS query name tshark found in it.
   */
  conversations: string[];
  /** Frames in which tshark found no IP: what we skip, and why. */
  skipped: Record<string, number>;
}

function pppoeCapture(): Known {
  const b = new CaptureBuilder('pppoe', LinkType.ETHERNET)
    .raw(ether(0x8863)(Uint8Array.from(PADI)))
    .raw(ether(0x8863)(Uint8Array.from([0x11, 0x07, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]))) // PADO
    .raw(ether(0x8863)(Uint8Array.from([0x11, 0x19, 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]))) // PADR
    .raw(ether(0x8863)(Uint8Array.from([0x11, 0x65, 0x12, 0x34, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]))) // PADS
    .raw(ether(0x8864, pppoe(0xc021))(Uint8Array.from(LCP_CONF_REQ)))
    .raw(ether(0x8864, pppoe(0x8021))(Uint8Array.from(IPCP_CONF_REQ)))
    .http(ether(0x8864, pppoe(0x0021)), V4('100.64.0.2', 40001), V4('198.51.100.80', 80), 'pppoe.example.test')
    .dns(ether(0x8864, pppoe(0x0057)), ['2001:db8:1::2', 53001], ['2001:db8:53::53', 53], 'v6.pppoe.example.test')
    .udp(ether(0x8864, pppoe(0x21, ip, true)), V4('100.64.0.2', 5000), V4('198.51.100.7', 6000), 2, 1)
    .udp(ether(0x8864, pppoe(0x0281, mpls([99]))), V4('100.64.0.2', 5001), V4('198.51.100.8', 6001), 1, 1);
  return {
    capture: b,
    conversations: [
      'TCP 100.64.0.2:40001 198.51.100.80:80 frames 4/3 bytes 316/226 [pppoe.example.test]',
      'UDP 100.64.0.2:5000 198.51.100.7:6000 frames 2/1 bytes 110/56 []',
      'UDP 100.64.0.2:5001 198.51.100.8:6001 frames 1/1 bytes 60/61 []',
      'UDP 2001:db8:1::2:53001 2001:db8:53::53:53 frames 1/1 bytes 109/137 [v6.pppoe.example.test]',
    ],
    skipped: { pppoe_discovery: 4, unsupported_ppp_protocol: 2 },
  };
}

function mplsCapture(): Known {
  const b = new CaptureBuilder('mpls', LinkType.ETHERNET)
    .http(ether(0x8847, mpls([1000])), V4('10.1.0.2', 40002), V4('10.2.0.80', 80), 'mpls.example.test')
    .dns(ether(0x8847, mpls([1000, 2000, 2])), ['2001:db8:2::2', 53002], ['2001:db8:53::53', 53], 'v6.mpls.example.test')
    .udp(ether(0x8848, mpls([3000])), V4('10.1.0.2', 5002), V4('239.1.2.3', 6002), 3)
    .udp(ether(0x8847, mpls(labels(MAX_MPLS_LABELS))), V4('10.1.0.2', 5003), V4('10.2.0.9', 6003), 1, 1)
    .raw(ether(0x8847, mpls([4000]))(PW_ETHERNET));
  return {
    capture: b,
    conversations: [
      'TCP 10.1.0.2:40002 10.2.0.80:80 frames 4/3 bytes 299/214 [mpls.example.test]',
      'UDP 10.1.0.2:5002 239.1.2.3:6002 frames 3/0 bytes 156/0 []',
      'UDP 10.1.0.2:5003 10.2.0.9:6003 frames 1/1 bytes 112/113 []',
      'UDP 2001:db8:2::2:53002 2001:db8:53::53:53 frames 1/1 bytes 112/140 [v6.mpls.example.test]',
    ],
    skipped: { unsupported_mpls_payload: 1 },
  };
}

function vlanCapture(): Known {
  const qinq: Tag[] = [{ tpid: 0x88a8, vid: 10 }, { tpid: 0x8100, vid: 20 }];
  const b = new CaptureBuilder('vlan', LinkType.ETHERNET)
    .http(ether(0x0800, ip, vlan(100)), V4('10.3.0.2', 40003), V4('10.4.0.80', 80), 'vlan.example.test')
    .dns(ether(0x86dd, ip, qinq), ['2001:db8:3::2', 53003], ['2001:db8:53::53', 53], 'qinq.example.test')
    .udp(ether(0x0800, ip, [{ tpid: 0x9100, vid: 1 }, { tpid: 0x88a8, vid: 2 }, { tpid: 0x8100, vid: 3 }]), V4('10.3.0.2', 5004), V4('10.4.0.9', 6004), 1, 2)
    .udp(ether(0x0800, ip, vlan(...labels(MAX_VLAN_TAGS))), V4('10.3.0.2', 5005), V4('10.4.0.9', 6005), 2)
    .http(ether(0x8864, pppoe(0x0021), vlan(7)), V4('100.64.1.2', 40004), V4('198.51.100.80', 80), 'vlan-pppoe.example.test')
    .udp(ether(0x8847, mpls([16, 17]), vlan(8)), V4('10.3.0.2', 5006), V4('10.4.0.9', 6006), 1, 1)
    .dns(ether(0x8864, pppoe(0x0057), qinq), ['2001:db8:4::2', 53004], ['2001:db8:53::53', 53], 'qinq-pppoe.example.test')
    .raw(ether(0x8863, ip, vlan(7))(Uint8Array.from(PADI)));
  return {
    capture: b,
    conversations: [
      'TCP 10.3.0.2:40003 10.4.0.80:80 frames 4/3 bytes 299/214 [vlan.example.test]',
      'TCP 100.64.1.2:40004 198.51.100.80:80 frames 4/3 bytes 337/238 [vlan-pppoe.example.test]',
      'UDP 10.3.0.2:5004 10.4.0.9:6004 frames 1/2 bytes 60/122 []',
      'UDP 10.3.0.2:5005 10.4.0.9:6005 frames 2/0 bytes 160/0 []',
      'UDP 10.3.0.2:5006 10.4.0.9:6006 frames 1/1 bytes 60/61 []',
      'UDP 2001:db8:3::2:53003 2001:db8:53::53:53 frames 1/1 bytes 105/133 [qinq.example.test]',
      'UDP 2001:db8:4::2:53004 2001:db8:53::53:53 frames 1/1 bytes 119/147 [qinq-pppoe.example.test]',
    ],
    skipped: { pppoe_discovery: 1 },
  };
}

function cookedCapture(name: string, linkType: number, wrapWith: typeof sll): Known {
  const b = new CaptureBuilder(name, linkType)
    .udp(wrapWith(0x0800, ip, vlan(5)), V4('10.5.0.2', 5007), V4('10.6.0.9', 6007), 1, 1)
    .http(wrapWith(0x8864, pppoe(0x0021)), V4('100.64.2.2', 40005), V4('198.51.100.80', 80), `${name}-pppoe.example.test`)
    .dns(wrapWith(0x8847, mpls([20, 21]), vlan(6)), ['2001:db8:5::2', 53005], ['2001:db8:53::53', 53], `${name}-mpls.example.test`)
    .raw(wrapWith(0x8863)(Uint8Array.from(PADI)))
    .raw(wrapWith(0x8864, pppoe(0xc021))(Uint8Array.from(LCP_CONF_REQ)));
  const sll1 = linkType === LinkType.LINUX_SLL;
  return {
    capture: b,
    conversations: sll1
      ? [
          'TCP 100.64.2.2:40005 198.51.100.80:80 frames 4/3 bytes 328/232 [sll-pppoe.example.test]',
          'UDP 10.5.0.2:5007 10.6.0.9:6007 frames 1/1 bytes 54/55 []',
          'UDP 2001:db8:53::53:53 2001:db8:5::2:53005 frames 1/1 bytes 143/115 [sll-mpls.example.test]',
        ]
      : [
          'TCP 100.64.2.2:40005 198.51.100.80:80 frames 4/3 bytes 345/244 [sll2-pppoe.example.test]',
          'UDP 10.5.0.2:5007 10.6.0.9:6007 frames 1/1 bytes 58/59 []',
          'UDP 2001:db8:53::53:53 2001:db8:5::2:53005 frames 1/1 bytes 148/120 [sll2-mpls.example.test]',
        ],
    skipped: { pppoe_discovery: 1, unsupported_ppp_protocol: 1 },
  };
}

const KNOWN: Known[] = [
  pppoeCapture(), mplsCapture(), vlanCapture(),
  cookedCapture('sll', LinkType.LINUX_SLL, sll), cookedCapture('sll2', LinkType.LINUX_SLL2, sll2),
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'encap-test-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Conversations, ours and tshark's, in one shape
// ---------------------------------------------------------------------------------------------

interface Conv { proto: string; a: string; b: string; framesAB: number; framesBA: number; bytesAB: number; bytesBA: number; names: Set<string> }

/** "addr:port", and the order that makes A the lower endpoint (the same rule for both sides). */
function endpoints(src: string, sp: string, dst: string, dp: string): { a: string; b: string; forward: boolean } {
  const x = `${src}:${sp}`;
  const y = `${dst}:${dp}`;
  const forward = src < dst || (src === dst && Number(sp) <= Number(dp));
  return forward ? { a: x, b: y, forward } : { a: y, b: x, forward };
}

function convLines(convs: Map<string, Conv>): string[] {
  return [...convs.values()]
    .map((c) => `${c.proto} ${c.a} ${c.b} frames ${c.framesAB}/${c.framesBA} bytes ${c.bytesAB}/${c.bytesBA} [${[...c.names].sort().join(',')}]`)
    .sort();
}

function convOf(convs: Map<string, Conv>, proto: string, a: string, b: string): Conv {
  const key = `${proto} ${a} ${b}`;
  let c = convs.get(key);
  if (c === undefined) {
    c = { proto, a, b, framesAB: 0, framesBA: 0, bytesAB: 0, bytesBA: 0, names: new Set() };
    convs.set(key, c);
  }
  return c;
}

/** Our closed TCP/UDP connections as conversations; the DPI's domain (HTTP host, DNS query) as the name. */
function ourConversations(events: ConnectionEvent[]): string[] {
  const convs = new Map<string, Conv>();
  for (const e of events) {
    if (e.event !== 'connection_closed' || (e.protocol !== 'TCP' && e.protocol !== 'UDP')) continue;
    const { a, b, forward } = endpoints(e.source_ip, String(e.source_port), e.destination_ip, String(e.destination_port));
    const c = convOf(convs, e.protocol, a, b);
    const [sent, recv, bs, br] = [e.packets_sent ?? 0, e.packets_received ?? 0, e.bytes_sent ?? 0, e.bytes_received ?? 0];
    c.framesAB += forward ? sent : recv;
    c.framesBA += forward ? recv : sent;
    c.bytesAB += forward ? bs : br;
    c.bytesBA += forward ? br : bs;
    if (e.dpi_domain !== undefined) c.names.add(e.dpi_domain);
  }
  return convLines(convs);
}

const TSHARK_FIELDS = [
  'frame.len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport',
  'http.host', 'dns.qry.name',
];

function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;
}

/** tshark's reading of `file`: conversations in our shape, and how many frames it found no IP in. */
function tsharkConversations(file: string): { lines: string[]; withoutIp: number } {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=l', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const convs = new Map<string, Conv>();
  let withoutIp = 0;
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const [len, s4, d4, s6, d6, tsp, tdp, usp, udp, host, qname] = line.split('\t');
    const src = s4 !== '' ? s4! : s6!;
    const dst = d4 !== '' ? d4! : d6!;
    if (src === '') {
      withoutIp++;
      continue;
    }
    const tcp = tsp !== '';
    const { a, b, forward } = endpoints(src, tcp ? tsp! : usp!, dst, tcp ? tdp! : udp!);
    const c = convOf(convs, tcp ? 'TCP' : 'UDP', a, b);
    if (forward) {
      c.framesAB++;
      c.bytesAB += Number(len);
    } else {
      c.framesBA++;
      c.bytesBA += Number(len);
    }
    for (const n of [host, qname]) if (n !== undefined && n !== '') c.names.add(n);
  }
  return { lines: convLines(convs), withoutIp };
}

// ---------------------------------------------------------------------------------------------
// The captures end to end
// ---------------------------------------------------------------------------------------------

for (const k of KNOWN) {
  const name = k.capture.name;

  test(`${name}: our conversations, bytes and skip reasons are tshark's known answers`, async () => {
    const file = k.capture.write(dir);
    const { events, monitor } = await replay(file);
    const c = monitor.counters();
    assert.equal(c.framesSeen, k.capture.frames.length, 'every frame is seen');
    assert.deepEqual(ourConversations(events), [...k.conversations].sort());
    assert.deepEqual(c.skipped, k.skipped, 'frames without IP are skipped, each with its reason');
    assert.equal(c.framesMalformed, 0, 'none of these frames is malformed');
    const skippedTotal = Object.values(k.skipped).reduce((x, y) => x + y, 0);
    assert.equal(c.framesDecoded, k.capture.frames.length - skippedTotal);
  });

  test(`${name}: the known answers are what tshark reads in the capture`, { skip: tsharkAvailable() ? false : 'tshark is not installed' }, () => {
    const file = k.capture.write(dir);
    const t = tsharkConversations(file);
    assert.deepEqual(t.lines, [...k.conversations].sort());
    assert.equal(t.withoutIp, Object.values(k.skipped).reduce((x, y) => x + y, 0), 'tshark finds IP in every frame we track');
  });
}

test('Ethernet padding after a short PPPoE or MPLS frame is not counted; the link header is', async () => {
  const pad = (f: Uint8Array): Uint8Array => (f.length >= 60 ? f : concat(f, new Array<number>(60 - f.length).fill(0)));
  const probe = ipOf(udpPayloadFrame(V4('10.7.0.1', 7000), V4('10.7.0.2', 7001), ascii('x')));
  assert.equal(probe.length, 29);
  const b = new CaptureBuilder('padded', LinkType.ETHERNET)
    .raw(pad(ether(0x8864, pppoe(0x0021))(probe)))
    .raw(pad(ether(0x8847, mpls([5]))(probe)))
    .raw(pad(ether(0x0800, ip, vlan(9))(probe)));
  assert.ok(b.frames.every((f) => f.bytes.length === 60), 'every frame carries padding');
  const { events } = await replay(b.write(dir));
  const closed = events.filter((e) => e.event === 'connection_closed');
  assert.equal(closed.length, 1);
  // Link headers 22 (Ethernet + PPPoE + PPP), 18 (Ethernet + one label), 18 (Ethernet + one tag); IP 29 each.
  assert.equal(closed[0]!.bytes_sent, 22 + 29 + 18 + 29 + 18 + 29);
  assert.equal(closed[0]!.packets_sent, 3);
});

// ---------------------------------------------------------------------------------------------
// Limits, truncation and garbage
// ---------------------------------------------------------------------------------------------

function decode(frame: Uint8Array, link: number, cap = frame.length, view = new PacketView()): { code: number; view: PacketView } {
  return { code: decodeFrame(frame, 0, cap, frame.length, link, 1, view), view };
}

test(`more than ${MAX_VLAN_TAGS} VLAN tags or ${MAX_MPLS_LABELS} MPLS labels is a malformed frame, not a walk`, async () => {
  const packet = ipOf(udpPayloadFrame(V4('10.8.0.1', 1), V4('10.8.0.2', 2), ascii('deep')));
  const deepTags = ether(0x0800, ip, vlan(...labels(MAX_VLAN_TAGS + 1)))(packet);
  const deepLabels = ether(0x8847, mpls(labels(MAX_MPLS_LABELS + 1)))(packet);
  const deepBoth = ether(0x8847, mpls(labels(MAX_MPLS_LABELS + 1)), vlan(...labels(MAX_VLAN_TAGS)))(packet);
  // A label stack that never sets bottom-of-stack, as far as the frame goes.
  const bottomless = concat(ether(0x8847)(new Uint8Array(0)), new Array<number>(4 * 40).fill(0));
  for (const f of [deepTags, deepLabels, deepBoth, bottomless]) assert.equal(decode(f, LinkType.ETHERNET).code, Skip.BAD_LINK_HEADER);
  assert.ok(isMalformed(Skip.BAD_LINK_HEADER));
  // At the bound itself, the frame decodes.
  const atBound = decode(ether(0x8847, mpls(labels(MAX_MPLS_LABELS)), vlan(...labels(MAX_VLAN_TAGS)))(packet), LinkType.ETHERNET);
  assert.equal(atBound.code, Skip.OK);
  assert.equal(atBound.view.linkHeaderLength, 14 + 4 * MAX_VLAN_TAGS + 4 * MAX_MPLS_LABELS);
  assert.equal(atBound.view.vlanId, 16, 'the outer tag names the VLAN');

  const h = runManual();
  for (const f of [deepTags, deepLabels, deepBoth, bottomless]) h.source.feed(f, 1);
  h.source.end();
  assert.equal((await h.done).failure, null);
  const c = h.session.monitor.counters();
  assert.deepEqual(c.skipped, { bad_link_header: 4 });
  assert.equal(c.framesMalformed, 4);
});

/** One frame of each encapsulation, with its link-layer length, for the truncation test. */
const TEMPLATES: { name: string; link: number; frame: Uint8Array; linkHeader: number; ip: Uint8Array }[] = [];
{
  const tcp4 = ipOf(new TcpConversation(V4('10.0.0.1', 40000), V4('10.0.0.2', 80), 0).send(true, ascii('GET / HTTP/1.1\r\n\r\n')).frames[0]!.bytes);
  const udp6 = ipOf(udpPayloadFrame(['2001:db8::1', 5353], ['2001:db8::2', 53], dnsQuery(1, 'a.example', 28)));
  const cases: [string, number, Wrap, Uint8Array][] = [
    ['eth pppoe v4', LinkType.ETHERNET, ether(0x8864, pppoe(0x0021)), tcp4],
    ['eth pppoe pfc v6', LinkType.ETHERNET, ether(0x8864, pppoe(0x57, ip, true)), udp6],
    ['eth pppoe mpls v4', LinkType.ETHERNET, ether(0x8864, pppoe(0x0283, mpls([1, 2]))), tcp4],
    ['eth mpls x3 v6', LinkType.ETHERNET, ether(0x8847, mpls([1, 2, 3])), udp6],
    ['eth mpls-mc v4', LinkType.ETHERNET, ether(0x8848, mpls([7])), tcp4],
    ['eth qinq x3 v4', LinkType.ETHERNET, ether(0x0800, ip, [{ tpid: 0x88a8, vid: 1 }, { tpid: 0x8100, vid: 2 }, { tpid: 0x9100, vid: 3 }]), tcp4],
    ['eth qinq pppoe v6', LinkType.ETHERNET, ether(0x8864, pppoe(0x0057), [{ tpid: 0x88a8, vid: 1 }, { tpid: 0x8100, vid: 2 }]), udp6],
    ['eth vlan mpls v4', LinkType.ETHERNET, ether(0x8847, mpls([9, 10]), vlan(4)), tcp4],
    ['sll vlan pppoe v4', LinkType.LINUX_SLL, sll(0x8864, pppoe(0x0021), vlan(4)), tcp4],
    ['sll2 mpls v6', LinkType.LINUX_SLL2, sll2(0x8847, mpls([5])), udp6],
    ['pktap eth vlan mpls v4', LinkType.PKTAP, (x) => concat([108, 0, 0, 0], [1, 0, 0, 0], new Array<number>(100).fill(0), ether(0x8847, mpls([5]), vlan(3))(x)), tcp4],
  ];
  for (const [name, link, wrap, packet] of cases) {
    const frame = wrap(packet);
    TEMPLATES.push({ name, link, frame, linkHeader: frame.length - packet.length, ip: packet });
  }
}

/** The fields that must not depend on what carried the IP packet. */
const NETWORK_FIELDS = [
  'l3', 'ipTotalLength', 'ipProto', 'ipId', 'fragment', 'ttl', 'src0', 'src1', 'src2', 'src3', 'dst0', 'dst1', 'dst2', 'dst3',
  'srcPort', 'dstPort', 'tcpFlags', 'seq', 'ack', 'window', 'payloadLength', 'payloadWireLength',
] as const;

function networkFields(v: PacketView): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of NETWORK_FIELDS) out[k] = v[k];
  return out;
}

test('every truncation of every encapsulation: the link layer is refused as truncated, then the IP packet decides', async () => {
  const h = runManual();
  const expected = new Float64Array(SKIP_NAMES.length);
  let fed = 0;
  for (const t of TEMPLATES) {
    const full = decode(t.frame, t.link);
    assert.equal(full.code, Skip.OK, t.name);
    assert.equal(full.view.linkHeaderLength, t.linkHeader, `${t.name}: link header length`);
    for (let n = 0; n <= t.frame.length; n++) {
      const ours = decode(t.frame, t.link, n);
      if (n < t.linkHeader) {
        assert.equal(ours.code, Skip.TRUNCATED_LINK, `${t.name} cut at ${n}`);
      } else {
        // The same bytes past the link header, as a bare IP packet, give the same answer.
        const bare = decode(t.ip, LinkType.RAW, n - t.linkHeader);
        assert.equal(ours.code, bare.code, `${t.name} cut at ${n}`);
        if (ours.code === Skip.OK) {
          assert.deepEqual(networkFields(ours.view), networkFields(bare.view), `${t.name} cut at ${n}`);
          assert.equal(ours.view.linkHeaderLength, t.linkHeader);
          assert.equal(ours.view.payloadOffset, bare.view.payloadOffset + t.linkHeader);
        }
      }
      expected[ours.code]!++;
      h.source.feedRaw(Buffer.from(t.frame), 0, n, t.frame.length, t.link, 1000 + fed++);
    }
  }
  h.source.end();
  assert.equal((await h.done).failure, null);
  const c = h.session.monitor.counters();
  assert.equal(c.framesSeen, fed);
  assert.equal(c.framesDecoded, expected[Skip.OK]);
  const want: Record<string, number> = {};
  for (let i = 1; i < expected.length; i++) if (expected[i]! > 0) want[SKIP_NAMES[i]!] = expected[i]!;
  assert.deepEqual(c.skipped, want, 'each cut frame counted once, with the layer it was cut in');
  assert.ok((want.truncated_link_header ?? 0) > 100 && (want.truncated_ip_header ?? 0) > 100, 'cuts reach both layers');
});

/**
 * A reference reading of the link layers, written for clarity rather than speed: where the network
 * header starts and what it is, or the Skip code. Garbage is checked against it.
 */
function referenceLink(f: Uint8Array, cap: number, link: number): { code: number } | { start: number; network: 'ipv4' | 'ipv6' | 'arp' | 'other' } {
  const rd16 = (i: number): number => f[i]! * 256 + f[i + 1]!;
  let p: number;
  let type: number;
  if (link === LinkType.ETHERNET) {
    if (cap < 14) return { code: Skip.TRUNCATED_LINK };
    [type, p] = [rd16(12), 14];
  } else if (link === LinkType.LINUX_SLL) {
    if (cap < 16) return { code: Skip.TRUNCATED_LINK };
    [type, p] = [rd16(14), 16];
  } else {
    if (cap < 20) return { code: Skip.TRUNCATED_LINK };
    [type, p] = [rd16(0), 20];
  }
  const tpids = [0x8100, 0x88a8, 0x9100];
  let tags = 0;
  while (tpids.includes(type)) {
    if (++tags > MAX_VLAN_TAGS) return { code: Skip.BAD_LINK_HEADER };
    if (p + 4 > cap) return { code: Skip.TRUNCATED_LINK };
    type = rd16(p + 2);
    p += 4;
  }
  if (type === 0x8863) return { code: Skip.PPPOE_DISCOVERY };
  if (type === 0x8864) {
    if (p + 7 > cap) return { code: Skip.TRUNCATED_LINK };
    const short = f[p + 6]! % 2 === 1;
    if (!short && p + 8 > cap) return { code: Skip.TRUNCATED_LINK };
    const proto = short ? f[p + 6]! : rd16(p + 6);
    p += short ? 7 : 8;
    const next = new Map([[0x21, 0x0800], [0x57, 0x86dd], [0x281, 0x8847], [0x283, 0x8847]]).get(proto);
    if (next === undefined) return { code: Skip.UNSUPPORTED_PPP_PROTOCOL };
    type = next;
  }
  if (type === 0x8847 || type === 0x8848) {
    let bottom = false;
    for (let n = 1; !bottom; n++) {
      if (n > MAX_MPLS_LABELS) return { code: Skip.BAD_LINK_HEADER };
      if (p + 4 > cap) return { code: Skip.TRUNCATED_LINK };
      bottom = (f[p + 2]! & 1) === 1;
      p += 4;
    }
    if (p >= cap) return { code: Skip.TRUNCATED_IP };
    const version = f[p]! >> 4;
    if (version !== 4 && version !== 6) return { code: Skip.UNSUPPORTED_MPLS_PAYLOAD };
    type = version === 4 ? 0x0800 : 0x86dd;
  }
  if (type < 0x0600) return { code: Skip.UNSUPPORTED_ETHERTYPE };
  return { start: p, network: type === 0x0800 ? 'ipv4' : type === 0x86dd ? 'ipv6' : type === 0x0806 ? 'arp' : 'other' };
}

test('garbage under every encapsulation: never throws, and every frame is decoded or skipped as the reference says', async () => {
  const rnd = prng(0xe0ca5);
  const h = runManual();
  const prefixes = [
    ether(0x8864)(new Uint8Array(0)), ether(0x8847)(new Uint8Array(0)), ether(0x8848)(new Uint8Array(0)),
    ether(0x8863)(new Uint8Array(0)), ether(0x8100)(new Uint8Array(0)), ether(0x88a8)(new Uint8Array(0)),
    sll(0x8864)(new Uint8Array(0)), sll2(0x8847)(new Uint8Array(0)), ether(0x8864, pppoe(0x0021), vlan(1))(new Uint8Array(0)),
  ];
  const codes = new Float64Array(SKIP_NAMES.length);
  let fed = 0;
  for (let i = 0; i < 30_000; i++) {
    let frame: Uint8Array;
    let link: number;
    if (i % 3 !== 1) {
      // A real encapsulation header followed by noise, or by a run of 4-byte units that continue the
      // stack (a TPID for VLAN tags, bottom-of-stack clear for MPLS) as long as the run lasts.
      const head = prefixes[i % prefixes.length]!;
      const noise = Array.from({ length: Math.floor(rnd() * 120) }, () => {
        const r = rnd();
        return r < 0.1 ? 0x81 : r < 0.15 ? 0x88 : r < 0.2 ? 0x45 : r < 0.25 ? 0x60 : Math.floor(rnd() * 256);
      });
      const run: number[] = [];
      if (i % 3 === 2) {
        const vlanRun = rnd() < 0.5;
        for (let k = Math.floor(rnd() * 20); k > 0; k--) {
          const unit = [0, 1, 2, 3].map(() => Math.floor(rnd() * 256));
          if (vlanRun) [unit[2], unit[3]] = [0x81, 0x00];
          else unit[2] = unit[2]! & 0xfe;
          run.push(...unit);
        }
      }
      frame = concat(head, run, noise);
      link = head === prefixes[6] ? LinkType.LINUX_SLL : head === prefixes[7] ? LinkType.LINUX_SLL2 : LinkType.ETHERNET;
    } else {
      // A valid frame with a few bytes flipped.
      const t = TEMPLATES[i % TEMPLATES.length]!;
      if (t.link === LinkType.PKTAP) continue;
      frame = t.frame.slice();
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) frame[Math.floor(rnd() * Math.min(frame.length, t.linkHeader + 24))] = Math.floor(rnd() * 256);
      link = t.link;
    }
    const cap = rnd() < 0.2 ? Math.floor(rnd() * (frame.length + 1)) : frame.length;
    const label = `#${i} link ${link} [${Buffer.from(frame.subarray(0, cap)).toString('hex')}]`;
    const ours = decode(frame, link, cap);
    const ref = referenceLink(frame, cap, link);
    if ('code' in ref) {
      assert.equal(ours.code, ref.code, label);
    } else if (ref.network === 'ipv4' || ref.network === 'ipv6') {
      const bare = decode(frame.subarray(ref.start), ref.network === 'ipv4' ? LinkType.IPV4 : LinkType.IPV6, cap - ref.start);
      assert.equal(ours.code, bare.code, label);
      if (ours.code === Skip.OK) {
        assert.equal(ours.view.linkHeaderLength, ref.start, label);
        assert.deepEqual(networkFields(ours.view), networkFields(bare.view), label);
        assert.ok(ours.view.payloadOffset + ours.view.payloadLength <= cap, label);
      }
    } else if (ref.network === 'arp') {
      assert.ok(ours.code === Skip.OK || ours.code === Skip.BAD_ARP, label);
      if (ours.code === Skip.OK) assert.equal(ours.view.l3, L3.ARP, label);
    } else {
      assert.equal(ours.code, Skip.UNSUPPORTED_ETHERTYPE, label);
    }
    codes[ours.code]!++;
    h.source.feedRaw(Buffer.from(frame), 0, cap, frame.length, link, 1000 + fed++);
  }
  h.source.end();
  assert.equal((await h.done).failure, null);
  const c = h.session.monitor.counters();
  assert.equal(c.framesSeen, fed);
  assert.equal(c.skipped.internal_error, undefined, 'nothing threw');
  // Tracking may still refuse a decoded frame (a later fragment whose first one never came), nothing else.
  assert.equal(c.framesDecoded + (c.skipped.unmatched_fragment ?? 0), codes[Skip.OK]);
  for (let i = 1; i < codes.length; i++) {
    if (i === Skip.UNMATCHED_FRAGMENT) continue;
    assert.equal(c.skipped[SKIP_NAMES[i]!] ?? 0, codes[i], SKIP_NAMES[i]);
  }
  for (const reason of ['pppoe_discovery', 'unsupported_ppp_protocol', 'unsupported_mpls_payload', 'bad_link_header', 'truncated_link_header']) {
    assert.ok((c.skipped[reason] ?? 0) > 0, `garbage reached ${reason}`);
  }
  assert.ok(c.framesDecoded > 3000, `only ${c.framesDecoded} garbled frames decoded`);
});
