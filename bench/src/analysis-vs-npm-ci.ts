// Bench: cold analysis of a real lockfile (fetch + static + dynamic in the sandbox, batched) side by side
// with a plain `npm ci` of the same lockfile, install scripts allowed. See bench/README.md.
// Usage: node bench/dist/analysis-vs-npm-ci.js [lockfile] [--work DIR] [--concurrency N] [--json]
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DEFAULT_LIMITS,
  analyzeStatic,
  readTarball,
  runBatch,
  runPhase,
  type BatchPackage,
  type BatchRun,
} from '@secure-registry/analyzer';
import {
  benchArgs,
  loadLockfile,
  mb,
  quantile,
  rssPeak,
  sec,
  sriMatches,
  tarballFile,
  timedNpmCi,
  type Entry,
} from './lockfile-bench.js';

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

async function analyse(work: string, entries: Entry[], concurrency: number) {
  const timings = { fetch: [] as number[], static: [] as number[], extract: [] as number[] };
  const extractRoot = join(work, 'extract');
  await rm(extractRoot, { recursive: true, force: true });
  const packages: BatchPackage[] = [];
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
    packages.push({ name: e.name, version: e.version, dir, path: e.path });
  }
  const staticMs = Date.now() - startedStatic;
  // Install: dependencies first (deeper paths first), only packages with scripts run; all are present.
  const depth = (p: string): number => p.split('node_modules/').length;
  const byDepth = [...packages].sort((a, b) => depth(b.path ?? '') - depth(a.path ?? ''));
  const phases: Record<string, { run: BatchRun; ms: number; isolated: number }> = {};
  for (const [phase, list] of [
    // As the pipeline plans them (the runner skips what a package does not have): lifecycle scripts
    // (binding.gyp included), entry points, the browser entry (falling back to main, as bundlers do).
    ['install', byDepth],
    ['import', packages],
    ['browser', packages],
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
    // What the pipeline does with a batch (packages/server/src/pipeline/phase-batcher.ts): uncertain
    // attribution or a failure in a shared loader is settled by running the package alone. (Packages
    // re-run because their report would raise a finding need the rules; none of these real ones does.)
    const again = batch.packages.filter(
      (p) =>
        p.needsIsolation ||
        (p.ran && p.status !== 'completed' && p.sharedWith.length > 0) ||
        (p.status === 'error' && batch.status !== 'completed'),
    );
    for (const p of again)
      await runPhase({ ...batch.isolate(p.name, p.version), timeoutMs: 30_000, graceMs: 2_000 });
    phases[phase] = { run: batch, ms: Date.now() - t, isolated: again.length };
  }
  return { timings, staticMs, staticFindings, phases };
}

async function main(): Promise<void> {
  const opts = benchArgs('analysis-vs-npm-ci.js [lockfile] [--work DIR] [--concurrency N] [--json]', {
    valueFlags: ['--concurrency'],
  });
  const concurrency = Number(opts.value('--concurrency') ?? 2);
  // Warm-up (untimed): tarballs for the analysis; npm's cache inside timedNpmCi.
  const { lock, entries } = await loadLockfile(opts);
  const npm = await timedNpmCi(opts.work, lock);

  const started = Date.now();
  const rss = rssPeak(process.pid);
  const result = await analyse(opts.work, entries, concurrency);
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
  for (const [phase, { run: batch, ms, isolated }] of Object.entries(result.phases)) {
    const ran = batch.packages.filter((p) => p.ran);
    const durations = ran.map((p) => p.durationMs);
    lines.push(row(`${phase} (sandboxed)`, durations));
    const notDone = batch.packages.filter((p) => p.status !== 'completed');
    const isolate = batch.packages.filter((p) => p.needsIsolation);
    lines.push(
      `  ${phase} batch: ${sec(ms)} wall, status ${batch.status}${batch.error ? ` (${batch.error})` : ''}, ${ran.length} ran, ` +
        `${notDone.length} not completed, ${isolate.length} need isolation, ${isolated} run again alone (in the wall time); amortised ${(ms / Math.max(1, ran.length)).toFixed(0)} ms per package run`,
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
