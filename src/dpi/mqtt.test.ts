// Tests for the MQTT classifier: CONNECT packets of MQTT 3.1, 3.1.1 and 5.0, split and hostile input.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import { Score, Verdict, type DpiContext } from './classifier.js';
import { mqttClassifier } from './mqtt.js';
import { cut, feedSegments, prng, randomBytes, tcpCtx, type Seg } from '../../test/support/dpi.js';

function ctx(fromClient: boolean, seq: number, serverPort = 1883): DpiContext {
  return tcpCtx(fromClient, seq, 40000, serverPort);
}

/** MQTT Variable Byte Integer (MQTT 5.0 §1.5.5). */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [b.length >> 8, b.length & 0xff, ...b];
}

/** A CONNECT packet (MQTT 3.1.1 §3.1 / 5.0 §3.1) built field by field. */
function connect(level: 3 | 4 | 5, clientId: string, opts: { flags?: number; props?: number[] } = {}): Uint8Array {
  const name = level === 3 ? 'MQIsdp' : 'MQTT';
  const variable = [...str(name), level, opts.flags ?? 0x02, 0x00, 0x3c];
  if (level === 5) {
    const props = opts.props ?? [0x11, 0, 0, 0x0e, 0x10]; // session expiry interval = 3600
    variable.push(...varint(props.length), ...props);
  }
  const rest = [...variable, ...str(clientId)];
  return Uint8Array.from([0x10, ...varint(rest.length), ...rest]);
}

function run(segs: Seg[]): { app: AppInfo | null; verdicts: number[] } {
  // The CONNECT header byte around the segment: a session reading past its bytes would see a packet start.
  return feedSegments(mqttClassifier, segs, { clientPort: 40000, serverPort: 1883, fill: 0x10 });
}

const V311 = connect(4, 'mosq-sensor-01');

describe('mqttClassifier.detect', () => {
  it('scores a CONNECT of each protocol level as content, on any port', () => {
    for (const b of [connect(3, 'a'), V311, connect(5, 'b')]) {
      assert.equal(mqttClassifier.detect(b, 0, b.length, ctx(true, 1, 9999)), Score.CONTENT);
    }
  });

  it('says no to malformed CONNECT headers', () => {
    const variants: [string, (b: Uint8Array) => void][] = [
      ['flags in the fixed header', (b) => (b[0] = 0x12)],
      ['another packet type', (b) => (b[0] = 0x30)],
      ['protocol name', (b) => (b[5] = 0x6d)],
      ['protocol level 6', (b) => (b[8] = 6)],
      ['reserved connect flag', (b) => (b[9] = 0x03)],
      ['remaining length too small', (b) => (b[1] = 5)],
    ];
    for (const [what, patch] of variants) {
      const b = V311.slice();
      patch(b);
      assert.equal(mqttClassifier.detect(b, 0, b.length, ctx(true, 1, 9999)), Score.NO, what);
    }
    const fiveByteVarint = Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4]);
    assert.equal(mqttClassifier.detect(fiveByteVarint, 0, fiveByteVarint.length, ctx(true, 1, 9999)), Score.NO);
  });

  it('gives port 1883 a port score for other bytes', () => {
    const b = Uint8Array.from([1, 2, 3]);
    assert.equal(mqttClassifier.detect(b, 0, b.length, ctx(true, 1, 1883)), Score.PORT);
    assert.equal(mqttClassifier.detect(b, 0, b.length, ctx(true, 1, 1884)), Score.NO);
  });

  it('honours off and len', () => {
    const b = new Uint8Array(V311.length + 2);
    b.set(V311, 2);
    assert.equal(mqttClassifier.detect(b, 2, V311.length, ctx(true, 1, 9)), Score.CONTENT);
    assert.equal(mqttClassifier.detect(b, 0, V311.length, ctx(true, 1, 9)), Score.NO);
    assert.equal(mqttClassifier.detect(b, 2, b.length, ctx(true, 1, 9)), Score.NO);
  });
});

describe('MQTT session', () => {
  it('reads client id and version for MQTT 3.1, 3.1.1 and 5.0', () => {
    const cases: [Uint8Array, string, string][] = [
      [connect(3, 'legacy-client'), '3.1', 'legacy-client'],
      [V311, '3.1.1', 'mosq-sensor-01'],
      [connect(5, 'v5-client'), '5.0', 'v5-client'],
      [connect(5, 'no-props', { props: [] }), '5.0', 'no-props'],
    ];
    for (const [b, version, id] of cases) {
      const { app, verdicts } = run([{ data: b, fromClient: true, seq: 1 }]);
      assert.ok(app, 'recognised');
      assert.equal(app.protocol, 'MQTT');
      assert.deepEqual(app.details, { mqtt_version: version, mqtt_client_id: id });
      assert.deepEqual(verdicts, [Verdict.DONE]);
    }
  });

  it('leaves out an empty client id (the server assigns one)', () => {
    const { app } = run([{ data: connect(4, ''), fromClient: true, seq: 1 }]);
    assert.deepEqual(app?.details, { mqtt_version: '3.1.1' });
  });

  it('gives the same answer for every two-segment split', () => {
    for (let at = 1; at < V311.length; at++) {
      const { app } = run(cut(V311, [at], 500));
      assert.equal(app?.details.mqtt_client_id, 'mosq-sensor-01', `split at ${at}`);
    }
  });

  it('ignores a retransmitted first segment', () => {
    const [a, b] = cut(V311, [10], 500);
    const { app } = run([a!, a!, b!]);
    assert.equal(app?.details.mqtt_client_id, 'mosq-sensor-01');
  });

  it('never invents a client id from a prefix of the packet', () => {
    for (let n = 1; n < V311.length; n++) {
      const segs: Seg[] = [{ data: V311.subarray(0, n), fromClient: true, seq: 1 }];
      for (let i = 0; i < 12; i++) segs.push({ data: Uint8Array.from([0x20, 2, 0, 0]), fromClient: false, seq: 1 + 4 * i });
      const { app } = run(segs);
      assert.equal(app?.details.mqtt_client_id, undefined, `prefix ${n}`);
    }
  });

  it('cuts a long client id and bounds its buffer', () => {
    const b = connect(4, 'c'.repeat(5000));
    const { app, verdicts } = run(cut(b, [1400, 2800, 4200], 1));
    const id = app?.details.mqtt_client_id;
    assert.ok(typeof id === 'string' && id.length === MAX_WIRE_STRING, 'cut id');
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.ok(verdicts.length <= 2, `finished after ${verdicts.length}`);
  });

  it('rejects a flow whose client does not start with CONNECT', () => {
    const { app, verdicts } = run([{ data: Uint8Array.from([0x30, 2, 0, 0]), fromClient: true, seq: 1 }]);
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('survives oversized length fields', () => {
    // Client id length 0xffff in a short packet; a v5 property length running past the packet.
    const longId = Uint8Array.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0xff, 0xff, 0x61, 0x62]);
    const longProps = Uint8Array.from([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 60, 0xff, 0xff, 0x7f, 0, 1]);
    for (const b of [longId, longProps]) {
      const { app } = run([{ data: b, fromClient: true, seq: 1 }]);
      assert.equal(app?.protocol, 'MQTT');
      assert.equal(app?.details.mqtt_client_id, undefined);
    }
  });

  it('never throws and invents nothing on random payloads', () => {
    const rnd = prng(0x1883);
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 120);
      const len = b.length;
      if (i % 3 === 0 && len > 2) b[0] = 0x10;
      const c = ctx(rnd() < 0.7, Math.floor(rnd() * 2 ** 32), rnd() < 0.5 ? 1883 : 9999);
      const score = mqttClassifier.detect(b, 0, len, c);
      assert.notEqual(score, Score.CONTENT);
      const s = mqttClassifier.start();
      for (let k = 0; k < 3; k++) s.feed(b, 0, len, { ...c, seq: (c.seq + k * len) >>> 0 });
      assert.equal(s.app, null);
    }
  });
});
