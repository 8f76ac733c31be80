/**
 * Warm re-scan benchmark: in one run, interleaved, `secure-registry scan --json` of three vetted
 * projects (every verdict stored): the npm/cli npm lockfile, a pnpm lockfile (vitejs/vite) and a
 * Yarn Berry lockfile (babel/babel), against `npm ls --all --package-lock-only` on the npm lockfile.
 * Prints each scan's ratio to `npm ls` (goal ≤ 1.0×) and to the npm lockfile's warm scan (goal
 * ≤ 1.5×); `--hosted` also times each against a server already running (goal ≤ 0.5× `npm ls`).
 * Usage: node bench/dist/warm-rescan.js [--runs N] [--npm-lockfile PATH] [--pnpm-lockfile PATH]
 *        [--yarn-lockfile PATH] [--upstream URL] [--work DIR] [--fresh] [--fill-sandbox] [--hosted]
 *        [--via-server] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from './cli-args.js';
import { measure, median } from './measure.js';
import type { Measurement } from './measure.js';

const USAGE =
  'warm-rescan.js [--runs 7] [--npm-lockfile F] [--pnpm-lockfile F] [--yarn-lockfile F] [--hosted] [--via-server] [--upstream URL] [--work DIR] [--fresh] [--fill-sandbox] [--json]';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const SERVER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');
const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'lockfiles');
const GOAL_RATIO = 1.0;
const FOREIGN_GOAL_RATIO = 1.5;
const HOSTED_GOAL_RATIO = 0.5;

type Kind = 'npm' | 'pnpm' | 'yarn';
const KINDS: readonly Kind[] = ['npm', 'pnpm', 'yarn'];
const FILE_NAME: Record<Kind, string> = {
  npm: 'package-lock.json',
  pnpm: 'pnpm-lock.yaml',
  yarn: 'yarn.lock',
};

interface ScanJson {
  packages?: { name: string; version: string; state?: string; verdict?: string }[];
}

function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && !key.startsWith('SECURE_REGISTRY_')) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** The npm CLI's JavaScript entry, so npm runs on the same Node as secure-registry. */
function findNpmCli(): string[] {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    return real.endsWith('.js') ? [process.execPath, real] : [real];
  }
  throw new Error('npm not found on PATH');
}

/**
 * Writes the project: an npm lockfile with its root entry as package.json; a pnpm or Yarn lockfile
 * alone under its own name (their readers take the workspace list from the lockfile). Returns the
 * number of entries.
 */
async function prepareProject(kind: Kind, lockfile: string, dir: string): Promise<number> {
  const text = await readFile(lockfile, 'utf8');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, FILE_NAME[kind]), text);
  // Packages: pnpm's `packages:` keys, Yarn's entries resolved from the npm registry.
  if (kind === 'pnpm') return /^packages:\n([\s\S]*?)^\S/m.exec(text)?.[1]?.match(/^ {2}\S/gm)?.length ?? 0;
  if (kind === 'yarn') return text.match(/^ {2}resolution: "[^"]*@npm:/gm)?.length ?? 0;
  const lock = JSON.parse(text) as { packages?: Record<string, Record<string, unknown>> };
  const root = lock.packages?.[''];
  if (!root) throw new Error(`${lockfile}: not a lockfileVersion 2/3 package-lock.json`);
  // The root entry of a v3 lockfile carries the root manifest's dependency fields.
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(root, null, 2)}\n`);
  return Object.keys(lock.packages ?? {}).length - 1;
}

function summarizeScan(result: Measurement): { total: number; states: Record<string, number> } {
  const json = JSON.parse(result.stdout) as ScanJson;
  const states: Record<string, number> = {};
  for (const pkg of json.packages ?? []) {
    const state = pkg.state ?? pkg.verdict ?? 'unknown';
    states[state] = (states[state] ?? 0) + 1;
  }
  return { total: json.packages?.length ?? 0, states };
}

/** `secure-registry-server` as a process on the fill's data directory (what hosted mode talks to). */
async function startHostedServer(
  dataDir: string,
  upstream: string | undefined,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [SERVER_BIN], {
    env: cleanEnv({
      SR_DATA_DIR: dataDir,
      SR_PORT: '0',
      SR_HOST: '127.0.0.1',
      SR_AUTH: 'none',
      SR_SANDBOX: 'off',
      SR_LOG_LEVEL: 'info',
      ...(upstream ? { SR_UPSTREAM_REGISTRY: upstream } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output.slice(-2000)}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { url, child };
}

const fmtMs = (ms: number): string => `${ms.toFixed(0).padStart(6)} ms`;
const fmtLoad = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const verdictOf = (ratio: number, goal: number): string =>
  `${ratio.toFixed(2)}× (goal ≤ ${goal}×: ${ratio <= goal ? 'met' : 'NOT met'})`;

interface Series {
  label: string;
  runs: Measurement[];
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(USAGE, {
    options: {
      runs: { type: 'string', default: '7' },
      'npm-lockfile': { type: 'string', default: path.join(FIXTURES, 'npm-cli-v3.package-lock.json') },
      'pnpm-lockfile': { type: 'string', default: path.join(FIXTURES, 'vite.pnpm-lock.yaml') },
      'yarn-lockfile': { type: 'string', default: path.join(FIXTURES, 'babel-berry.yarn.lock') },
      hosted: { type: 'boolean', default: false },
      'via-server': { type: 'boolean', default: false },
      upstream: { type: 'string' },
      work: { type: 'string', default: path.join(REPO_ROOT, 'bench', '.data', 'warm-rescan') },
      fresh: { type: 'boolean', default: false },
      'fill-sandbox': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: build first (npx tsc -b packages/cli)`);
  const work = path.resolve(values.work);
  if (values.fresh) await rm(work, { recursive: true, force: true });
  const lockfiles: Record<Kind, string> = {
    npm: path.resolve(values['npm-lockfile']),
    pnpm: path.resolve(values['pnpm-lockfile']),
    yarn: path.resolve(values['yarn-lockfile']),
  };
  const project = (kind: Kind): string => path.join(work, kind);
  const entries = {} as Record<Kind, number>;
  for (const kind of KINDS) entries[kind] = await prepareProject(kind, lockfiles[kind], project(kind));

  const cliEnv = cleanEnv({
    CI: '1',
    NO_COLOR: '1',
    SECURE_REGISTRY_DATA_DIR: path.join(work, 'data'),
    SECURE_REGISTRY_CONFIG_DIR: path.join(work, 'config'),
  });
  const upstreamArgs = values.upstream ? ['--upstream', values.upstream] : [];
  const scanArgs = (kind: Kind, json = true): string[] => [
    CLI_BIN,
    'scan',
    project(kind),
    ...(json ? ['--json'] : []),
    ...upstreamArgs,
  ];
  const scan = (kind: Kind, env: NodeJS.ProcessEnv = cliEnv, json = true): Promise<Measurement> =>
    measure(process.execPath, scanArgs(kind, json), { cwd: project(kind), env });
  const npm = findNpmCli();
  const npmLs = (): Promise<Measurement> =>
    measure(npm[0]!, [...npm.slice(1), 'ls', '--all', '--package-lock-only'], {
      cwd: project('npm'),
      env: cleanEnv({ npm_config_update_notifier: 'false' }),
    });
  // Hosted mode: the CLI talks to a server already running on the same data (config and cache dirs
  // of its own, so the local-mode cache is not what answers).
  const hostedEnv = (url: string): NodeJS.ProcessEnv =>
    cleanEnv({
      CI: '1',
      NO_COLOR: '1',
      SECURE_REGISTRY_SERVER: url,
      SECURE_REGISTRY_DATA_DIR: path.join(work, 'hosted-client-data'),
      SECURE_REGISTRY_CONFIG_DIR: path.join(work, 'hosted-client-config'),
    });
  const hostedScan = (kind: Kind, url: string): Promise<Measurement> =>
    measure(process.execPath, [CLI_BIN, 'scan', project(kind), '--json'], {
      cwd: project(kind),
      env: hostedEnv(url),
    });

  for (const kind of KINDS) console.log(`${kind} lockfile: ${lockfiles[kind]} (${entries[kind]} entries)`);
  console.log(
    `upstream: ${values.upstream ?? 'the npm client’s configured registry (default https://registry.npmjs.org)'}`,
  );
  console.log(`node: ${process.execPath} ${process.version}; npm: ${npm.join(' ')}`);
  console.log(`load average (1/5/15 min) at the start: ${fmtLoad()}`);

  // The fill runs the static stage only unless --fill-sandbox: the sandbox takes seconds per
  // artifact, hours for these lockfiles on two cores. The timed runs use the default configuration.
  const fillEnv = { ...cliEnv, SR_SANDBOX: values['fill-sandbox'] ? 'on' : 'off' };
  const fillExit = {} as Record<Kind, number | null>;
  const nodes = {} as Record<Kind, string>;
  for (const kind of KINDS) {
    console.log(`\nfill ${kind}: scanning once so every verdict is stored (cold the first time: minutes)…`);
    const fill = await scan(kind, fillEnv);
    if (fill.code === null || fill.code > 2) {
      console.error(
        `fill failed with exit ${fill.code} (${fill.signal ?? ''}):\n${fill.stderr.slice(-4000)}`,
      );
      return 1;
    }
    const filled = summarizeScan(fill);
    fillExit[kind] = fill.code;
    nodes[kind] = `${filled.total} nodes ${JSON.stringify(filled.states)}`;
    console.log(`fill ${kind}: exit ${fill.code} in ${(fill.wallMs / 1000).toFixed(1)} s, ${nodes[kind]}`);
    if ((filled.states.pending ?? 0) + (filled.states.analyzing ?? 0) > 0) {
      console.error('the fill left packages undecided; a warm re-scan would not be warm');
      return 1;
    }
    // The first re-scan after an analysis goes through the server and is recorded; the next is
    // warm. The plain output's first line says where the verdicts came from.
    await scan(kind);
    const plain = await scan(kind, cliEnv, false);
    const warm = plain.stdout.split('\n')[0]?.includes('→ stored verdicts in') === true;
    console.log(
      `warm ${kind}: ${warm ? 'answered from the stored verdicts' : 'NOT answered from the warm cache'}`,
    );
  }
  await npmLs(); // the file-system cache

  const hosted = values.hosted
    ? await startHostedServer(path.join(work, 'data'), values.upstream)
    : undefined;
  if (hosted) {
    for (const kind of KINDS) {
      const first = await hostedScan(kind, hosted.url); // the hosted client's first scan goes through the server
      console.log(`hosted warm-up ${kind}: exit ${first.code} in ${(first.wallMs / 1000).toFixed(1)} s`);
    }
  }

  // Interleaved: each run times every command once, so a busy machine slows them alike.
  const series: Series[] = [{ label: 'npm ls --all --package-lock-only', runs: [] }];
  const timed: { series: Series; run: () => Promise<Measurement>; exit: number | null }[] = [];
  const add = (label: string, run: () => Promise<Measurement>, exit: number | null): Series => {
    const entry = { label, runs: [] };
    series.push(entry);
    timed.push({ series: entry, run, exit });
    return entry;
  };
  const warm = {} as Record<Kind, Series>;
  const viaHost = {} as Partial<Record<Kind, Series>>;
  const viaServer = {} as Partial<Record<Kind, Series>>;
  for (const kind of KINDS) warm[kind] = add(`scan ${kind} (warm)`, () => scan(kind), fillExit[kind]);
  if (hosted)
    for (const kind of KINDS)
      viaHost[kind] = add(`hosted ${kind}`, () => hostedScan(kind, hosted.url), fillExit[kind]);
  if (values['via-server']) {
    const off = { ...cliEnv, SECURE_REGISTRY_SCAN_CACHE: 'off' };
    for (const kind of KINDS)
      viaServer[kind] = add(`${kind} via the server (cache off)`, () => scan(kind, off), fillExit[kind]);
  }
  for (let i = 0; i < runs; i++) {
    const ls = await npmLs();
    if (ls.code !== 0) console.warn(`run ${i + 1}: npm ls exit ${ls.code}: ${ls.stderr.slice(0, 300)}`);
    series[0]!.runs.push(ls);
    const line = [`npm ls ${fmtMs(ls.wallMs)}`];
    for (const item of timed) {
      const m = await item.run();
      if (m.code !== item.exit)
        console.warn(`run ${i + 1}: ${item.series.label} exit ${m.code}: ${m.stderr.slice(0, 300)}`);
      item.series.runs.push(m);
      line.push(`${item.series.label} ${fmtMs(m.wallMs)}`);
    }
    console.log(`run ${i + 1}/${runs}: ${line.join(' | ')}   load ${fmtLoad()}`);
  }
  if (hosted) {
    const exited = new Promise((resolve) => hosted.child.once('exit', resolve));
    hosted.child.kill('SIGTERM');
    await exited;
  }

  const med = (s: Series): number => median(s.runs.map((m) => m.wallMs));
  const lsMedian = med(series[0]!);
  const npmWarm = med(warm.npm);
  console.log(`\nmedians of ${runs} interleaved runs`);
  for (const s of series) {
    const min = Math.min(...s.runs.map((m) => m.wallMs));
    const rss = Math.max(...s.runs.map((m) => m.peakRssKiB ?? 0)) / 1024;
    console.log(
      `  ${s.label.padEnd(36)} ${fmtMs(med(s))} (min ${fmtMs(min)}, peak RSS ${rss.toFixed(0)} MiB)`,
    );
  }
  console.log('\nratios');
  for (const kind of KINDS) {
    const ratio = med(warm[kind]) / lsMedian;
    const toNpm = med(warm[kind]) / npmWarm;
    console.log(
      `  warm ${kind.padEnd(5)} to npm ls ${verdictOf(ratio, GOAL_RATIO)}` +
        (kind === 'npm' ? '' : `; to the npm lockfile's warm scan ${verdictOf(toNpm, FOREIGN_GOAL_RATIO)}`),
    );
  }
  for (const kind of KINDS) {
    const s = viaHost[kind];
    if (s)
      console.log(`  hosted ${kind.padEnd(5)} to npm ls ${verdictOf(med(s) / lsMedian, HOSTED_GOAL_RATIO)}`);
  }
  for (const kind of KINDS) {
    const s = viaServer[kind];
    if (s) console.log(`  ${kind} via the server (cache off) to npm ls ${(med(s) / lsMedian).toFixed(2)}×`);
  }
  for (const kind of KINDS) console.log(`  ${kind}: ${entries[kind]} entries, ${nodes[kind]}`);
  console.log(`  load average (1/5/15 min) at the end: ${fmtLoad()}`);
  if (values.json) {
    console.log(
      JSON.stringify({
        runs,
        entries,
        medians: Object.fromEntries(series.map((s) => [s.label, med(s)])),
        loadAverage: loadavg(),
      }),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`warm-rescan: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
