// End to end over every corpus capture: our connections, packets, bytes and TCP analytics against tshark.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CORPUS, manifest, oracle, replay, type Row } from './support/corpus.js';
import type { ConnectionEvent } from '../src/core/event-sink.js';

/** Link header bytes per frame by MANIFEST encapsulation (our byte counts = link header + IP length). */
const LINK_HEADER: Record<string, number> = { ether: 14, 'linux-sll': 16, 'linux-sll2': 20, null: 4, rawip: 0, rawip4: 0 };
/** Files whose link header differs from the encapsulation default. */
const LINK_HEADER_OVERRIDE: Record<string, number> = { 'zeek__http-vlan-0.pcap': 18 };
/** tshark counts a fragmented datagram only on its last fragment; we count every fragment (corpus README). */
const FRAGMENTED = new Set(['ndpi__dns_fragmented.pcap', 'zeek__dns-edns-ecs.pcap']);

interface Agg { framesAB: number; framesBA: number; ipAB: number; ipBA: number; rows: Row[] }

function tupleKey(proto: string, a: string, ap: string, b: string, bp: string): string {
  return a < b || (a === b && Number(ap) <= Number(bp)) ? `${proto} ${a} ${ap} ${b} ${bp}` : `${proto} ${b} ${bp} ${a} ${ap}`;
}

for (const m of manifest()) {
  const id = m.id!;
  test(`conversations match tshark: ${id}`, async () => {
    const { events, monitor } = await replay(path.join(CORPUS, m.file!));
    const counters = monitor.counters();
    assert.equal(counters.framesSeen, Number(m.packets), 'every frame is seen');

    // Every new_connection has exactly one connection_closed after it (the log is a complete record).
    const opened = events.filter((e) => e.event === 'new_connection').length;
    const closedEvents = events.filter((e) => e.event === 'connection_closed');
    assert.equal(closedEvents.length, opened, 'one closed event per new connection');

    // Ours, aggregated per unordered 5-tuple (tshark may split a tuple into several streams).
    const ours = new Map<string, { e: ConnectionEvent; sent: number; recv: number; bs: number; br: number; retx: number; ooo: number; fast: number }[]>();
    for (const e of closedEvents) {
      if (e.protocol !== 'TCP' && e.protocol !== 'UDP') continue;
      const k = tupleKey(e.protocol as string, e.source_ip as string, String(e.source_port), e.destination_ip as string, String(e.destination_port));
      const list = ours.get(k) ?? [];
      list.push({
        e, sent: e.packets_sent as number, recv: e.packets_received as number, bs: e.bytes_sent as number, br: e.bytes_received as number,
        retx: (e.tcp_retransmits as number) ?? 0, ooo: (e.tcp_out_of_order as number) ?? 0, fast: (e.tcp_fast_retransmits as number) ?? 0,
      });
      ours.set(k, list);
    }
    const theirs = new Map<string, Agg>();
    for (const r of oracle(id, 'conv.tsv')) {
      const k = tupleKey(r.proto!, r.addr_a!, r.port_a!, r.addr_b!, r.port_b!);
      const agg = theirs.get(k) ?? { framesAB: 0, framesBA: 0, ipAB: 0, ipBA: 0, rows: [] };
      // Orient every stream of the tuple the same way as the first one.
      const first = agg.rows[0] ?? r;
      const same = first.addr_a === r.addr_a && first.port_a === r.port_a;
      agg.framesAB += Number(same ? r.frames_a_to_b : r.frames_b_to_a);
      agg.framesBA += Number(same ? r.frames_b_to_a : r.frames_a_to_b);
      agg.ipAB += Number(same ? r.ip_bytes_a_to_b : r.ip_bytes_b_to_a);
      agg.ipBA += Number(same ? r.ip_bytes_b_to_a : r.ip_bytes_a_to_b);
      agg.rows.push(r);
      theirs.set(k, agg);
    }
    const missing = [...theirs.keys()].filter((k) => !ours.has(k));
    const extra = [...ours.keys()].filter((k) => !theirs.has(k));
    assert.deepEqual(missing, [], 'conversations tshark saw that we did not');
    assert.deepEqual(extra, [], 'conversations we report that tshark did not');

    const linkHeader = LINK_HEADER_OVERRIDE[id] ?? LINK_HEADER[m.encapsulation!];
    for (const [k, agg] of theirs) {
      const list = ours.get(k)!;
      const first = agg.rows[0]!;
      // Orient each of our connections against tshark's A of the tuple's first stream.
      const isA = (e: ConnectionEvent): boolean => e.source_ip === first.addr_a && String(e.source_port) === first.port_a;
      const sum = { framesAB: 0, framesBA: 0, bytesAB: 0, bytesBA: 0 };
      for (const o of list) {
        const a = isA(o.e);
        sum.framesAB += a ? o.sent : o.recv;
        sum.framesBA += a ? o.recv : o.sent;
        sum.bytesAB += a ? o.bs : o.br;
        sum.bytesBA += a ? o.br : o.bs;
      }
      if (FRAGMENTED.has(id)) {
        assert.ok(sum.framesAB >= agg.framesAB && sum.framesBA >= agg.framesBA, `${k}: fragments counted at least as tshark does`);
        continue;
      }
      assert.equal(sum.framesAB, agg.framesAB, `${k}: packets A→B`);
      assert.equal(sum.framesBA, agg.framesBA, `${k}: packets B→A`);
      if (linkHeader !== undefined) {
        assert.equal(sum.bytesAB, agg.ipAB + agg.framesAB * linkHeader, `${k}: bytes A→B = IP bytes + link headers`);
        assert.equal(sum.bytesBA, agg.ipBA + agg.framesBA * linkHeader, `${k}: bytes B→A = IP bytes + link headers`);
      } else {
        assert.ok(sum.bytesAB >= agg.ipAB && sum.bytesBA >= agg.ipBA, `${k}: bytes at least the IP bytes`);
      }
    }

    // TCP analytics per stream, read with our local side. Streams and our connections of one tuple
    // pair up in time order when their numbers agree; otherwise the tuple is compared as a whole.
    const rulesByTuple = new Map<string, Row[]>();
    for (const r of oracle(id, 'tcp_rustnet_rules.tsv')) {
      const k = tupleKey('TCP', r.addr_a!, r.port_a!, r.addr_b!, r.port_b!);
      rulesByTuple.set(k, [...(rulesByTuple.get(k) ?? []), r]);
    }
    for (const [k, rows] of rulesByTuple) {
      const list = ours.get(k)!;
      const expected = { retx: 0, ooo: 0, fast: 0 };
      rows.forEach((r, i) => {
        const e = (list.length === rows.length ? list[i]! : list[0]!).e;
        const side = e.source_ip === r.addr_a && String(e.source_port) === r.port_a ? 'localA' : 'localB';
        expected.retx += Number(r[`${side}_retransmits`]);
        expected.ooo += Number(r[`${side}_out_of_order`]);
        expected.fast += Number(r[`${side}_fast_retransmits`]);
      });
      const actual = { retx: 0, ooo: 0, fast: 0 };
      for (const o of list) { actual.retx += o.retx; actual.ooo += o.ooo; actual.fast += o.fast; }
      assert.deepEqual(actual, expected, `${k}: TCP analytics equal RustNet's rules`);
    }
  });
}
