// Real cgroups (issue 14, H8): processes this test moves into a systemd-like scope and a Docker-like scope are
// read back through the live host (/proc/PID/cgroup) and attributed with their unit and container.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { SideTables, type ConnectionKey } from '../src/core/side-tables.js';
import { ProcessAttribution } from '../src/enrich/process-attribution.js';
import { linuxProcessHost } from '../src/host/process-host.js';

/** A mounted hierarchy the reader consults: cgroup v2, or v1's name=systemd (preferred by the parser on hybrid hosts). */
interface Hierarchy {
  readonly kind: 'cgroup2' | 'name=systemd';
  readonly mountPoint: string;
}

/** From /proc/self/mountinfo: "id parent dev root mountpoint opts … - fstype source superopts". */
function hierarchies(): Hierarchy[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found: Hierarchy[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (mountPoint === undefined) continue;
    let kind: Hierarchy['kind'] | undefined;
    if (fstype === 'cgroup2') kind = 'cgroup2';
    else if (fstype === 'cgroup' && superOptions.split(',').includes('name=systemd')) kind = 'name=systemd';
    // One mount per kind is enough (a hierarchy may be mounted more than once).
    if (kind !== undefined && !found.some((h) => h.kind === kind)) found.push({ kind, mountPoint });
  }
  return found;
}

const SCOPE = `rustnet-test-${process.pid}.scope`;
const SLICE = `rustnet-test-${process.pid}.slice`;
const CONTAINER_ID = randomBytes(32).toString('hex');
const DOCKER_SCOPE = `docker-${CONTAINER_ID}.scope`;

/** Directories this test made, deepest last; removed in reverse order. */
const made: string[] = [];
const children: ChildProcess[] = [];
let server: net.Server | null = null;

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }
  }
  server?.close();
  // A cgroup can be removed only once its last process has left it; an exit takes a moment to be complete.
  const left: string[] = [];
  for (const dir of made.reverse()) {
    let removed = false;
    for (let attempt = 0; attempt < 50 && !removed; attempt++) {
      try {
        fs.rmdirSync(dir);
        removed = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') removed = true;
        else await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (!removed) left.push(dir);
  }
  assert.deepEqual(left, [], 'every cgroup this test made is gone');
});

/** A child holding one TCP connection to `port`; resolves with it once connected and with its local port. */
async function connectedChild(port: number): Promise<{ child: ChildProcess; localPort: number }> {
  const code = `
    const s = require('node:net').connect(${port}, '127.0.0.1', () => console.log(s.localPort));
    s.on('error', () => process.exit(1));
    setTimeout(() => process.exit(0), 60000); // bounded, whatever happens to the test`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(child.stdout!.setEncoding('utf8'), 'data')) as [string];
  return { child, localPort: Number(line.trim()) };
}

/** Creates `rel` (and its parents) under the hierarchy, noting each directory it made. */
function makeCgroup(h: Hierarchy, rel: string): string {
  let dir = h.mountPoint;
  for (const part of rel.split('/')) {
    dir = path.join(dir, part);
    if (fs.existsSync(dir)) continue;
    fs.mkdirSync(dir);
    made.push(dir);
  }
  return dir;
}

test('processes in a scope and a Docker-like scope the test creates are read and attributed with unit and container', { timeout: 30_000 }, async (t) => {
  if (process.platform !== 'linux') {
    t.skip('cgroups are Linux only');
    return;
  }
  if (process.getuid?.() !== 0) {
    t.skip('creating cgroups and moving processes into them needs root');
    return;
  }
  const found = hierarchies();
  if (found.length === 0) {
    t.skip('neither cgroup v2 nor the v1 name=systemd hierarchy is mounted');
    return;
  }

  server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const plain = await connectedChild(port);
  const docker = await connectedChild(port);

  // The same cgroup in every hierarchy the parser reads, so its answer does not depend on which it prefers.
  const cases = [
    { who: plain, rel: SCOPE },
    { who: docker, rel: `${SLICE}/${DOCKER_SCOPE}` },
  ];
  for (const h of found) {
    for (const c of cases) {
      let dir: string;
      try {
        dir = makeCgroup(h, c.rel);
      } catch (e) {
        t.skip(`the kernel does not let us create ${path.join(h.mountPoint, c.rel)} (${h.kind}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        return;
      }
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), `${c.who.child.pid}\n`);
      } catch (e) {
        t.skip(`the kernel refuses to move a process into ${dir} (${h.kind}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        return;
      }
    }
  }
  t.diagnostic(`hierarchies: ${found.map((h) => `${h.kind} at ${h.mountPoint}`).join(', ')}`);

  // The live host's reader: /proc/PID/cgroup, parsed.
  const host = linuxProcessHost();
  const plainInfo = host.cgroup(plain.child.pid!);
  assert.ok(plainInfo !== undefined, 'the cgroup file was read');
  assert.equal(plainInfo.unit, SCOPE);
  assert.ok(plainInfo.path.endsWith(`/${SCOPE}`), plainInfo.path);
  assert.equal(plainInfo.containerId, undefined);
  assert.equal(plainInfo.containerRuntime, undefined);

  const dockerInfo = host.cgroup(docker.child.pid!);
  assert.ok(dockerInfo !== undefined, 'the cgroup file was read');
  assert.equal(dockerInfo.unit, DOCKER_SCOPE);
  assert.ok(dockerInfo.path.endsWith(`/${SLICE}/${DOCKER_SCOPE}`), dockerInfo.path);
  assert.equal(dockerInfo.containerRuntime, 'docker');
  assert.equal(dockerInfo.containerId, CONTAINER_ID);
  // No Docker state files for a container we made up: no name, and no daemon asked.
  assert.equal(host.containerName(dockerInfo), undefined);

  // End to end through attribution, as the live monitor does it: the child's own socket, its pid, unit, container.
  const key = (id: number, localPort: number): ConnectionKey =>
    ({ id, protocol: 6, family: 4, localAddr: '127.0.0.1', localPort, remoteAddr: '127.0.0.1', remotePort: port, dpi: null });
  const list = [key(1, plain.localPort), key(2, docker.localPort)];
  const attribution = new ProcessAttribution(host, (work) => work());
  const side = new SideTables();
  attribution.noticeNew(list);
  attribution.apply(1_000_000, side, list);
  assert.deepEqual(side.processes.get(1), { pid: plain.child.pid, name: 'node', unit: SCOPE, containerId: undefined, containerName: undefined });
  assert.deepEqual(side.processes.get(2), { pid: docker.child.pid, name: 'node', unit: DOCKER_SCOPE, containerId: CONTAINER_ID, containerName: undefined });
});
