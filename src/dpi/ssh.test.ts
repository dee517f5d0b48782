// Tests for the SSH classifier: banners from the corpus and the BANNER → ESTABLISHED state machine.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../core/app-info.js';
import { Score, Verdict, type DpiContext } from './classifier.js';
import { sshClassifier } from './ssh.js';
import { concat, feedSegments, hex, latin1, prng, randomBytes, tcpCtx, type Seg } from '../../test/support/dpi.js';

function ctx(fromClient: boolean, seq: number, clientPort = 59139, serverPort = 22): DpiContext {
  return tcpCtx(fromClient, seq, clientPort, serverPort);
}

interface Trace {
  app: AppInfo | null;
  verdicts: number[];
  /** "frame:STATE" each time the state changes. */
  states: string[];
}

function run(segs: Seg[], clientPort = 59139, serverPort = 22): Trace {
  const states: string[] = [];
  let last: string | undefined;
  // 'S' around the segment, the first letter of a banner.
  const { app, verdicts } = feedSegments(sshClassifier, segs, {
    clientPort,
    serverPort,
    fill: 0x53,
    after: (g, a) => {
      if (a?.state !== last) {
        states.push(`${g.frame}:${a?.state}`);
        last = a?.state;
      }
    },
  });
  return { app, verdicts, states };
}

/**
 * zeek__ssh__ssh_version_199.pcap, every payload of frames 4-32 in capture order: client
 * 10.0.0.1:59139, server 10.0.0.2:22. [frame, fromClient, seq, bytes].
 */
const V199: [number, boolean, number, string][] = [
  [4, false, 2660600825, '5353482d322e302d436973636f2d312e32350a'],
  [5, true, 3686077551, '5353482d312e39392d436973636f2d312e32350a'],
  [6, true, 3686077571, '000001140414f3cad290ecf47c47554c88cf3a722bb20000001a6469666669652d68656c6c6d616e2d67726f' +
    '7570312d73686131000000077373682d72736100'],
  [7, false, 2660600844, '000001140414eb3b3b7d5414465b41c0b8c4fd13aa250000001a6469666669652d68656c6c6d616e2d67726f' +
    '7570312d73686131000000077373682d727361000000296165733132382d6362632c336465732d6362632c61' +
    '65733139322d6362632c6165733235362d636263000000296165733132382d6362632c336465732d6362632c' +
    '6165733139322d6362632c6165733235362d6362630000002b686d61632d736861312c686d61632d73686131' +
    '2d39362c686d61632d6d64352c686d61632d6d64352d39360000002b686d61632d736861312c686d61632d73' +
    '6861312d39362c686d61632d6d64352c686d61632d6d64352d3936000000046e6f6e65000000046e6f6e6500' +
    '00000000000000000000000000000000'],
  [8, true, 3686077635, '0000296165733132382d6362632c336465732d6362632c6165733139322d6362632c6165733235362d636263' +
    '000000296165733132382d6362632c336465732d'],
  [9, true, 3686077699, '6362632c6165733139322d6362632c6165733235362d6362630000002b686d61632d736861312c686d61632d' +
    '736861312d39362c686d61632d6d64352c686d61'],
  [10, true, 3686077763, '632d6d64352d39360000002b686d61632d736861312c686d61632d736861312d39362c686d61632d6d64352c' +
    '686d61632d6d64352d3936000000046e6f6e6500'],
  [11, true, 3686077827, '0000046e6f6e650000000000000000000000000000000000'],
  [12, true, 3686077851, '0000008c051e0000008100d46ee012a6569537a0142e4e4d57481d4b80901e616f5cc4d7bc1725b7418c6c8b' +
    'ed742dc054eb083a795e0cad04e8b7fba1686266'],
  [13, true, 3686077915, 'd39a2639aa6c892f5c99abd243daa7ef1c19dca603c98a561974d1b808dc7614e786507401edd4fb1a1a255d' +
    '1ac75f0cb3cc585a40d504a5c1301486f0b83317'],
  [14, true, 3686077979, 'b4239d436d3887eca9bc3b0000000000'],
  [15, false, 2660601124, '0000013c081f00000057000000077373682d7273610000000301000100000041009dba81ade2d054315eb964' +
    '3bbee9cd1e463d44be6b0cb020962b11a0ea784a3387f454abd296a2a39809b2d3e56f888b8b076a95c039f8' +
    '34d1202b20bb0b9e8f00000080168e9e8977a92d6ad8eb51ff6d0de083fad973dcbe75e96b4b4fd6e14bed8c' +
    'ce63cb23bad39e362a7d4964b5ae7488f48671990b50c02797b472d8ba15306064c9e6d63fa0048a410078a5' +
    '1ed99960abe5620544bff2f07279a427a9d33a018f427b1799ae1af17b5281541a7f29e6518ba4d0e7916c64' +
    '02106853d4a718ba550000004f000000077373682d727361000000405574599663841e7eff109526fc554d2d' +
    'e1a107c788af986d7e204479d50239f0c57854caa8880643a6b0665964e6bfed3e31c5438a7b575854db00b6' +
    '85153b330000000000000000'],
  [16, false, 2660601444, '0000000c0a1500000000000000000000'],
  [17, true, 3686077995, '0000000c0a1500000000000000000000'],
  [18, true, 3686078011, '2fab8116016c68581aeb8803e4272416b68a021f55f927a5079280a9d57da4ca9257d05b39f3e6f8d6d0c343' +
    '0f04773767b8cf21'],
  [19, false, 2660601460, 'b30fa54303a24b68bba22205884d1c8d13d1866265073856f0c956b76994f794378f6887133dce4e2927a4fd' +
    '6ac8450f2b1f0202'],
  [20, true, 3686078063, '7191e8af77f756be38e3a38dadedd3c0fe8827c991beafad691224848978c43d920927deb2fe0e663df5cd1f' +
    '02cd73157a49521ad4617d54120658123ef6cff1'],
  [21, true, 3686078127, 'd1a1348b'],
  [22, false, 2660601512, '80993c66cb9e8fcd26f73324b2fea650ec09fe3f989d03b31cc4a114fb03e8ccf6043c69d5f20060c1040e2e' +
    'a8fc34f190220630'],
  [24, true, 3686078131, '84ff21afe31177f037d676af59c5a413ba1b7f7741c01c01f91c95100d3cd238c70e682a8a4227e0b620898d' +
    '6db65c609d188e611241319567b2ff81f5648fa6'],
  [25, true, 3686078195, '264ed11a5003a2f55af9b62ed3f1058f3d3586c5'],
  [26, false, 2660601564, '2e353e16b43d86e25079dba17b50a8e51c990e1c84cfbbdcc94d961b917865a8e9dd949f'],
  [27, true, 3686078215, '261d1f2b366bd316b177188c071f01d59ad9523756133b9c5f15d974e1863a600fa884784db9937d3ea342cd' +
    '478655bf00302a022460975586348b64bf26024d'],
  [28, true, 3686078279, '435c8094'],
  [29, false, 2660601600, '0c4355eb5939cb7347db4aec58add91d2a072f32a16aef766d949e6632ee8adcd76584db82efe03dba5d4b5c' +
    'a114fda057093f54'],
  [30, true, 3686078283, '5aa7d986c8a54a13cb9c9cd02c328915dff4bbdafae2dfc34e032c28685f8e178205756ff2e7423864948a85' +
    '082ff1c91077cd773c2ff3aa2ef55a578926cd77'],
  [31, true, 3686078347, '1a99fff4077d8ce3d076d5d149d3e0bc311d0edb'],
  [32, false, 2660601652, '6bca7ced7c40b125f3a54f2f2f316bb4e54e9ab09f36528e256d2c836d2abae1d24ed86f'],
];
/** tcpdump__ssh.pcap frame 4: 202.108.87.165:62146 → 223.132.53.222:22, seq 4082233689. */
const TCPDUMP_CLIENT_BANNER = hex('5353482d322e302d4f70656e5353485f372e380d0a');
/** tcpdump__ssh.pcap frame 6: 223.132.53.222:22 → 202.108.87.165:62146, seq 2455219015. */
const TCPDUMP_SERVER_BANNER = hex('5353482d322e302d4f70656e5353485f372e3470312044656269616e2d31302b6465623975330a');

const trace: Seg[] = V199.map(([frame, fromClient, seq, h]) => ({ frame, fromClient, seq, data: hex(h) }));
const EXPECTED_STATES = ['4:BANNER', '6:KEYEXCHANGE', '17:AUTHENTICATION', '29:ESTABLISHED'];

function banners(lines: [boolean, string][]): Seg[] {
  const seqs = [1000, 5000];
  return lines.map(([fromClient, s], i) => {
    const data = latin1(s);
    const k = fromClient ? 0 : 1;
    const seg = { frame: i + 1, data, fromClient, seq: seqs[k]! };
    seqs[k]! += data.length;
    return seg;
  });
}

describe('sshClassifier.detect', () => {
  it('scores an identification string from either side, on any port', () => {
    for (const [b, fromClient] of [
      [TCPDUMP_CLIENT_BANNER, true],
      [TCPDUMP_SERVER_BANNER, false],
      [latin1('SSH-1.99-Cisco-1.25\n'), true],
      [latin1('SSH-2.0-'), true],
    ] as const) {
      assert.equal(sshClassifier.detect(b, 0, b.length, ctx(fromClient, 1, 40000, 80)), Score.CONTENT);
    }
  });

  it('gives port 22 a port score and says no to lookalikes elsewhere', () => {
    for (const s of ['SSH-', 'SSH-2.0', 'SSH-2-x', 'SSH-.0-x', 'SSH-2.0x-', 'ssh-2.0-x', 'SSH-2.0.1-x', 'hello']) {
      const b = latin1(s);
      assert.equal(sshClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 80)), Score.NO, s);
      assert.equal(sshClassifier.detect(b, 0, b.length, ctx(true, 1, 40000, 22)), Score.PORT, s);
    }
  });

  it('honours off and len', () => {
    const b = concat(latin1('xx'), TCPDUMP_CLIENT_BANNER);
    assert.equal(sshClassifier.detect(b, 2, b.length - 2, ctx(true, 1, 1, 2)), Score.CONTENT);
    assert.equal(sshClassifier.detect(b, 0, b.length, ctx(true, 1, 1, 2)), Score.NO);
    assert.equal(sshClassifier.detect(b, 2, b.length, ctx(true, 1, 1, 2)), Score.NO);
  });
});

describe('SSH session on corpus flows', () => {
  it('reports both banners and the client software (tcpdump ssh.pcap)', () => {
    const { app, verdicts } = run([
      { frame: 4, data: TCPDUMP_CLIENT_BANNER, fromClient: true, seq: 4082233689 },
      { frame: 6, data: TCPDUMP_SERVER_BANNER, fromClient: false, seq: 2455219015 },
    ], 62146, 22);
    assert.ok(app, 'recognised');
    assert.equal(app.protocol, 'SSH');
    assert.equal(app.state, 'BANNER');
    assert.equal(app.domain, undefined);
    assert.deepEqual(app.details, {
      ssh_client_banner: 'SSH-2.0-OpenSSH_7.8',
      ssh_server_banner: 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3', // ends in LF only
      ssh_software: 'OpenSSH_7.8',
    });
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.MORE]);
  });

  it('walks BANNER → KEYEXCHANGE → AUTHENTICATION → ESTABLISHED (ssh_version_199, 64-byte segments)', () => {
    const { app, verdicts, states } = run(trace);
    assert.deepEqual(states, EXPECTED_STATES);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.equal(app?.details.ssh_server_banner, 'SSH-2.0-Cisco-1.25');
    assert.equal(app?.details.ssh_client_banner, 'SSH-1.99-Cisco-1.25');
    assert.equal(app?.details.ssh_software, 'Cisco-1.25');
  });

  it('is not misled by retransmissions (every segment sent twice or three times)', () => {
    const doubled: Seg[] = [];
    for (const [i, g] of trace.entries()) {
      doubled.push(g, g);
      if (i % 3 === 0) doubled.push({ ...g, data: g.data.subarray(0, Math.max(1, g.data.length >> 1)) });
    }
    assert.deepEqual(run(doubled).states, EXPECTED_STATES);
  });

  it('reads a banner and the first binary packet from one segment', () => {
    const merged: Seg = { frame: 5, data: concat(trace[1]!.data, trace[2]!.data), fromClient: true, seq: trace[1]!.seq };
    const { app, states } = run([trace[0]!, merged, ...trace.slice(3)]);
    assert.equal(app?.details.ssh_client_banner, 'SSH-1.99-Cisco-1.25');
    assert.deepEqual(states, ['4:BANNER', '5:KEYEXCHANGE', '17:AUTHENTICATION', '29:ESTABLISHED']);
  });

  it('infers AUTHENTICATION from the first encrypted packets when NEWKEYS is not visible', () => {
    // Frames 16 and 17 carry the two NEWKEYS messages; drop them (a gap in each direction).
    const { states } = run(trace.filter((g) => g.frame !== 16 && g.frame !== 17));
    assert.deepEqual(states, ['4:BANNER', '6:KEYEXCHANGE', '19:AUTHENTICATION', '29:ESTABLISHED']);
  });

  it('never invents a banner from a prefix of one', () => {
    const b = TCPDUMP_CLIENT_BANNER;
    for (let n = 1; n < b.length; n++) {
      const score = sshClassifier.detect(b, 0, n, ctx(true, 1, 40000, 2222));
      assert.equal(score, n >= 8 ? Score.CONTENT : Score.NO, `prefix ${n}`);
      const { app } = run([{ frame: 1, data: b.subarray(0, n), fromClient: true, seq: 1 }]);
      assert.equal(app, null, `prefix ${n}`);
    }
  });

  it('assembles a banner sent one byte per segment', () => {
    const b = TCPDUMP_SERVER_BANNER;
    const segs: Seg[] = [];
    for (let i = 0; i < b.length; i++) segs.push({ frame: i, data: b.subarray(i, i + 1), fromClient: false, seq: 7 + i });
    const { app } = run(segs);
    assert.equal(app?.details.ssh_server_banner, 'SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3');
  });
});

describe('SSH identification rules (RFC 4253 §4.2)', () => {
  it('takes the software field up to the first space', () => {
    const { app } = run(banners([[true, 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n']]));
    assert.equal(app?.details.ssh_software, 'OpenSSH_9.6p1');
    assert.equal(app?.details.ssh_client_banner, 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13');
  });

  it('lets the server send other lines before its identification string', () => {
    const { app } = run(banners([
      [false, 'Welcome to the box\r\nAuthorised use only\r\n'],
      [false, 'SSH-2.0-dropbear_2022.83\r\n'],
    ]));
    assert.equal(app?.details.ssh_server_banner, 'SSH-2.0-dropbear_2022.83');
    assert.equal(app?.details.ssh_software, undefined); // client software only
  });

  it('rejects a client whose first line is not an identification string', () => {
    const { app, verdicts } = run(banners([[true, 'GET / HTTP/1.1\r\n']]));
    assert.equal(app, null);
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('rejects a server that never identifies itself', () => {
    const lines: [boolean, string][] = [];
    for (let i = 0; i < 10; i++) lines.push([false, `line ${i}\r\n`]);
    assert.equal(run(banners(lines)).verdicts.at(-1), Verdict.REJECT);
  });

  it('rejects a client line that cannot become an identification string before its end', () => {
    const { verdicts } = run(banners([[true, 'SSH-2.0'], [true, 'X'.repeat(20)]]));
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.REJECT]);
  });

  it('rejects 255 bytes without a line end', () => {
    const { verdicts } = run(banners([[true, 'SSH-2.0-' + 'A'.repeat(300)]]));
    assert.deepEqual(verdicts, [Verdict.REJECT]);
  });

  it('stops after both banners of SSH 1.x, whose framing it does not follow', () => {
    const { app, verdicts } = run(banners([
      [false, 'SSH-1.5-OldServer\n'],
      [true, 'SSH-1.5-OldClient\n'],
    ]));
    assert.equal(app?.state, 'BANNER');
    assert.deepEqual(verdicts, [Verdict.MORE, Verdict.DONE]);
  });
});

describe('SSH session with hostile input', () => {
  it('loses framing on an oversized packet length before KEXINIT without guessing a state', () => {
    const segs = banners([[true, 'SSH-2.0-x\r\n'], [false, 'SSH-2.0-y\r\n']]);
    segs.push({ frame: 9, data: hex('ffffffff0a14' + '00'.repeat(40)), fromClient: true, seq: 1011 });
    segs.push({ frame: 10, data: hex('0000000c0a15' + '00'.repeat(10)), fromClient: false, seq: 5011 });
    const { app } = run(segs);
    assert.equal(app?.state, 'BANNER');
  });

  it('finishes within its payload budget', () => {
    const segs = banners([[true, 'SSH-2.0-x\r\n'], [false, 'SSH-2.0-y\r\n']]);
    for (let i = 0; i < 100; i++) {
      const fromClient = i % 2 === 0;
      segs.push({ frame: 10 + i, data: new Uint8Array(16), fromClient, seq: (fromClient ? 1011 : 5011) + 16 * (i >> 1) });
    }
    const { verdicts } = run(segs);
    assert.equal(verdicts.at(-1), Verdict.DONE);
    assert.ok(verdicts.length <= 40, `finished after ${verdicts.length}`);
  });

  it('never throws or invents a banner on random payloads', () => {
    const rnd = prng(0x55);
    for (let i = 0; i < 3000; i++) {
      const b = randomBytes(rnd, 300);
      const len = b.length;
      const c = ctx(rnd() < 0.5, Math.floor(rnd() * 2 ** 32), 40000, rnd() < 0.5 ? 22 : 2022);
      const score = sshClassifier.detect(b, 0, len, c);
      assert.notEqual(score, Score.CONTENT);
      const s = sshClassifier.start();
      for (let k = 0; k < 4; k++) s.feed(b, 0, len, { ...c, fromClient: k % 2 === 0, seq: (c.seq + k * len) >>> 0 });
      assert.equal(s.app, null);
    }
  });

  it('never throws on a corrupted real session', () => {
    const rnd = prng(99);
    for (let i = 0; i < 300; i++) {
      const segs = trace.map((g) => {
        const d = g.data.slice();
        if (rnd() < 0.3) {
          const at = Math.floor(rnd() * d.length);
          d[at] = d[at]! ^ 0xff;
        }
        return { ...g, data: d };
      });
      const { app } = run(segs);
      const st = app?.state;
      assert.ok(st === undefined || ['BANNER', 'KEYEXCHANGE', 'AUTHENTICATION', 'ESTABLISHED'].includes(st), String(st));
    }
  });
});
