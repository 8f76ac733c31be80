import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { HOSTED_HINT, setupPlan } from './system-packages.js';

const linuxRootDebian = { platform: 'linux' as const, isRoot: true, isDebian: true, hasAptGet: true };

test('ready when nothing is missing', () => {
  assert.deepEqual(setupPlan({ ...linuxRootDebian, missing: [] }), { kind: 'ready' });
});

test('root on Debian: installs the Debian packages of the missing tools', () => {
  assert.deepEqual(
    setupPlan({ ...linuxRootDebian, missing: ['bwrap', 'strace', 'ip', 'iptables', 'nsenter'] }),
    {
      kind: 'install',
      packages: ['bubblewrap', 'iproute2', 'iptables', 'strace', 'util-linux'],
      command: [
        ['apt-get', 'update'],
        [
          'apt-get',
          'install',
          '-y',
          '--no-install-recommends',
          'bubblewrap',
          'iproute2',
          'iptables',
          'strace',
          'util-linux',
        ],
      ],
    },
  );
});

test('not root: the one command to run, the kernel setting the rootless sandbox needs, and the hosted way', () => {
  const plan = setupPlan({
    ...linuxRootDebian,
    isRoot: false,
    missing: ['bwrap', 'unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1'],
  });
  assert.deepEqual(plan, {
    kind: 'advise',
    lines: [
      "install the sandbox's system packages: sudo apt-get install -y bubblewrap",
      'the rootless sandbox needs a kernel setting (unprivileged user namespaces): sudo sysctl -w kernel.unprivileged_userns_clone=1, or run as root',
      HOSTED_HINT,
    ],
  });
});

test('not root with every tool and setting: ready (the sandbox runs rootless)', () => {
  assert.deepEqual(setupPlan({ ...linuxRootDebian, isRoot: false, missing: [] }), { kind: 'ready' });
});

test('another distribution: Debian names; a failing namespace check is named, not "installed"', () => {
  const plan = setupPlan({ ...linuxRootDebian, isDebian: false, hasAptGet: false, missing: ['strace'] });
  assert.equal(plan.kind, 'advise');
  assert.match(plan.kind === 'advise' ? plan.lines[0]! : '', /\(Debian names\): strace$/);
  const broken = setupPlan({ ...linuxRootDebian, missing: ['network namespace with iptables NAT'] });
  assert.deepEqual(broken, {
    kind: 'advise',
    lines: ['not working here: network namespace with iptables NAT', HOSTED_HINT],
  });
});

test('not Linux: the hosted server', () => {
  const plan = setupPlan({ ...linuxRootDebian, platform: 'darwin', missing: ['linux'] });
  assert.deepEqual(plan, {
    kind: 'advise',
    lines: ['the sandbox runs on Linux only (this is darwin)', HOSTED_HINT],
  });
});
