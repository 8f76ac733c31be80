/**
 * What a machine needs for the sandbox (install / import / browser phases), as Debian packages,
 * and what `secure-registry setup` does about it: install them (root on Debian or Ubuntu), or say
 * the one command to run — or to scan against a hosted server instead. Pure: no I/O.
 */

/** The Debian package providing each tool the sandbox check (analyzer's checkSandboxSupport) looks for. */
const DEBIAN_PACKAGE: Record<string, string> = {
  bwrap: 'bubblewrap',
  strace: 'strace',
  ip: 'iproute2',
  iptables: 'iptables',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  setpriv: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  chown: 'coreutils',
};

export const HOSTED_HINT =
  'or scan against a hosted secure-registry server, which runs the sandbox: secure-registry login --server URL --token T';

export type SetupPlan =
  | { kind: 'ready' }
  | { kind: 'install'; packages: string[]; command: string[][] }
  | { kind: 'advise'; lines: string[] };

export function setupPlan(input: {
  platform: NodeJS.Platform;
  /**
   * `missing` of checkSandboxSupport: tool names, namespace checks that failed, or (for a normal user)
   * the kernel setting that forbids the rootless sandbox, as `what: sysctl -w key=value`.
   */
  missing: readonly string[];
  isRoot: boolean;
  isDebian: boolean;
  hasAptGet: boolean;
}): SetupPlan {
  if (input.platform !== 'linux') {
    return {
      kind: 'advise',
      lines: [`the sandbox runs on Linux only (this is ${input.platform})`, HOSTED_HINT],
    };
  }
  if (input.missing.length === 0) return { kind: 'ready' };
  const packages = [...new Set(input.missing.flatMap((tool) => DEBIAN_PACKAGE[tool] ?? []))].sort();
  const other = input.missing.filter((tool) => DEBIAN_PACKAGE[tool] === undefined);
  if (packages.length > 0 && input.isRoot && input.isDebian && input.hasAptGet && other.length === 0) {
    return {
      kind: 'install',
      packages,
      command: [
        ['apt-get', 'update'],
        ['apt-get', 'install', '-y', '--no-install-recommends', ...packages],
      ],
    };
  }
  const lines: string[] = [];
  if (packages.length > 0) {
    lines.push(
      input.isDebian
        ? `install the sandbox's system packages: sudo apt-get install -y ${packages.join(' ')}`
        : `install the sandbox's system packages (Debian names): ${packages.join(' ')}`,
    );
  }
  for (const problem of other) {
    const sysctl = problem.indexOf('sysctl -w ');
    lines.push(
      sysctl < 0
        ? `not working here: ${problem}`
        : `the rootless sandbox needs a kernel setting (${problem.slice(0, sysctl).replace(/: $/, '')}): sudo ${problem.slice(sysctl)}, or run as root`,
    );
  }
  lines.push(HOSTED_HINT);
  return { kind: 'advise', lines };
}
