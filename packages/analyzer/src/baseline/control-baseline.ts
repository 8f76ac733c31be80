// The learned baseline: a tiny benign control package run through the same sandbox, every phase,
// so what the runtime itself does (npm's runner, Node start-up, the DOM emulation loading) is
// subtracted from every report. The control package is minimal on purpose: whatever it does is
// treated as noise for every package, and its script name is unusual so that no real package's
// lifecycle command line is hidden by it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Phase } from '@secure-registry/shared';
import { runPhase } from '../sandbox/run-phase.js';
import type { PhaseRun, PhaseRunOptions } from '../sandbox/types.js';
import { learnBaseline, type Baseline, type BaselineRun } from '../trace/baseline.js';

export const CONTROL_PACKAGE = { name: 'left-pad-utils', version: '1.0.4' } as const;

const CONTROL_FILES: Record<string, string> = {
  'package.json': `${JSON.stringify(
    {
      name: CONTROL_PACKAGE.name,
      version: CONTROL_PACKAGE.version,
      main: 'index.js',
      scripts: { postinstall: 'node control-postinstall.js' },
      license: 'MIT',
    },
    null,
    2,
  )}\n`,
  'index.js': "'use strict';\nmodule.exports = function pad(s, n) { return String(s).padStart(n); };\n",
  'control-postinstall.js': "'use strict';\n",
};

export interface ControlBaseline {
  baseline: Baseline;
  /** Per phase: how the control run went (a failed control run contributes nothing). */
  runs: { phase: Phase; status: PhaseRun['status']; durationMs: number; error?: string }[];
}

type RunPhase = (options: PhaseRunOptions) => Promise<PhaseRun>;

/**
 * Runs the control package through the given phases and learns a baseline from them: one after the
 * other, or all at once with `concurrent` (remote runners, where each run costs a runner's latency and
 * not this machine's cores).
 */
export async function learnControlBaseline(
  options: {
    phases?: readonly Phase[];
    timeoutMs?: number;
    graceMs?: number;
    run?: RunPhase;
    concurrent?: boolean;
  } = {},
): Promise<ControlBaseline> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-control-'));
  try {
    for (const [name, text] of Object.entries(CONTROL_FILES)) await writeFile(join(dir, name), text);
    const learned: BaselineRun[] = [];
    const runs: ControlBaseline['runs'] = [];
    const phases = options.phases ?? (['install', 'import', 'browser'] as const);
    const runOf = (phase: Phase): Promise<PhaseRun> =>
      (options.run ?? runPhase)({
        phase,
        packageName: CONTROL_PACKAGE.name,
        packageVersion: CONTROL_PACKAGE.version,
        packageDir: dir,
        timeoutMs: options.timeoutMs ?? 60_000,
        graceMs: options.graceMs ?? 1_000,
      });
    const started = options.concurrent ? phases.map(runOf) : undefined;
    for (const [index, phase] of phases.entries()) {
      const run = await (started?.[index] ?? runOf(phase));
      runs.push({
        phase,
        status: run.status,
        durationMs: run.durationMs,
        ...(run.error !== undefined ? { error: run.error } : {}),
      });
      if (run.status !== 'completed') continue;
      learned.push({
        events: run.events,
        home: run.home,
        projectDir: run.projectDir,
        packageDir: run.packageDir,
        honeytokenPaths: run.honeytokens.flatMap((h) => (h.path ? [h.path] : [])),
      });
    }
    return { baseline: learnBaseline(learned), runs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
