// ICMP echo attributed live: an unprivileged ping socket in a namespace of our own, named by the built monitor.
//
// Needs root (`ip netns`, capture) and `npm run build`. Each case makes a network namespace, lets every group
// open ping sockets there (net.ipv4.ping_group_range is per namespace: the host's is never touched), runs the
// monitor on that namespace's lo, and has a Python script as nobody send echo requests through an ICMP
// datagram socket (the kind the kernel lists in /proc/net/icmp{,6}, its echo identifier as the local "port").
// The log must name that script's pid and comm for the echo flow, in both families.

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test, type TestContext } from 'node:test';
import type { ConnectionEvent } from '../src/core/event-sink.js';
import { CLI_PATH, readJsonl, startCli, waitForEvent, withTimeout, type RunningCli } from './support/cli.js';
import { addNetns as createNetns, delNetns as removeNetns, errorText } from './support/netns.js';

/** Each wait in this file gives up after this long. */
const STEP_MS = 8000;
const NOBODY = '65534';
const ECHOES = 4;
const ECHO_GAP_S = 0.2;
/** The script keeps its socket open this long in all, so the monitor's lookup finds it. */
const HOLD_S = 1.5;
/** Only these directories: root's PATH may lead to a Python (pyenv shims) nobody cannot enter. */
const NOBODY_PATH = '/usr/local/bin:/usr/bin:/bin';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'rnt-icmp-'));
/** Namespaces still to delete should a test stop before its own finally. */
const namespaces = new Set<string>();
after(() => {
  for (const ns of namespaces) delNetns(ns);
  fs.rmSync(TMP, { recursive: true, force: true });
});

assert.ok(fs.existsSync(CLI_PATH), `${CLI_PATH} is missing: run npm run build first`);

/**
 * Opens a ping socket (family from argv[1]), sends ECHOES echo requests to loopback ECHO_GAP_S apart, each
 * waiting up to 1 s for its reply, keeps the socket HOLD_S in all, then prints "ok PID COMM IDENT REPLIES".
 * When the kernel will not make the socket it prints "refused ERRNO TEXT" instead and exits 0. The kernel
 * fills in the identifier (the socket's "port") and the checksum of what a ping socket sends.
 */
const PING_SCRIPT = `
import os, socket, struct, sys, time
v6 = sys.argv[1] == '6'
count, gap, hold = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.monotonic()
try:
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
except OSError as e:
    print('refused', e.errno, e.strerror, flush=True)
    sys.exit(0)
s.settimeout(1.0)
dst = ('::1', 0) if v6 else ('127.0.0.1', 0)
kind = 128 if v6 else 8
replies = 0
for seq in range(1, count + 1):
    s.sendto(struct.pack('!BBHHH', kind, 0, 0, 0, seq) + b'rustnet-ts', dst)
    try:
        s.recvfrom(1500)
        replies += 1
    except socket.timeout:
        pass
    if seq < count:
        time.sleep(gap)
ident = s.getsockname()[1]
left = hold - (time.monotonic() - start)
if left > 0:
    time.sleep(left)
with open('/proc/self/comm') as f:
    comm = f.read().strip()
print('ok', os.getpid(), comm, ident, replies, flush=True)
s.close()
`;

// ---------------------------------------------------------------------------------------------------------------
// Namespaces and helpers

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates a namespace this file removes again (also in `after`); null, or why the kernel refused. */
function addNetns(name: string): string | null {
  const refused = createNetns(name);
  if (refused === null) namespaces.add(name);
  return refused;
}

function delNetns(name: string): void {
  removeNetns(name);
  namespaces.delete(name);
}

/** A python3 that nobody can run (found once): /usr/bin's, or another on root's PATH outside its home. */
let python: string | undefined;
function pythonForNobody(): string {
  if (python !== undefined) return python;
  const candidates = ['/usr/bin/python3', '/usr/local/bin/python3'];
  try {
    for (const p of run('which', ['-a', 'python3']).split('\n')) if (p !== '' && !candidates.includes(p)) candidates.push(p);
  } catch {
    // No python3 on PATH: the fixed places may still have one.
  }
  for (const p of candidates) {
    try {
      run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', p, '-c', 'import socket, struct']);
      python = p;
      return p;
    } catch {
      // Missing, or in a directory nobody cannot enter.
    }
  }
  throw new Error(`no python3 that user ${NOBODY} can run (tried ${candidates.join(', ')})`);
}

interface PingResult {
  pid: number;
  comm: string;
  ident: number;
  replies: number;
}

/** Runs PING_SCRIPT as nobody inside `ns`; a string is the kernel's refusal. The child never outlives this. */
async function pingAsNobody(ns: string, family: 4 | 6): Promise<PingResult | string> {
  const argv = ['netns', 'exec', ns, 'env', `PATH=${NOBODY_PATH}`,
    'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups',
    pythonForNobody(), '-c', PING_SCRIPT, String(family), String(ECHOES), String(ECHO_GAP_S), String(HOLD_S)];
  const child: ChildProcess = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
  try {
    const code = await withTimeout(new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    }), STEP_MS, `the IPv${family} ping script in ${ns}`);
    assert.equal(code, 0, `the IPv${family} ping script's exit status (stderr: ${err.trim()})`);
    const words = out.trim().split(/\s+/);
    if (words[0] === 'refused') return `the kernel refused an IPv${family} ping socket to user ${NOBODY}: ${words.slice(1).join(' ')}`;
    assert.equal(words[0], 'ok', `the ping script's report: ${out.trim()} ${err.trim()}`);
    const [pid, ident, replies] = [Number(words[1]), Number(words[3]), Number(words[4])];
    assert.ok(Number.isInteger(pid) && pid > 0 && Number.isInteger(ident) && ident > 0 && ident < 0x10000,
      `pid and echo id in the report: ${out.trim()}`);
    return { pid, comm: words[2]!, ident, replies };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The cases

for (const family of [4, 6] as const) {
  const protocol = family === 4 ? 'ICMP' : 'ICMPv6';
  const loopback = family === 4 ? '127.0.0.1' : '::1';

  test(`${protocol}: echo through an unprivileged ping socket in a namespace is attributed to the script's pid`, async (t: TestContext) => {
    const ns = `rnt-icmp${family}-${process.pid}`;
    const refused = addNetns(ns);
    if (refused !== null) {
      t.skip(refused);
      return;
    }
    let cli: RunningCli | undefined;
    try {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      if (family === 6 && !run('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', 'lo']).includes('::1')) {
        t.skip('no ::1 on lo in a new namespace: IPv6 is disabled in this kernel');
        return;
      }
      try {
        // Covers IPv4 and IPv6 ping sockets alike (the kernel has one range for both).
        run('ip', ['netns', 'exec', ns, 'sysctl', '-w', 'net.ipv4.ping_group_range=0 2147483647']);
      } catch (err) {
        const text = errorText(err);
        if (/cannot stat|no such file/i.test(text)) {
          t.skip(`no net.ipv4.ping_group_range: this kernel has no ping sockets (${text})`);
          return;
        }
        throw new Error(`sysctl net.ipv4.ping_group_range in ${ns} failed: ${text}`);
      }
      assert.equal(run('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ping_group_range']).trim().split(/\s+/).join(' '),
        '0 2147483647', 'the namespace lets every group open ping sockets');

      const log = path.join(TMP, `events-${family}.jsonl`);
      cli = await startCli(['-i', 'lo', '--show-localhost', '--no-tui', '--no-sandbox', '--json-log', log, '-r', '100'],
        { prefix: ['ip', 'netns', 'exec', ns] });
      assert.match(cli.stderr(), /capturing on lo\b/);

      const ping = await pingAsNobody(ns, family);
      if (typeof ping === 'string') {
        t.skip(ping);
        return;
      }
      assert.equal(ping.replies, ECHOES, `the kernel in ${ns} answered every echo request`);
      // The log gives ICMP no ports (rows carry ports for TCP and UDP only), so the flow is told apart by its
      // protocol and addresses: nothing else in this namespace sends echo requests.
      const ours = (e: ConnectionEvent): boolean => e.protocol === protocol && e.source_ip === loopback && e.destination_ip === loopback;
      // The flow is announced once the monitor has processed its first frame; the rest follows in the same ticks.
      await waitForEvent(log, (e) => e.event === 'new_connection' && ours(e), STEP_MS);

      const exit = await cli.stop('SIGTERM');
      assert.equal(exit.code, 0, `exit status after SIGTERM (stderr: ${exit.stderr.trim()})`);
      assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack trace');

      const events = readJsonl(log);
      const flow = events.filter(ours);
      const what = `the ${protocol} echo flow of id ${ping.ident}: ${JSON.stringify(flow)}`;
      // On lo the request and the kernel's reply both run 127.0.0.1 → 127.0.0.1 (::1 → ::1) and carry the
      // socket's identifier: one connection, opened once and closed once (at the stop).
      assert.deepEqual(flow.map((e) => e.event), ['new_connection', 'connection_closed'], `one opened and one closed event for ${what}`);
      const closed = flow[1]!;
      assert.equal((closed.packets_sent as number) + (closed.packets_received as number), 2 * ECHOES,
        `every request and reply counted once for ${what}`);
      // The attribution itself: the pid that held the ping socket, by the name /proc/PID/comm gave it.
      assert.equal(closed.pid, ping.pid, `pid of ${what}`);
      assert.equal(closed.process_name, ping.comm, `process name of ${what}`);
      // The new_connection event goes out on the tick the first frame arrives; attribution may land a tick
      // later, but it must never name anyone else.
      const opened = flow[0]!;
      if (opened.pid !== undefined || opened.process_name !== undefined) {
        assert.deepEqual([opened.pid, opened.process_name], [ping.pid, ping.comm], `new_connection of ${what}`);
      }
      t.diagnostic(`${protocol} echo id ${ping.ident} → pid ${ping.pid} (${ping.comm}); new_connection ${opened.pid === undefined ? 'before' : 'with'} the owner`);
    } finally {
      cli?.kill();
      delNetns(ns);
    }
  });
}
