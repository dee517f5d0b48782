// /proc/PID/cgroup parsing over saved texts for each runtime (v1, v2, hybrid), container names, one live cgroup.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CgroupInfo, containerName, defaultContainerStateRoots, parseCgroup } from './cgroup.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, 'cgroup', name), 'utf8');

const DOCKER = 'f31f384749f9115acf01fcf82f5a966b59dcc0a4cbd7c9740888c0bf32aa2bbb';
const DOCKER_SYSTEMD = '6de102c1cecc011032305908295668eedad74d736c6d216e4c42f416ae84988f';
const PODMAN = 'cc68e1d9877507693f2627038a9947317d784e78728a2cdc290274f23414b7e0';
const PODMAN_ROOTLESS = '56dfa3bc944415a972b0fe05883435f6f061150cc65600d923a24fd565932362';
const CONTAINERD = 'a1153a1970ea17b773d92b866f3e57718af6e81398b9433342d06e65a22bbeb2';
const CONTAINERD_V1 = '69d7ef3dffccbb999d4cef1516f2e4001e2d8dba96b0b9a2d3eaa71c6b5a9534';
const CRIO = '610713dca419d7deb83a1246d0c1ee0ac2e23b81cbb29bba37147e88e1848cda';
const CRIO_V1 = '9ebc36de4e3335466daec073fef7860e8fa353cf1ea3ce3e2bf3b778209d5626';

const EXPECTED: Record<string, CgroupInfo> = {
  'systemd-service-v1.txt': { path: '/system.slice/nginx.service', unit: 'nginx.service' },
  'systemd-service-v2.txt': { path: '/system.slice/nginx.service', unit: 'nginx.service' },
  'systemd-service-hybrid.txt': { path: '/system.slice/ssh.service', unit: 'ssh.service' },
  'user-app-v2.txt': {
    path: '/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope',
    unit: 'user@1000.service/app.slice/app-gnome-firefox-1234.scope',
  },
  'user-session-v2.txt': { path: '/user.slice/user-1000.slice/session-2.scope', unit: 'session-2.scope' },
  'user-session-hybrid.txt': { path: '/user.slice/user-1000.slice/session-2.scope', unit: 'session-2.scope' },
  'init-v2.txt': { path: '/init.scope', unit: 'init.scope' },
  // The root cgroup: kernel threads, or any process in a container with its own cgroup namespace. No unit claimed.
  'root-v2.txt': { path: '/' },
  // Hybrid Docker (cgroupfs driver): the unified line still points at containerd.service; name=systemd is right.
  'docker-v1.txt': { path: `/docker/${DOCKER}`, containerRuntime: 'docker', containerId: DOCKER },
  'docker-v2.txt': {
    path: `/system.slice/docker-${DOCKER}.scope`, unit: `docker-${DOCKER}.scope`, containerRuntime: 'docker', containerId: DOCKER,
  },
  'docker-cgroupfs-v2.txt': { path: `/docker/${DOCKER}`, containerRuntime: 'docker', containerId: DOCKER },
  'docker-systemd-v1.txt': {
    path: `/system.slice/docker-${DOCKER_SYSTEMD}.scope`, unit: `docker-${DOCKER_SYSTEMD}.scope`,
    containerRuntime: 'docker', containerId: DOCKER_SYSTEMD,
  },
  'podman-v2.txt': {
    path: `/machine.slice/libpod-${PODMAN}.scope`, unit: `libpod-${PODMAN}.scope`, containerRuntime: 'podman', containerId: PODMAN,
  },
  'podman-systemd-v2.txt': {
    path: `/machine.slice/libpod-${PODMAN}.scope/container`, unit: `libpod-${PODMAN}.scope`,
    containerRuntime: 'podman', containerId: PODMAN,
  },
  'podman-rootless-v2.txt': {
    path: `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${PODMAN_ROOTLESS}.scope`,
    unit: `user@1000.service/user.slice/libpod-${PODMAN_ROOTLESS}.scope`,
    containerRuntime: 'podman', containerId: PODMAN_ROOTLESS,
  },
  'podman-v1.txt': { path: `/libpod_parent/libpod-${PODMAN}`, containerRuntime: 'podman', containerId: PODMAN },
  // conmon watches the container from outside it.
  'podman-conmon-v2.txt': { path: `/machine.slice/libpod-conmon-${PODMAN}.scope`, unit: `libpod-conmon-${PODMAN}.scope` },
  'containerd-k8s-v2.txt': {
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8e2f1c3a_5b6d_4e7f_9a0b_1c2d3e4f5a6b.slice/cri-containerd-${CONTAINERD}.scope`,
    unit: `cri-containerd-${CONTAINERD}.scope`, containerRuntime: 'containerd', containerId: CONTAINERD,
  },
  'containerd-k8s-v1.txt': {
    path: `/kubepods/burstable/pod8e2f1c3a-5b6d-4e7f-9a0b-1c2d3e4f5a6b/${CONTAINERD_V1}`,
    containerRuntime: 'containerd', containerId: CONTAINERD_V1,
  },
  'crio-v2.txt': {
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b7c9d2e_1f3a_4b5c_8d6e_7f8091a2b3c4.slice/crio-${CRIO}.scope`,
    unit: `crio-${CRIO}.scope`, containerRuntime: 'cri-o', containerId: CRIO,
  },
  'crio-v1.txt': {
    path: `/kubepods/besteffort/pod0b7c9d2e-1f3a-4b5c-8d6e-7f8091a2b3c4/crio-${CRIO_V1}`,
    containerRuntime: 'cri-o', containerId: CRIO_V1,
  },
  'lxc-v1.txt': { path: '/lxc/web1/system.slice/nginx.service', unit: 'nginx.service', containerRuntime: 'lxc', containerId: 'web1' },
  'lxd-v2.txt': { path: '/lxc.payload.c1/system.slice/nginx.service', unit: 'nginx.service', containerRuntime: 'lxc', containerId: 'c1' },
};

test('every saved cgroup text parses to its unit and container', () => {
  const files = fs.readdirSync(path.join(FIXTURES, 'cgroup')).filter((f) => f.endsWith('.txt')).sort();
  assert.deepEqual(files, Object.keys(EXPECTED).sort(), 'each fixture has an expectation');
  for (const [file, expected] of Object.entries(EXPECTED)) {
    assert.deepEqual(parseCgroup(fixture(file)), expected, file);
  }
});

test('parseCgroup: slices, monitors, nesting, deleted cgroups and v1 without name=systemd', () => {
  assert.deepEqual(parseCgroup('0::/system.slice\n'), { path: '/system.slice', unit: 'system.slice' });
  assert.deepEqual(parseCgroup('0::/user.slice/user-1000.slice\n'), { path: '/user.slice/user-1000.slice', unit: 'user-1000.slice' });
  assert.deepEqual(parseCgroup('0::/user.slice/user-1000.slice/user@1000.service/init.scope'), {
    path: '/user.slice/user-1000.slice/user@1000.service/init.scope', unit: 'user@1000.service/init.scope',
  });
  // A delegated subtree below a service still belongs to the service.
  assert.equal(parseCgroup('0::/system.slice/buildkitd.service/runner/job-7').unit, 'buildkitd.service');
  assert.deepEqual(parseCgroup('0::/lxc.monitor.c1'), { path: '/lxc.monitor.c1' });
  // Docker in Docker: the innermost container.
  const inner = 'b'.repeat(64);
  assert.equal(parseCgroup(`0::/docker/${DOCKER}/docker/${inner}`).containerId, inner);
  assert.deepEqual(parseCgroup('0::/system.slice/nginx.service (deleted)\n'), { path: '/system.slice/nginx.service', unit: 'nginx.service' });
  // Non-systemd v1 host (OpenRC): no name=systemd line, the container shows in the controllers.
  assert.deepEqual(parseCgroup(`4:memory:/docker/${DOCKER}\n3:cpu,cpuacct:/docker/${DOCKER}\n2:rdma:/\n`), {
    path: `/docker/${DOCKER}`, containerRuntime: 'docker', containerId: DOCKER,
  });
  // A 63-hex or upper-case id is not a container id.
  assert.equal(parseCgroup(`0::/docker/${DOCKER.slice(1)}`).containerRuntime, undefined);
  assert.equal(parseCgroup(`0::/system.slice/docker-${DOCKER.toUpperCase()}.scope`).containerRuntime, undefined);
});

test('parseCgroup never throws on garbage and reports an empty path when no line parses', () => {
  assert.deepEqual(parseCgroup(''), { path: '' });
  assert.deepEqual(parseCgroup('garbage\n::\nx:y:z\n0::relative\n\u0000'), { path: '' });
  assert.deepEqual(parseCgroup('0::/\n1:name=systemd:/\n'), { path: '/' });
});

test('containerName reads Docker and Podman state files; other runtimes and unknown ids give undefined', () => {
  const state = path.join(FIXTURES, 'container-state');
  const roots = {
    docker: path.join(state, 'docker'),
    podman: [path.join(state, 'containers-storage'), path.join(state, 'home/.local/share/containers/storage')],
  };
  assert.equal(containerName('docker', DOCKER, roots), 'web');
  assert.equal(containerName('podman', PODMAN, roots), 'db');
  assert.equal(containerName('podman', PODMAN_ROOTLESS, roots), 'toolbox-fedora', 'found in the second store');
  assert.equal(containerName('podman', 'c'.repeat(64), roots), undefined);
  assert.equal(containerName('docker', 'c'.repeat(64), roots), undefined);
  assert.equal(containerName('containerd', CONTAINERD, roots), undefined);
  assert.equal(containerName('lxc', 'web1', roots), undefined);
  assert.equal(containerName('docker', '../../etc', roots), undefined, 'an id is never a path');
  assert.equal(containerName('docker', DOCKER, { docker: '/nonexistent', podman: ['/nonexistent'] }), undefined);
  // Corrupt state files are not an error either.
  assert.equal(containerName('podman', PODMAN, { docker: state, podman: [path.join(state, 'docker')] }), undefined);
});

test('defaultContainerStateRoots searches root storage, then the user store under HOME', () => {
  assert.deepEqual(defaultContainerStateRoots('/home/ana'), {
    docker: '/var/lib/docker',
    podman: ['/var/lib/containers/storage', '/home/ana/.local/share/containers/storage'],
  });
  assert.deepEqual(defaultContainerStateRoots('').podman, ['/var/lib/containers/storage']);
});

/** The cgroup v2 hierarchy: /sys/fs/cgroup on unified systems, /sys/fs/cgroup/unified on hybrid ones. */
function cgroup2Mount(): string | undefined {
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  const points = mounts.split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'cgroup2').map((f) => f[1] ?? '');
  return points.find((p) => p === '/sys/fs/cgroup') ?? points.find((p) => p === '/sys/fs/cgroup/unified') ?? points[0];
}

test('live: a child moved into a new cgroup v2 scope parses to that unit', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to create a cgroup');
    return;
  }
  const mount = cgroup2Mount();
  if (mount === undefined) {
    t.skip('no cgroup2 hierarchy mounted');
    return;
  }
  const name = `rustnet-test-${process.pid}.scope`;
  const dir = path.join(mount, name);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    t.skip(`cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return;
  }
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const pid = child.pid;
    assert.ok(pid !== undefined, 'sleep started');
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), `${pid}\n`);
    } catch (e) {
      t.skip(`the kernel refused the move into ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return;
    }
    const info = parseCgroup(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    assert.equal(info.unit, name);
    assert.ok(info.path.endsWith(`/${name}`), info.path);
    assert.equal(info.containerRuntime, undefined);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    // A cgroup can only be removed once its last process has exited.
    fs.rmdirSync(dir);
  }
});
