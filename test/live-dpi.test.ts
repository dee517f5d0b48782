// Live capture with deep packet inspection: HTTP, a TLS ClientHello and DNS over loopback, as a user sees them.

import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as tls from 'node:tls';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { readJsonl, startCli, waitForEvent, withTimeout, type RunningCli } from './support/cli.js';

const STEP_MS = 8000;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-live-dpi-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function listen(server: net.Server | http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A DNS query for `name` (type A, class IN) with a fixed id (RFC 1035 §4.1). */
function dnsQuery(name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

/** The answer: the question echoed, one A record 127.0.0.9 pointing back at the question name. */
function dnsAnswer(query: Buffer): Buffer {
  const a = Buffer.from(query);
  a[2] = 0x81; a[3] = 0x80; // response, recursion desired/available, NOERROR
  a[7] = 1; // one answer
  return Buffer.concat([a, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 9])]);
}

function closed(events: ConnectionEvent[], port: number): ConnectionEvent {
  const e = events.find((x) => x.event === 'connection_closed' && x.destination_port === port);
  assert.ok(e !== undefined, `a connection_closed event to port ${port}`);
  return e;
}

test('live on lo: HTTP host and path, TLS SNI and ALPN, and a DNS name and answer are reported', async () => {
  const log = path.join(TMP, 'events.jsonl');
  const web = http.createServer((_req, res) => res.end('ok'));
  // Accepts and reads but never answers: enough for the client to send its ClientHello.
  const silent = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); });
  const dns = dgram.createSocket('udp4');
  let cli: RunningCli | undefined;
  try {
    const webPort = await listen(web);
    const tlsPort = await listen(silent);
    // Our own server on an ephemeral port of 127.0.0.1 (nothing goes to the system resolver): the
    // message's structure, not port 53, has to identify it as DNS.
    const dnsPort = await new Promise<number>((resolve, reject) => {
      dns.once('error', reject);
      dns.bind(0, '127.0.0.1', () => resolve(dns.address().port));
    });
    dns.on('message', (msg, rinfo) => dns.send(dnsAnswer(msg), rinfo.port, rinfo.address));
    cli = await startCli(['--no-tui', '-i', 'lo', '--show-localhost', '--json-log', log, '-r', '100']);

    await withTimeout(new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: webPort, path: '/hello?x=1', headers: { Host: 'web.example.test' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    }), STEP_MS, 'HTTP exchange');

    const client = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'sni.example.test', ALPNProtocols: ['h2', 'http/1.1'] });
    client.on('error', () => {});
    await waitForEvent(log, (e) => e.event === 'new_connection' && e.destination_port === tlsPort, STEP_MS);

    const query = dnsQuery('svc.example.test');
    const resolver = dgram.createSocket('udp4');
    await withTimeout(new Promise<void>((resolve) => {
      resolver.on('message', () => resolve());
      resolver.send(query, dnsPort, '127.0.0.1');
    }), STEP_MS, 'DNS answer');
    resolver.close();
    await waitForEvent(log, (e) => e.event === 'new_connection' && e.destination_port === dnsPort, STEP_MS);
    client.destroy();

    const exit = await cli.stop('SIGINT');
    assert.equal(exit.code, 0, exit.stderr);
    const events = readJsonl(log);

    const h = closed(events, webPort);
    assert.equal(h.dpi_protocol, 'HTTP');
    assert.equal(h.dpi_domain, 'web.example.test');
    assert.deepEqual(h.dpi_details, { http_method: 'GET', http_path: '/hello?x=1', http_host: 'web.example.test', http_status: 200 });

    const t = closed(events, tlsPort);
    assert.equal(t.dpi_protocol, 'HTTPS', 'ALPN names HTTP, so HTTPS on any port');
    assert.equal(t.dpi_domain, 'sni.example.test');
    const td = t.dpi_details as Record<string, unknown>;
    assert.equal(td.sni, 'sni.example.test');
    assert.deepEqual(td.alpn, ['h2', 'http/1.1']);
    assert.equal(td.tls_version, 'TLS 1.3');

    const d = closed(events, dnsPort);
    assert.equal(d.dpi_protocol, 'DNS');
    assert.equal(d.dpi_domain, 'svc.example.test');
    assert.equal(d.state, 'DNS_RESPONSE');
    assert.deepEqual(d.dpi_details, { dns_queries: ['svc.example.test'], dns_answers: ['127.0.0.9'], dns_rcode: 'NOERROR' });
  } finally {
    cli?.kill();
    web.close();
    silent.close();
    dns.close();
  }
});
