// Parses TLS ClientHello messages (SNI, ALPN, versions, ECH) for TLS over TCP and QUIC, and a ServerHello's version.

import { MAX_LIST_ENTRIES } from '../core/app-info.js';
import { u16 } from '../core/bytes.js';

/** RFC 8446 §4 HandshakeType. */
const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
/** Extension code points: RFC 6066 §3, RFC 7301 §3.1, RFC 8446 §4.2, draft-ietf-tls-esni. */
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_ENCRYPTED_CLIENT_HELLO = 0xfe0d;
/** The pre-standard ESNI extension (draft-ietf-tls-esni-00..03). */
const EXT_ENCRYPTED_SERVER_NAME = 0xffce;

/** What a ServerHello says about the protocol version. */
export interface ServerHello {
  /** legacy_version (RFC 8446 §4.1.3): the version itself up to TLS 1.2. */
  legacyVersion: number;
  /** supported_versions values in wire order, GREASE (RFC 8701) left out; for a ServerHello the selected_version. */
  versions: number[];
}

/**
 * What a ClientHello offers. Names are [start, end) offsets into `bytes` (the parsed buffer), left
 * undecoded: callers choose how to show them.
 */
export interface ClientHello extends ServerHello {
  bytes: Uint8Array;
  /**
   * The first non-empty host_name of server_name (RFC 6066 §3), at bytes[sniStart..sniEnd); with ECH
   * the outer, public name. sniStart is -1 when there is none.
   */
  sniStart: number;
  sniEnd: number;
  /**
   * application_layer_protocol_negotiation names (RFC 7301 §3.1) in the client's order, at most
   * MAX_LIST_ENTRIES, as start/end offset pairs: name i is bytes[alpn[2i]..alpn[2i+1]).
   */
  alpn: number[];
  /** encrypted_client_hello (or the older encrypted_server_name) is present. */
  ech: boolean;
  /**
   * True when the whole message was there and every length inside it fits its container. When
   * false the fields hold what was read up to the point where the message ended or went wrong.
   */
  intact: boolean;
}

// The parsers fill these and return them: a hello is read once, right away, on the only thread, so
// one result object each serves every call (a result is valid until the next call).
const clientResult: ClientHello = {
  legacyVersion: 0, versions: [], bytes: new Uint8Array(0), sniStart: -1, sniEnd: -1, alpn: [], ech: false, intact: true,
};
const serverResult: ServerHello = { legacyVersion: 0, versions: [] };

// The lists are refilled in place and cut to size at the end of a parse: setting an array's length to
// 0 makes V8 drop its backing store, and the next push() would allocate a fresh 17-slot one per hello.
let versionCount = 0;
let alpnCount = 0;

/** Cut a reused list to `n` entries. Setting `length` is a runtime call, so only when it changes. */
function cut(list: number[], n: number): void {
  if (list.length !== n) list.length = n;
}

/** RFC 8701: GREASE code points are 0x?a?a with both bytes equal. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** Scratch of helloBody(): JS is single-threaded and the caller reads it at once. */
let bodyEnd = 0;
let bodyCut = false;

/**
 * Check the handshake header at bytes[off..off+len) (RFC 8446 §4: msg_type(1) length(3)) and walk
 * the fixed part of the hello, from legacy_version through the compression methods. Returns the
 * offset of the extensions block (bodyEnd/bodyCut say where the message ends and whether it was
 * cut short), or -1 when the message is of another type or its fixed part does not fit.
 */
function helloBody(bytes: Uint8Array, off: number, len: number, type: number): number {
  if (off < 0 || len < 4 || off + len > bytes.length || bytes[off] !== type) return -1;
  const declared = off + 4 + ((bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!);
  const end = Math.min(declared, off + len);
  bodyEnd = end;
  bodyCut = declared > end;
  let p = off + 4;
  // RFC 8446 §4.1.2/§4.1.3: legacy_version(2) random(32) legacy_session_id<0..32>; the version's
  // major byte is 3 from SSL 3.0 to TLS 1.3.
  if (p + 35 > end || bytes[p] !== 3) return -1;
  p += 34;
  const sid = bytes[p]!;
  if (sid > 32) return -1;
  p += 1 + sid;
  if (type === HS_CLIENT_HELLO) {
    // cipher_suites<2..2^16-2> (pairs), legacy_compression_methods<1..2^8-1>.
    if (p + 2 > end) return -1;
    const cs = u16(bytes, p);
    if (cs < 2 || (cs & 1) !== 0) return -1;
    p += 2 + cs;
    if (p + 1 > end) return -1;
    const cm = bytes[p]!;
    if (cm < 1) return -1;
    p += 1 + cm;
  } else {
    // cipher_suite(2) legacy_compression_method(1).
    p += 3;
  }
  return p > end ? -1 : p;
}

// Extension walker state (RFC 8446 §4.2: Extension = extension_type(2) extension_data<0..2^16-1>).
let extType = 0;
let extFrom = 0;
let extTo = 0;
let extPos = 0;
let extEnd = 0;
let extDeclared = 0;

/**
 * Start walking the extensions block at bytes[p..end). RFC 5246 §7.4.1.2: before TLS 1.3 the block may
 * be absent altogether. Returns false when even the block's length is cut off.
 */
function beginExtensions(bytes: Uint8Array, p: number, end: number): boolean {
  if (p >= end) {
    extPos = extEnd = extDeclared = p;
    return true;
  }
  if (p + 2 > end) return false;
  extDeclared = p + 2 + u16(bytes, p);
  extEnd = Math.min(extDeclared, end);
  extPos = p + 2;
  return true;
}

/** Step to the next whole extension (extType, body at [extFrom, extTo)); false at the end of the block. */
function nextExtension(bytes: Uint8Array): boolean {
  if (extPos + 4 > extEnd) return false;
  const n = u16(bytes, extPos + 2);
  if (extPos + 4 + n > extEnd) return false;
  extType = u16(bytes, extPos);
  extFrom = extPos + 4;
  extTo = extFrom + n;
  extPos = extTo;
  return true;
}

/** After nextExtension() said false: whether the block ended exactly where its length said. */
function extensionsWhole(): boolean {
  return extPos === extDeclared;
}

/**
 * Parse a ClientHello handshake message starting at its header, bytes[off..off+len). A message
 * longer than `len` (a reassembly bound cut it) is read as far as whole extensions go, and so is
 * one whose inner lengths disagree; `intact` tells the two apart from a sound message. Returns
 * null when it is not a ClientHello at all (another type, or the fixed fields do not fit).
 * Never throws.
 */
export function parseClientHello(bytes: Uint8Array, off: number, len: number): ClientHello | null {
  const p = helloBody(bytes, off, len, HS_CLIENT_HELLO);
  if (p < 0) return null;
  const hello = clientResult;
  hello.legacyVersion = u16(bytes, off + 4);
  versionCount = 0;
  hello.bytes = bytes;
  hello.sniStart = -1;
  hello.sniEnd = -1;
  alpnCount = 0;
  hello.ech = false;
  hello.intact = !bodyCut;
  if (!beginExtensions(bytes, p, bodyEnd)) {
    hello.intact = false;
    cut(hello.versions, 0);
    cut(hello.alpn, 0);
    return hello;
  }
  while (nextExtension(bytes)) {
    const type = extType;
    let sound = true;
    if (type === EXT_SERVER_NAME) sound = readServerName(bytes, extFrom, extTo, hello);
    else if (type === EXT_ALPN) sound = readAlpn(bytes, extFrom, extTo, hello);
    else if (type === EXT_SUPPORTED_VERSIONS) sound = readVersions(bytes, extFrom, extTo, hello);
    else if (type === EXT_ENCRYPTED_CLIENT_HELLO || type === EXT_ENCRYPTED_SERVER_NAME) hello.ech = true;
    if (!sound) hello.intact = false;
  }
  if (!extensionsWhole()) hello.intact = false;
  cut(hello.versions, versionCount);
  cut(hello.alpn, alpnCount);
  return hello;
}

/**
 * Parse a ServerHello handshake message starting at its header (RFC 8446 §4.1.3). Returns null
 * when it is not one or its fixed fields do not fit; the result is valid until the next call.
 * Never throws.
 */
export function parseServerHello(bytes: Uint8Array, off: number, len: number): ServerHello | null {
  const p = helloBody(bytes, off, len, HS_SERVER_HELLO);
  if (p < 0) return null;
  const hello = serverResult;
  hello.legacyVersion = u16(bytes, off + 4);
  versionCount = 0;
  if (beginExtensions(bytes, p, bodyEnd)) {
    while (nextExtension(bytes)) {
      // RFC 8446 §4.2.1: in a ServerHello the extension holds the single selected_version.
      if (extType === EXT_SUPPORTED_VERSIONS && extTo - extFrom === 2) {
        const v = u16(bytes, extFrom);
        if (!isGrease(v)) hello.versions[versionCount++] = v;
      }
    }
  }
  cut(hello.versions, versionCount);
  return hello;
}

/** RFC 6066 §3: ServerNameList of (name_type, HostName<1..2^16-1>); we take the first host_name(0). */
function readServerName(d: Uint8Array, p: number, end: number, out: ClientHello): boolean {
  // RFC 8446 §4.2: an extension type appears once; should it repeat, the first answer stands.
  if (out.sniStart >= 0) return true;
  if (p + 2 > end) return false;
  const declared = p + 2 + u16(d, p);
  const stop = Math.min(declared, end);
  let sound = declared === stop;
  p += 2;
  while (p + 3 <= stop) {
    const type = d[p]!;
    const n = u16(d, p + 1);
    p += 3;
    if (p + n > stop) return false;
    if (type === 0 && n > 0) {
      out.sniStart = p;
      out.sniEnd = p + n;
      return sound;
    }
    // An empty HostName breaks its <1..2^16-1> bound; a later entry may still name the server.
    if (type === 0) sound = false;
    p += n;
  }
  return sound && p === stop;
}

/** RFC 7301 §3.1: ProtocolNameList of ProtocolName<1..2^8-1>. */
function readAlpn(d: Uint8Array, p: number, end: number, out: ClientHello): boolean {
  if (alpnCount > 0) return true;
  const max = 2 * MAX_LIST_ENTRIES;
  if (p + 2 > end) return false;
  const declared = p + 2 + u16(d, p);
  const stop = Math.min(declared, end);
  p += 2;
  while (p < stop && alpnCount < max) {
    const n = d[p]!;
    p += 1;
    if (n === 0 || p + n > stop) return false;
    out.alpn[alpnCount++] = p;
    out.alpn[alpnCount++] = p + n;
    p += n;
  }
  return declared === stop;
}

/** RFC 8446 §4.2.1: ClientHello form, ProtocolVersion versions<2..254>. */
function readVersions(d: Uint8Array, p: number, end: number, out: ClientHello): boolean {
  if (p + 1 > end) return false;
  const declared = p + 1 + d[p]!;
  const stop = Math.min(declared, end);
  for (p += 1; p + 2 <= stop; p += 2) {
    const v = u16(d, p);
    if (!isGrease(v)) out.versions[versionCount++] = v;
  }
  return declared === stop && p === stop;
}
