// The bubblewrap command line for one run. Pure: the caller supplies what exists on the host.
import {
  NODE_IN_SANDBOX,
  NPM_DIR_IN_SANDBOX,
  RUNNER_CONFIG_IN_SANDBOX,
  RUNNER_IN_SANDBOX,
} from './sandbox-env.js';
import { KERNEL_CMDLINE_IN_RUN, type Persona } from './layout.js';

export interface BwrapPlan {
  persona: Persona;
  /** The run's tmpfs on the host: home/, tmp/ (writable), etc/, usrlocal/ and proc/ (read-only). */
  runRoot: string;
  nodePath: string;
  /** Top-level system entries on the host: symlinks are recreated, directories bound read-only. */
  systemEntries: { path: string; symlinkTarget?: string }[];
  /** Read-only binds of trusted support packages: host dir -> name under the runner's node_modules. */
  supportPackages: { hostDir: string; name: string }[];
  /** Further read-only binds (host dir -> sandbox path), after the writable home and /tmp. */
  readOnlyBinds?: { hostDir: string; path: string }[];
  env: Record<string, string>;
  cwd: string;
}

export function bwrapArgs(plan: BwrapPlan): string[] {
  const { persona, runRoot } = plan;
  const args = [
    '--unshare-user',
    '--uid', String(persona.uid),
    '--gid', String(persona.gid),
    '--disable-userns',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname', persona.hostname,
    '--die-with-parent',
    '--new-session',
    '--ro-bind', '/usr', '/usr',
  ]; // prettier-ignore
  for (const entry of plan.systemEntries) {
    if (entry.symlinkTarget !== undefined) args.push('--symlink', entry.symlinkTarget, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  args.push(
    '--ro-bind', `${runRoot}/usrlocal`, '/usr/local',
    '--ro-bind', plan.nodePath, NODE_IN_SANDBOX,
    '--ro-bind', `${runRoot}/etc`, '/etc',
    '--ro-bind-try', '/etc/alternatives', '/etc/alternatives',
    '--proc', '/proc',
    '--ro-bind', `${runRoot}/${KERNEL_CMDLINE_IN_RUN}`, '/proc/cmdline',
    '--dev', '/dev',
    '--bind', `${runRoot}/home`, '/home',
    '--bind', `${runRoot}/tmp`, '/tmp',
    '--dir', '/run',
    '--dir', '/var',
    '--symlink', '../tmp', '/var/tmp',
    '--dir', '/root',
    '--chmod', '0700', '/root',
  ); // prettier-ignore
  for (const support of plan.supportPackages) {
    args.push('--ro-bind', support.hostDir, `${NPM_DIR_IN_SANDBOX}/node_modules/${support.name}`);
  }
  for (const bind of plan.readOnlyBinds ?? []) args.push('--ro-bind', bind.hostDir, bind.path);
  args.push('--clearenv');
  for (const [key, value] of Object.entries(plan.env)) args.push('--setenv', key, value);
  args.push('--chdir', plan.cwd, '--', NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, RUNNER_CONFIG_IN_SANDBOX);
  return args;
}
