/**
 * `secure-registry setup [--no-install]`: checks that this machine can run the sandbox (the same
 * check secure-registry-server makes at start-up) and, as root on Debian/Ubuntu, installs the
 * missing system packages (bubblewrap, strace, iptables, iproute2); otherwise prints the one
 * command to run, or the way to a hosted server. Exit 0 when the sandbox is ready, 2 when not
 * (scans still run: packages are then judged on static analysis and the rest held for review).
 */
import { access, constants } from 'node:fs/promises';
import { execa } from 'execa';
import { checkSandboxSupport } from '@secure-registry/analyzer';
import { ExitCode } from '../exit-codes.js';
import { setupPlan } from '../services/system-packages.js';
import type { CommandIo } from './io.js';

const exists = (path: string) =>
  access(path, constants.F_OK).then(
    () => true,
    () => false,
  );

export async function runSetup(flags: { install?: boolean }, io: CommandIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`setup: ${line}\n`);
  let support = await checkSandboxSupport();
  const facts = {
    platform: process.platform,
    isRoot: process.getuid?.() === 0,
    isDebian: await exists('/etc/debian_version'),
    hasAptGet: await exists('/usr/bin/apt-get'),
  };
  let plan = setupPlan({ ...facts, missing: support.missing });
  if (plan.kind === 'install' && flags.install !== false) {
    say(`installing the sandbox's system packages: ${plan.packages.join(' ')}`);
    for (const argv of plan.command) {
      const result = await execa(argv[0]!, argv.slice(1), {
        stdio: ['ignore', 'inherit', 'inherit'],
        reject: false,
        env: { ...io.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (result.exitCode !== 0) {
        say(`${argv.join(' ')} failed (exit ${result.exitCode})`);
        break;
      }
    }
    support = await checkSandboxSupport();
    plan = setupPlan({ ...facts, missing: support.missing });
  }
  if (plan.kind === 'ready') {
    say('sandbox ready: the install, import and browser phases run in bubblewrap on this machine');
    if (!facts.isRoot) {
      say('rootless mode: runs in user namespaces owned by this user');
      for (const line of support.details) if (line.startsWith('cgroups:')) say(line);
    }
    return ExitCode.Ok;
  }
  say(`sandbox not available (missing: ${support.missing.join(', ')})`);
  say(
    'scans here run the static phase only; packages with install/import/browser phases are held for review',
  );
  if (plan.kind === 'install') say(`to install: ${plan.command.map((argv) => argv.join(' ')).join(' && ')}`);
  else for (const line of plan.lines) say(line);
  return ExitCode.NeedsAttention;
}
