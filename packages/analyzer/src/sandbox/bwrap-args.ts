// The bubblewrap command line for one run. Pure: the caller supplies what exists on the host.
import { NPM_MODULES_IN_SANDBOX } from './static-layer.js';
import { NODE_IN_SANDBOX, RUNNER_CONFIG_IN_SANDBOX, RUNNER_IN_SANDBOX } from './sandbox-env.js';
import { KERNEL_CMDLINE_IN_RUN, type Persona } from './layout.js';
import { INIT_SCRIPT, PERSONA_GROUPS, initPlan, initSyscalls, processTree } from './process-tree.js';

export interface BwrapPlan {
  persona: Persona;
  /** The run's tmpfs on the host, the sandbox's root: home/, tmp/ (writable by the sandbox), etc/, usr/local/, proc/. */
  runRoot: string;
  /** The static layer's root on the host (static-layer.ts): node and npm's node_modules come from it. */
  staticRoot: string;
  /** Top-level system entries on the host: directories are bound read-only (symlinks are in the run root). */
  systemEntries: { path: string; symlinkTarget?: string }[];
  /** Further read-only binds (host dir -> sandbox path), after the writable home and /tmp. */
  readOnlyBinds?: { hostDir: string; path: string }[];
  env: Record<string, string>;
  cwd: string;
  /**
   * The sandbox's init (process-tree.ts) at this path (the host's perl, bound with /usr): PID 1
   * and the desktop's processes around the runner. Absent: bubblewrap is PID 1 and the runner
   * its only child.
   */
  perl?: string;
  /**
   * Rootless: bubblewrap makes the user namespace itself, mapping the persona's uid alone (no root
   * in it, so no init: bubblewrap is PID 1 and the runner runs as the persona directly).
   */
  ownUserNamespace?: boolean;
}

export function bwrapArgs(plan: BwrapPlan): string[] {
  const { persona, runRoot } = plan;
  // As root: bubblewrap runs as root of the run's user namespace (user-namespace.ts), which maps the
  // persona's uid and a root that is not the host's; the init (or setpriv) takes the persona's uid
  // and groups. Rootless: bubblewrap makes a namespace mapping the persona's uid alone.
  const args = [
    ...(plan.ownUserNamespace
      ? ['--unshare-user', '--uid', String(persona.uid), '--gid', String(persona.gid), '--disable-userns']
      : []),
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
    '--ro-bind', `${plan.staticRoot}${NODE_IN_SANDBOX}`, NODE_IN_SANDBOX,
    '--ro-bind-try', '/etc/alternatives', '/etc/alternatives',
    '--proc', '/proc',
    '--ro-bind', `${runRoot}/${KERNEL_CMDLINE_IN_RUN}`, '/proc/cmdline',
    '--dev', '/dev',
  ); // prettier-ignore
  args.push('--ro-bind', `${plan.staticRoot}${NPM_MODULES_IN_SANDBOX}`, NPM_MODULES_IN_SANDBOX);
  for (const bind of plan.readOnlyBinds ?? []) args.push('--ro-bind', bind.hostDir, bind.path);
  args.push('--clearenv');
  const env = plan.perl !== undefined ? { ...plan.env, PERL_BADLANG: '0' } : plan.env;
  for (const [key, value] of Object.entries(env)) args.push('--setenv', key, value);
  const runner = [NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, RUNNER_CONFIG_IN_SANDBOX];
  let command = runner;
  if (!plan.ownUserNamespace) {
    // Root of the namespace keeps every capability there unless told: only what the uid switch needs.
    args.push('--cap-drop', 'ALL', '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID');
    if (plan.perl !== undefined) {
      // ns_last_pid (the planned pids) needs CAP_SYS_ADMIN; the init's children drop every capability.
      args.push('--cap-add', 'CAP_SYS_ADMIN', '--as-pid-1');
      command = [
        plan.perl,
        '-e',
        INIT_SCRIPT,
        initPlan(processTree(persona), persona),
        initSyscalls(),
        ...runner,
      ];
    } else {
      const groups = [persona.gid, ...PERSONA_GROUPS].join(',');
      command = [
        'setpriv',
        `--reuid=${persona.uid}`,
        `--regid=${persona.gid}`,
        `--groups=${groups}`,
        '--',
        ...runner,
      ];
    }
  }
  args.push('--chdir', plan.cwd, '--', ...command);
  return args;
}
