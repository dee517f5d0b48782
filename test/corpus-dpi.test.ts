// End to end over every corpus capture: what DPI reports in our events equals what tshark found.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CORPUS, manifest, oracle, replay, summary } from './support/corpus.js';
import type { ConnectionEvent } from '../src/core/event-sink.js';

interface Found {
  tls_sni: Set<string>;
  quic_sni: Set<string>;
  http_hosts: Set<string>;
  dns_query_names: Set<string>;
  dns_answers: Set<string>;
  ssh_banners: Set<string>;
}

function collect(events: ConnectionEvent[]): Found {
  const f: Found = { tls_sni: new Set(), quic_sni: new Set(), http_hosts: new Set(), dns_query_names: new Set(), dns_answers: new Set(), ssh_banners: new Set() };
  for (const e of events) {
    if (e.event !== 'connection_closed') continue;
    const d = (e.dpi_details ?? {}) as Record<string, unknown>;
    const p = e.dpi_protocol;
    if ((p === 'HTTPS' || p === 'TLS') && typeof d.sni === 'string') f.tls_sni.add(d.sni);
    if (p === 'QUIC' && typeof d.sni === 'string') f.quic_sni.add(d.sni);
    if (p === 'HTTP' && e.protocol === 'TCP' && typeof d.http_host === 'string') f.http_hosts.add(d.http_host);
    // A CONNECT tunnel carries TLS after the HTTP request: both are reported on one connection.
    if ((p === 'HTTPS' || p === 'TLS') && typeof d.http_host === 'string') f.http_hosts.add(d.http_host);
    for (const q of (d.dns_queries as string[] | undefined) ?? []) f.dns_query_names.add(q);
    for (const a of (d.dns_answers as string[] | undefined) ?? []) f.dns_answers.add(a);
    for (const k of ['ssh_client_banner', 'ssh_server_banner']) if (typeof d[k] === 'string') f.ssh_banners.add(d[k] as string);
  }
  return f;
}

/** Differences between two sets, listed for the test output. */
function diff(name: string, ours: Set<string>, theirs: Iterable<string>): string[] {
  const t = new Set(theirs);
  const out: string[] = [];
  for (const x of t) if (!ours.has(x)) out.push(`${name}: tshark has '${x}', we do not`);
  for (const x of ours) if (!t.has(x)) out.push(`${name}: we report '${x}', tshark does not`);
  return out;
}

/**
 * Where tshark is wrong or out of scope for a file, the reason is written here and the field skipped
 * for that file only.
 */
const EXCEPTIONS: Record<string, Partial<Record<keyof Found, string>>> = {};

for (const m of manifest()) {
  const id = m.id!;
  test(`DPI findings match tshark: ${id}`, async () => {
    const s = summary(id) as Record<string, string[]>;
    const { events } = await replay(path.join(CORPUS, m.file!));
    const f = collect(events);
    // tshark's A/AAAA/PTR fields and its CNAME column together are every name or address a DNS answer gave.
    const answers = new Set<string>([...s.dns_answer_a!, ...s.dns_answer_aaaa!, ...s.dns_answer_ptr!]);
    for (const r of oracle(id, 'dns.tsv')) {
      if (r.inside_icmp_error === '1') continue;
      for (const c of (r.cname ?? '').split(',')) if (c !== '') answers.add(c);
    }
    const problems = [
      ...diff('tls_sni', f.tls_sni, s.tls_sni!),
      ...diff('quic_sni', f.quic_sni, s.quic_sni!),
      ...diff('http_hosts', f.http_hosts, s.http_hosts!),
      ...diff('dns_query_names', f.dns_query_names, s.dns_query_names!),
      ...diff('dns_answers', f.dns_answers, answers),
      ...diff('ssh_banners', f.ssh_banners, s.ssh_banners!),
    ].filter((p) => EXCEPTIONS[id]?.[p.split(':')[0] as keyof Found] === undefined);
    assert.deepEqual(problems, [], `${id}:\n  ${problems.join('\n  ')}`);
  });
}

test('with --no-dpi no event carries DPI fields', async () => {
  const { events } = await replay(path.join(CORPUS, 'pcap', 'ndpi__sites.pcapng'), { dpi: false });
  assert.ok(events.length > 0);
  for (const e of events) {
    assert.equal(e.dpi_protocol, undefined);
    assert.equal(e.dpi_details, undefined);
  }
});
