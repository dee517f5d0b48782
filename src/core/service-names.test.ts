// ServiceNames: the host's table first (per transport), the built-in names where it has none.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceNames } from './service-names.js';

test('host names win per transport; built-in names fill the gaps; remote port before local port', () => {
  const builtIn = new ServiceNames();
  assert.equal(builtIn.forConnection('tcp', 50_000, 443), 'https');
  assert.equal(builtIn.forConnection('udp', 5353, 40_000), 'mdns', 'no name for the remote port: the local one');
  assert.equal(builtIn.forConnection('tcp', 50_000, 50_001), undefined);

  const host = new ServiceNames(new Map([['443/tcp', 'https-local'], ['8443/udp', 'quic-alt'], ['50001/tcp', 'myapp']]));
  assert.equal(host.forConnection('tcp', 50_000, 443), 'https-local');
  assert.equal(host.forConnection('udp', 50_000, 443), 'https', 'the host table has 443 for tcp only');
  assert.equal(host.forConnection('udp', 50_000, 8443), 'quic-alt');
  assert.equal(host.forConnection('tcp', 50_000, 8443), 'https-alt');
  assert.equal(host.forConnection('tcp', 50_000, 50_001), 'myapp');
});
