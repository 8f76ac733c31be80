// Bench: cold analysis of a real lockfile (fetch + static + dynamic in the sandbox, batched) side by side
// with a plain `npm ci` of the same lockfile, install scripts allowed. See bench/README.md.
// Usage: node bench/dist/analysis-vs-npm-ci.js [lockfile] [--work DIR] [--concurrency N] [--json]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_LIMITS,
  analyzeStatic,
  readTarball,
  runBatch,
  type BatchPackage,
  type BatchRun,
} from '@secure-registry/analyzer';
import { tarballFileName } from '@secure-registry/shared';
import { graphFromLockfileData } from 'secure-registry';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_LOCKFILE = resolve(
  here,
  '../../../shared/fixtures/lockfiles/large-install-v3.package-lock.json',
);
const REGISTRY = 'https://registry.npmjs.org';

interface Entry {
  path: string;
  name: string;
  version: string;
  resolved: string;
  integrity: string;
}

/** The lockfile fields read here besides the graph (and kept for the project's package.json). */
interface LockEntry {
  name?: string;
  version?: string;
  os?: string[];
  cpu?: string[];
}

function args(): { lockfile: string; work: string; concurrency: number; json: boolean } {
  const argv = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  return {
    lockfile: resolve(positional[0] ?? DEFAULT_LOCKFILE),
    work: resolve(value('--work') ?? join(here, '../.data/analysis-vs-npm-ci')),
    concurrency: Number(value('--concurrency') ?? 2),
    json: argv.includes('--json'),
  };
}

const platformOk = (list: string[] | undefined, value: string): boolean =>
  !list ||
  list.length === 0 ||
  (list.some((x) => x === value) && !list.includes(`!${value}`)) ||
  (list.every((x) => x.startsWith('!')) && !list.includes(`!${value}`));

/** Registry packages npm ci would install on this platform (the graph is the CLI's lockfile reader's). */
function entriesOf(lock: { packages?: Record<string, LockEntry> }): Entry[] {
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

const sriMatches = (bytes: Uint8Array, integrity: string): boolean =>
  integrity.split(/\s+/).some((sri) => {
    const [algo, digest] = sri.split('-', 2) as [string, string];
    return digest === createHash(algo).update(bytes).digest('base64');
  });

const tarballFile = (work: string, e: Entry): string =>
  join(work, 'tarballs', `${createHash('sha256').update(e.integrity).digest('hex')}.tgz`);

async function download(work: string, entries: Entry[]): Promise<void> {
  await mkdir(join(work, 'tarballs'), { recursive: true });
  const missing = entries.filter((e) => !existsSync(tarballFile(work, e)));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < missing.length) {
      const e = missing[next++] as Entry;
      const res = await fetch(e.resolved.replace(/^https:\/\/registry\.npmjs\.org/, REGISTRY));
      if (!res.ok) throw new Error(`${e.resolved}: HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (!sriMatches(bytes, e.integrity)) throw new Error(`${e.name}@${e.version}: integrity mismatch`);
      await writeFile(tarballFile(work, e), bytes);
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));
}

/** Peak summed RSS (bytes) of a process and its descendants, polled from /proc every 100 ms. */
function rssPeak(rootPid: number): { stop(): number } {
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

function run(
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

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Writes a package's files from the safe in-memory reader; executables by shebang, ELF magic or bin/. */
async function extract(bytes: Uint8Array, dir: string): Promise<string[]> {
  const contents = await readTarball(bytes, { limits: DEFAULT_LIMITS, keep: () => true });
  for (const file of contents.files.values()) {
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.bytes);
    const head = file.bytes.subarray(0, 4).toString('latin1');
    if (head.startsWith('#!') || head === '\x7fELF' || /(^|\/)bin\//.test(file.path))
      await chmod(target, 0o755);
  }
  return contents.extraction.issues.map((i) => `${i.kind}: ${i.detail}`);
}

interface Manifest {
  browser?: unknown;
  exports?: unknown;
  scripts?: Record<string, string>;
}

const hasBrowserEntry = (m: Manifest): boolean =>
  m.browser !== undefined ||
  (typeof m.exports === 'object' && JSON.stringify(m.exports).includes('"browser"'));

async function analyse(work: string, entries: Entry[], concurrency: number) {
  const timings = { fetch: [] as number[], static: [] as number[], extract: [] as number[] };
  const extractRoot = join(work, 'extract');
  await rm(extractRoot, { recursive: true, force: true });
  const packages: (BatchPackage & { manifest: Manifest })[] = [];
  let staticFindings = 0;
  const startedStatic = Date.now();
  for (const e of entries) {
    let t = performance.now();
    const bytes = new Uint8Array(await readFile(tarballFile(work, e)));
    if (!sriMatches(bytes, e.integrity)) throw new Error(`${e.name}@${e.version}: integrity mismatch`);
    timings.fetch.push(performance.now() - t);
    t = performance.now();
    const report = await analyzeStatic({
      name: e.name,
      version: e.version,
      tarball: bytes,
      packument: undefined,
    });
    staticFindings += (report as { signals?: unknown[] }).signals?.length ?? 0;
    timings.static.push(performance.now() - t);
    t = performance.now();
    const dir = join(extractRoot, e.path);
    await extract(bytes, dir);
    timings.extract.push(performance.now() - t);
    const manifest = JSON.parse(
      await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}'),
    ) as Manifest;
    packages.push({ name: e.name, version: e.version, dir, path: e.path, manifest });
  }
  const staticMs = Date.now() - startedStatic;
  // Install: dependencies first (deeper paths first), only packages with scripts run; all are present.
  const depth = (p: string): number => p.split('node_modules/').length;
  const byDepth = [...packages].sort((a, b) => depth(b.path ?? '') - depth(a.path ?? ''));
  const scripted = (m: Manifest): boolean =>
    ['preinstall', 'install', 'postinstall'].some((s) => typeof m.scripts?.[s] === 'string');
  const strip = ({ manifest: _m, ...p }: BatchPackage & { manifest: Manifest }): BatchPackage => p;
  const phases: Record<string, { run: BatchRun; ms: number }> = {};
  for (const [phase, list] of [
    ['install', byDepth.map((p) => ({ ...strip(p), run: scripted(p.manifest) }))],
    ['import', packages.map(strip)],
    ['browser', packages.map((p) => ({ ...strip(p), run: hasBrowserEntry(p.manifest) }))],
  ] as const) {
    const t = Date.now();
    const batch = await runBatch({
      phase,
      packages: list,
      timeoutMs: 30_000,
      graceMs: 2_000,
      concurrency,
      diskMb: 8192,
    });
    phases[phase] = { run: batch, ms: Date.now() - t };
  }
  return { timings, staticMs, staticFindings, phases };
}

async function main(): Promise<void> {
  const opts = args();
  const lock = JSON.parse(await readFile(opts.lockfile, 'utf8')) as {
    packages?: Record<string, LockEntry & Record<string, unknown>>;
  };
  const entries = entriesOf(lock);
  const project = join(opts.work, 'project');
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
  process.stdout.write(
    `lockfile ${opts.lockfile}\n${entries.length} registry packages for ${process.platform}-${process.arch}\n`,
  );

  // Warm-up (untimed): tarballs for the analysis, npm's cache for npm ci.
  await download(opts.work, entries);
  const cache = join(opts.work, 'npm-cache');
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

  const started = Date.now();
  const rss = rssPeak(process.pid);
  const result = await analyse(opts.work, entries, opts.concurrency);
  const analysisMs = Date.now() - started;
  const analysisPeak = rss.stop();

  const lines = [
    '',
    `npm ci (warm cache, --dangerously-allow-all-scripts): ${sec(npm.ms)}, peak RSS ${mb(npm.peak)}`,
    `analysis (cold: no verdicts; tarballs from local disk): ${sec(analysisMs)}, peak RSS ${mb(analysisPeak)} (bench process + sandboxes)`,
    `ratio analysis / npm ci: ${(analysisMs / npm.ms).toFixed(2)}x (goal <= 3x)`,
    '',
    'per package (ms)          n     median   p90',
  ];
  const row = (label: string, values: number[]): string =>
    `${label.padEnd(22)} ${String(values.length).padStart(5)} ${quantile(values, 0.5).toFixed(0).padStart(9)} ${quantile(values, 0.9).toFixed(0).padStart(6)}`;
  lines.push(row('fetch (read + SRI)', result.timings.fetch));
  lines.push(row('static', result.timings.static));
  lines.push(row('extract', result.timings.extract));
  const summary: Record<string, unknown> = {
    npmMs: npm.ms,
    analysisMs,
    npmPeak: npm.peak,
    analysisPeak,
    staticMs: result.staticMs,
  };
  for (const [phase, { run: batch, ms }] of Object.entries(result.phases)) {
    const ran = batch.packages.filter((p) => p.ran);
    const durations = ran.map((p) => p.durationMs);
    lines.push(row(`${phase} (sandboxed)`, durations));
    const notDone = batch.packages.filter((p) => p.status !== 'completed');
    const isolate = batch.packages.filter((p) => p.needsIsolation);
    lines.push(
      `  ${phase} batch: ${sec(ms)} wall, status ${batch.status}${batch.error ? ` (${batch.error})` : ''}, ${ran.length} ran, ` +
        `${notDone.length} not completed, ${isolate.length} need isolation; amortised ${(ms / Math.max(1, ran.length)).toFixed(0)} ms per package run`,
    );
    for (const p of notDone.slice(0, 5))
      lines.push(`    ${p.id}: ${p.status} ${p.error ?? ''}`.slice(0, 200));
    lines.push(
      `    ${batch.details.filter((d) => d.startsWith('prepared') || d.startsWith('attribution')).join('; ')}`,
    );
    summary[phase] = {
      wallMs: ms,
      ran: ran.length,
      median: quantile(durations, 0.5),
      p90: quantile(durations, 0.9),
      notCompleted: notDone.length,
    };
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`analysis-vs-npm-ci: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
