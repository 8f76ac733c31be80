// Stages one batch on the host: one tmpfs with HOME, /etc, /usr/local and a project whose node_modules
// holds every package of the batch where npm would put it, and the batch runner's configuration.
import { createRunDirs } from './run-state.js';
import { randomBytes } from 'node:crypto';
import { lstatSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExistingFile } from '../trace/file-detail.js';
import type { BatchPackage, BatchRunOptions } from './batch-types.js';
import { browserEntry, importEntries, lifecycleScripts, type Manifest } from './entry-points.js';
import { createHoneytokens, type HoneytokenSet } from './honeytokens.js';
import { unmount } from './host-ops.js';
import { copyPackages, installPath } from './place-packages.js';
import { createPersona, etcFiles, homeFiles, projectFiles, type Persona } from './layout.js';
import {
  BATCH_RUNNER_SOURCE,
  cleanupRun,
  copyHostEtc,
  handToSandbox,
  plantedFiles,
  readManifest,
  stageRoot,
  stageUsrLocal,
  writeFiles,
} from './prepare-run.js';
import type { BatchRunnerConfig, BatchRunnerPackage } from './runtime/batch-runner.js';
import type { RunNamespaces } from './rootless.js';
import { npmLifecycleEnv } from './sandbox-env.js';
import { initPerl } from './sandbox-process.js';
import { createCertificateAuthority, type PemPair } from './tls-ca.js';

export { installPath };

export interface PreparedBatch {
  id: string;
  hostDir: string;
  runRoot: string;
  mounted: boolean;
  /** Rootless mode: the batch's own user, mount and network namespaces (rootless.ts). */
  namespaces?: RunNamespaces;
  persona: Persona;
  honeytokens: HoneytokenSet;
  ca: PemPair;
  /** Sandbox directory of each input package, in input order. */
  packageDirs: string[];
  runnerConfig: BatchRunnerConfig;
  /** The files planted in HOME and the project before the run. */
  existingFiles: ExistingFile[];
  details: string[];
}

export async function prepareBatch(
  options: BatchRunOptions & {
    timeoutMs: number;
    lingerMs: number;
    concurrency: number;
    groupSize: number;
  },
): Promise<PreparedBatch> {
  const id = randomBytes(6).toString('hex');
  const details: string[] = [];
  const paths = options.packages.map(installPath);
  if (new Set(paths).size !== paths.length)
    throw new Error('two packages of the batch share an install path');
  const dirs = await createRunDirs(id, options.diskMb ?? 4096, details);
  const { hostDir, runRoot, mounted } = dirs;
  try {
    const persona = createPersona();
    const honeytokens = createHoneytokens({ home: persona.home, projectDir: persona.projectDir });
    const ca = await createCertificateAuthority();
    const systemBundle = await readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8').catch(() => '');
    await mkdir(join(runRoot, 'tmp'), { recursive: true });
    const top = options.packages.filter((_, i) => paths[i] === `node_modules/${options.packages[i]?.name}`);
    const planted = [
      ...etcFiles(persona, `${systemBundle}\n# Acme Corp Root CA G2\n${ca.certPem}`),
      ...homeFiles(persona, honeytokens),
      ...projectFiles(persona, honeytokens, top.length > 0 ? top : [{ name: 'react', version: '18.3.1' }]),
    ];
    await writeFiles(runRoot, planted);
    await copyHostEtc(join(runRoot, 'etc'));
    const projectOnHost = join(runRoot, 'home', persona.projectDir.slice('/home/'.length));
    await copyPackages(
      options.packages.map((p, i) => ({ from: p.dir, to: join(projectOnHost, paths[i] ?? '') })),
    );
    const npmDir = await stageUsrLocal(runRoot, BATCH_RUNNER_SOURCE);
    await stageRoot(runRoot);
    const packageDirs = paths.map((p) => `${persona.projectDir}/${p}`);
    const manifests = options.packages.map((p) => readManifest(p.dir));
    const runnerConfig: BatchRunnerConfig = {
      phase: options.phase,
      projectDir: persona.projectDir,
      happyDomPath: '/usr/local/lib/node_modules/npm/node_modules/happy-dom',
      gate: initPerl() !== undefined,
      timeoutMs: options.timeoutMs,
      lingerMs: options.lingerMs,
      concurrency: options.concurrency,
      groupSize: options.groupSize,
      packages: options.packages.map((p, i) =>
        runnerPackage(options.phase, p, manifests[i] ?? {}, packageDirs[i] ?? '', persona),
      ),
      loadOrder: dependencyOrder(
        paths,
        manifests.map((m) => dependencyNames(m as Record<string, unknown>)),
      ),
    };
    await writeFile(join(npmDir, 'lib/run-config.json'), JSON.stringify(runnerConfig));
    await handToSandbox(runRoot, dirs.namespaces !== undefined);
    const existingFiles = plantedFiles(planted, persona.home);
    return {
      id,
      hostDir,
      runRoot,
      mounted,
      ...(dirs.namespaces ? { namespaces: dirs.namespaces } : {}),
      persona,
      honeytokens,
      ca,
      packageDirs,
      runnerConfig,
      existingFiles,
      details,
    };
  } catch (error) {
    await cleanupRun(dirs, unmount);
    throw error;
  }
}

function runnerPackage(
  phase: BatchRunOptions['phase'],
  pkg: BatchPackage,
  manifest: Manifest,
  dir: string,
  persona: Persona,
): BatchRunnerPackage {
  const isFile = (rel: string): boolean => {
    try {
      return lstatSync(join(pkg.dir, rel)).isFile() || statSync(join(pkg.dir, rel)).isFile();
    } catch {
      return false;
    }
  };
  const run = pkg.run !== false;
  const entry = phase === 'browser' && run ? browserEntry(manifest, isFile) : undefined;
  return {
    name: pkg.name,
    version: pkg.version,
    dir,
    scripts: phase === 'install' && run ? lifecycleScripts(manifest, isFile) : [],
    entries: phase === 'import' && run ? importEntries(manifest, isFile).map((f) => `${dir}/${f}`) : [],
    ...(entry !== undefined ? { browserEntry: `${dir}/${entry}` } : {}),
    env:
      phase === 'install'
        ? npmLifecycleEnv({
            persona,
            packageName: pkg.name,
            packageVersion: pkg.version,
            packageDir: dir,
            nodeVersion: process.version,
          })
        : {},
  };
}

function dependencyNames(manifest: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    const deps = manifest[field];
    if (deps && typeof deps === 'object') for (const name of Object.keys(deps)) names.add(name);
  }
  return [...names];
}

/**
 * Indices in an order where a package comes after the packages it requires (as Node resolves them from
 * its install path), cycles broken where found. Loaders load in this order, so a dependency's import-time
 * code runs in its own window rather than in its dependent's (and its entries are opened there). Pure.
 */
export function dependencyOrder(paths: string[], dependencies: string[][]): number[] {
  const byPath = new Map(paths.map((p, i) => [p, i]));
  const resolveFrom = (from: string, name: string): number | undefined => {
    for (let dir = from; ;) {
      const found = byPath.get(`${dir}/node_modules/${name}`);
      if (found !== undefined) return found;
      const cut = dir.lastIndexOf('/node_modules/');
      if (cut < 0) return byPath.get(`node_modules/${name}`);
      dir = dir.slice(0, cut);
    }
  };
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (start: number): void => {
    // Iterative depth-first post-order (deep trees must not overflow the stack).
    const stack: { index: number; next: number }[] = [{ index: start, next: 0 }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { index: number; next: number };
      const deps = dependencies[top.index] ?? [];
      if (top.next < deps.length) {
        const dep = resolveFrom(paths[top.index] ?? '', deps[top.next++] ?? '');
        if (dep !== undefined && !state.has(dep)) {
          state.set(dep, 'visiting');
          stack.push({ index: dep, next: 0 });
        }
        continue;
      }
      stack.pop();
      state.set(top.index, 'done');
      order.push(top.index);
    }
  };
  for (let i = 0; i < paths.length; i++) if (!state.has(i)) visit(i);
  return order;
}
