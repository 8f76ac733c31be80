import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { enterRunNamespaces, holderScript, rootlessBlockers, type RunNamespaces } from './rootless.js';

test('rootlessBlockers: one line per kernel setting that forbids the rootless sandbox, naming the sysctl', () => {
  assert.deepEqual(rootlessBlockers({ maxUserNamespaces: '96553\n' }), []);
  assert.deepEqual(rootlessBlockers({ unprivilegedUsernsClone: '1\n', ptraceScope: '1\n' }), []);
  assert.deepEqual(rootlessBlockers({ unprivilegedUsernsClone: '0\n' }), [
    'unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1',
  ]);
  assert.deepEqual(
    rootlessBlockers({ maxUserNamespaces: '0\n', apparmorRestrictUserns: '1\n', ptraceScope: '2\n' }),
    [
      'user namespaces: sysctl -w user.max_user_namespaces=15000',
      'AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
      'ptrace of own child processes (strace): sysctl -w kernel.yama.ptrace_scope=1',
    ],
  );
});

test('holderScript mounts the size-limited tmpfs first, then sets up the fake internet', () => {
  const script = holderScript('/tmp/sr-fs-abc', 256);
  assert.ok(
    script.startsWith(
      "mount -t tmpfs -o size=256m,mode=0755,nosuid,nodev tmpfs '/tmp/sr-fs-abc' || exit 1\n",
    ),
  );
  assert.match(script, /iptables -w -t nat -A OUTPUT .* -j DNAT/);
  assert.ok(script.endsWith('exec "$@"'));
});

test('enterRunNamespaces always enters the user namespace first (setns into its network needs its root)', () => {
  const ns = { pid: 42, mountDir: '/tmp/sr-fs-abc' } as RunNamespaces;
  assert.deepEqual(enterRunNamespaces(ns, ['net', 'mount']), [
    'nsenter', '-t', '42', '--user', '--net', '--mount', '--preserve-credentials', '--',
  ]); // prettier-ignore
});
