// Can this machine run the sandbox? Tries every piece for real; callers fail closed when not ok.
import { existsSync } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { findTool, runCommand } from './host-ops.js';
import { createPersona } from './layout.js';
import { netnsSetupScript } from './netns.js';
import { SANDBOX_HOST_UID, systemEntries } from './prepare-run.js';
import { holderScript, hostPrivilege, rootlessBlockers, RUN_NAMESPACES } from './rootless.js';
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
  if (missing.length > 0) return { ok: false, missing, details };
  const rootless = hostPrivilege() === 'rootless';
  details.push(`mode: ${rootless ? 'rootless (user namespaces owned by this user)' : 'root'}`);
  if (rootless) missing.push(...(await checkRootless(details)));
  else missing.push(...(await checkRootNamespaces(details)));

  if (rootless) {
    details.push('init: none rootless (bubblewrap is PID 1, the package has no desktop around it)');
  } else {
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
  }

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
  if (strace.code !== 0 && !(rootless && missing.some((m) => m.includes('ptrace_scope'))))
    missing.push('strace (ptrace permitted)');
  details.push(`strace: ${strace.code === 0 ? 'ok' : (strace.error ?? strace.stderr.trim())}`);

  const writable = (dir: string): Promise<boolean> => access(dir, constants.W_OK).then(() => true, () => false); // prettier-ignore
  const v2 = await access('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false); // prettier-ignore
  // A normal user may create cgroups only where the hierarchy was delegated to them.
  const memory = v2
    ? !rootless || (await writable('/sys/fs/cgroup'))
    : await writable('/sys/fs/cgroup/memory');
  const pids = v2 ? !rootless || (await writable('/sys/fs/cgroup')) : await writable('/sys/fs/cgroup/pids');
  details.push(
    `cgroups: ${v2 ? 'v2' : 'v1'}, memory limit ${memory ? 'available' : 'unavailable'}, pids limit ${pids ? 'available' : 'unavailable (falls back to RLIMIT_NPROC)'}`,
  );
  return { ok: missing.length === 0, missing, details };
}

/** A bubblewrap sandbox like the real one's namespaces, printing its shell's pid. */
function bwrapProbe(): string[] {
  const sys = systemEntries().flatMap((e) =>
    e.symlinkTarget !== undefined ? ['--symlink', e.symlinkTarget, e.path] : ['--ro-bind', e.path, e.path],
  );
  return [
    'bwrap', '--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--die-with-parent',
    '--ro-bind', '/usr', '/usr', ...sys, '--proc', '/proc', '--dev', '/dev', '--size', String(1024 * 1024), '--tmpfs', '/tmp',
    '--', 'sh', '-c', 'echo $$',
  ]; // prettier-ignore
}

const reason = (result: { error?: string; stderr: string }): string => result.error ?? result.stderr.trim();

/** Root mode: the fake internet's network namespace on the host, bubblewrap as the sandbox's host uid. */
async function checkRootNamespaces(details: string[]): Promise<string[]> {
  const missing: string[] = [];
  const net = await runCommand('unshare', ['--net', '--', 'sh', '-c', netnsSetupScript(), 'sh', 'true']);
  if (net.code !== 0) missing.push('network namespace with iptables NAT');
  details.push(`network namespace: ${net.code === 0 ? 'ok' : reason(net)}`);
  const bwrap = await runCommand('setpriv', [
    `--reuid=${SANDBOX_HOST_UID}`, `--regid=${SANDBOX_HOST_UID}`, '--clear-groups', '--', ...bwrapProbe(),
  ]); // prettier-ignore
  if (bwrap.code !== 0 || bwrap.stdout.trim() === '')
    missing.push('bubblewrap with user, pid and net namespaces');
  details.push(`bubblewrap: ${bwrap.code === 0 ? `ok (sandbox pid ${bwrap.stdout.trim()})` : reason(bwrap)}`);
  return missing;
}

const readSysctl = (path: string): Promise<string | undefined> =>
  readFile(`/proc/sys/${path}`, 'utf8').catch(() => undefined);

/**
 * Rootless mode: a user namespace of this user's with a size-limited tmpfs and the fake internet's
 * network namespace, and bubblewrap traced by strace inside it — the whole chain of a real run. What
 * fails is named by the kernel setting that forbids it (one line: the sysctl to set).
 */
async function checkRootless(details: string[]): Promise<string[]> {
  const blockers = rootlessBlockers({
    unprivilegedUsernsClone: await readSysctl('kernel/unprivileged_userns_clone'),
    maxUserNamespaces: await readSysctl('user/max_user_namespaces'),
    apparmorRestrictUserns: await readSysctl('kernel/apparmor_restrict_unprivileged_userns'),
    ptraceScope: await readSysctl('kernel/yama/ptrace_scope'),
  });
  const chain = await runCommand('strace', [
    '-f', '--seccomp-bpf', '-e', 'trace=execve', '-o', '/dev/null', '--',
    ...RUN_NAMESPACES,
    'sh', '-c', holderScript('/tmp', 1), 'sh', ...bwrapProbe(),
  ]); // prettier-ignore
  const ok = chain.code === 0 && chain.stdout.trim() !== '';
  if (ok) {
    // The same words as root mode's checks: each piece worked, here inside the user's own namespaces.
    details.push('network namespace: ok (rootless: with the run tmpfs, in a user namespace of this user)');
    details.push(`bubblewrap: ok (sandbox pid ${chain.stdout.trim()}, under strace)`);
    return [];
  }
  details.push(
    `rootless namespaces (tmpfs, network namespace with iptables NAT, bubblewrap under strace): ${reason(chain)}`,
  );
  return blockers.length > 0 ? blockers : [`rootless namespaces: ${reason(chain).split('\n')[0] ?? ''}`];
}

let cached: Promise<SandboxSupport> | undefined;

/** checkSandboxSupport, once per process. */
export function sandboxSupportOnce(): Promise<SandboxSupport> {
  cached ??= checkSandboxSupport();
  return cached;
}
