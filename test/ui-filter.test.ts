// The Overview filter: parsing (keywords, regex, invalid regex, AND, case) and matching on realistic rows.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, matchesFilter, parseFilter } from '../src/ui/filter.js';
import { connectionRow as conn } from './support/rows.js';

// A small realistic table: browser HTTPS, an incoming SSH session, DNS, QUIC, ICMP, a containerised service.
const firefox = conn({
  id: 1, processName: 'firefox', pid: 4242, remoteHostname: 'www.google.com', remoteAddr: '142.250.74.36',
  app: { protocol: 'HTTPS', domain: 'www.google.com', details: { sni: 'www.google.com', tls_version: 'TLS 1.3' } },
});
const sshIn = conn({
  id: 2, direction: 'incoming', localPort: 22, remoteAddr: '203.0.113.7', remotePort: 51515, service: 'ssh',
  processName: 'sshd', pid: 812, processUnit: 'ssh.service',
  app: { protocol: 'SSH', domain: undefined, details: { ssh_client_banner: 'SSH-2.0-PuTTY_Release_0.79', ssh_server_banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2', ssh_software: 'OpenSSH_9.2p1' } },
});
const dns = conn({
  id: 3, protocol: 'UDP', localPort: 40000, remoteAddr: '1.1.1.1', remotePort: 53, state: 'UDP_ACTIVE',
  service: 'domain', processName: 'systemd-resolved', pid: 300, processUnit: 'systemd-resolved.service',
  app: { protocol: 'DNS', domain: 'example.org', details: { dns_queries: ['example.org'] } },
});
const quic = conn({
  id: 4, protocol: 'UDP', family: 6, localAddr: '2001:db8::10', localPort: 55000, remoteAddr: '2a00:1450:4001::200e',
  state: 'QUIC_CONNECTED', processName: 'chrome', pid: 5000,
  app: { protocol: 'QUIC', domain: 'youtube.com', details: { sni: 'youtube.com' } },
});
const ping = conn({
  id: 5, protocol: 'ICMP', hasPorts: false, localPort: 0, remotePort: 0, remoteAddr: '8.8.8.8', state: 'ECHO_REQUEST',
  service: undefined, direction: undefined,
});
const nginx = conn({
  id: 6, direction: 'incoming', localPort: 8080, remoteAddr: '198.51.100.20', remotePort: 60000, service: 'http-alt',
  state: 'FIN_WAIT2', processName: 'nginx', pid: 77, containerName: 'web-1', containerId: '3f2a9c0d1e',
  app: { protocol: 'HTTP', domain: 'shop.example.com', details: { http_host: 'shop.example.com' } },
});
const unknownDir = conn({
  id: 7, direction: undefined, localPort: 5353, remotePort: 9999, remoteAddr: '10.0.0.5', service: undefined,
  protocol: 'UDP', state: 'UDP_IDLE', localHostname: 'laptop.lan',
});
const ALL = [firefox, sshIn, dns, quic, ping, nginx, unknownDir];

function ids(filter: string): number[] {
  const f = parseFilter(filter);
  return ALL.filter((r) => matchesFilter(f, r)).map((r) => r.id);
}

test('parse: every keyword becomes its field, keywords are case-insensitive, unknown prefixes stay free text', () => {
  const keywords = ['port', 'sport', 'dport', 'src', 'dst', 'process', 'sni', 'ssh', 'state', 'proto', 'service', 'app', 'unit', 'container'];
  for (const k of keywords) {
    const f = parseFilter(`${k}:abc`);
    assert.equal(f.terms.length, 1);
    assert.equal(f.terms[0]!.field, k);
    assert.equal(f.terms[0]!.value, 'abc');
    assert.equal(parseFilter(`${k.toUpperCase()}:abc`).terms[0]!.field, k, `${k} upper case`);
  }
  const v6 = parseFilter('fe80::1');
  assert.equal(v6.terms[0]!.field, 'text');
  assert.equal(v6.terms[0]!.value, 'fe80::1');
  assert.equal(parseFilter('host:1.2.3.4').terms[0]!.field, 'text');
});

test('parse: whitespace separates terms, empty values are no constraint yet, regex values are recognised', () => {
  const f = parseFilter('  dport:443   sni:/goo.*le/  firefox ');
  assert.deepEqual(f.terms.map((t) => [t.field, t.value, t.regex]), [
    ['dport', '443', false], ['sni', '/goo.*le/', true], ['text', 'firefox', false],
  ]);
  assert.equal(f.errors.length, 0);
  // While typing: a keyword with nothing after it, or just the opening slash, filters nothing.
  assert.equal(parseFilter('port:').terms.length, 0);
  assert.equal(parseFilter('sni:/').terms.length, 0);
  // An unterminated regex is used as typed so far.
  const open = parseFilter('sni:/goo');
  assert.equal(open.terms[0]!.regex, true);
  assert.ok(open.terms[0]!.test.test('GOOGLE'));
  assert.equal(parseFilter('').terms.length, 0);
});

test('parse: an invalid regex is reported, never thrown, and its term is left out', () => {
  let f: ReturnType<typeof parseFilter> | undefined;
  assert.doesNotThrow(() => { f = parseFilter('sni:/[/ proto:tcp'); });
  assert.equal(f!.errors.length, 1);
  assert.match(f!.errors[0]!, /invalid regex \/\[\//);
  assert.match(f!.errors[0]!, /Unterminated character class/);
  assert.deepEqual(f!.terms.map((t) => t.field), ['proto']);
  // Rows are filtered by the valid terms only.
  assert.deepEqual(ids('sni:/[/ proto:udp'), [3, 4, 7]);
  assert.deepEqual(ids('/(/').length, ALL.length);
});

test('compileFilter parses once per distinct text', () => {
  const a = compileFilter('dport:443 firefox');
  assert.equal(compileFilter('dport:443 firefox'), a);
  const b = compileFilter('dport:443 firefo');
  assert.notEqual(b, a);
  assert.equal(b.text, 'dport:443 firefo');
});

test('port: matches either port containing the value; portless rows never match', () => {
  assert.deepEqual(ids('port:443'), [1, 4]);
  assert.deepEqual(ids('port:22'), [2]);
  assert.deepEqual(ids('port:53'), [3, 7]); // 53 and 5353
  assert.deepEqual(ids('port:0'), [1, 3, 4, 6]); // 50000, 40000, 55000, 60000; ping has no ports
});

test('sport:/dport: follow the direction (outgoing src = local, incoming src = remote, unknown either)', () => {
  assert.deepEqual(ids('dport:443'), [1, 4]);
  assert.deepEqual(ids('dport:22'), [2]); // incoming: destination is our port 22
  assert.deepEqual(ids('sport:51515'), [2]);
  assert.deepEqual(ids('sport:22'), []);
  assert.deepEqual(ids('dport:8080'), [6]);
  assert.deepEqual(ids('sport:5353'), [7]);
  assert.deepEqual(ids('dport:5353'), [7]);
  assert.deepEqual(ids('dport:9999'), [7]);
});

test('src:/dst: follow the direction and match IPs or hostnames', () => {
  assert.deepEqual(ids('src:192.168'), [1, 3, 5, 7]); // outgoing + unknown direction (ping, 7)
  assert.deepEqual(ids('dst:google'), [1]); // hostname
  assert.deepEqual(ids('dst:142.250'), [1]); // IP
  assert.deepEqual(ids('src:203.0.113'), [2]); // incoming: source is the remote
  assert.deepEqual(ids('dst:203.0.113'), []);
  assert.deepEqual(ids('dst:192.168.1.10'), [2, 5, 6, 7]); // incoming: destination is us; unknown either
  assert.deepEqual(ids('src:laptop'), [7]);
  assert.deepEqual(ids('dst:2a00:1450'), [4]);
});

test('process:, unit:, container: match names, pid, units, container names and ids', () => {
  assert.deepEqual(ids('process:ssh'), [2]);
  assert.deepEqual(ids('process:FIRE'), [1]);
  assert.deepEqual(ids('process:4242'), [1]);
  assert.deepEqual(ids('unit:ssh.service'), [2]);
  assert.deepEqual(ids('unit:service'), [2, 3]);
  assert.deepEqual(ids('container:web'), [6]);
  assert.deepEqual(ids('container:3f2a'), [6]);
});

test('sni:, ssh:, app: look into DPI results', () => {
  assert.deepEqual(ids('sni:google'), [1]);
  assert.deepEqual(ids('sni:youtube'), [4]);
  assert.deepEqual(ids('sni:example'), []); // HTTP Host and DNS names are not SNI
  assert.deepEqual(ids('ssh:openssh'), [2]);
  assert.deepEqual(ids('ssh:putty'), [2]);
  assert.deepEqual(ids('app:https'), [1]);
  assert.deepEqual(ids('app:http'), [1, 6]);
  assert.deepEqual(ids('app:example'), [3, 6]); // domain
  assert.deepEqual(ids('app:quic'), [4]);
});

test('state:, proto:, service: match case-insensitively as substrings', () => {
  assert.deepEqual(ids('state:established'), [1, 2]);
  assert.deepEqual(ids('state:fin_wait'), [6]);
  assert.deepEqual(ids('state:quic_connected'), [4]);
  assert.deepEqual(ids('state:udp'), [3, 7]);
  assert.deepEqual(ids('proto:tcp'), [1, 2, 6]);
  assert.deepEqual(ids('proto:icmp'), [5]);
  assert.deepEqual(ids('service:https'), [1, 4]); // QUIC on 443 too
  assert.deepEqual(ids('service:http'), [1, 4, 6]);
});

test('free text searches every shown field, case-insensitively', () => {
  assert.deepEqual(ids('google'), [1]); // hostname / domain
  assert.deepEqual(ids('FIREFOX'), [1]);
  assert.deepEqual(ids('8.8.8.8'), [5]);
  assert.deepEqual(ids('1.1.1.1:53'), [3]); // ip:port as shown on screen
  assert.deepEqual(ids('51515'), [2]); // a port
  assert.deepEqual(ids('812'), [2]); // a pid
  assert.deepEqual(ids('echo'), [5]); // state
  assert.deepEqual(ids('domain'), [3]); // service
  assert.deepEqual(ids('web-1'), [6]); // container
  assert.deepEqual(ids('laptop.lan'), [7]);
  assert.deepEqual(ids('nothing-like-this'), []);
});

test('terms are ANDed; regex values work per keyword and as free text', () => {
  assert.deepEqual(ids('proto:udp state:udp'), [3, 7]);
  assert.deepEqual(ids('proto:udp state:udp process:resolved'), [3]);
  assert.deepEqual(ids('dport:443 sni:google'), [1]);
  assert.deepEqual(ids('dport:443 sni:youtube process:firefox'), []);
  assert.deepEqual(ids('sni:/^www\\.goo.*\\.com$/'), [1]);
  assert.deepEqual(ids('sni:/^GOOGLE/'), []); // anchored: www. comes first
  assert.deepEqual(ids('process:/^(sshd|nginx)$/'), [2, 6]);
  assert.deepEqual(ids('/^chrome$/'), [4]);
  assert.deepEqual(ids('port:/^22$/'), [2]);
  assert.deepEqual(ids('/1\\.1\\.1\\.1:53$/'), [3]);
});
