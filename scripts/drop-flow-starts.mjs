#!/usr/bin/env node
// Writes a copy of a classic pcap without the first packets of each TCP (and optionally UDP) flow: a capture that starts mid-stream.

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ipStart } from './lib/pcap-ip-start.mjs';

const USAGE = `usage: node scripts/drop-flow-starts.mjs IN OUT [--drop N] [--udp]

Copies the classic pcap IN to OUT, leaving out the first N packets (default 4) of every TCP flow, so
that the copy looks like a capture started while those connections were already open: no SYN, and
with N >= 4 usually no ClientHello or first request either. A flow is the IP protocol and its two
address:port ends, in either direction. With --udp, UDP flows lose their first N datagrams too.
Everything else (ARP, ICMP, IP fragments after the first, frames that do not decode) is copied as is.

Link types: Ethernet (with VLAN tags), raw IP (12, 101, 228, 229), Linux SLL and SLL2, BSD loopback, PKTAP.
pcapng is not read: convert it first (editcap -F pcap IN OUT).

  --drop N   packets to leave out at the start of each flow (default 4)
  --udp      also drop the first N datagrams of each UDP flow
  -h, --help show this help`;

function fail(message) {
  process.stderr.write(`drop-flow-starts: ${message}\n`);
  process.exit(2);
}

let values;
let positionals;
try {
  ({ values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      drop: { type: 'string', default: '4' },
      udp: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  fail(`${String(err.message).split(/\.\s/)[0]} (see --help)`);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (positionals.length !== 2) fail('IN and OUT are required (see --help)');
const drop = Number(values.drop);
if (!Number.isInteger(drop) || drop < 0 || drop > 1_000_000) fail(`--drop must be an integer from 0 to 1000000, not "${values.drop}"`);
const [input, output] = positionals;

let data;
try {
  data = fs.readFileSync(input);
} catch (err) {
  fail(`cannot read ${input}: ${err.message}`);
}
if (data.length < 24) fail(`${input} is too short for a pcap file`);
const magic = data.readUInt32LE(0);
const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
if (!le && !be) fail(`${input} is not a classic pcap file (pcapng? convert it with editcap -F pcap)`);
const u32 = (o) => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
const linkType = u32(20) & 0xffff;

/** "proto|end|end" for a TCP or UDP packet (ends sorted), or null. */
function flowKey(s, e) {
  const ip = ipStart(data, s, e, linkType);
  if (ip < 0 || ip >= e) return null;
  const version = data[ip] >> 4;
  let proto;
  let p;
  let src;
  let dst;
  if (version === 4 && ip + 20 <= e) {
    proto = data[ip + 9];
    // A fragment after the first carries no ports: copied as is.
    if ((data.readUInt16BE(ip + 6) & 0x1fff) !== 0) return null;
    p = ip + (data[ip] & 15) * 4;
    src = data.subarray(ip + 12, ip + 16).join('.');
    dst = data.subarray(ip + 16, ip + 20).join('.');
  } else if (version === 6 && ip + 40 <= e) {
    proto = data[ip + 6];
    p = ip + 40;
    src = data.subarray(ip + 8, ip + 24).toString('hex');
    dst = data.subarray(ip + 24, ip + 40).toString('hex');
    // Hop-by-hop, routing and destination options come before the transport header.
    while ((proto === 0 || proto === 43 || proto === 60) && p + 2 <= e) {
      proto = data[p];
      p += (data[p + 1] + 1) * 8;
    }
  } else {
    return null;
  }
  if (!(proto === 6 || (proto === 17 && values.udp)) || p + 4 > e) return null;
  const a = `${src}|${data.readUInt16BE(p)}`;
  const b = `${dst}|${data.readUInt16BE(p + 2)}`;
  return `${proto}|${a < b ? `${a}|${b}` : `${b}|${a}`}`;
}

const seen = new Map();
const parts = [data.subarray(0, 24)];
let o = 24;
let kept = 0;
let dropped = 0;
while (o + 16 <= data.length) {
  const incl = u32(o + 8);
  const end = o + 16 + incl;
  if (end > data.length) break;
  const key = flowKey(o + 16, end);
  let keep = true;
  if (key !== null) {
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    keep = n >= drop;
  }
  if (keep) {
    parts.push(data.subarray(o, end));
    kept++;
  } else {
    dropped++;
  }
  o = end;
}
try {
  fs.writeFileSync(output, Buffer.concat(parts));
} catch (err) {
  fail(`cannot write ${output}: ${err.message}`);
}
process.stderr.write(`drop-flow-starts: ${kept} packets kept, ${dropped} dropped, ${seen.size} flows\n`);
