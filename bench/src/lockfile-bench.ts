// What the lockfile benchmarks share: the registry packages npm ci would install from a lockfile, their
// tarballs downloaded once (integrity checked), the timed `npm ci` baseline, peak RSS of a process tree.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageExit } from './cli-args.js';
import { tarballFileName } from '@secure-registry/shared';
import { graphFromLockfileData } from '@secure-registry/cli';

export const REGISTRY = 'https://registry.npmjs.org';

export interface Entry {
  path: string;
  name: string;
  version: string;
  resolved: string;
  integrity: string;
}

/** The lockfile fields read here besides the graph (and kept for the project's package.json). */
export interface LockEntry {
  name?: string;
  version?: string;
  os?: string[];
  cpu?: string[];
}

const platformOk = (list: string[] | undefined, value: string): boolean =>
  !list ||
  list.length === 0 ||
  (list.some((x) => x === value) && !list.includes(`!${value}`)) ||
  (list.every((x) => x.startsWith('!')) && !list.includes(`!${value}`));

/** Registry packages npm ci would install on this platform (the graph is the CLI's lockfile reader's). */
export function entriesOf(lock: { packages?: Record<string, LockEntry> }): Entry[] {
  const out: Entry[] = [];
  for (const node of graphFromLockfileData(lock).nodes) {
    if (node.source === 'link' || !node.integrity) continue;
    const e = lock.packages?.[node.key];
    if (!platformOk(e?.os, process.platform) || !platformOk(e?.cpu, process.arch)) continue;
    // npm 11 may omit `resolved` for the default registry.
    const resolved =
      node.resolved ?? `${REGISTRY}/${node.name}/-/${tarballFileName(node.name, node.version)}`;
    out.push({ path: node.key, name: node.name, version: node.version, resolved, integrity: node.integrity });
  }
  return out;
}

export const sriMatches = (bytes: Uint8Array, integrity: string): boolean =>
  integrity.split(/\s+/).some((sri) => {
    const [algo, digest] = sri.split('-', 2) as [string, string];
    return digest === createHash(algo).update(bytes).digest('base64');
  });

export const tarballFile = (work: string, e: Entry): string =>
  join(work, 'tarballs', `${createHash('sha256').update(e.integrity).digest('hex')}.tgz`);

/** Runs `task` on every item, `concurrency` at a time; the first failure rejects. */
export async function eachLimited<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function download(work: string, entries: Entry[]): Promise<void> {
  await mkdir(join(work, 'tarballs'), { recursive: true });
  const missing = entries.filter((e) => !existsSync(tarballFile(work, e)));
  await eachLimited(missing, 12, async (e) => {
    const res = await fetch(e.resolved.replace(/^https:\/\/registry\.npmjs\.org/, REGISTRY));
    if (!res.ok) throw new Error(`${e.resolved}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!sriMatches(bytes, e.integrity)) throw new Error(`${e.name}@${e.version}: integrity mismatch`);
    await writeFile(tarballFile(work, e), bytes);
  });
}

/** Peak summed RSS (bytes) of a process and its descendants, polled from /proc every 100 ms. */
export function rssPeak(rootPid: number): { stop(): number } {
  let peak = 0;
  const tree = (pid: number, out: number[]): void => {
    out.push(pid);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(/\s+/).filter(Boolean)) tree(Number(c), out);
    }
  };
  const sample = (): void => {
    const pids: number[] = [];
    tree(rootPid, pids);
    let total = 0;
    for (const pid of new Set(pids)) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        total += Number(m?.[1] ?? 0) * 1024;
      } catch {
        // gone
      }
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, 100);
  sample();
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

export function run(
  command: string,
  argv: string[],
  cwd: string,
): Promise<{ code: number | null; ms: number; peak: number; tail: string }> {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(command, argv, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1' },
    });
    const rss = rssPeak(child.pid ?? -1);
    let tail = '';
    const keep = (d: Buffer): void => void (tail = (tail + d.toString()).slice(-3000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => done({ code, ms: Date.now() - started, peak: rss.stop(), tail }));
  });
}

export const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
export const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const here = dirname(fileURLToPath(import.meta.url));
/** 590 packages on linux-x64, generated with npm 11 (see bench/README.md). */
export const DEFAULT_LOCKFILE = resolve(here, '../lockfiles/analysis.package-lock.json');

export interface BenchArgs {
  lockfile: string;
  /** Tarballs, packuments and npm's cache, kept between runs. */
  work: string;
  json: boolean;
  /** The value after `flag`, if given. */
  value(flag: string): string | undefined;
}

/**
 * `[lockfile] [--work DIR] [--json]`, and the bench's own flags: `valueFlags` take a value (read with
 * `value`), `switches` do not. `--help` prints `usage`; an unknown flag or a missing value exits 2.
 */
export function benchArgs(
  usage: string,
  { valueFlags = [], switches = [] }: { valueFlags?: string[]; switches?: string[] } = {},
): BenchArgs {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) usageExit(usage);
  const takesValue = new Set(['--work', ...valueFlags]);
  const known = new Set([...takesValue, '--json', ...switches]);
  for (const [i, arg] of argv.entries()) {
    if (!arg.startsWith('--')) continue;
    if (!known.has(arg)) usageExit(usage, `unknown option ${arg}`);
    const next = argv[i + 1];
    if (takesValue.has(arg) && (next === undefined || next.startsWith('--')))
      usageExit(usage, `${arg} takes a value`);
  }
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  return {
    lockfile: resolve(positional[0] ?? DEFAULT_LOCKFILE),
    work: resolve(value('--work') ?? join(here, '../.data/analysis-vs-npm-ci')),
    json: argv.includes('--json'),
    value,
  };
}

/** Reads the lockfile, says what it holds, and downloads its tarballs (untimed warm-up). */
export async function loadLockfile(opts: BenchArgs): Promise<{ lock: Lockfile; entries: Entry[] }> {
  const lock = JSON.parse(await readFile(opts.lockfile, 'utf8')) as Lockfile;
  const entries = entriesOf(lock);
  process.stdout.write(
    `lockfile ${opts.lockfile}\n${entries.length} registry packages for ${process.platform}-${process.arch}\n`,
  );
  await download(opts.work, entries);
  return { lock, entries };
}

export interface Lockfile {
  packages?: Record<string, LockEntry & Record<string, unknown>>;
}

/**
 * Writes the project (the lockfile's root entry as package.json, and the lockfile) into `<work>/project`,
 * warms npm's cache with one untimed `npm ci --ignore-scripts`, then times `npm ci` with every install
 * script allowed (npm 11 blocks dependency scripts unless told), both from the warm cache.
 */
export async function timedNpmCi(
  work: string,
  lock: Lockfile,
): Promise<{ code: number | null; ms: number; peak: number; tail: string }> {
  const project = join(work, 'project');
  await mkdir(project, { recursive: true });
  const root = lock.packages?.[''] ?? {};
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify(
      { ...root, name: root.name ?? 'bench-project', version: root.version ?? '1.0.0' },
      null,
      2,
    ),
  );
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  const cache = join(work, 'npm-cache');
  const npmArgs = ['ci', '--no-audit', '--no-fund', '--prefer-offline', `--cache=${cache}`];
  const warm = await run('npm', [...npmArgs, '--ignore-scripts'], project);
  if (warm.code !== 0) throw new Error(`warm-up npm ci failed:\n${warm.tail}`);
  await rm(join(project, 'node_modules'), { recursive: true, force: true });
  const npm = await run(
    'npm',
    [...npmArgs, '--dangerously-allow-all-scripts', '--foreground-scripts'],
    project,
  );
  if (npm.code !== 0) throw new Error(`npm ci failed:\n${npm.tail}`);
  return npm;
}
