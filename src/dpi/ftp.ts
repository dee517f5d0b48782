// FTP classifier: the control connection's greeting and the user name the client logs in with.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';
import { Arrival, TcpStream } from './tcp-stream.js';
import { wireText } from './wire-text.js';

/** Longest control line we collect; RFC 959 sets no limit, real replies and commands are short. */
const MAX_LINE = 512;
/** Payloads inspected before we stop. */
const FEED_LIMIT = 10;
const FTP_PORT = 21;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/** Command verbs of RFC 959 §4.1, RFC 2228 (security), RFC 2389 (FEAT/OPTS), RFC 2428, RFC 3659. */
const COMMANDS: readonly string[] = [
  'USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'QUIT', 'REIN', 'PORT', 'PASV', 'TYPE', 'STRU',
  'MODE', 'RETR', 'STOR', 'STOU', 'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD',
  'MKD', 'PWD', 'LIST', 'NLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP', 'AUTH', 'ADAT', 'PROT',
  'PBSZ', 'CCC', 'FEAT', 'OPTS', 'EPRT', 'EPSV', 'MDTM', 'SIZE', 'MLSD', 'MLST', 'XPWD', 'XCWD',
  'XMKD', 'XRMD', 'CLNT',
];
/** Verbs that only FTP uses: POP3 shares USER/PASS/LIST/RETR, SMTP shares HELP/NOOP/QUIT. */
const FTP_ONLY: readonly string[] = [
  'SYST', 'FEAT', 'PASV', 'EPSV', 'EPRT', 'PWD', 'XPWD', 'CWD', 'CDUP', 'TYPE', 'MKD', 'SIZE', 'MDTM',
  'MLSD', 'OPTS', 'CLNT',
];
/** SMTP client verbs (RFC 5321 §4.1.1): seeing one means the '220' greeting was a mail server. */
const SMTP_VERBS: readonly string[] = ['HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'STARTTLS'];

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

function upper(b: number): number {
  return b >= 0x61 && b <= 0x7a ? b - 0x20 : b;
}

/** Case-insensitive search for an upper-case ASCII word in d[p..end). */
function contains(d: Uint8Array, p: number, end: number, word: string): boolean {
  const n = word.length;
  for (let i = p; i + n <= end; i++) {
    let k = 0;
    while (k < n && upper(d[i + k]!) === word.charCodeAt(k)) k++;
    if (k === n) return true;
  }
  return false;
}

/** End of the first line in d[p..end) (index of CR/LF), or `end` when none is there. */
function lineEnd(d: Uint8Array, p: number, end: number): number {
  while (p < end && d[p] !== CR && d[p] !== LF) p++;
  return p;
}

/** RFC 959 §4.2: a reply line starts with a 3-digit code and SP (last line) or '-' (first of several). */
function replyCode(d: Uint8Array, p: number, end: number): number {
  if (p + 3 > end || !isDigit(d[p]) || !isDigit(d[p + 1]) || !isDigit(d[p + 2])) return -1;
  if (p + 3 < end && d[p + 3] !== SP && d[p + 3] !== 0x2d) return -1;
  return (d[p]! - 0x30) * 100 + (d[p + 1]! - 0x30) * 10 + (d[p + 2]! - 0x30);
}

/** Length of the leading command verb (3-4 letters then SP or line end), or 0. Allocation-free. */
function verbLength(d: Uint8Array, p: number, end: number): number {
  let n = 0;
  while (p + n < end && n < 8) {
    const b = upper(d[p + n]!);
    if (b < 0x41 || b > 0x5a) break;
    n++;
  }
  if (n < 3 || n > 8) return 0;
  if (p + n < end && d[p + n] !== SP) return 0;
  return n;
}

function verbString(d: Uint8Array, p: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(upper(d[p + i]!));
  return s;
}

/** Allocation-free membership test of the verb at d[p..p+n) in a list of upper-case verbs. */
function verbIn(d: Uint8Array, p: number, n: number, list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (v.length !== n) continue;
    let k = 0;
    while (k < n && upper(d[p + k]!) === v.charCodeAt(k)) k++;
    if (k === n) return true;
  }
  return false;
}

/** One direction's control lines, in TCP sequence order. */
class Direction {
  readonly line = new Uint8Array(MAX_LINE);
  len = 0;
  readonly stream = new TcpStream();
  /** Code of a multi-line reply in progress (RFC 959 §4.2), else -1. */
  multiline = -1;
}

class FtpSession implements ClassifierSession {
  app: AppInfo | null = null;
  private readonly client = new Direction();
  private readonly server = new Direction();
  private feeds = 0;
  private greeted = false;
  private user = false;
  private tls = false;
  /** Evidence that this is not FTP (an SMTP greeting or command, a line of another shape). */
  private foreign = false;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    this.feeds++;
    if (len > 0 && off >= 0 && off + len <= buf.length && !this.tls) {
      this.take(ctx.fromClient ? this.client : this.server, buf, off, len, ctx.seq >>> 0);
    }
    if (this.foreign) return Verdict.REJECT;
    if (this.app === null) return this.feeds >= 3 ? Verdict.REJECT : Verdict.MORE;
    if (this.tls || (this.greeted && this.user) || this.feeds >= FEED_LIMIT) return Verdict.DONE;
    return Verdict.MORE;
  }

  private take(dir: Direction, buf: Uint8Array, off: number, len: number, seq: number): void {
    const stream = dir.stream;
    if (!stream.started) stream.start(seq);
    const arrival = stream.push(buf, off, len, seq);
    if (arrival === Arrival.OLD) return; // retransmission
    if (arrival === Arrival.GAP) dir.len = 0; // the partial line before the gap is lost
    const end = off + len;
    for (let p = stream.fresh; p < end && !this.foreign && !this.tls; p++) {
      const b = buf[p]!;
      if (b === LF) {
        let n = dir.len;
        if (n > 0 && dir.line[n - 1] === CR) n--;
        dir.len = 0;
        this.line(dir, n);
      } else if (dir.len < MAX_LINE) {
        dir.line[dir.len++] = b;
      }
    }
  }

  private line(dir: Direction, n: number): void {
    const d = dir.line;
    if (dir.multiline >= 0) {
      // Inside a multi-line reply only "code SP" ends it; other lines are free text.
      if (replyCode(d, 0, n) === dir.multiline && n >= 4 && d[3] === SP) dir.multiline = -1;
      return;
    }
    const code = replyCode(d, 0, n);
    if (code >= 0) {
      this.reply(dir, code, n);
      return;
    }
    const v = verbLength(d, 0, n);
    if (v === 0) {
      if (this.app === null) this.foreign = true;
      return;
    }
    const verb = verbString(d, 0, v);
    if (SMTP_VERBS.includes(verb)) {
      this.foreign = true;
      return;
    }
    if (!COMMANDS.includes(verb)) {
      if (this.app === null) this.foreign = true;
      return;
    }
    this.recognise();
    if (verb === 'USER' && !this.user && v + 1 < n) {
      // The password (PASS) is deliberately never recorded.
      this.user = true;
      this.app!.details.ftp_user = wireText(d, v + 1, n);
    }
  }

  private reply(dir: Direction, code: number, n: number): void {
    const d = dir.line;
    if (n >= 4 && d[3] === 0x2d) dir.multiline = code;
    if (code === 220 && !this.greeted) {
      // SMTP servers greet with 220 too (RFC 5321 §4.2); they name the protocol in the text.
      if (contains(d, 4, n, 'SMTP')) {
        this.foreign = true;
        return;
      }
      this.greeted = true;
      this.recognise();
      this.app!.details.ftp_banner = wireText(d, 0, n);
    } else if (code === 234 && this.app !== null) {
      // RFC 4217 §4.1: 234 accepts AUTH TLS; the rest of the control connection is TLS.
      this.tls = true;
      this.app.details.ftp_tls = true;
    } else if (this.app === null) {
      // Another reply first: the capture began after the greeting. The engine only hands us such
      // a flow on port 21 (detect() gives CONTENT to nothing but a greeting or a command).
      this.recognise();
    }
  }

  private recognise(): void {
    if (this.app === null) this.app = newAppInfo('FTP');
  }
}

export const ftpClassifier: Classifier = {
  id: 'ftp',
  transports: Transport.TCP,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const port21 = ctx.srcPort === FTP_PORT || ctx.dstPort === FTP_PORT;
    if (len <= 0 || off < 0 || off + len > buf.length) return Score.NO;
    const end = Math.min(off + len, off + MAX_LINE);
    const eol = lineEnd(buf, off, end);
    if (replyCode(buf, off, eol) === 220 && eol > off + 3) {
      // RFC 959 §5.4: the server greets with 220; SMTP does too, but names itself (RFC 5321 §4.2).
      if (contains(buf, off + 4, eol, 'SMTP')) return Score.NO;
      if (port21 || contains(buf, off + 4, eol, 'FTP')) return Score.CONTENT;
      return Score.NO;
    }
    const v = verbLength(buf, off, eol);
    if (v > 0 && eol < end) {
      if (port21 && verbIn(buf, off, v, COMMANDS)) return Score.CONTENT;
      if (verbIn(buf, off, v, FTP_ONLY)) return Score.CONTENT;
      // RFC 4217 §4: "AUTH TLS" / "AUTH SSL" opens FTP over TLS; SMTP only sends AUTH after EHLO.
      if (v === 4 && eol - off >= 8 && contains(buf, off, off + 4, 'AUTH') &&
        (contains(buf, off + 5, eol, 'TLS') || contains(buf, off + 5, eol, 'SSL'))) {
        return Score.CONTENT;
      }
    }
    return port21 ? Score.PORT : Score.NO;
  },
  start(): ClassifierSession {
    return new FtpSession();
  },
};
