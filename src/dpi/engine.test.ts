// Tests for DpiEngine: content beats port with the real classifiers, REJECT, a throwing classifier, giving up, DONE.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newAppInfo, type AppInfo } from '../core/app-info.js';
import type { DpiContext, FlowInspection } from '../core/dpi-port.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession } from './classifier.js';
import { defaultClassifiers } from './default-classifiers.js';
import { DpiEngine, MAX_UNCLAIMED_PAYLOADS } from './engine.js';
import {
  RFC9001_INITIAL,
  alpnExt,
  clientHelloMessage,
  flowCtx,
  latin1,
  prng,
  randomBytes,
  records,
  sniExt,
} from '../../test/support/dpi.js';

const TCP = 6;
const UDP = 17;

/** A new flow of `engine` fed the payloads in order (each from the client unless said otherwise). */
function inspect(engine: DpiEngine, payloads: Array<[Uint8Array, DpiContext]>): FlowInspection {
  const flow = engine.begin();
  for (const [bytes, ctx] of payloads) {
    // Inside a larger buffer, scribbled on afterwards: the engine hands classifiers borrowed bytes.
    const buf = new Uint8Array(bytes.length + 8).fill(0xee);
    buf.set(bytes, 4);
    engine.inspect(flow, buf, 4, bytes.length, ctx);
    buf.fill(0x55);
  }
  return flow;
}

/** One payload from a client on port 40000 to `port`. */
function first(bytes: Uint8Array, transport: number, port: number): Array<[Uint8Array, DpiContext]> {
  return [[bytes, flowCtx(transport, 40000, port, true, 1000)]];
}

/** A DNS query for `name`, type A (RFC 1035 §4.1). */
function dnsQuery(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...latin1(l)]);
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

const SSH_BANNER = latin1('SSH-2.0-OpenSSH_9.6\r\n');
const HTTP_REQUEST = latin1('GET /index.html HTTP/1.1\r\nHost: engine.example:31337\r\nAccept: */*\r\n\r\n');
const CLIENT_HELLO = records(clientHelloMessage([...sniExt('engine.example'), ...alpnExt(['x-custom'])]));

describe('DpiEngine with the default classifiers: content beats port', () => {
  const engine = new DpiEngine(defaultClassifiers());

  it('an SSH banner on TCP port 80 is SSH', () => {
    const app = inspect(engine, first(SSH_BANNER, TCP, 80)).app;
    assert.equal(app?.protocol, 'SSH');
    assert.equal(app?.details.ssh_client_banner, 'SSH-2.0-OpenSSH_9.6');
  });

  it('a TLS ClientHello on 8443 is TLS with its SNI', () => {
    const app = inspect(engine, first(CLIENT_HELLO, TCP, 8443)).app;
    assert.equal(app?.protocol, 'TLS');
    assert.equal(app?.domain, 'engine.example');
    assert.equal(app?.details.sni, 'engine.example');
  });

  it('an HTTP request on 31337 is HTTP', () => {
    const app = inspect(engine, first(HTTP_REQUEST, TCP, 31337)).app;
    assert.equal(app?.protocol, 'HTTP');
    assert.equal(app?.domain, 'engine.example:31337');
    assert.equal(app?.details.http_method, 'GET');
  });

  it('a QUIC Initial on UDP 4433 is QUIC with its SNI', () => {
    const app = inspect(engine, first(RFC9001_INITIAL, UDP, 4433)).app;
    assert.equal(app?.protocol, 'QUIC');
    assert.equal(app?.domain, 'example.com');
  });

  it('a DNS query on 53 is DNS', () => {
    const app = inspect(engine, first(dnsQuery('engine.example'), UDP, 53)).app;
    assert.equal(app?.protocol, 'DNS');
    assert.equal(app?.domain, 'engine.example');
    assert.equal(app?.state, 'DNS_QUERY');
  });

  it('content wins over another classifier that only has the port', () => {
    // Port 22 is SSH's and 443 is TLS's, but the bytes say otherwise.
    assert.equal(inspect(engine, first(HTTP_REQUEST, TCP, 22)).app?.protocol, 'HTTP');
    assert.equal(inspect(engine, first(SSH_BANNER, TCP, 443)).app?.protocol, 'SSH');
    assert.equal(inspect(engine, first(CLIENT_HELLO, TCP, 22)).app?.domain, 'engine.example');
  });

  it('random bytes on 443 invent nothing', () => {
    const rnd = prng(443);
    for (let k = 0; k < 200; k++) {
      const transport = k % 2 === 0 ? TCP : UDP;
      const payloads: Array<[Uint8Array, DpiContext]> = [];
      for (let i = 0; i < 12; i++) {
        const fromClient = rnd() < 0.7;
        const ctx = fromClient ? flowCtx(transport, 40000, 443, true, 1000 + 1500 * i) : flowCtx(transport, 443, 40000, false, 9000 + 1500 * i);
        payloads.push([randomBytes(rnd, 1500), ctx]);
      }
      const app = inspect(engine, payloads).app;
      assert.equal(app?.domain, undefined, `case ${k}: domain ${app?.domain}`);
      assert.equal(app?.details.sni, undefined, `case ${k}`);
      // Over TCP nothing is recognised: TLS only has the port, the bytes are neither a hello nor a record
      // layer, so the label is the port's guess, marked as such.
      if (transport === TCP) {
        assert.equal(app?.protocol, 'HTTPS', `case ${k}`);
        assert.equal(app?.confidence, 'port', `case ${k}: ${app?.protocol}`);
        assert.deepEqual(app?.details, {}, `case ${k}`);
      }
    }
  });
});

/** A classifier under the test's control: its score and what its sessions answer. */
function fake(
  id: string,
  score: number,
  answer: (feeds: number) => number,
  opts: { transports?: number; protocol?: AppInfo['protocol']; onFeed?: () => void; onDetect?: () => void } = {},
): Classifier & { feeds: number; sessions: number } {
  const c = {
    id,
    transports: opts.transports ?? Transport.BOTH,
    feeds: 0,
    sessions: 0,
    detect(): number {
      opts.onDetect?.();
      return score;
    },
    start(): ClassifierSession {
      c.sessions++;
      let mine = 0;
      const session: { app: AppInfo | null; feed(): number } = {
        app: null,
        feed(): number {
          c.feeds++;
          mine++;
          opts.onFeed?.();
          session.app ??= newAppInfo(opts.protocol ?? 'HTTP');
          return answer(mine);
        },
      };
      return session;
    },
  };
  return c;
}

const BYTES = latin1('some payload');
const appOf = (flow: FlowInspection): AppInfo | null => flow.app;
const tcp = (seq: number): DpiContext => flowCtx(TCP, 40000, 5000, true, seq);

describe('DpiEngine driving sessions', () => {
  it('after a REJECT another classifier tries the next payload; the rejecting one is not asked again', () => {
    const rejecting = fake('rejecting', Score.CONTENT, () => Verdict.REJECT, { protocol: 'TLS' });
    const keeping = fake('keeping', Score.PORT, () => Verdict.MORE, { protocol: 'SSH' });
    const engine = new DpiEngine([rejecting, keeping]);
    const flow = engine.begin();
    engine.inspect(flow, BYTES, 0, BYTES.length, tcp(1));
    assert.equal(flow.app, null, 'the rejected app is dropped');
    assert.equal(flow.done, false);
    engine.inspect(flow, BYTES, 0, BYTES.length, tcp(2));
    // Read through a call: the assertion above narrowed flow.app to null for the compiler.
    assert.equal(appOf(flow)?.protocol, 'SSH');
    engine.inspect(flow, BYTES, 0, BYTES.length, tcp(3));
    assert.equal(rejecting.sessions, 1);
    assert.equal(keeping.sessions, 1);
    assert.equal(keeping.feeds, 2, 'the claiming session is fed from then on');
  });

  it('a classifier that throws ends inspection of that flow, and inspect() does not throw', () => {
    const throwing = fake('throwing', Score.CONTENT, () => Verdict.MORE, {
      onFeed: () => {
        throw new Error('classifier bug');
      },
    });
    const other = fake('other', Score.PORT, () => Verdict.MORE);
    const engine = new DpiEngine([throwing, other]);
    const flow = engine.begin();
    assert.doesNotThrow(() => engine.inspect(flow, BYTES, 0, BYTES.length, tcp(1)));
    assert.equal(flow.done, true);
    engine.inspect(flow, BYTES, 0, BYTES.length, tcp(2));
    assert.equal(throwing.feeds, 1);
    assert.equal(other.sessions, 0, 'no other classifier is tried on that flow');
    // A throwing detect() is caught the same way.
    const badDetect = fake('bad-detect', Score.CONTENT, () => Verdict.MORE, {
      onDetect: () => {
        throw new Error('detect bug');
      },
    });
    const engine2 = new DpiEngine([badDetect]);
    const flow2 = engine2.begin();
    assert.doesNotThrow(() => engine2.inspect(flow2, BYTES, 0, BYTES.length, tcp(1)));
    assert.equal(flow2.done, true);
  });

  it('a flow nothing claims is given up after MAX_UNCLAIMED_PAYLOADS payloads', () => {
    const engine = new DpiEngine(defaultClassifiers());
    const flow = engine.begin();
    const zeros = new Uint8Array(64);
    for (let i = 1; i < MAX_UNCLAIMED_PAYLOADS; i++) {
      engine.inspect(flow, zeros, 0, zeros.length, flowCtx(TCP, 40000, 40001, true, 64 * i));
      assert.equal(flow.done, false, `after ${i}`);
    }
    engine.inspect(flow, zeros, 0, zeros.length, flowCtx(TCP, 40000, 40001, true, 64 * MAX_UNCLAIMED_PAYLOADS));
    assert.equal(flow.done, true);
    assert.equal(flow.app, null);
    // Rejections count too: one classifier that claims and rejects, then nothing else to try.
    const rejecting = fake('rejecting', Score.CONTENT, () => Verdict.REJECT);
    const engine2 = new DpiEngine([rejecting]);
    const flow2 = engine2.begin();
    for (let i = 1; i <= MAX_UNCLAIMED_PAYLOADS; i++) engine2.inspect(flow2, BYTES, 0, BYTES.length, tcp(i));
    assert.equal(flow2.done, true);
    assert.equal(rejecting.sessions, 1);
  });

  it('DONE stops feeding and keeps what was learned', () => {
    const finishing = fake('finishing', Score.CONTENT, (n) => (n === 2 ? Verdict.DONE : Verdict.MORE), { protocol: 'FTP' });
    const engine = new DpiEngine([finishing]);
    const flow = engine.begin();
    for (let i = 1; i <= 5; i++) engine.inspect(flow, BYTES, 0, BYTES.length, tcp(i));
    assert.equal(finishing.feeds, 2);
    assert.equal(flow.done, true);
    assert.equal(flow.app?.protocol, 'FTP');
  });

  it('asks only the classifiers of the flow\'s transport, and ignores empty payloads', () => {
    const udpOnly = fake('udp-only', Score.CONTENT, () => Verdict.MORE, { transports: Transport.UDP, protocol: 'DNS' });
    const engine = new DpiEngine([udpOnly]);
    const flow = engine.begin();
    engine.inspect(flow, BYTES, 0, 0, flowCtx(UDP, 40000, 53));
    assert.equal(udpOnly.sessions, 0, 'an empty payload is not inspected');
    engine.inspect(flow, BYTES, 0, BYTES.length, tcp(1));
    assert.equal(udpOnly.sessions, 0, 'a UDP classifier never sees TCP');
    engine.inspect(flow, BYTES, 0, BYTES.length, flowCtx(UDP, 40000, 53));
    assert.equal(flow.app?.protocol, 'DNS');
  });
});

describe('DpiEngine: port guesses, framing, and where a session joins', () => {
  /** A classifier that guesses `protocol` on `port` and recognises payloads starting with `magic`. */
  function guessing(port: number, protocol: AppInfo['protocol'], magic: number, calls: { guess: number; seen: number[] }): Classifier {
    return {
      id: `guess-${port}`,
      transports: Transport.TCP,
      detect: (buf, off, len, ctx) => (len > 0 && buf[off] === magic ? Score.CONTENT : ctx.dstPort === port ? Score.PORT : Score.NO),
      start(_score?: number, seen?: number): ClassifierSession {
        calls.seen.push(seen ?? -1);
        const s = {
          app: null as AppInfo | null,
          feed(buf: Uint8Array, off: number, len: number): number {
            if (len > 0 && buf[off] === magic) s.app = newAppInfo(protocol);
            return s.app === null ? Verdict.REJECT : Verdict.DONE;
          },
        };
        return s;
      },
      guess(ctx) {
        calls.guess++;
        return ctx.dstPort === port || ctx.srcPort === port ? protocol : undefined;
      },
    };
  }

  it('a flow nothing recognises shows its port\'s guess, asked once; content replaces it', () => {
    const calls = { guess: 0, seen: [] as number[] };
    // The first classifier only has the port (its session rejects the junk); the second knows the bytes.
    const engine = new DpiEngine([guessing(7000, 'MQTT', 0xff, calls), guessing(7001, 'MQTT', 0x10, calls)]);
    const flow = engine.begin();
    const junk = Uint8Array.of(1, 2, 3);
    engine.inspect(flow, junk, 0, 3, flowCtx(TCP, 40000, 7000, true, 1));
    assert.deepEqual([flow.app?.protocol, flow.app?.confidence], ['MQTT', 'port']);
    engine.inspect(flow, junk, 0, 3, flowCtx(TCP, 7000, 40000, false, 1));
    assert.equal(calls.guess, 1, 'the guess is made once per flow');
    engine.inspect(flow, Uint8Array.of(0x10), 0, 1, flowCtx(TCP, 40000, 7000, true, 4));
    assert.deepEqual([flow.app?.protocol, flow.app?.confidence], ['MQTT', 'content']);
    // Sessions learn how many payloads came before them: the first one saw none, the second two.
    assert.deepEqual(calls.seen, [0, 2]);
  });

  it('no guess is looked for when the first payload is recognised, and none on other ports', () => {
    const calls = { guess: 0, seen: [] as number[] };
    const engine = new DpiEngine([guessing(7000, 'MQTT', 0x10, calls)]);
    const recognised = engine.begin();
    engine.inspect(recognised, Uint8Array.of(0x10), 0, 1, flowCtx(TCP, 40000, 7000, true, 1));
    assert.equal(recognised.app?.confidence, 'content');
    assert.equal(calls.guess, 0);
    const elsewhere = engine.begin();
    for (let i = 0; i < MAX_UNCLAIMED_PAYLOADS; i++) engine.inspect(elsewhere, Uint8Array.of(9), 0, 1, flowCtx(TCP, 40000, 7001, true, 1 + i));
    assert.equal(elsewhere.app, null);
    assert.equal(elsewhere.done, true);
  });

  it('framing beats a port and loses to content', () => {
    const picked: string[] = [];
    const scoring = (id: string, score: number): Classifier => ({
      id, transports: Transport.TCP, detect: () => score,
      start: () => {
        picked.push(id);
        return { app: null, feed: () => Verdict.MORE };
      },
    });
    const engine = new DpiEngine([scoring('port', Score.PORT), scoring('framing', Score.FRAMING), scoring('content', Score.CONTENT)]);
    engine.inspect(engine.begin(), BYTES, 0, BYTES.length, tcp(1));
    const engine2 = new DpiEngine([scoring('port', Score.PORT), scoring('framing', Score.FRAMING)]);
    engine2.inspect(engine2.begin(), BYTES, 0, BYTES.length, tcp(1));
    assert.deepEqual(picked, ['content', 'framing']);
  });
});
