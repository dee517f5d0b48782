// Tests for the BitTorrent classifier with handshakes, KRPC messages and tracker connects built from BEP 3, 5 and 15.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { AppInfo } from '../core/app-info.js';
import type { DpiContext } from '../core/dpi-port.js';
import { Score, Verdict } from './classifier.js';
import { bittorrentClassifier } from './bittorrent.js';
import { classifyOnce, flowCtx, mutated, prng, randomBytes } from '../../test/support/dpi.js';

function ctxOf(transport: number, srcPort = 51413, dstPort = 6881): DpiContext {
  return flowCtx(transport, srcPort, dstPort, true, 1000);
}

function run(bytes: Uint8Array, ctx: DpiContext): { score: number; verdict: number; app: AppInfo | null } {
  return classifyOnce(bittorrentClassifier, bytes, ctx);
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const ID20 = 'abcdefghij0123456789';

/** BEP 3 handshake: pstrlen 19, pstr, 8 reserved bytes (BEP 10 extension bit set), info_hash, peer_id. */
const HANDSHAKE = latin1(`\x13BitTorrent protocol\x00\x00\x00\x00\x00\x10\x00\x05${'\xaa'.repeat(20)}-qB4250-${'k'.repeat(12)}`);

// BEP 5 KRPC examples: ping query, ping response, error, get_peers query.
const PING = latin1(`d1:ad2:id20:${ID20}e1:q4:ping1:t2:aa1:y1:qe`);
const PONG = latin1('d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re');
const ERROR = latin1('d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee');
const GET_PEERS = latin1(`d1:ad2:id20:${ID20}9:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:v4:LT\x01\x001:y1:qe`);

/** BEP 15 connect request: protocol_id 0x41727101980, action 0, transaction_id. */
const CONNECT = Uint8Array.from([0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);

test('peer wire handshake over TCP, on any port', () => {
  for (const ctx of [ctxOf(6), ctxOf(6, 50000, 443)]) {
    const r = run(HANDSHAKE, ctx);
    assert.equal(r.score, Score.CONTENT);
    assert.equal(r.verdict, Verdict.DONE);
    assert.equal(r.app?.protocol, 'BitTorrent');
    assert.deepEqual(r.app?.details, { bittorrent_type: 'handshake' });
    assert.equal(r.app?.state, undefined);
  }
  // The first 20 bytes suffice (the rest may follow in the next segment).
  assert.equal(run(HANDSHAKE.slice(0, 20), ctxOf(6)).score, Score.CONTENT);
  assert.equal(run(HANDSHAKE.slice(0, 19), ctxOf(6)).score, Score.NO);
});

test('DHT KRPC queries, responses and errors, and tracker connects over UDP', () => {
  for (const msg of [PING, PONG, ERROR, GET_PEERS]) {
    const r = run(msg, ctxOf(17));
    assert.equal(r.score, Score.CONTENT, Buffer.from(msg).toString('latin1'));
    assert.deepEqual(r.app?.details, { bittorrent_type: 'dht' });
  }
  const t = run(CONNECT, ctxOf(17, 50000, 1337));
  assert.equal(t.score, Score.CONTENT);
  assert.deepEqual(t.app?.details, { bittorrent_type: 'tracker' });
});

test('not BitTorrent: other bencoding, HTTP, wrong transport, near misses', () => {
  const cases: Array<[string, Uint8Array, number]> = [
    ['torrent file', latin1('d8:announce35:http://tracker.example:6969/announce4:infod4:name1:xee'), 17],
    ['dict without y', latin1(`d1:ad2:id20:${ID20}e1:q4:ping1:t2:aae`), 17],
    ['y value x', latin1('d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:xe'), 17],
    ['no closing e', PING.slice(0, PING.length - 1), 17],
    ['y letter is the closing e', latin1('d1:rd2:id1:xe1:y1:e'), 17],
    ['handshake over UDP', HANDSHAKE, 17],
    ['DHT over TCP', PING, 6],
    ['pstrlen 18', latin1(`\x12BitTorrent protocol${'\x00'.repeat(48)}`), 6],
    ['HTTP', latin1('GET /announce?info_hash=x HTTP/1.1\r\n\r\n'), 6],
    ['connect with action 1', Uint8Array.from([...CONNECT.slice(0, 11), 1, ...CONNECT.slice(12)]), 17],
    ['connect with extra bytes', Uint8Array.from([...CONNECT, 0]), 17],
    ['empty', new Uint8Array(0), 17],
  ];
  for (const [what, b, transport] of cases) {
    const r = run(b, ctxOf(transport));
    assert.equal(r.score, Score.NO, what);
    assert.equal(r.verdict, Verdict.REJECT, what);
    assert.equal(r.app, null, what);
  }
});

test('every prefix, mutations and random buffers: never throw, nothing invented', () => {
  for (const [msg, transport] of [[HANDSHAKE, 6], [PING, 17], [GET_PEERS, 17], [CONNECT, 17]] as const) {
    const full = run(msg, ctxOf(transport)).app!;
    for (let n = 0; n < msg.length; n++) {
      const r = run(msg.subarray(0, n), ctxOf(transport));
      if (r.app !== null) assert.deepEqual(r.app.details, full.details, `prefix ${n}`);
      // A DHT datagram is complete or nothing: its prefixes never count.
      if (transport === 17) assert.equal(r.app, null, `prefix ${n}`);
    }
  }
  const rnd = prng(6881);
  let claims = 0;
  for (let i = 0; i < 8000; i++) {
    const b = i % 2 === 0 ? mutated([HANDSHAKE, PING, PONG, ERROR, CONNECT][i % 5]!, rnd, 4) : randomBytes(rnd, 200);
    const r = run(b, ctxOf(rnd() < 0.5 ? 6 : 17));
    if (i % 2 === 1 && r.score !== Score.NO) claims++;
    if (r.app !== null) assert.ok(['handshake', 'dht', 'tracker'].includes(String(r.app.details.bittorrent_type)), 'type');
  }
  assert.equal(claims, 0);
});
