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
  /** The run's tmpfs on the host, the sandbox's root: home/, tmp/ (writable by the sandbox), etc/, usr/local/, proc/. */
  runRoot: string;
  nodePath: string;
  /** Top-level system entries on the host: directories are bound read-only (symlinks are in the run root). */
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
    // The run's tmpfs is the root file system itself (its mount points and symlinks made by
    // stageRoot), so the mount table shows `/` where bubblewrap's own root would show /newroot.
    '--bind', runRoot, '/',
    '--ro-bind', '/usr', '/usr',
  ]; // prettier-ignore
  for (const entry of plan.systemEntries)
    if (entry.symlinkTarget === undefined) args.push('--ro-bind', entry.path, entry.path);
  args.push(
    '--ro-bind', `${runRoot}/usr/local`, '/usr/local',
    '--ro-bind', plan.nodePath, NODE_IN_SANDBOX,
    '--ro-bind-try', '/etc/alternatives', '/etc/alternatives',
    '--proc', '/proc',
    '--ro-bind', `${runRoot}/${KERNEL_CMDLINE_IN_RUN}`, '/proc/cmdline',
    '--dev', '/dev',
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
