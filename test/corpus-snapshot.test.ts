// Snapshots built while real captures replay: they account for every frame, agree with the events and with
// tshark, and keep their generation while nothing changes.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ReplaySource } from '../src/capture/replay-source.js';
import type { ConnectionRow, Snapshot } from '../src/core/snapshot.js';
import { DpiEngine } from '../src/dpi/engine.js';
import { defaultClassifiers } from '../src/dpi/default-classifiers.js';
import { Session } from '../src/pipeline/session.js';
import { CORPUS, manifest, oracle, replayWithSnapshots, summary } from './support/corpus.js';
import { connectionRow } from '../src/pipeline/rows.js';
import { MemorySink } from './support/session.js';

const packets = (rows: readonly ConnectionRow[]): number => rows.reduce((n, r) => n + r.packetsSent + r.packetsReceived, 0);

test('ndpi__sites: every snapshot accounts for every decoded frame; the last one matches the events and tshark', async () => {
  const id = 'ndpi__sites.pcapng';
  const { snaps, sink } = await replayWithSnapshots(id);
  assert.ok(snaps.length > 10, `${snaps.length} snapshots`);
  for (const s of snaps) {
    // Open rows plus the closed history hold every frame decoded so far, each once.
    assert.equal(packets(s.connections) + packets(s.recentlyClosed), s.capture.framesDecoded, `generation ${s.generation}`);
    assert.equal(s.source.kind, 'replay');
    for (let i = 1; i < s.connections.length; i++) assert.ok(s.connections[i]!.id !== s.connections[i - 1]!.id);
  }
  for (let i = 1; i < snaps.length; i++) {
    const [a, b] = [snaps[i - 1]!, snaps[i]!];
    assert.ok(b.generation > a.generation || b === a, 'a generation is never reused for other content');
    assert.ok(b.nowMicros >= a.nowMicros);
  }
  const last = snaps.at(-1)!;
  assert.equal(last.connections.length, 0, 'everything closed at the end of the file');
  assert.equal(last.capture.framesSeen, 699);
  assert.equal(last.connectionsCreated, last.recentlyClosed.length);

  // The closed rows are what the closed events say, field for field.
  const closed = sink.events.filter((e) => e.event === 'connection_closed');
  assert.equal(closed.length, last.recentlyClosed.length);
  closed.forEach((e, i) => {
    const r = last.recentlyClosed[i]!;
    assert.deepEqual(
      [e.protocol, e.source_ip, e.source_port, e.destination_ip, e.destination_port, e.bytes_sent, e.bytes_received, e.packets_sent, e.packets_received, e.state, e.dpi_protocol, e.dpi_domain],
      [r.protocol, r.localAddr, r.localPort, r.remoteAddr, r.remotePort, r.bytesSent, r.bytesReceived, r.packetsSent, r.packetsReceived, r.state, r.app?.protocol, r.app?.domain],
    );
  });

  // And with tshark: its conversations and the server names it decoded.
  const conv = oracle(id, 'conv.tsv');
  const s = summary(id) as { tls_sni: string[]; quic_sni: string[]; tcp_rustnet_rule_totals: { rewind_segments: number } };
  assert.equal(last.recentlyClosed.filter((r) => r.protocol === 'TCP' || r.protocol === 'UDP').length, conv.length);
  const names = new Set(last.recentlyClosed.map((r) => r.app?.details.sni).filter((n) => n !== undefined));
  assert.deepEqual([...names].sort(), [...new Set([...s.tls_sni, ...s.quic_sni])].sort());
  assert.equal(last.tcp.retransmits + last.tcp.outOfOrder, s.tcp_rustnet_rule_totals.rewind_segments);
});

test('a snapshot row of a flow still being inspected is a copy: later packets do not change it', async () => {
  // What each row's DPI details were when its snapshot was rendered, to compare after the replay.
  const atRender: { row: ConnectionRow; json: string }[] = [];
  const sink = new MemorySink();
  const session = new Session(new ReplaySource(path.join(CORPUS, 'pcap', 'zeek__dns-edns-ecs.pcap'), ''), () => [sink], {
    maxConnections: 100_000, showLocalhost: true, localAddresses: null,
    inspector: new DpiEngine(defaultClassifiers()), tickIntervalMs: 1000,
    readers: [{ render: (snap) => { for (const row of snap.connections) atRender.push({ row, json: JSON.stringify(row.app) }); } }],
  });
  session.open();
  await session.run();
  for (const { row, json } of atRender) assert.equal(JSON.stringify(row.app), json, `row ${row.id} changed after its snapshot`);
  // The check means something only if some flow did learn more after a snapshot showed it.
  const final = new Map(sink.events.filter((e) => e.event === 'connection_closed').map((e) => [`${e.source_port}/${e.destination_port}/${e.destination_ip}`, JSON.stringify(e.dpi_details)]));
  const grew = atRender.filter(({ row }) => row.app !== null &&
    final.get(`${row.localPort}/${row.remotePort}/${row.remoteAddr}`) !== JSON.stringify(row.app.details));
  assert.ok(grew.length > 0, 'some flow gained DPI details after a snapshot');
});

test('rows reused between snapshots are exactly the rows a rebuild would give, on every capture of the corpus', async (t) => {
  const files = manifest().map((r) => r.id!);
  let reused = 0;
  let compared = 0;
  for (const id of files) {
    const sink = new MemorySink();
    let session: Session | null = null;
    let previous: Snapshot | null = null;
    const check = (s: Snapshot): void => {
      const live = session!.monitor.table.list;
      assert.equal(s.connections.length, live.length);
      const before = new Set(previous?.connections ?? []);
      for (let i = 0; i < live.length; i++) {
        const row = s.connections[i]!;
        const fresh = connectionRow(live[i]!, s.nowMicros, session!.side, true);
        assert.deepEqual(row, fresh, `${id}: row of connection ${row.id} at ${s.nowMicros}`);
        if (before.has(row)) reused++;
        compared++;
      }
      previous = s;
    };
    session = new Session(new ReplaySource(path.join(CORPUS, 'pcap', id), ''), () => [sink], {
      maxConnections: 100_000, showLocalhost: true, localAddresses: null,
      inspector: new DpiEngine(defaultClassifiers()), tickIntervalMs: 1000,
      readers: [{ render: check }],
    });
    session.open();
    // Stop before the end-of-file close, while rows are still open (the last ticks are checked as they come).
    const end = await session.run();
    assert.equal(end.failure, null);
  }
  t.diagnostic(`${compared} rows compared, ${reused} of them reused from the previous snapshot`);
  assert.ok(compared > 1000, `${compared} rows compared`);
  assert.ok(reused > 100, `${reused} rows reused`);
});
