/**
 * `secure-registry install [npm args…]`: an `npm install` that vets first.
 *
 *  1. resolve: `npm install <args> --package-lock-only --ignore-scripts` against the upstream
 *     (writes package-lock.json, and package.json when a package is added; runs nothing);
 *  2. scan the resulting lockfile (the same scan as `secure-registry scan`);
 *  3. only when it passes: `npm install <flags>` (or `npm ci <flags>` with --ci) through the
 *     vetted registry, with `--replace-registry-host=always`.
 * When the scan or the install fails, package.json and the lockfile are put back as they were.
 *
 * Exit codes: 0 installed; 1 rejected/blocked; 2 held/unvettable/undecided (see --fail-on);
 * 3 usage or input error; 4 server, network or npm failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UserError } from '@secure-registry/shared';
import { DEFAULT_FAIL_ON, ExitCode, exitCodeFor } from '../exit-codes.js';
import type { FailOn } from '../exit-codes.js';
import { plainEventLines, plainSummaryLines } from '../output/plain.js';
import { openConfigStore, resolveTarget } from '../services/config.js';
import type { Env } from '../services/config.js';
import { loadLockfile } from '../services/lockfile.js';
import { splitNpmArgs } from '../services/npm-args.js';
import { backupPath, nerfDart, previousRegistry, registryUrlFor } from '../services/npm-config.js';
import { hasLockfile, npmrcWithToken, restoreProject, snapshotProject } from '../services/npm-project.js';
import type { ProjectSnapshot } from '../services/npm-project.js';
import { installThrough, npmConfigFile, resolveFailure, resolveLockfile } from '../services/npm.js';
import { submitAndFollowScan } from '../services/scan-follow.js';
import { openServerSession } from '../services/server-session.js';
import type { ServerSession } from '../services/server-session.js';
import { NPM_DEFAULT_REGISTRY, resolveUpstream } from '../services/upstream.js';
import type { CommandIo } from './io.js';
import { parseFailOn } from './fail-on.js';

export interface InstallFlags {
  ci?: boolean;
  upstream?: string;
  failOn?: string;
}

function sameRegistry(a: string, b: string): boolean {
  return registryUrlFor(a) === registryUrlFor(b);
}

/** The upstream to resolve against: never the vetted registry itself (it hides unvetted versions). */
async function upstreamFor(options: {
  flag: string | undefined;
  projectDir: string;
  env: Env;
  vetted: string | undefined;
  backupFile: string;
}): Promise<string> {
  const upstream = await resolveUpstream({
    flag: options.flag,
    projectDir: options.projectDir,
    env: options.env,
  });
  if (options.vetted === undefined || !sameRegistry(upstream, options.vetted)) return upstream;
  // npm is pointed at the vetted registry (`secure-registry use`): resolve against what it replaced.
  const previous = await previousRegistry(options.backupFile);
  return previous && !sameRegistry(previous, options.vetted) ? previous : NPM_DEFAULT_REGISTRY;
}

export async function runInstall(
  npmArgs: readonly string[],
  flags: InstallFlags,
  io: CommandIo,
  cwd = process.cwd(),
): Promise<number> {
  const failOn: FailOn = flags.failOn === undefined ? DEFAULT_FAIL_ON : parseFailOn(flags.failOn);
  const { specs, flags: npmFlags } = splitNpmArgs(npmArgs);
  if (flags.ci && specs.length > 0) {
    throw new UserError('ERR_SR_USAGE', '--ci installs the lockfile as it is: it takes no package names');
  }
  const projectDir = resolve(cwd);
  const configStore = openConfigStore(io.env);
  const target = resolveTarget(configStore.store, io.env);
  const backupFile = backupPath(configStore.path);
  const upstream = await upstreamFor({
    flag: flags.upstream,
    projectDir,
    env: io.env,
    vetted: target.mode === 'hosted' ? target.server : undefined,
    backupFile,
  });

  const snapshot = await snapshotProject(projectDir);
  if (flags.ci && !hasLockfile(snapshot)) {
    throw new UserError('ERR_SR_NO_LOCKFILE', `--ci needs a package-lock.json in ${projectDir}`);
  }
  let session: ServerSession | undefined;
  let done = false;
  try {
    if (!flags.ci) {
      io.stdout.write(`resolving against ${upstream} (npm install --package-lock-only --ignore-scripts)\n`);
      const resolved = await resolveLockfile({
        cwd: projectDir,
        env: io.env,
        registry: upstream,
        args: npmArgs,
      });
      if (resolved.exitCode !== 0) throw resolveFailure(resolved, 'the dependencies');
    }
    const lockfile = await loadLockfile(projectDir);
    session = await openServerSession({ env: io.env, projectDir, upstream });
    io.stdout.write(
      `scanning ${lockfile.graph.nodes.length} packages from ${lockfile.fileName} → ${session.url}\n`,
    );
    const result = await submitAndFollowScan({
      client: session.client,
      graph: lockfile.graph,
      label: basename(projectDir),
      onEvent: (event) => {
        const lines = plainEventLines(event);
        if (lines.length) io.stdout.write(`${lines.join('\n')}\n`);
      },
    });
    const exitCode = exitCodeFor(result.packages, failOn);
    io.stdout.write(`${plainSummaryLines(result, exitCode).join('\n')}\n`);
    if (exitCode !== ExitCode.Ok) {
      io.stderr.write('not installed: the scan did not pass (package.json and the lockfile are unchanged)\n');
      return exitCode;
    }
    const code = await installThroughVetted({ session, flags, npmFlags, projectDir, io });
    done = code === ExitCode.Ok;
    return code;
  } finally {
    await session?.close().catch(() => undefined);
    if (!done) await restore(snapshot, io);
  }
}

async function installThroughVetted(options: {
  session: ServerSession;
  flags: InstallFlags;
  npmFlags: string[];
  projectDir: string;
  io: CommandIo;
}): Promise<number> {
  const { session, io, projectDir } = options;
  const registry = registryUrlFor(session.url);
  const command = options.flags.ci ? 'ci' : 'install';
  let scratch: string | undefined;
  const env: Record<string, string | undefined> = { ...io.env };
  try {
    if (session.token) {
      // The read token goes in a one-off copy of the user's npmrc, never on the command line.
      scratch = await mkdtemp(join(tmpdir(), 'secure-registry-npmrc-'));
      env.npm_config_userconfig = await npmrcWithToken({
        dir: scratch,
        userConfigFile: await npmConfigFile({ location: 'user', cwd: projectDir, env: io.env }),
        nerfDart: nerfDart(registry),
        token: session.token,
      });
    }
    io.stdout.write(`scan passed: npm ${command} through ${registry}\n`);
    const result = await installThrough({
      cwd: projectDir,
      env,
      registry,
      command,
      args: options.npmFlags,
      stdio: 'inherit',
    });
    if (result.exitCode !== 0) {
      io.stderr.write(`npm ${command} failed (exit ${result.exitCode})\n`);
      return ExitCode.RemoteError;
    }
    return ExitCode.Ok;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function restore(snapshot: ProjectSnapshot, io: CommandIo): Promise<void> {
  const changed = await restoreProject(snapshot);
  if (changed.length) io.stderr.write(`restored ${changed.join(', ')} to what it was before\n`);
}
