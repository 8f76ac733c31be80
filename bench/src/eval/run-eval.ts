/**
 * `npm run eval`: the whole pipeline (the server started in-process, local mode) on
 * (a) the fixture corpus (malicious imitations and benign look-alikes, served by the e2e fixture
 *     registry on 127.0.0.1) and
 * (b) popular real packages from registry.npmjs.org (bench/eval-corpus/benign.json, exact versions).
 * Prints per package the verdict and top finding, and the totals against the goals of the issue.
 * Usage: node bench/dist/eval/run-eval.js [--only fixtures|npm] [--concurrency N] [--out results.json] [--check]
 *   [--executor local|github] [--max-jobs N] [--compare]
 * (--concurrency: artifacts analysed at once; default the server's. --executor github: every phase is
 * dispatched to the GitHub REST stand-in, whose runs execute the workflow's runner program in the real
 * sandbox here, --max-jobs at once (default one per core). --compare: the corpus with both executors,
 * then the verdicts side by side; exit 1 when any differ)
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { startFixtureRegistry } from '@secure-registry/e2e/fixture-registry';
import {
  computeClassTotals,
  computeTotals,
  formatClassTotals,
  formatStages,
  formatTable,
  formatTotals,
} from './eval-report.js';
import type { EvalRow, Label } from './eval-report.js';
import { compareVerdicts, formatComparison } from './compare-executors.js';
import { scanCorpus } from './scan-corpus.js';
import type { CorpusPackage, ExecutorKind } from './scan-corpus.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CORPUS_DIR = path.join(REPO_ROOT, 'bench', 'eval-corpus');
const NPM_REGISTRY = 'https://registry.npmjs.org/';

interface FixtureLabels {
  dirs: string[];
  labels: Record<string, Label>;
  /** The class each fixture imitates (malicious) or guards against as a look-alike (benign). */
  classes: Record<string, string>;
}
interface BenignList {
  packages: { name: string; version: string; installScript: boolean }[];
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(path.join(CORPUS_DIR, file), 'utf8')) as T;
}

/** How the corpus is scanned: artifacts at once, and where the phases run. */
interface RunSettings {
  concurrency: number | undefined;
  executor: ExecutorKind;
  maxJobs: number | undefined;
}

async function runFixtures(settings: RunSettings): Promise<EvalRow[]> {
  const { dirs, labels, classes } = await readJson<FixtureLabels>('fixtures.json');
  const unclassified = Object.keys(labels).filter((id) => classes[id] === undefined);
  if (unclassified.length > 0) console.error(`warning: fixtures without a class: ${unclassified.join(', ')}`);
  const registry = await startFixtureRegistry({
    packages: { dir: dirs.map((dir) => path.join(REPO_ROOT, dir)) },
  });
  try {
    const served = registry.packages().filter((pkg) => labels[`${pkg.name}@${pkg.version}`] !== undefined);
    const missing = Object.keys(labels).filter(
      (id) => !served.some((pkg) => `${pkg.name}@${pkg.version}` === id),
    );
    if (missing.length > 0) console.error(`warning: labelled fixtures not found: ${missing.join(', ')}`);
    const packages: CorpusPackage[] = served.map((pkg) => ({
      name: pkg.name,
      version: pkg.version,
      integrity: pkg.integrity,
      installScript: pkg.hasInstallScript,
    }));
    const result = await scanCorpus({
      upstream: registry.url,
      packages,
      ...settings,
      stallMs: 5 * 60_000,
      label: 'eval fixtures',
    });
    console.error(
      `fixtures (${settings.executor} executor): ${packages.length} packages in ${(result.durationMs / 1000).toFixed(1)} s`,
    );
    return result.packages.map((pkg) => ({
      corpus: 'fixtures',
      label: labels[`${pkg.name}@${pkg.version}`]!,
      class: classes[`${pkg.name}@${pkg.version}`] ?? 'unclassified',
      name: pkg.name,
      version: pkg.version,
      installScript:
        packages.find((p) => p.name === pkg.name && p.version === pkg.version)?.installScript ?? false,
      verdict: pkg.state,
      reason: pkg.reason,
      findings: pkg.findings,
      stages: pkg.stages,
      phases: pkg.phases,
      ...(pkg.sandboxUnavailable ? { sandboxUnavailable: pkg.sandboxUnavailable } : {}),
    }));
  } finally {
    await registry.close();
  }
}

/** `npmIntegrity` with retries: one slow connection to the registry should not end the whole run. */
async function npmIntegrityRetried(
  name: string,
  version: string,
): Promise<{ integrity: string; resolved: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await npmIntegrity(name, version);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`${name}@${version}: ${String(error)}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 2_000 * attempt));
    }
  }
}

async function npmIntegrity(name: string, version: string): Promise<{ integrity: string; resolved: string }> {
  const url = `${NPM_REGISTRY}${name.replace('/', '%2f')}/${encodeURIComponent(version)}`;
  const response = await request(url, { headers: { accept: 'application/json' } });
  const body = (await response.body.json()) as { dist?: { integrity?: string; tarball?: string } };
  if (response.statusCode !== 200 || !body.dist?.integrity || !body.dist.tarball) {
    throw new Error(`${name}@${version}: registry answered ${response.statusCode} without dist.integrity`);
  }
  return { integrity: body.dist.integrity, resolved: body.dist.tarball };
}

async function runNpm(settings: RunSettings): Promise<EvalRow[]> {
  const { packages: list } = await readJson<BenignList>('benign.json');
  // A few requests at a time: a burst of one connection per package times out on a busy machine.
  const packages: CorpusPackage[] = [];
  for (let i = 0; i < list.length; i += 8) {
    packages.push(
      ...(await Promise.all(
        list
          .slice(i, i + 8)
          .map(async (pkg) => ({ ...pkg, ...(await npmIntegrityRetried(pkg.name, pkg.version)) })),
      )),
    );
  }
  const result = await scanCorpus({
    upstream: NPM_REGISTRY,
    packages,
    ...settings,
    stallMs: 10 * 60_000,
    label: 'eval npm',
  });
  console.error(
    `npm (${settings.executor} executor): ${packages.length} packages in ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  return result.packages.map((pkg) => ({
    corpus: 'npm',
    label: 'benign',
    class: 'npm',
    name: pkg.name,
    version: pkg.version,
    installScript: list.find((p) => p.name === pkg.name && p.version === pkg.version)?.installScript ?? false,
    verdict: pkg.state,
    reason: pkg.reason,
    findings: pkg.findings,
    stages: pkg.stages,
    phases: pkg.phases,
    ...(pkg.sandboxUnavailable ? { sandboxUnavailable: pkg.sandboxUnavailable } : {}),
  }));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      concurrency: { type: 'string' },
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
      executor: { type: 'string', default: 'local' },
      'max-jobs': { type: 'string' },
      compare: { type: 'boolean', default: false },
    },
  });
  if (values.executor !== 'local' && values.executor !== 'github') {
    console.error('--executor must be local or github');
    return 2;
  }
  const maxJobs = values['max-jobs'] === undefined ? undefined : Number(values['max-jobs']);
  if (maxJobs !== undefined && (!Number.isInteger(maxJobs) || maxJobs < 1)) {
    console.error('--max-jobs must be a positive integer');
    return 2;
  }
  if (values.only !== undefined && values.only !== 'fixtures' && values.only !== 'npm') {
    console.error('--only must be fixtures or npm');
    return 2;
  }
  // Default: the server's own (with the sandbox on, many artifacts at once so phases run batched).
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    console.error('--concurrency must be a positive integer');
    return 2;
  }
  const scanAll = async (executor: ExecutorKind): Promise<EvalRow[]> => {
    const settings: RunSettings = { concurrency, executor, maxJobs };
    const all: EvalRow[] = [];
    if (values.only !== 'npm') all.push(...(await runFixtures(settings)));
    if (values.only !== 'fixtures') all.push(...(await runNpm(settings)));
    return all;
  };
  if (values.compare) {
    const local = await scanAll('local');
    const github = await scanAll('github');
    const comparison = compareVerdicts(local, github);
    console.log(formatComparison(comparison));
    if (values.out)
      await writeFile(values.out, `${JSON.stringify({ local, github, comparison }, null, 2)}\n`);
    return comparison.differing.length === 0 && comparison.missing.length === 0 ? 0 : 1;
  }
  const rows = await scanAll(values.executor);
  const totals = computeTotals(rows);
  console.log(formatTable(rows));
  console.log('');
  console.log(formatStages(rows));
  console.log('  LLM investigator: off (llm: null); held packages stay held');
  console.log(
    '  SIMB column: S static, I install, M import, B browser; - not run, ! failed (timeout, crash, error)',
  );
  console.log(formatTotals(totals));
  const classTotals = computeClassTotals(rows);
  console.log(formatClassTotals(classTotals));
  if (values.out)
    await writeFile(values.out, `${JSON.stringify({ rows, totals, classes: classTotals }, null, 2)}\n`);
  return values.check && totals.goals.some((goal) => !goal.met) ? 1 : 0;
}

process.exitCode = await main();
