// Hostnames end to end: names seen in DNS answers on the wire label later connections to those addresses
// (passive DNS, no query sent), checked against tshark's reading of the same capture.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CORPUS, oracle } from './support/corpus.js';
import { runCli } from './support/cli.js';
import { DnsServer } from './support/dns-server.js';

test('zeek__wikipedia: every TCP connection to an address a DNS answer gave carries the name asked for', async () => {
  const id = 'zeek__wikipedia.pcap';
  // tshark: the first A answer for each address, with the name queried and when.
  const answered = new Map<string, { name: string; frame: number }>();
  for (const r of oracle(id, 'dns.tsv')) {
    if (r.app !== 'DNS' || r.is_response !== '1') continue;
    for (const a of (r.a ?? '').split(',').filter((x) => x !== '')) {
      if (!answered.has(a)) answered.set(a, { name: r.qry_name!, frame: Number(r.frame) });
    }
  }
  assert.ok(answered.size > 0, 'the capture has DNS answers');
  const r = await runCli(['--read', path.join(CORPUS, 'pcap', id), '--no-tui', '--show-localhost']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const tcp = events.filter((e) => e.event === 'connection_closed' && e.protocol === 'TCP' && answered.has(String(e.destination_ip)));
  assert.ok(tcp.length >= 8, `${tcp.length} TCP connections to answered addresses`);
  for (const e of tcp) {
    assert.equal(e.destination_hostname, answered.get(String(e.destination_ip))!.name, `${String(e.destination_ip)}:${String(e.destination_port)}`);
  }
  // Nothing was looked up: without --resolve-dns no name comes from anywhere but the capture.
  const named = new Set(events.map((e) => e.destination_hostname).filter((n) => n !== undefined));
  const asked = new Set(oracle(id, 'dns.tsv').map((row) => row.qry_name));
  for (const n of named) assert.ok(asked.has(String(n)), `${String(n)} was asked for in the capture`);
});

test('with --no-dpi there are no DNS answers to learn from, so no names', async () => {
  const r = await runCli(['--read', path.join(CORPUS, 'pcap', 'zeek__wikipedia.pcap'), '--no-tui', '--show-localhost', '--no-dpi']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /hostname/);
});

test('--resolve-dns on a short replay: names that come back after the last packet still reach the closed events', async () => {
  // The capture lasts well under a second; the resolver answers 400 ms after each query, so every answer
  // arrives after the input ended: the session waits for them (at most 2 s) before closing what is open.
  const server = await DnsServer.start({ names: { '178.62.197.130': 'curl.example.test' }, delayMs: 400 });
  try {
    const r = await runCli(['--read', path.join(CORPUS, 'pcap', 'ndpi__443-curl.pcap'), '--no-tui', '--resolve-dns', '--dns-server', server.server]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const closed = events.filter((e) => e.event === 'connection_closed' && e.destination_ip === '178.62.197.130');
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.destination_hostname, 'curl.example.test');
    assert.ok(server.received >= 1, 'the name came from our own server');
  } finally {
    await server.close();
  }
});
