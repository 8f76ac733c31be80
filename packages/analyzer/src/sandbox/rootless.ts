// The sandbox as a normal user (rootless), where the kernel lets one own user namespaces. Each run gets
// one user namespace of its own (the user mapped to root inside) holding a mount namespace with the
// run's size-limited tmpfs and the fake internet's network namespace (loopback, DNAT to the sink): the
// sink and the traced sandbox enter it with nsenter, strace stays outside in the host's namespaces.
// Root mode (the default as root) uses none of this: a tmpfs on the host and `unshare --net`.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { killQuietly } from './host-ops.js';
import { netnsSetupScript } from './netns.js';

export type Privilege = 'root' | 'rootless';

/** Root mode as root; rootless otherwise (the host setup then lives in a user namespace the user owns). */
export const hostPrivilege = (): Privilege => (process.getuid?.() === 0 ? 'root' : 'rootless');

/**
 * The uid the sink sees the sandbox's processes run as in rootless mode: they run as the user, who is
 * root in the run's user namespace (bubblewrap maps the persona's uid onto it).
 */
export const ROOTLESS_SANDBOX_UID_IN_NAMESPACE = 0;

/** A rootless run's namespaces, held open by one process until the run is cleaned up. */
export interface RunNamespaces {
  /** The holding process: the sink and the sandbox enter its user, network and mount namespaces. */
  pid: number;
  child: ChildProcess;
  /** The run's tmpfs, as mounted inside the holder's mount namespace (an empty directory on the host). */
  mountDir: string;
}

const READY = 'sr-namespaces-ready';
const HOLDER_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** The holder's script: the tmpfs, then the fake internet's network setup; it then sleeps until killed. */
export function holderScript(mountDir: string, sizeMb: number): string {
  const options = `size=${sizeMb}m,mode=0755,nosuid,nodev`;
  return `mount -t tmpfs -o ${options} tmpfs '${mountDir}' || exit 1\n${netnsSetupScript()}`;
}

/** `unshare` arguments creating a user namespace owned by the user, with root mapped to them. */
export const OWN_USER_NAMESPACE = ['unshare', '--user', '--map-root-user'];

/**
 * A run's namespaces: the user namespace first, then — once root is mapped in it — the mount and
 * network namespaces. Created in that order, the network namespace's /proc/net/nf_conntrack belongs to
 * the namespace's root, so the sink can read where a DNAT-ed stream was headed; created in one
 * unshare(2) with the user namespace, it would belong to the host's root and be unreadable.
 */
export const RUN_NAMESPACES = [...OWN_USER_NAMESPACE, '--', 'unshare', '--mount', '--net', '--'];

/** Starts a run's namespaces; throws (the run then fails closed) when the kernel refuses any piece. */
export async function startRunNamespaces(options: {
  mountDir: string;
  sizeMb: number;
}): Promise<RunNamespaces> {
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig', 'KILL', '--',
      ...RUN_NAMESPACES,
      'sh', '-c', holderScript(options.mountDir, options.sizeMb),
      'sh', 'sh', '-c', `echo ${READY} && exec sleep infinity`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: HOLDER_ENV },
  ); // prettier-ignore
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(READY)) resolve();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`rootless namespaces could not be set up (exit ${code}): ${stderr.trim()}`)),
    );
  });
  child.removeAllListeners('exit');
  return { pid: child.pid ?? -1, child, mountDir: options.mountDir };
}

/** Where this (host) process reaches the run's tmpfs: through the holder's root. */
export const hostPathOf = (namespaces: RunNamespaces): string =>
  `/proc/${namespaces.pid}/root${namespaces.mountDir}`;

/** Ends the holder: its namespaces, and the tmpfs with them, are gone once it and the sandbox are. */
export async function stopRunNamespaces(namespaces: RunNamespaces): Promise<void> {
  const { child } = namespaces;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killQuietly(namespaces.pid);
  await exited;
}

/** `nsenter` arguments into the run's namespaces, as root of its user namespace. */
export function enterRunNamespaces(namespaces: RunNamespaces, kinds: ('net' | 'mount')[]): string[] {
  return [
    'nsenter', '-t', String(namespaces.pid), '--user', ...kinds.map((k) => `--${k}`), '--preserve-credentials', '--',
  ]; // prettier-ignore
}

/**
 * In rootless mode every file of the run belongs to the sandbox's uid (one uid is all a user's own
 * namespace maps), so the parts a developer's machine gives root — `/`, /etc, /root, /run, /var — are
 * closed by mode bits instead: read-only, /root not even that. Only home/ and tmp/ stay writable.
 */
export async function lockSystemParts(runRoot: string): Promise<void> {
  await lockTree(join(runRoot, 'etc'));
  for (const dir of ['run', 'var']) await chmod(join(runRoot, dir), 0o555);
  await chmod(join(runRoot, 'root'), 0o000);
  await chmod(runRoot, 0o555);
}

async function lockTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await lockTree(path);
    else if (entry.isFile()) await chmod(path, 0o444);
  }
  await chmod(dir, 0o555);
}

/** One line per kernel setting that keeps a normal user from running the sandbox here (pure). */
export function rootlessBlockers(sysctl: {
  unprivilegedUsernsClone?: string | undefined;
  maxUserNamespaces?: string | undefined;
  apparmorRestrictUserns?: string | undefined;
  ptraceScope?: string | undefined;
}): string[] {
  const out: string[] = [];
  if (sysctl.unprivilegedUsernsClone?.trim() === '0')
    out.push('unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1');
  if (sysctl.maxUserNamespaces?.trim() === '0')
    out.push('user namespaces: sysctl -w user.max_user_namespaces=15000');
  if (sysctl.apparmorRestrictUserns?.trim() === '1')
    out.push(
      'AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
    );
  if (Number(sysctl.ptraceScope ?? '0') >= 2)
    out.push('ptrace of own child processes (strace): sysctl -w kernel.yama.ptrace_scope=1');
  return out;
}
