// BitTorrent classifier: peer wire handshake over TCP (BEP 3), DHT KRPC (BEP 5) and tracker connect (BEP 15) over UDP.

import { newAppInfo, type AppInfo } from '../core/app-info.js';
import { Score, Transport, Verdict, type Classifier, type ClassifierSession, type DpiContext } from './classifier.js';

const TRANSPORT_TCP = 6;

/** BEP 3: the handshake opens with the byte 19 and the string "BitTorrent protocol". */
const HANDSHAKE_PREFIX = Uint8Array.from('\x13BitTorrent protocol', (c) => c.charCodeAt(0));
/** KRPC messages are bencoded dictionaries (BEP 5): "d" then a first key "1:x". */
const DICT_OPEN = Uint8Array.from('d1:', (c) => c.charCodeAt(0));
/** The message-type key: "1:y" with value "1:q", "1:r" or "1:e" (BEP 5, KRPC Protocol). */
const TYPE_KEY = Uint8Array.from('1:y1:', (c) => c.charCodeAt(0));
/** Largest DHT datagram we scan; KRPC messages fit one unfragmented packet. */
const MAX_DHT_LEN = 2048;
/** BEP 15: connect request = protocol_id 0x41727101980 (8 bytes), action 0, transaction_id. */
const TRACKER_CONNECT_LEN = 16;
const TRACKER_MAGIC = Uint8Array.from([0x00, 0x00, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]);

const KIND_NONE = 0;
const KIND_HANDSHAKE = 1;
const KIND_DHT = 2;
const KIND_TRACKER = 3;
const KIND_NAMES: readonly string[] = ['', 'handshake', 'dht', 'tracker'];

function matchesAt(b: Uint8Array, p: number, lit: Uint8Array): boolean {
  for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * A KRPC dictionary: opens with "d1:" and a one-letter key, closes with "e", and somewhere holds
 * "1:y1:" followed by q, r or e. Allocation-free.
 */
function isDht(b: Uint8Array, off: number, len: number): boolean {
  if (len < 12 || len > MAX_DHT_LEN || !matchesAt(b, off, DICT_OPEN)) return false;
  // First key: sorted encoders put a, e or r first; unsorted ones may lead with q, t, v or y. Its
  // value is a dictionary, list or string: 'd', 'l' or a length digit.
  const key = b[off + 3]!;
  if (key !== 0x61 && key !== 0x65 && key !== 0x71 && key !== 0x72 && key !== 0x74 && key !== 0x76 && key !== 0x79) {
    return false;
  }
  const value = b[off + 4]!;
  if (value !== 0x64 && value !== 0x6c && !isDigit(value)) return false;
  if (b[off + len - 1] !== 0x65) return false;
  // The type letter must come before the closing 'e'.
  const last = off + len - TYPE_KEY.length - 2;
  for (let p = off + 1; p <= last; p++) {
    if (b[p] === 0x31 && matchesAt(b, p, TYPE_KEY)) {
      const t = b[p + TYPE_KEY.length]!;
      if (t === 0x71 || t === 0x72 || t === 0x65) return true;
    }
  }
  return false;
}

function kindOf(b: Uint8Array, off: number, len: number, tcp: boolean): number {
  if (off < 0 || len <= 0 || off + len > b.length) return KIND_NONE;
  if (tcp) return len >= HANDSHAKE_PREFIX.length && matchesAt(b, off, HANDSHAKE_PREFIX) ? KIND_HANDSHAKE : KIND_NONE;
  if (len === TRACKER_CONNECT_LEN && matchesAt(b, off, TRACKER_MAGIC) &&
      b[off + 8] === 0 && b[off + 9] === 0 && b[off + 10] === 0 && b[off + 11] === 0) {
    return KIND_TRACKER;
  }
  return isDht(b, off, len) ? KIND_DHT : KIND_NONE;
}

class BittorrentSession implements ClassifierSession {
  app: AppInfo | null = null;

  feed(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    const kind = kindOf(buf, off, len, ctx.transport === TRANSPORT_TCP);
    if (kind === KIND_NONE) return this.app === null ? Verdict.REJECT : Verdict.DONE;
    const app = newAppInfo('BitTorrent');
    app.details.bittorrent_type = KIND_NAMES[kind]!;
    this.app = app;
    return Verdict.DONE;
  }
}

/** BitTorrent has no fixed port; only its content counts. */
export const bittorrentClassifier: Classifier = {
  id: 'bittorrent',
  transports: Transport.BOTH,
  detect(buf: Uint8Array, off: number, len: number, ctx: DpiContext): number {
    return kindOf(buf, off, len, ctx.transport === TRANSPORT_TCP) === KIND_NONE ? Score.NO : Score.CONTENT;
  },
  start(): ClassifierSession {
    return new BittorrentSession();
  },
};
