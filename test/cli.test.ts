// The command line as a user meets it: help, errors, replay, filters, outputs and the diagnostic log.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { CORPUS } from './support/corpus.js';
import { DnsServer } from './support/dns-server.js';
import { CLI_PATH, readJsonl, runCli } from './support/cli.js';

const pcap = (id: string): string => path.join(CORPUS, 'pcap', id);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-cli-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One line on stderr, no stack trace. */
function assertOneLineError(stderr: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0]!, /^rustnet-ts: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

test('--help lists every option and USAGE.md documents each of them', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  const flags = [...r.stdout.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]);
  const usage = fs.readFileSync(new URL('../USAGE.md', import.meta.url), 'utf8');
  for (const flag of ['--interface', '--bpf-filter', '--read', '--no-tui', '--json-log', '--refresh-interval', '--no-localhost',
    '--show-localhost', '--no-dpi', '--resolve-dns', '--dns-server', '--show-ptr-lookups', '--log-level', '--no-sandbox', '--sandbox-strict',
    '--replay-speed', '--no-color', '--pcap-export', '--pcapng-export',
    '--buffer-size', '--max-connections', '--help', '--version']) {
    assert.ok(flags.includes(flag), `${flag} in --help`);
    assert.ok(usage.includes(flag), `${flag} in USAGE.md`);
  }
});

test('--version prints the package version', async () => {
  const r = await runCli(['-V']);
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('bad options and values: one line, exit 2', async () => {
  for (const args of [['--bogus'], ['-r', 'fast', '--no-tui'], ['-r', '10', '--no-tui'], ['--log-level', 'loud', '--no-tui'],
    ['--max-connections', '0', '--no-tui'], ['--read', '/nonexistent.pcap', '--no-tui'], ['--read', pcap('tcpdump__dns_udp.pcap'), '-i', 'lo', '--no-tui'],
    ['--sandbox-strict', '--no-sandbox', '--no-tui'], ['--replay-speed', '-1', '--no-tui'], ['--replay-speed', 'fast', '--no-tui'],
    ['extra-argument', '--no-tui']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `exit 2 for ${args.join(' ')}: ${r.stderr}`);
    assertOneLineError(r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('the screen without a terminal, or sharing standard output with the event log, is refused plainly', async () => {
  const r = await runCli(['--read', pcap('tcpdump__dns_udp.pcap')]);
  assert.equal(r.code, 2);
  assertOneLineError(r.stderr);
  assert.match(r.stderr, /needs a terminal.*--no-tui/);
});

test('--read --no-tui writes events to standard output and a summary to standard error', async () => {
  const r = await runCli(['--read', pcap('zeek__tcp__retransmit-fast009.pcap'), '--no-tui']);
  assert.equal(r.code, 0);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events.map((e) => e.event), ['new_connection', 'connection_closed']);
  assert.equal(events[1]!.packets_sent, 17);
  assert.equal(events[1]!.packets_received, 22);
  assert.equal(events[1]!.tcp_out_of_order, 3);
  assert.match(r.stderr, /39 frames, 39 decoded, 0 skipped/);
});

test('--json-log FILE appends, and --no-localhost is the default', async () => {
  const out = path.join(tmp, 'events.jsonl');
  // selfsigned.pcap is TLS on 127.0.0.1 (BSD loopback): hidden by default, shown with --show-localhost.
  const hidden = await runCli(['--read', pcap('ndpi__selfsigned.pcap'), '--no-tui', '--json-log', out]);
  assert.equal(hidden.code, 0);
  assert.equal(readJsonl(out).length, 0);
  assert.match(hidden.stderr, /localhost_filtered 20/);
  await runCli(['--read', pcap('ndpi__selfsigned.pcap'), '--no-tui', '--json-log', out, '--show-localhost']);
  await runCli(['--read', pcap('ndpi__selfsigned.pcap'), '--no-tui', '--json-log', out, '--show-localhost']);
  const events = readJsonl(out);
  assert.equal(events.length, 4, 'two runs appended, one connection each');
  assert.equal(events[0]!.source_ip, '127.0.0.1');
});

test('--bpf-filter with --read keeps only matching packets; a bad filter is one line, exit 2', async () => {
  const r = await runCli(['--read', pcap('zeek__wikipedia.pcap'), '--no-tui', '--bpf-filter', 'udp port 53']);
  assert.equal(r.code, 0, r.stderr);
  const closed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'connection_closed');
  assert.ok(closed.length > 0);
  for (const e of closed) {
    assert.equal(e.protocol, 'UDP');
    assert.ok(e.source_port === 53 || e.destination_port === 53);
  }
  const bad = await runCli(['--read', pcap('zeek__wikipedia.pcap'), '--no-tui', '--bpf-filter', 'port 99999']);
  assert.equal(bad.code, 2);
  assertOneLineError(bad.stderr);
  assert.match(bad.stderr, /port 99999/);
});

test('a truncated file: events up to the damage, every connection closed, then one error line and exit 1', async () => {
  const whole = fs.readFileSync(pcap('zeek__http__get.pcap'));
  const cut = path.join(tmp, 'cut.pcap');
  fs.writeFileSync(cut, whole.subarray(0, whole.length - 100));
  const out = path.join(tmp, 'cut.jsonl');
  const r = await runCli(['--read', cut, '--no-tui', '--json-log', out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /frames, .* decoded/);
  assert.match(r.stderr.trim().split('\n').at(-1)!, /cut short|truncated/i);
  const events = readJsonl(out);
  assert.ok(events.length >= 2);
  assert.equal(events.filter((e) => e.event === 'new_connection').length, events.filter((e) => e.event === 'connection_closed').length);
});

test('garbage input file: one line, non-zero exit, no stack trace', async () => {
  const junk = path.join(tmp, 'junk.pcap');
  fs.writeFileSync(junk, Buffer.from('this is not a capture file at all'));
  const r = await runCli(['--read', junk, '--no-tui']);
  assert.equal(r.code, 2);
  assertOneLineError(r.stderr);
});

test('a failing JSON log (disk full) is reported once and the replay still completes', async () => {
  const r = await runCli(['--read', pcap('ndpi__sites.pcapng'), '--no-tui', '--json-log', '/dev/full']);
  assert.equal(r.code, 0);
  const reports = r.stderr.split('\n').filter((l) => /JSON log write failed/.test(l));
  assert.equal(reports.length, 1);
  assert.match(r.stderr, /699 frames, 699 decoded/);
});

test('--log-level writes logs/rustnet_<time>.log (0600 in a 0700 folder); no log without it', async () => {
  const cwd = fs.mkdtempSync(path.join(tmp, 'logcwd-'));
  const r = await runCli(['--read', pcap('tcpdump__dns_udp.pcap'), '--no-tui', '--json-log', '/dev/null', '-l', 'info'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const files = fs.readdirSync(path.join(cwd, 'logs'));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^rustnet_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.log$/);
  const file = path.join(cwd, 'logs', files[0]!);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.join(cwd, 'logs')).mode & 0o777, 0o700);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
  assert.ok(lines.some((l) => l.msg === 'replay finished'));
  const quiet = fs.mkdtempSync(path.join(tmp, 'nolog-'));
  await runCli(['--read', pcap('tcpdump__dns_udp.pcap'), '--no-tui', '--json-log', '/dev/null'], { cwd: quiet });
  assert.equal(fs.existsSync(path.join(quiet, 'logs')), false);
});

test('--no-dpi leaves out DPI fields', async () => {
  const off = await runCli(['--read', pcap('zeek__http__get.pcap'), '--no-tui', '--no-dpi']);
  assert.doesNotMatch(off.stdout, /dpi_/);
});

test('a reader that goes away (closed pipe) is reported once; the replay still finishes', () => {
  const r = spawnSync('bash', ['-c', `node ${CLI_PATH} --read ${pcap('ndpi__sites.pcapng')} --no-tui | head -c 10 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  assert.match(r.stderr, /status=0/);
  assert.equal(r.stderr.split('\n').filter((l) => /JSON log write failed \(EPIPE\)/.test(l)).length, 1);
  assert.match(r.stderr, /699 frames, 699 decoded/);
});

test('without capture privileges: one line naming what is missing and both ways to grant it, exit 1', async () => {
  // An unprivileged user (nobody) with no capabilities, as a user who forgot sudo.
  const r = await runCli(['--no-tui', '-i', 'lo'], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], cwd: tmp });
  assert.equal(r.code, 1, r.stderr);
  assertOneLineError(r.stderr);
  assert.match(r.stderr, /needs root or the cap_net_raw and cap_net_admin capabilities/);
  assert.match(r.stderr, /process names also need cap_dac_read_search and cap_sys_ptrace/);
  assert.match(r.stderr, /run with sudo/);
  assert.match(r.stderr, /setcap cap_net_raw,cap_net_admin,cap_dac_read_search,cap_sys_ptrace=eip/);
});

test('a capture that failed to open is never torn down by the garbage collector (cap would crash the process)', () => {
  // cap's destructor stops a poll handle that a failed open() never set up; forcing collections after
  // the failure must leave the process alive.
  const source = new URL('../dist/capture/live-source.js', import.meta.url).href;
  // Its own world-readable folder: the test's temporary folder is private to root.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rustnet-gc-'));
  fs.chmodSync(dir, 0o755);
  const script = path.join(dir, 'gc-after-failed-open.mjs');
  fs.writeFileSync(script, [
    `import { LiveSource } from '${source}';`,
    `const s = new LiveSource({ device: 'lo', filter: '', bufferBytes: 1 << 20 });`,
    `try { s.open(); } catch (e) { console.log('failed ' + e.code); }`,
    `for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }`,
    `console.log('alive');`,
  ].join('\n'));
  fs.chmodSync(script, 0o644);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--expose-gc', script],
    { encoding: 'utf8', cwd: dir, timeout: 20_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `signal ${r.signal}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, 'failed CAPTURE_PERMISSION\nalive\n');
});

test('flags of features still to come are accepted (and --buffer-size is validated)', async () => {
  // Reverse lookups go to a DNS server of this test's own (never the system resolver), which answers nothing.
  const dns = await DnsServer.start({ silent: true });
  try {
    const r = await runCli(['--read', pcap('tcpdump__dns_udp.pcap'), '--no-tui', '--resolve-dns', '--dns-server', dns.server,
      '--show-ptr-lookups', '--no-sandbox', '--buffer-size', '16', '--max-connections', '50', '-r', '500', '--json-log', '/dev/null']);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await dns.close();
  }
  const lone = await runCli(['--no-tui', '--dns-server', '127.0.0.1']);
  assert.equal(lone.code, 2);
  assertOneLineError(lone.stderr);
  assert.match(lone.stderr, /--dns-server only applies with --resolve-dns/);
  for (const bad of ['not an address', '127.0.0.1:99999', '[::1']) {
    const b = await runCli(['--no-tui', '--resolve-dns', '--dns-server', bad]);
    assert.equal(b.code, 2, `${bad}: ${b.stderr}`);
    assertOneLineError(b.stderr);
  }
  for (const bad of [['--buffer-size', '0'], ['--buffer-size', 'big'], ['--buffer-size', '5000']]) {
    const b = await runCli([...bad, '--no-tui']);
    assert.equal(b.code, 2, `${bad.join(' ')}: ${b.stderr}`);
    assertOneLineError(b.stderr);
  }
});

test('scripts/clear-old-logs.sh removes only rustnet logs older than the given age', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'oldlogs-'));
  const old = path.join(dir, 'rustnet_2020-01-01_00-00-00.log');
  const fresh = path.join(dir, 'rustnet_2026-11-27_00-00-00.log');
  const other = path.join(dir, 'keep-me.log');
  for (const f of [old, fresh, other]) fs.writeFileSync(f, 'x');
  const tenDaysAgo = new Date(Date.now() - 10 * 86400_000);
  fs.utimesSync(old, tenDaysAgo, tenDaysAgo);
  fs.utimesSync(other, tenDaysAgo, tenDaysAgo);
  const script = new URL('../scripts/clear-old-logs.sh', import.meta.url).pathname;
  const r = spawnSync('bash', [script, '7', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(dir).sort(), [path.basename(other), path.basename(fresh)].sort());
  const bad = spawnSync('bash', [script, 'week', dir], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
