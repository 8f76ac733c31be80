// Stages one run on the host: a size-limited tmpfs holding the sandbox's HOME, /tmp, /etc and
// /usr/local (decoys, the runner), honeytokens, the package and its dependencies.
import { createRunDirs } from './run-state.js';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExistingFile } from '../trace/file-detail.js';
import { DECOY_TOOLS, decoyScript } from './decoys.js';
import { browserEntry, importEntries, lifecycleScripts, type Manifest } from './entry-points.js';
import { createHoneytokens, type HoneytokenSet } from './honeytokens.js';
import { runCommand, unmount } from './host-ops.js';
import { nodeGypCache, nodeHeaders } from './native-build.js';
import { staticHeaders, staticLayer } from './static-layer.js';
import { copyPackages, installPath, linkBins } from './place-packages.js';
import {
  createPersona,
  etcFiles,
  homeFiles,
  kernelCmdline,
  KERNEL_CMDLINE_IN_RUN,
  projectFiles,
  type Persona,
  type SandboxFile,
} from './layout.js';
import type { RunnerConfig } from './runtime/sandbox-runner.js';
import { initPerl } from './sandbox-process.js';
import { NODE_IN_SANDBOX } from './sandbox-env.js';
import { lockSystemParts, stopRunNamespaces, type RunNamespaces } from './rootless.js';
import { createCertificateAuthority, type PemPair } from './tls-ca.js';
import type { PhaseRunOptions } from './types.js';

/** The host uid/gid the sandbox runs as (mapped to the persona's uid inside); owns nothing else. */
export const SANDBOX_HOST_UID = 61234;

export interface PreparedRun {
  id: string;
  /** Private to the host (0700): trace, sink log, CA key. */
  hostDir: string;
  /** The run's tmpfs (or plain directory when tmpfs could not be mounted). */
  runRoot: string;
  mounted: boolean;
  /** Rootless mode: the run's own user, mount and network namespaces (rootless.ts). */
  namespaces?: RunNamespaces;
  persona: Persona;
  honeytokens: HoneytokenSet;
  ca: PemPair;
  packageDirInSandbox: string;
  runnerConfig: RunnerConfig;
  /** Host directories bound read-only at sandbox paths (node-gyp's header cache in the install phase). */
  readOnlyBinds: { hostDir: string; path: string }[];
  /** The files planted in HOME and the project before the run. */
  existingFiles: ExistingFile[];
  details: string[];
}

const here = dirname(fileURLToPath(import.meta.url));
export const RUNNER_SOURCE = join(here, 'runtime', 'sandbox-runner.js');
export const SINK_MAIN = join(here, 'runtime', 'sink-main.js');
export const LOAD_ENTRIES_SOURCE = join(here, 'runtime', 'load-entries.js');
export const BATCH_RUNNER_SOURCE = join(here, 'runtime', 'batch-runner.js');
export const TIME_WARP_SOURCE = join(here, 'runtime', 'time-warp.js');

let supportCache: { hostDir: string; name: string }[] | undefined;

/**
 * The runner's trusted packages, as directories on the host (bound read-only under npm's
 * node_modules): happy-dom (browser phase) and node-gyp (the one npm bundles; it builds packages
 * with a binding.gyp in the install phase), each with its runtime dependencies. A dependency
 * nested inside another bound package comes with that bind; hoisted ones are bound by name.
 */
export function supportPackages(): { hostDir: string; name: string }[] {
  if (supportCache) return supportCache;
  const out: { hostDir: string; name: string }[] = [];
  const seen = new Set<string>();
  const visit = (name: string, fromDir: string): void => {
    if (name.startsWith('@types/')) return;
    const dir = findPackageDir(name, fromDir);
    if (seen.has(dir)) return;
    seen.add(dir);
    if (!out.some((p) => dir.startsWith(`${p.hostDir}/`))) {
      const clash = out.find((p) => p.name === name);
      if (clash) throw new Error(`support packages need two versions of ${name}: ${clash.hostDir}, ${dir}`);
      out.push({ hostDir: dir, name });
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir);
  };
  visit('happy-dom', here);
  visit('node-gyp', here);
  supportCache = out;
  return out;
}

/** Node's node_modules lookup for a package directory (works for packages whose `exports` hide package.json). */
function findPackageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`support package ${name} not found from ${fromDir}`);
  }
}

function toHost(runRoot: string, path: string): string {
  for (const [prefix, dir] of [
    ['/home/', 'home'],
    ['/etc/', 'etc'],
    ['/tmp/', 'tmp'],
  ] as const) {
    if (path.startsWith(prefix)) return join(runRoot, dir, path.slice(prefix.length));
  }
  throw new Error(`no host location for sandbox path ${path}`);
}

/** Planted files under HOME (the project included), as the reducer's `existingFiles`. */
export function plantedFiles(files: readonly SandboxFile[], home: string): ExistingFile[] {
  return files
    .filter((f) => f.path.startsWith(`${home}/`))
    .map((f) => ({ path: f.path, size: Buffer.byteLength(f.content) }));
}

/**
 * Writes the files into the run's tmpfs. A file's `ageMinutes` dates it (modified and accessed then),
 * and each directory above an aged file under /home takes the time of its newest one, as if it had
 * been written then.
 */
export async function writeFiles(runRoot: string, files: SandboxFile[]): Promise<void> {
  const now = Date.now();
  const dirTimes = new Map<string, number>();
  for (const file of files) {
    const target = toHost(runRoot, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: file.mode ?? 0o644 });
    if (file.ageMinutes === undefined) continue;
    const time = (now - file.ageMinutes * 60_000) / 1000;
    await utimes(target, time, time);
    for (let dir = dirname(file.path); dir.startsWith('/home/'); dir = dirname(dir))
      dirTimes.set(dir, Math.max(dirTimes.get(dir) ?? 0, time));
  }
  for (const [dir, time] of dirTimes) await utimes(toHost(runRoot, `${dir}/`), time, time);
}

const HOST_ETC_COPIES = [
  'ld.so.cache',
  'ld.so.conf',
  'os-release',
  'lsb-release',
  'ssl/openssl.cnf',
  'protocols',
  'services',
  'bash.bashrc',
  'profile',
  'inputrc',
  'localtime',
  'mime.types',
  'debian_version',
  'issue',
];

export async function copyHostEtc(etcDir: string): Promise<void> {
  for (const rel of HOST_ETC_COPIES) {
    const source = `/etc/${rel}`;
    if (!existsSync(source) || !statSync(source).isFile()) continue;
    await mkdir(dirname(join(etcDir, rel)), { recursive: true });
    await copyFile(source, join(etcDir, rel));
  }
  if (existsSync('/etc/ld.so.conf.d'))
    await cp('/etc/ld.so.conf.d', join(etcDir, 'ld.so.conf.d'), { recursive: true });
  await mkdir(join(etcDir, 'alternatives'), { recursive: true });
}

export function readManifest(dir: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw new Error(`cannot read package.json in ${dir}: ${(error as Error).message}`);
  }
}

export async function prepareRun(options: PhaseRunOptions): Promise<PreparedRun> {
  const id = randomBytes(6).toString('hex');
  const details: string[] = [];
  const manifest = readManifest(options.packageDir);
  const placements = placePackages(options);
  const dirs = await createRunDirs(id, options.diskMb ?? 256, details);
  try {
    return await stage({ ...dirs, details, manifest, placements, options });
  } catch (error) {
    await cleanupRun(dirs, unmount);
    throw error;
  }
}

/**
 * The package at `node_modules/<name>` and its dependencies at their install paths, in copy order:
 * the package first, then shallower paths before deeper ones (a dependency nested in another's
 * `node_modules` merges into it). Throws on an invalid or shared path.
 */
export function placePackages(options: PhaseRunOptions): { dir: string; path: string }[] {
  const own = { dir: options.packageDir, path: installPath({ name: options.packageName }) };
  const deps = (options.dependencies ?? []).map((d) => ({ dir: d.dir, path: installPath(d) }));
  const depth = (path: string): number => path.split('/node_modules/').length;
  const all = [own, ...deps.sort((a, b) => depth(a.path) - depth(b.path))];
  const seen = new Set<string>();
  for (const { path } of all) {
    if (seen.has(path)) throw new Error(`two packages share the install path ${path}`);
    seen.add(path);
  }
  return all;
}

async function stage(ctx: {
  id: string;
  hostDir: string;
  runRoot: string;
  mounted: boolean;
  namespaces?: RunNamespaces | undefined;
  details: string[];
  manifest: Manifest;
  placements: { dir: string; path: string }[];
  options: PhaseRunOptions;
}): Promise<PreparedRun> {
  const { id, hostDir, runRoot, mounted, details, manifest, options } = ctx;
  const persona = createPersona();
  const honeytokens = createHoneytokens({ home: persona.home, projectDir: persona.projectDir });
  const packageDirInSandbox = `${persona.projectDir}/node_modules/${options.packageName}`;
  const ca = await createCertificateAuthority();

  const systemBundle = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8').catch(() => '');
  await mkdir(join(runRoot, 'tmp'), { recursive: true });
  const planted = [
    ...etcFiles(persona, `${systemBundle}\n# Acme Corp Root CA G2\n${ca.certPem}`),
    ...homeFiles(persona, honeytokens),
    ...projectFiles(persona, honeytokens, { name: options.packageName, version: options.packageVersion }),
  ];
  await writeFiles(runRoot, planted);
  await copyHostEtc(join(runRoot, 'etc'));
  const readOnlyBinds: PreparedRun['readOnlyBinds'] = [];
  if (options.phase === 'install') {
    // The sandbox runs options.nodePath, which is this process's Node unless a test says otherwise.
    const headers = nodeHeaders(options.nodePath ?? process.execPath, process.version);
    if (headers) {
      const cache = nodeGypCache(persona, headers);
      await writeFiles(runRoot, cache.files);
      await mkdir(toHost(runRoot, cache.bind.path), { recursive: true });
      const layer = await staticLayer(options.nodePath ?? process.execPath);
      const copy = await staticHeaders(layer, headers, cache.bind.path);
      readOnlyBinds.push({ hostDir: copy, path: cache.bind.path });
    } else details.push('no Node headers next to the sandbox Node: node-gyp builds cannot run');
  }
  const projectOnHost = join(runRoot, 'home', persona.projectDir.slice('/home/'.length));
  await copyPackages(ctx.placements.map((p) => ({ from: p.dir, to: join(projectOnHost, p.path) })));
  await linkBins(projectOnHost, ctx.placements);

  const npmDir = await stageUsrLocal(runRoot, RUNNER_SOURCE);
  await stageRoot(runRoot);

  const isFile = (rel: string): boolean => {
    try {
      return (
        lstatSync(join(options.packageDir, rel)).isFile() || statSync(join(options.packageDir, rel)).isFile()
      );
    } catch {
      return false;
    }
  };
  const runnerConfig: RunnerConfig = {
    phase: options.phase,
    packageDir: packageDirInSandbox,
    projectDir: persona.projectDir,
    scripts: options.phase === 'install' ? lifecycleScripts(manifest, isFile) : [],
    entries:
      options.phase === 'import'
        ? importEntries(manifest, isFile).map((f) => `${packageDirInSandbox}/${f}`)
        : [],
    browserEntry:
      options.phase === 'browser'
        ? withPrefix(packageDirInSandbox, browserEntry(manifest, isFile))
        : undefined,
    happyDomPath: '/usr/local/lib/node_modules/npm/node_modules/happy-dom',
    gate: initPerl() !== undefined,
  };
  await writeFile(join(npmDir, 'lib/run-config.json'), JSON.stringify(runnerConfig));
  await handToSandbox(runRoot, ctx.namespaces !== undefined);
  return {
    id,
    hostDir,
    runRoot,
    mounted,
    ...(ctx.namespaces ? { namespaces: ctx.namespaces } : {}),
    persona,
    honeytokens,
    ca,
    packageDirInSandbox,
    runnerConfig,
    readOnlyBinds,
    existingFiles: plantedFiles(planted, persona.home),
    details,
  };
}

/**
 * Gives the sandbox its HOME and /tmp, the last step of staging: root mode chowns them to the
 * sandbox's host uid; rootless mode (where everything is the user's) closes the rest by mode bits.
 */
export async function handToSandbox(runRoot: string, rootless: boolean): Promise<void> {
  if (rootless) await lockSystemParts(runRoot);
  else {
    const chown = await runCommand(
      'chown',
      ['-R', `${SANDBOX_HOST_UID}:${SANDBOX_HOST_UID}`, join(runRoot, 'home'), join(runRoot, 'tmp')],
      { timeoutMs: 120_000 },
    );
    if (chown.code !== 0) throw new Error(`chown failed: ${chown.stderr.trim()}`);
  }
  await chmod(join(runRoot, 'tmp'), 0o1777);
}

/**
 * The rest of the sandbox's root file system (the run root is bound as `/`, bwrap-args.ts): mount
 * points, the host's top-level symlinks (/bin -> usr/bin), /var/tmp, /root, and the kernel command
 * line bound over /proc/cmdline.
 */
export async function stageRoot(runRoot: string): Promise<void> {
  for (const dir of ['usr/local', 'proc', 'dev', 'run', 'var'])
    await mkdir(join(runRoot, dir), { recursive: true });
  await mkdir(join(runRoot, 'root'), { mode: 0o700 });
  await symlink('../tmp', join(runRoot, 'var/tmp'));
  for (const entry of systemEntries()) {
    if (entry.symlinkTarget !== undefined) await symlink(entry.symlinkTarget, join(runRoot, entry.path));
    else await mkdir(join(runRoot, entry.path), { recursive: true });
  }
  await writeFile(join(runRoot, KERNEL_CMDLINE_IN_RUN), kernelCmdline(release()));
}

/** /usr/local: node and npm's node_modules (bind targets), decoys, and the runner disguised as npm. Returns npm's directory. */
export async function stageUsrLocal(runRoot: string, runnerSource: string): Promise<string> {
  const usrLocal = join(runRoot, 'usr/local');
  const npmDir = join(usrLocal, 'lib/node_modules/npm');
  await mkdir(join(usrLocal, 'bin'), { recursive: true });
  await mkdir(join(usrLocal, 'etc'), { recursive: true });
  await writeFile(join(usrLocal, 'bin/node'), '');
  for (const tool of DECOY_TOOLS)
    await writeFile(join(usrLocal, 'bin', tool), decoyScript(NODE_IN_SANDBOX), { mode: 0o755 });
  await mkdir(join(npmDir, 'bin'), { recursive: true });
  await mkdir(join(npmDir, 'lib'), { recursive: true });
  await writeFile(
    join(npmDir, 'package.json'),
    JSON.stringify({ name: 'npm', version: '10.9.3', type: 'module' }),
  );
  await copyFile(runnerSource, join(npmDir, 'bin/npm-cli.js'));
  await copyFile(LOAD_ENTRIES_SOURCE, join(npmDir, 'bin/load-entries.js'));
  await copyFile(TIME_WARP_SOURCE, join(npmDir, 'bin/time-warp.js'));
  // The mount point of npm's node_modules (static-layer.ts: support packages, node-gyp shim).
  await mkdir(join(npmDir, 'node_modules'), { recursive: true });
  return npmDir;
}

const withPrefix = (prefix: string, file: string | undefined): string | undefined =>
  file === undefined ? undefined : `${prefix}/${file}`;

/** Host paths of top-level system directories, recreated as symlinks or bound read-only. */
export function systemEntries(): { path: string; symlinkTarget?: string }[] {
  const out: { path: string; symlinkTarget?: string }[] = [];
  for (const path of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) out.push({ path, symlinkTarget: readlinkSync(path) });
      else if (stat.isDirectory()) out.push({ path });
    } catch {
      // absent on this system
    }
  }
  return out;
}

export async function cleanupRun(
  run: Pick<PreparedRun, 'hostDir' | 'runRoot' | 'mounted' | 'namespaces'>,
  unmountFn: (dir: string) => Promise<void>,
): Promise<void> {
  // Rootless: the tmpfs goes with the holder's mount namespace; the empty mount point stays to remove.
  if (run.namespaces) await stopRunNamespaces(run.namespaces);
  else if (run.mounted) await unmountFn(run.runRoot);
  await rm(run.namespaces?.mountDir ?? run.runRoot, { recursive: true, force: true });
  await rm(run.hostDir, { recursive: true, force: true });
}
