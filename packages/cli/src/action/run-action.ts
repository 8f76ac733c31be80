// The GitHub Action (../../../../action.yml): runs the scan with the inputs GitHub passes as INPUT_*
// variables, prints a line per finished package to the log, writes the job summary to
// $GITHUB_STEP_SUMMARY, the SARIF file for code scanning and the step outputs to $GITHUB_OUTPUT.
// A verdict is not a failure of this step: its exit code is the `exit-code` output, and the action's
// last step fails the job with it after the SARIF upload. Bad input or an unreachable server throws.
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { UserError } from '@secure-registry/shared';
import type { ScanEvent } from '@secure-registry/shared';
import { exitCodeFor } from '../exit-codes.js';
import { parseFailOn } from '../commands/fail-on.js';
import type { CommandIo } from '../commands/io.js';
import { plainEventLines } from '../output/plain.js';
import { buildSarif } from '../output/sarif.js';
import { loadLockfile } from '../services/lockfile.js';
import { findProjectLockfile } from '../services/lockfile-foreign.js';
import { submitAndFollowScan } from '../services/scan-follow.js';
import { openServerSession } from '../services/server-session.js';
import { resolveUpstream } from '../services/upstream.js';
import { phaseSummaryLines, stepsOf } from '../ui/phase-state.js';
import { initialScanViewState, reduceScanEvent } from '../ui/scan-state.js';
import { buildJobSummary } from './job-summary.js';

type Env = Readonly<Record<string, string | undefined>>;

/** An input as GitHub passes it to an action: `INPUT_<NAME>` (upper case; `-` kept, or as `_`). */
export function actionInput(env: Env, name: string): string | undefined {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  const value = env[key] ?? env[key.replace(/-/g, '_')];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function requireFileVariable(env: Env, name: string): string {
  const value = env[name];
  if (!value) {
    throw new UserError('ERR_SR_USAGE', `${name} is not set: run this entry point as a GitHub Action step`);
  }
  return value;
}

async function toolVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export async function runAction(env: Env, io: Pick<CommandIo, 'stdout' | 'stderr'>): Promise<number> {
  const summaryFile = requireFileVariable(env, 'GITHUB_STEP_SUMMARY');
  const outputFile = requireFileVariable(env, 'GITHUB_OUTPUT');
  const workspace = resolve(env.GITHUB_WORKSPACE ?? '.');
  const failOnInput = actionInput(env, 'fail-on') ?? 'unvettable';
  const failOn = parseFailOn(failOnInput);
  const projectDir = resolve(workspace, actionInput(env, 'path') ?? '.');
  const sarifFile = resolve(workspace, actionInput(env, 'sarif-file') ?? 'secure-registry.sarif');
  const server = actionInput(env, 'server');
  const token = actionInput(env, 'token');
  const sandbox = actionInput(env, 'sandbox');
  const upstream = actionInput(env, 'upstream');
  const scanEnv: Env = {
    ...env,
    CI: 'true',
    ...(server ? { SECURE_REGISTRY_SERVER: server } : {}),
    ...(token ? { SECURE_REGISTRY_TOKEN: token } : {}),
    ...(sandbox ? { SR_SANDBOX: sandbox } : {}),
  };

  const bare = (await findProjectLockfile(projectDir)) === undefined;
  const lockfile = await loadLockfile(
    projectDir,
    bare
      ? {
          resolveWith: {
            env: scanEnv,
            registry: await resolveUpstream({ flag: upstream, projectDir, env: scanEnv }),
          },
        }
      : {},
  );
  if (lockfile.resolved) io.stderr.write(`secure-registry: ${lockfile.resolved}\n`);
  const session = await openServerSession({ env: scanEnv, projectDir: lockfile.dir, upstream });
  let state = initialScanViewState(lockfile.fileName, lockfile.graph.nodes.length);
  let result;
  try {
    io.stdout.write(
      `secure-registry: ${lockfile.graph.nodes.length} packages from ${relative(workspace, lockfile.path)} → ${session.mode} server\n`,
    );
    const onEvent = (event: ScanEvent): void => {
      const steps =
        event.type === 'package.state' ? stepsOf(state.phases, `${event.name}@${event.version}`) : [];
      const lines = plainEventLines(event, { steps });
      if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
      state = reduceScanEvent(state, event);
    };
    result = await submitAndFollowScan({
      client: session.client,
      graph: lockfile.graph,
      label: basename(lockfile.dir),
      onEvent,
    });
  } finally {
    await session.close();
  }
  const exitCode = exitCodeFor(result.packages, failOn);
  const analysis = phaseSummaryLines(state.phases);
  io.stdout.write(`${analysis.join('\n')}\n`);

  // Code scanning resolves the location against the repository root (the workspace).
  const lockfileUri = relative(workspace, lockfile.path).split('\\').join('/');
  await mkdir(dirname(sarifFile), { recursive: true });
  await writeFile(
    sarifFile,
    `${JSON.stringify(buildSarif({ result, lockfileUri, toolVersion: await toolVersion() }), null, 2)}\n`,
  );
  await appendFile(
    summaryFile,
    buildJobSummary({ result, exitCode, failOn: failOnInput, lockfile: lockfileUri, analysis }),
  );
  const c = result.counts;
  const outputs: Record<string, string | number> = {
    'exit-code': exitCode,
    'scan-id': result.id,
    'sarif-file': sarifFile,
    total: c.total,
    approved: c.approved,
    rejected: c.rejected,
    blocked: c.blocked,
    review: c.review,
    unvettable: c.unvettable,
  };
  await appendFile(
    outputFile,
    Object.entries(outputs)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return 0;
}
