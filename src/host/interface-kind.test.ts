// interfaceKind: TUN/TAP by name first, then the link type.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkType } from '../core/packet-view.js';
import { interfaceKind } from './interface-kind.js';

test('tunnels and taps are recognised by name', () => {
  assert.equal(interfaceKind('tun0', LinkType.RAW), 'TUN, raw IP');
  assert.equal(interfaceKind('utun3', LinkType.NULL), 'TUN, raw IP');
  assert.equal(interfaceKind('wg0', LinkType.RAW), 'TUN, raw IP');
  assert.equal(interfaceKind('tap1', LinkType.ETHERNET), 'TAP, Ethernet');
});

test('other interfaces are described by link type', () => {
  assert.equal(interfaceKind('eth0', LinkType.ETHERNET), 'Ethernet');
  assert.equal(interfaceKind('any', LinkType.LINUX_SLL), 'Linux cooked capture');
  assert.equal(interfaceKind('rnt-tun', LinkType.RAW), 'raw IP');
  assert.equal(interfaceKind('x', 999), 'link type 999');
});
