// Tests for the HTTP/1.x classifier: corpus requests, split headers, pipelining and hostile input.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import { Score, Verdict, type DpiContext } from './classifier.js';
import { httpClassifier } from './http.js';
import { DpiEngine } from './engine.js';
import { defaultClassifiers } from './default-classifiers.js';
import { CONNECT_TUNNEL_CLIENT_HELLO, concat, cut, feedSegments, hex, latin1, prng, randomBytes, tcpCtx, type Seg } from '../../test/support/dpi.js';

function ctx(fromClient: boolean, seq: number, clientPort = 40000, serverPort = 80): DpiContext {
  return tcpCtx(fromClient, seq, clientPort, serverPort);
}

function run(segs: Seg[], clientPort = 40000, serverPort = 80): { app: AppInfo | null; verdicts: number[] } {
  // 'A' around the segment: a session reading past its bytes would see more header text.
  return feedSegments(httpClassifier, segs, { clientPort, serverPort, fill: 0x41 });
}

/** ndpi__http-lines-split frame 4: 192.168.0.1:39236 → 192.168.0.20:31337, seq 732060082, 38 bytes. */
const SPLIT_REQ_1 = hex(`
  474554202f20485454502f312e310d0a486f73743a20746f6e692e6c616e3a33313333370d0a
`);
/** ndpi__http-lines-split frame 6: 192.168.0.1:39236 → 192.168.0.20:31337, seq 732060120, 29 bytes. */
const SPLIT_REQ_2 = hex(`
  557365722d4167656e743a2075636c69656e742d66657463680d0a0d0a
`);
/** ndpi__http-lines-split frame 8: 192.168.0.20:31337 → 192.168.0.1:39236, seq 4235308993, 17 bytes. */
const SPLIT_RESP = hex(`
  485454502f312e3020323030204f4b0d0a
`);
/** zeek__http__get frame 4: 141.142.228.5:59856 → 192.150.187.43:80, seq 4263588411, 136 bytes. */
const GET_REQ = hex(`
  474554202f646f776e6c6f61642f4348414e4745532e62726f2d6175782e74787420485454502f312e310d0a55736572
  2d4167656e743a20576765742f312e3134202864617277696e31322e322e30290d0a4163636570743a202a2f2a0d0a48
  6f73743a2062726f2e6f72670d0a436f6e6e656374696f6e3a204b6565702d416c6976650d0a0d0a
`);
/** zeek__http__get frame 6 (its first 64 bytes): 192.150.187.43:80 → 141.142.228.5:59856, seq 2779762239. */
const GET_RESP = hex(`
  485454502f312e3120323030204f4b0d0a446174653a205468752c203037204d617220323031332032313a34333a3037
  20474d540d0a5365727665723a204170
`);
/** zeek__http__connect-with-header frame 5: ::1:52522 → ::1:80, seq 1321751230, 221 bytes. */
const CONNECT_REQ = hex(`
  434f4e4e454354207365637572652e6e65776567672e636f6d3a34343320485454502f312e310d0a557365722d416765
  6e743a204d6f7a696c6c612f352e3020284d6163696e746f73683b20496e74656c204d6163204f5320582031302e3130
  3b2072763a34312e3029204765636b6f2f32303130303130312046697265666f782f34312e300d0a50726f78792d436f
  6e6e656374696f6e3a206b6565702d616c6976650d0a436f6e6e656374696f6e3a206b6565702d616c6976650d0a486f
  73743a207365637572652e6e65776567672e636f6d3a3434330d0a0d0a
`);
/** zeek__http__connect-with-header frame 7: ::1:80 → ::1:52522, seq 2788577409, 74 bytes. */
const CONNECT_RESP = hex(`
  485454502f312e302032303020436f6e6e656374696f6e2045737461626c69736865640d0a50726f78792d6167656e74
  3a204170616368652f322e342e31362028556e6978290d0a0d0a
`);
/** zeek__http__connect-with-header frame 9: the tunnelled ClientHello. */
const TUNNEL_CH = CONNECT_TUNNEL_CLIENT_HELLO;
/** zeek__http__connect-with-header frame 11: ::1:80 → ::1:52522, seq 2788577483, 92 bytes. */
const TUNNEL_SH = hex(`
  16030300510200004d0303560d9df1821abdd223e6ccd6d379958c251a528577243cb214ea04c67c35ff482041b61a5c
  a7c5409b77315c4ca08006d740ea0335c6db933c43275ed00b196f00000a000005ff01000100140303000101
`);

const OK = latin1('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

describe('httpClassifier.detect', () => {
  it('scores requests and responses as content on any port', () => {
    for (const [b, fromClient] of [
      [GET_REQ, true],
      [SPLIT_REQ_1, true],
      [CONNECT_REQ, true],
      [SPLIT_RESP, false],
      [GET_RESP, false],
    ] as const) {
      assert.equal(httpClassifier.detect(b, 0, b.length, ctx(fromClient, 1, 40000, 31337)), Score.CONTENT);
    }
    for (const m of ['HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND']) {
      const b = latin1(`${m} /x HTTP/1.0\r\n`);
      assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1)), Score.CONTENT, m);
    }
  });

  it('says no to lookalikes', () => {
    for (const s of [
      'GET',
      'GETX / HTTP/1.1\r\n',
      'get / HTTP/1.1\r\n', // methods are case-sensitive (RFC 9110 §9.1)
      'GET / HTTP/2.0\r\n',
      'GET / FTP/1.1\r\n',
      'GET  / HTTP/1.1\r\n',
      'GET /\x1b[2J HTTP/2.0\r\n', // control bytes do not excuse a wrong version
      'GET \x00\x01\x02\xff\xfe\r\n', // binary after a method: no version before the line end
      'HTTP/1.1 20 OK\r\n',
      'HTTP/1.1 200OK\r\n',
      'HTTP/1.1 999 X\r\n',
      'SSH-2.0-OpenSSH_9.6\r\n',
      '220 ftp.example.com FTP ready\r\n',
      '',
    ]) {
      const b = latin1(s);
      assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 31337)), Score.NO, JSON.stringify(s));
      // On port 80 the port alone suggests HTTP (the session then looks for a message start mid-stream).
      if (b.length > 0) assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1)), Score.PORT, JSON.stringify(s));
    }
  });

  it('accepts a request line cut by the end of the segment when it looks like text so far', () => {
    const b = latin1('GET /very/long/path?with=query');
    assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1)), Score.CONTENT);
  });

  it('honours off and len', () => {
    const b = latin1('xxGET / HTTP/1.1\r\n');
    assert.equal(httpClassifier.detect(b, 2, b.length - 2, ctx(true, 1)), Score.CONTENT);
    assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 31337)), Score.NO);
    assert.equal(httpClassifier.detect(b, 2, b.length, ctx(true, 1)), Score.NO);
  });
});

describe('HTTP session on corpus flows', () => {
  it('joins a header block split over two segments (http-lines-split, port 31337)', () => {
    const { app, verdicts } = run(
      [
        { data: SPLIT_REQ_1, fromClient: true, seq: 732060082 },
        { data: SPLIT_REQ_2, fromClient: true, seq: 732060120 },
        { data: SPLIT_RESP, fromClient: false, seq: 4235308993 },
      ],
      39236,
      31337,
    );
    assert.ok(app, 'recognised');
    assert.equal(app.protocol, 'HTTP');
    assert.equal(app.domain, 'toni.lan:31337');
    assert.deepEqual(app.details, {
      http_method: 'GET',
      http_path: '/',
      http_host: 'toni.lan:31337',
      http_status: 200,
    });
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE, Verdict.DONE]);
  });

  it('reads method, path, Host and status of a wget request (zeek http/get)', () => {
    const { app, verdicts } = run(
      [
        { data: GET_REQ, fromClient: true, seq: 4263588411 },
        { data: GET_RESP, fromClient: false, seq: 2779762239 },
      ],
      59856,
      80,
    );
    assert.equal(app?.domain, 'bro.org');
    assert.equal(app?.details.http_method, 'GET');
    assert.equal(app?.details.http_path, '/download/CHANGES.bro-aux.txt');
    assert.equal(app?.details.http_status, 200);
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.DONE]);
  });

  it('reads a CONNECT request and the TLS handshake in its tunnel (zeek connect-with-header)', () => {
    const segs: Seg[] = [
      { data: CONNECT_REQ, fromClient: true, seq: 1321751230 },
      { data: CONNECT_RESP, fromClient: false, seq: 2788577409 },
      { data: TUNNEL_CH, fromClient: true, seq: 1321751451 },
      { data: TUNNEL_SH, fromClient: false, seq: 2788577483 },
    ];
    const { app, verdicts } = run(segs, 52522, 80);
    assert.ok(app, 'recognised');
    assert.equal(app.details.http_method, 'CONNECT');
    assert.equal(app.details.http_path, 'secure.newegg.com:443');
    assert.equal(app.details.http_host, 'secure.newegg.com:443');
    assert.equal(app.details.http_status, 200);
    // RFC 9110 §9.3.6: after the 2xx the connection is a tunnel; the TLS inside is read too.
    assert.equal(app.protocol, 'HTTPS');
    assert.equal(app.domain, 'secure.newegg.com');
    assert.equal(app.details.sni, 'secure.newegg.com');
    assert.deepEqual(app.details.alpn, ['h2', 'spdy/3.1', 'http/1.1']);
    assert.equal(app.details.tls_version, 'TLS 1.2');
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE, Verdict.MORE, Verdict.DONE]);
  });

  it('stops at a CONNECT tunnel that does not carry TLS, or a refused CONNECT', () => {
    const req = latin1('CONNECT host.example:22 HTTP/1.1\r\nHost: host.example:22\r\n\r\n');
    const ok = latin1('HTTP/1.1 200 Connection established\r\n\r\n');
    const ssh = run([
      { data: req, fromClient: true, seq: 1 },
      { data: ok, fromClient: false, seq: 1 },
      { data: latin1('SSH-2.0-OpenSSH_9.6\r\n'), fromClient: false, seq: 1 + ok.length },
    ]);
    assert.deepEqual(ssh.verdicts, [Verdict.MORE, Verdict.MORE, Verdict.DONE]);
    assert.equal(ssh.app?.protocol, 'HTTP');
    assert.equal(ssh.app?.domain, 'host.example:22');
    const refused = run([
      { data: req, fromClient: true, seq: 1 },
      { data: latin1('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'), fromClient: false, seq: 1 },
    ]);
    assert.deepEqual(refused.verdicts, [Verdict.MORE, Verdict.DONE]);
    assert.equal(refused.app?.details.http_status, 407);
  });

  it('gives the same answer for every split of a request into three segments', () => {
    for (let a = 1; a < GET_REQ.length - 1; a += 3) {
      for (let b = a + 1; b < GET_REQ.length; b += 7) {
        const { app } = run([...cut(GET_REQ, [a, b], 100), { data: OK, fromClient: false, seq: 5 }]);
        assert.equal(app?.domain, 'bro.org', `cut at ${a},${b}`);
        assert.equal(app?.details.http_path, '/download/CHANGES.bro-aux.txt');
        assert.equal(app?.details.http_status, 200);
      }
    }
  });

  it('never invents a Host from a prefix of the request', () => {
    for (let n = 1; n <= GET_REQ.length; n++) {
      const segs: Seg[] = [{ data: GET_REQ.subarray(0, n), fromClient: true, seq: 1 }];
      for (let i = 0; i < 12; i++) segs.push({ data: OK, fromClient: false, seq: 1 + OK.length * i });
      const { app } = run(segs);
      const host = app?.details.http_host;
      // The Host line ends 28 bytes before the end of the request.
      if (n < GET_REQ.length - 26) assert.equal(host, undefined, `prefix ${n}`);
      else assert.equal(host, 'bro.org', `prefix ${n}`);
      const path = app?.details.http_path;
      assert.ok(path === undefined || path === '/download/CHANGES.bro-aux.txt', `prefix ${n}: ${path}`);
    }
  });

  it('ignores retransmitted and overlapping segments', () => {
    const segs: Seg[] = [
      { data: SPLIT_REQ_1, fromClient: true, seq: 732060082 },
      { data: SPLIT_REQ_1, fromClient: true, seq: 732060082 },
      { data: SPLIT_REQ_1.subarray(20), fromClient: true, seq: 732060102 },
      { data: SPLIT_REQ_2, fromClient: true, seq: 732060120 },
      { data: SPLIT_REQ_2, fromClient: true, seq: 732060120 },
      { data: SPLIT_RESP, fromClient: false, seq: 4235308993 },
    ];
    const { app } = run(segs, 39236, 31337);
    assert.equal(app?.details.http_host, 'toni.lan:31337');
    assert.equal(app?.details.http_requests, undefined);
  });

  it('stops following a direction after a gap instead of reading misaligned bytes', () => {
    const req = latin1('GET /a HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaa\r\nHost: gap.example\r\n\r\n');
    // The middle segment (holding the Host line's start) never arrives.
    const segs = cut(req, [20, 45], 1000);
    const { app } = run([segs[0]!, segs[2]!, { data: OK, fromClient: false, seq: 1 }]);
    assert.equal(app?.details.http_path, '/a');
    assert.equal(app?.details.http_host, undefined);
    assert.equal(app?.details.http_status, 200);
  });
});

describe('HTTP request details', () => {
  function one(req: string, resp = 'HTTP/1.1 204 No Content\r\n\r\n') {
    return run([
      { data: latin1(req), fromClient: true, seq: 1 },
      { data: latin1(resp), fromClient: false, seq: 1 },
    ]);
  }

  it('matches the Host header name case-insensitively and trims the value', () => {
    const { app } = one('GET /x HTTP/1.1\r\nhOsT: \t Example.COM:8080 \t\r\n\r\n');
    assert.equal(app?.details.http_host, 'Example.COM:8080');
    assert.equal(app?.domain, 'Example.COM:8080');
    assert.equal(app?.details.http_status, 204);
  });

  it('keeps the first Host header only and does not take look-alike names', () => {
    const { app } = one('GET / HTTP/1.1\r\nX-Host: evil\r\nHost : spaced\r\nHost: first\r\nHost: second\r\n\r\n');
    assert.equal(app?.details.http_host, 'first');
  });

  it('takes the authority from a CONNECT target when there is no Host header', () => {
    const { app } = one('CONNECT proxy.example:443 HTTP/1.1\r\nUser-Agent: t\r\n\r\n', 'HTTP/1.1 200 Connection established\r\n\r\n');
    assert.equal(app?.details.http_method, 'CONNECT');
    assert.equal(app?.details.http_host, 'proxy.example:443');
    assert.equal(app?.domain, 'proxy.example:443');
  });

  it('takes the authority from an absolute-form target when there is no Host header', () => {
    const { app } = one('GET http://user@abs.example:8080/p?q HTTP/1.0\r\n\r\n');
    assert.equal(app?.details.http_path, 'http://user@abs.example:8080/p?q');
    assert.equal(app?.domain, 'abs.example:8080');
  });

  it('leaves the domain empty when nothing names the host (HTTP/1.0 origin-form)', () => {
    const { app } = one('GET /only-path HTTP/1.0\r\n\r\n');
    assert.equal(app?.domain, undefined);
    assert.equal(app?.details.http_host, undefined);
    assert.equal(app?.details.http_path, '/only-path');
  });

  it('keeps the first of pipelined requests and counts them', () => {
    const reqs =
      'GET /a HTTP/1.1\r\nHost: one.example\r\n\r\n' +
      'POST /b HTTP/1.1\r\nHost: two.example\r\nContent-Length: 11\r\n\r\nhello=world' +
      'GET /c HTTP/1.1\r\nHost: three.example\r\n\r\n';
    const { app } = one(reqs);
    assert.equal(app?.details.http_method, 'GET');
    assert.equal(app?.details.http_path, '/a');
    assert.equal(app?.domain, 'one.example');
    assert.equal(app?.details.http_requests, 3);
  });

  it('skips a request body before counting the next pipelined request', () => {
    // The body contains what looks like a request line; Content-Length says it is body.
    const reqs =
      'POST /a HTTP/1.1\r\nHost: p.example\r\nContent-Length: 18\r\n\r\nGET /x HTTP/1.1\r\n\r\n' +
      'GET /b HTTP/1.1\r\nHost: p.example\r\n\r\n';
    const { app } = one(reqs);
    assert.equal(app?.details.http_requests, 2);
  });

  it('reports the final status after an interim 100 Continue', () => {
    const { app } = one('POST /u HTTP/1.1\r\nHost: c.example\r\nExpect: 100-continue\r\n\r\n', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n\r\n');
    assert.equal(app?.details.http_status, 201);
  });

  it('recognises a flow from its response alone', () => {
    const { app } = run([{ data: GET_RESP, fromClient: false, seq: 1 }]);
    assert.equal(app?.protocol, 'HTTP');
    assert.equal(app?.details.http_status, 200);
    assert.equal(app?.details.http_method, undefined);
  });

  it('cuts long targets and Host values to MAX_WIRE_STRING', () => {
    const long = 'h'.repeat(5000);
    const { app } = one(`GET /${long} HTTP/1.1\r\nHost: ${long}\r\n\r\n`);
    assert.equal(app?.details.http_path?.length, MAX_WIRE_STRING);
    assert.equal(app?.details.http_host, long.slice(0, MAX_WIRE_STRING));
  });

  it('stops reading headers after 8 KiB without an end', () => {
    const segs: Seg[] = [{ data: latin1('GET / HTTP/1.1\r\n'), fromClient: true, seq: 0 }];
    let seq = 16;
    for (let i = 0; i < 9; i++) {
      const d = latin1(`X-Filler-${i}: ${'f'.repeat(1000)}\r\n`);
      segs.push({ data: d, fromClient: true, seq });
      seq += d.length;
    }
    segs.push({ data: latin1('Host: late.example\r\n\r\n'), fromClient: true, seq });
    const { app, verdicts } = run(segs);
    assert.equal(app?.details.http_method, 'GET');
    assert.equal(app?.details.http_host, undefined);
    assert.equal(verdicts.at(-1), Verdict.DONE);
  });

  it('finishes after about ten payloads even without a response', () => {
    const segs: Seg[] = [{ data: GET_REQ, fromClient: true, seq: 0 }];
    for (let i = 1; i < 20; i++) segs.push({ data: latin1('x'), fromClient: false, seq: 0 });
    const { verdicts } = run(segs);
    assert.ok(verdicts.length <= 10, `finished after ${verdicts.length}`);
  });
});

describe('HTTP session with hostile input', () => {
  it('rejects a flow whose first line is not HTTP', () => {
    const { app, verdicts } = run([{ data: latin1('SSH-2.0-OpenSSH_9.6\r\n'), fromClient: true, seq: 1 }]);
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('survives oversized numbers and lines', () => {
    const { app } = run([
      { data: latin1(`POST / HTTP/1.1\r\nHost: big\r\nContent-Length: ${'9'.repeat(400)}\r\n\r\n${'z'.repeat(100)}`), fromClient: true, seq: 1 },
      { data: latin1(`HTTP/1.1 200 ${'r'.repeat(20000)}\r\n\r\n`), fromClient: false, seq: 1 },
    ]);
    assert.equal(app?.details.http_host, 'big');
    assert.equal(app?.details.http_status, 200);
  });

  it('never throws and invents nothing on random payloads', () => {
    const rnd = prng(0x4877);
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 400);
      const len = b.length;
      const c = ctx(rnd() < 0.5, Math.floor(rnd() * 2 ** 32));
      const score = httpClassifier.detect(b, 0, len, c);
      assert.equal(score, len === 0 ? Score.NO : Score.PORT, 'port 80 alone');
      const s = httpClassifier.start(score);
      for (let k = 0; k < 3; k++) s.feed(b, 0, len, { ...c, seq: (c.seq + k * len) >>> 0, fromClient: k !== 1 });
      assert.equal(s.app, null);
    }
  });

  it('never throws on mutated real requests', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const b = (i % 2 ? GET_REQ : CONNECT_REQ).slice();
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const at = 1 + Math.floor(rnd() * (b.length - 1));
      const { app } = run([...cut(b, [at], 9), { data: GET_RESP, fromClient: false, seq: 3 }]);
      const host = app?.details.http_host;
      assert.ok(host === undefined || host.length <= MAX_WIRE_STRING, 'bounded host');
    }
  });
});

describe('HTTP fields holding control bytes', () => {
  // Real bytes on the wire: ESC (0x1b) starts a terminal sequence in the path, BEL (0x07) sits in the
  // Host value. tshark shows such requests; we keep them raw and the UI escapes them at display.
  const REQ = concat(
    latin1('GET /a'), Uint8Array.of(0x1b), latin1('[2J/b HTTP/1.1\r\n'),
    latin1('Host: hid'), Uint8Array.of(0x07), latin1('den.example\r\nAccept: */*\r\n\r\n'),
  );
  const PATH = '/a\x1b[2J/b';
  const HOST = 'hid\x07den.example';

  it('detects the request and keeps method, path and Host with their bytes', () => {
    assert.ok(REQ.includes(0x1b) && REQ.includes(0x07));
    assert.equal(httpClassifier.detect(REQ, 0, REQ.length, ctx(true, 1)), Score.CONTENT);
    const { app, verdicts } = run([
      { data: REQ, fromClient: true, seq: 1 },
      { data: OK, fromClient: false, seq: 1 },
    ]);
    assert.equal(app?.protocol, 'HTTP');
    assert.equal(app?.details.http_method, 'GET');
    assert.equal(app?.details.http_path, PATH);
    assert.equal(app?.details.http_host, HOST);
    assert.equal(app?.domain, HOST);
    assert.equal(app?.details.http_status, 200);
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.DONE]);
  });

  it('is labelled HTTP by the default engine, ahead of every other classifier', () => {
    const engine = new DpiEngine(defaultClassifiers());
    const flow = engine.begin();
    engine.inspect(flow, REQ, 0, REQ.length, ctx(true, 1, 40000, 8080));
    engine.inspect(flow, OK, 0, OK.length, ctx(false, 1, 40000, 8080));
    assert.equal(flow.app?.protocol, 'HTTP');
    assert.equal(flow.app?.details.http_path, PATH);
    assert.equal(flow.app?.domain, HOST);
    assert.equal(engine.classifierErrors, 0);
  });

  it('keeps every C0 control byte and DEL inside the target (LF ends the line)', () => {
    const ctl = [...Array(32).keys(), 0x7f].filter((b) => b !== 0x0a);
    const req = concat(latin1('POST /'), Uint8Array.from(ctl), latin1(' HTTP/1.0\r\nHost: h\r\n\r\n'));
    assert.equal(httpClassifier.detect(req, 0, req.length, ctx(true, 1)), Score.CONTENT);
    const { app } = run([{ data: req, fromClient: true, seq: 1 }]);
    assert.equal(app?.details.http_method, 'POST');
    assert.equal(app?.details.http_path, '/' + String.fromCharCode(...ctl));
    assert.equal(app?.details.http_host, 'h');
  });

  it('keeps them when the request line is split over segments', () => {
    const at = REQ.indexOf(0x1b) + 1; // the first segment ends right after ESC, before the version
    assert.equal(httpClassifier.detect(REQ, 0, at, ctx(true, 1)), Score.CONTENT);
    const { app } = run([...cut(REQ, [at], 1), { data: OK, fromClient: false, seq: 1 }]);
    assert.equal(app?.details.http_path, PATH);
    assert.equal(app?.domain, HOST);
  });

  it('still bounds such fields to MAX_WIRE_STRING', () => {
    const esc = '\x1b'.repeat(600);
    const { app } = run([{ data: latin1(`GET /${esc} HTTP/1.1\r\nHost: ${esc}\r\n\r\n`), fromClient: true, seq: 1 }]);
    assert.equal(app?.details.http_path, ('/' + esc).slice(0, MAX_WIRE_STRING));
    assert.equal(app?.details.http_host, esc.slice(0, MAX_WIRE_STRING));
  });

  it('labels no binary garbage HTTP, even after a method and SP', () => {
    const rnd = prng(0x1b07);
    for (let i = 0; i < 500; i++) {
      // A method then random bytes with a line end in them: the line cannot end in SP HTTP/1.x.
      const body = concat(randomBytes(rnd, 40), randomBytes(rnd, 300));
      const b = concat(latin1('GET /'), body, latin1('\n'), randomBytes(rnd, 100));
      const { app, verdicts } = run([{ data: b, fromClient: true, seq: 1 }]);
      assert.equal(app, null, `payload ${i}`);
      assert.deepEqual(verdicts, [Verdict.REJECT], `payload ${i}`);
      assert.equal(httpClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 31337)), Score.NO, `payload ${i}`);
    }
  });

  it('lets the session reject a cut line that ends without a version once its end arrives', () => {
    const first = concat(latin1('GET /'), Uint8Array.of(0x1b, 0x00, 0xff, 0x80, 0x01));
    assert.equal(httpClassifier.detect(first, 0, first.length, ctx(true, 1)), Score.CONTENT);
    const rest = concat(Uint8Array.of(0x02, 0x03, 0x20, 0x99), latin1('\r\n'));
    const { app, verdicts } = run([
      { data: first, fromClient: true, seq: 1 },
      { data: rest, fromClient: true, seq: 1 + first.length },
    ]);
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.REJECT]);
  });
});
