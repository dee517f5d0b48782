// services(5) parsing: names by port/protocol from a trimmed copy of a real /etc/services, and the reader.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseServices, readServices } from './services-file.js';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/services', import.meta.url));

test('parseServices keys tcp and udp lines by port/proto with the first name', () => {
  const m = parseServices(fs.readFileSync(FIXTURE, 'utf8'));
  assert.equal(m.get('22/tcp'), 'ssh');
  assert.equal(m.get('53/udp'), 'domain');
  assert.equal(m.get('80/tcp'), 'http', 'alias www is not the name');
  assert.equal(m.get('88/udp'), 'kerberos');
  assert.equal(m.get('443/udp'), 'https');
  assert.equal(m.get('5353/udp'), 'mdns');
  assert.equal(m.get('751/tcp'), 'kerberos-master', 'a line without a comment');
  assert.equal(m.get('754/tcp'), 'krb-prop', 'a comment right after aliases');
  assert.equal(m.get('60179/tcp'), 'fido');
  assert.equal(m.get('80/udp'), undefined, 'only listed protocols');
  assert.equal(m.get('5672/tcp'), 'amqp');
  assert.equal(m.get('5672/sctp'), undefined, 'sctp is not kept');
  assert.equal(m.get('4/ddp'), undefined, 'ddp is not kept');
  assert.equal(m.get('4/tcp'), undefined);
  assert.ok([...m.keys()].every((k) => /^\d+\/(tcp|udp)$/.test(k)));
});

test('parseServices: comments, blank lines, odd spacing, duplicates and garbage', () => {
  const m = parseServices(
    [
      '# ssh 22/tcp',
      '',
      '   ',
      '  myproto   7000/TCP  alias1 alias2#trailing comment',
      'first 7001/udp',
      'second 7001/udp # later duplicate loses',
      'http-alt\t8080/tcp\twebcache',
      'noport',
      'badport abc/tcp',
      'toobig 70000/tcp',
      'noslash 7002',
      '#commented 7003/tcp',
      '\u0000\uffff 1/',
    ].join('\r\n'),
  );
  assert.deepEqual([...m], [
    ['7000/tcp', 'myproto'],
    ['7001/udp', 'first'],
    ['8080/tcp', 'http-alt'],
  ]);
  assert.equal(parseServices('').size, 0);
});

test('readServices: null for a missing file, a table for the real one when present', () => {
  assert.equal(readServices('/nonexistent/rustnet/services'), null);
  assert.equal(readServices(FIXTURE)?.get('22/tcp'), 'ssh');
  if (fs.existsSync('/etc/services')) {
    const real = readServices();
    assert.ok(real !== null && real.size > 0);
  }
});
