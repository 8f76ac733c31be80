// Can this machine run the sandbox? Tries every piece for real; callers fail closed when not ok.
import { existsSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { findTool, runCommand } from './host-ops.js';
import { createPersona } from './layout.js';
import { netnsSetupScript } from './netns.js';
import { SANDBOX_HOST_UID, systemEntries } from './prepare-run.js';
import { HOST_ENV, INIT_PERL } from './sandbox-process.js';
import { createUserNamespace } from './user-namespace.js';

export interface SandboxSupport {
  ok: boolean;
  missing: string[];
  details: string[];
}

const TOOLS = [
  'bwrap',
  'strace',
  'ip',
  'iptables',
  'unshare',
  'nsenter',
  'setpriv',
  'mount',
  'umount',
  'chown',
];

export async function checkSandboxSupport(): Promise<SandboxSupport> {
  const missing: string[] = [];
  const details: string[] = [];
  if (process.platform !== 'linux')
    return { ok: false, missing: ['linux'], details: [`platform is ${process.platform}`] };
  for (const tool of TOOLS) {
    const path = findTool(tool);
    if (!path) missing.push(tool);
    else details.push(`${tool}: ${path}`);
  }
  if (process.getuid?.() !== 0) missing.push('root (network namespace, iptables and tmpfs setup)');
  if (missing.length > 0) return { ok: false, missing, details };

  const net = await runCommand('unshare', ['--net', '--', 'sh', '-c', netnsSetupScript(), 'sh', 'true']);
  if (net.code !== 0) missing.push('network namespace with iptables NAT');
  details.push(`network namespace: ${net.code === 0 ? 'ok' : (net.error ?? net.stderr.trim())}`);

  const sys = systemEntries().flatMap((e) =>
    e.symlinkTarget !== undefined ? ['--symlink', e.symlinkTarget, e.path] : ['--ro-bind', e.path, e.path],
  );
  const bwrap = await runCommand('setpriv', [
    `--reuid=${SANDBOX_HOST_UID}`, `--regid=${SANDBOX_HOST_UID}`, '--clear-groups', '--',
    'bwrap', '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--die-with-parent',
    '--ro-bind', '/usr', '/usr', ...sys, '--proc', '/proc', '--dev', '/dev', '--size', String(1024 * 1024), '--tmpfs', '/tmp',
    '--', 'sh', '-c', 'echo $$',
  ]); // prettier-ignore
  if (bwrap.code !== 0 || bwrap.stdout.trim() === '')
    missing.push('bubblewrap with user, pid and net namespaces');
  details.push(
    `bubblewrap: ${bwrap.code === 0 ? `ok (sandbox pid ${bwrap.stdout.trim()})` : (bwrap.error ?? bwrap.stderr.trim())}`,
  );

  const userns = await createUserNamespace(createPersona(), SANDBOX_HOST_UID, HOST_ENV).then(
    (ns) => void ns.close(),
    (error: Error) => error.message,
  );
  if (userns !== undefined) missing.push('a user namespace mapping a sandbox root and the developer');
  details.push(`user namespace: ${userns ?? 'ok'}`);
  details.push(
    existsSync(INIT_PERL)
      ? `init: ${INIT_PERL} (a desktop's process tree around the package)`
      : `init: ${INIT_PERL} missing (bubblewrap is PID 1, the package's tree has no desktop around it)`,
  );

  const strace = await runCommand('strace', [
    '-f',
    '--seccomp-bpf',
    '-e',
    'trace=execve',
    '-o',
    '/dev/null',
    '--',
    'true',
  ]);
  if (strace.code !== 0) missing.push('strace (ptrace permitted)');
  details.push(`strace: ${strace.code === 0 ? 'ok' : (strace.error ?? strace.stderr.trim())}`);

  const v2 = await access('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false); // prettier-ignore
  const memory = v2 || (await access('/sys/fs/cgroup/memory', constants.W_OK).then(() => true, () => false)); // prettier-ignore
  const pids = v2 || (await access('/sys/fs/cgroup/pids', constants.W_OK).then(() => true, () => false)); // prettier-ignore
  details.push(
    `cgroups: ${v2 ? 'v2' : 'v1'}, memory limit ${memory ? 'available' : 'unavailable'}, pids limit ${pids ? 'available' : 'unavailable (falls back to RLIMIT_NPROC)'}`,
  );
  return { ok: missing.length === 0, missing, details };
}

let cached: Promise<SandboxSupport> | undefined;

/** checkSandboxSupport, once per process. */
export function sandboxSupportOnce(): Promise<SandboxSupport> {
  cached ??= checkSandboxSupport();
  return cached;
}
