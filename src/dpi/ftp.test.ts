// Tests for the FTP classifier: greetings, commands, the SMTP look-alike and hostile input.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WIRE_STRING, type AppInfo } from '../core/app-info.js';
import { Score, Verdict, type DpiContext } from './classifier.js';
import { ftpClassifier } from './ftp.js';
import { feedSegments, latin1, prng, randomBytes, tcpCtx, type Seg } from '../../test/support/dpi.js';

function ctx(fromClient: boolean, seq: number, serverPort = 21): DpiContext {
  return tcpCtx(fromClient, seq, 40000, serverPort);
}

/** A control-connection dialogue: [fromClient, text] in order, sequence numbers per direction. */
function run(lines: [boolean, string][], serverPort = 21): { app: AppInfo | null; verdicts: number[] } {
  const seqs = [100, 9000];
  const segs = lines.map(([fromClient, t]): Seg => {
    const k = fromClient ? 0 : 1;
    const seg = { data: latin1(t), fromClient, seq: seqs[k]! };
    seqs[k]! += seg.data.length;
    return seg;
  });
  // Spaces around the segment: a session reading past its bytes would see more of a line.
  return feedSegments(ftpClassifier, segs, { clientPort: 40000, serverPort, fill: 0x20 });
}

const GREETING = '220 (vsFTPd 3.0.5)\r\n';

function detect(s: string, fromClient: boolean, serverPort: number): number {
  const b = latin1(s);
  return ftpClassifier.detect(b, 0, b.length, ctx(fromClient, 1, serverPort));
}

describe('ftpClassifier.detect', () => {
  it('takes a 220 greeting or a command on port 21', () => {
    assert.equal(detect(GREETING, false, 21), Score.CONTENT);
    assert.equal(detect('220-Welcome\r\n', false, 21), Score.CONTENT);
    assert.equal(detect('USER anonymous\r\n', true, 21), Score.CONTENT);
    assert.equal(detect('QUIT\r\n', true, 21), Score.CONTENT);
  });

  it('takes a greeting that names FTP, or an FTP-only command, on other ports', () => {
    assert.equal(detect('220 ProFTPD Server (Debian) [::ffff:10.0.0.5]\r\n', false, 2121), Score.CONTENT);
    assert.equal(detect('220 Microsoft FTP Service\r\n', false, 2121), Score.CONTENT);
    assert.equal(detect('FEAT\r\n', true, 2121), Score.CONTENT);
    assert.equal(detect('SYST\r\n', true, 2121), Score.CONTENT);
    assert.equal(detect('AUTH TLS\r\n', true, 2121), Score.CONTENT);
    // Shared with POP3 (USER/PASS) or a bare greeting: not enough away from port 21.
    assert.equal(detect('USER bob\r\n', true, 2121), Score.NO);
    assert.equal(detect('220 ready\r\n', false, 2121), Score.NO);
    assert.equal(detect('220-FileZilla Server 1.8.0\r\n', false, 2121), Score.NO);
  });

  it('says no to SMTP greetings, even on port 21', () => {
    assert.equal(detect('220 mail.example.com ESMTP Postfix (Ubuntu)\r\n', false, 21), Score.NO);
    assert.equal(detect('220 mx.example.org Microsoft ESMTP MAIL Service ready\r\n', false, 2525), Score.NO);
    assert.equal(detect('220 smtp.example.net SMTP ready\r\n', false, 25), Score.NO);
  });

  it('gives only a port score to other bytes on port 21', () => {
    assert.equal(detect('hello there\r\n', true, 21), Score.PORT);
    assert.equal(detect('hello there\r\n', true, 2121), Score.NO);
    assert.equal(detect('USER', true, 2121), Score.NO); // no line end yet
    assert.equal(detect('220', false, 2121), Score.NO);
  });
});

describe('FTP session', () => {
  it('records the greeting and the user name, never the password', () => {
    const { app, verdicts } = run([
      [false, GREETING],
      [true, 'USER anonymous\r\n'],
      [false, '331 Please specify the password.\r\n'],
      [true, 'PASS secret\r\n'],
    ]);
    assert.ok(app, 'recognised');
    assert.equal(app.protocol, 'FTP');
    assert.deepEqual(app.details, { ftp_banner: '220 (vsFTPd 3.0.5)', ftp_user: 'anonymous' });
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.DONE]);
    assert.equal(JSON.stringify(app).includes('secret'), false);
  });

  it('keeps the first line of a multi-line greeting and skips its continuation lines', () => {
    const { app } = run([
      [false, '220-FileZilla Server 1.8.0\r\n220-USER lines in a greeting are text\r\n'],
      [false, '220 Please visit https://filezilla-project.org/\r\n'],
      [true, 'USER alice\r\n'],
    ]);
    assert.equal(app?.details.ftp_banner, '220-FileZilla Server 1.8.0');
    assert.equal(app?.details.ftp_user, 'alice');
  });

  it('joins lines split over segments', () => {
    const { app } = run([
      [false, '220 Serv'],
      [false, 'er ready\r'],
      [false, '\n'],
      [true, 'US'],
      [true, 'ER carol\r\n'],
    ]);
    assert.equal(app?.details.ftp_banner, '220 Server ready');
    assert.equal(app?.details.ftp_user, 'carol');
  });

  it('stops at AUTH TLS once the server accepts it (RFC 4217)', () => {
    const { app, verdicts } = run([
      [false, GREETING],
      [true, 'AUTH TLS\r\n'],
      [false, '234 Proceed with negotiation.\r\n'],
      [true, '\x16\x03\x01\x02\x00\x01'],
    ]);
    assert.equal(app?.details.ftp_tls, true);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.equal(verdicts.length, 3);
  });

  it('rejects a mail server that slipped through (greeting without the word SMTP, then EHLO)', () => {
    const { verdicts } = run([
      [false, '220 mail.example.com ready\r\n'],
      [true, 'EHLO client.example.com\r\n'],
    ]);
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.REJECT]);
  });

  it('rejects an SMTP greeting', () => {
    const { app, verdicts } = run([[false, '220 mx.example.com ESMTP Exim 4.96\r\n']]);
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('rejects a port-21 flow that is not FTP', () => {
    const { app, verdicts } = run([[true, 'hello there\r\n']]);
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('ignores retransmitted lines', () => {
    const s = ftpClassifier.start();
    const g = latin1(GREETING);
    s.feed(g, 0, g.length, ctx(false, 10));
    s.feed(g, 0, g.length, ctx(false, 10));
    const u = latin1('USER dave\r\n');
    s.feed(u, 0, u.length, ctx(true, 50));
    assert.equal(s.app?.details.ftp_banner, '220 (vsFTPd 3.0.5)');
    assert.equal(s.app?.details.ftp_user, 'dave');
  });

  it('cuts a long user name to MAX_WIRE_STRING and a long line to its bound', () => {
    const { app } = run([[false, GREETING], [true, `USER ${'u'.repeat(2000)}\r\n`]]);
    const user = app?.details.ftp_user;
    assert.ok(typeof user === 'string' && user.length <= MAX_WIRE_STRING, 'bounded user');
  });

  it('finishes after about ten payloads', () => {
    const lines: [boolean, string][] = [[false, GREETING]];
    for (let i = 0; i < 20; i++) lines.push([true, 'NOOP\r\n']);
    const { verdicts } = run(lines);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.ok(verdicts.length <= 10, `finished after ${verdicts.length}`);
  });

  it('never throws or invents a banner on every prefix of a dialogue', () => {
    const all = GREETING + 'USER anonymous\r\n';
    for (let n = 0; n <= all.length; n++) {
      const { app } = run([[false, all.slice(0, n)]]);
      const banner = app?.details.ftp_banner;
      assert.ok(banner === undefined || banner === '220 (vsFTPd 3.0.5)', `prefix ${n}: ${banner}`);
    }
  });

  it('never throws and invents nothing on random payloads', () => {
    const rnd = prng(0xf7);
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 200);
      const len = b.length;
      const c = ctx(rnd() < 0.5, Math.floor(rnd() * 2 ** 32), rnd() < 0.5 ? 21 : 2121);
      const score = ftpClassifier.detect(b, 0, len, c);
      assert.notEqual(score, Score.CONTENT);
      const s = ftpClassifier.start();
      for (let k = 0; k < 3; k++) s.feed(b, 0, len, { ...c, seq: (c.seq + k * len) >>> 0 });
      assert.equal(s.app?.details.ftp_banner, undefined);
      assert.equal(s.app?.details.ftp_user, undefined);
    }
  });
});
