// The runner side of the github executor: what .github/workflows/analyze-package.yml calls on the
// Actions runner. Downloads the artifact from the signed URL, checks its integrity, runs it in the same
// sandbox runtime as the local executor — one phase of one package with the analyzer's runPhase, or a
// batch (several packages' import or browser phase in one sandbox) with its runBatch — and posts
// `{ analysisId, run }` or `{ analysisId, batch }` to the server's result route signed with the
// analysis's key (HMAC-SHA256 of the body).
// With `traceeEvents` (the workflow's Tracee output file) a single run's kernel events are Tracee's
// (withTraceeEvents): read once the file has been quiet for `traceeQuietMs`, as Tracee writes its
// events a little after they happen. A batch keeps strace's events: its attribution to packages needs
// strace's process tree and the loaders' messages; whatever in it would raise a finding is run again
// alone (the server's phase batcher), and that single run is Tracee's.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBatch, runPhase, withTraceeEvents } from '@secure-registry/analyzer';
import type { BatchRun, BatchRunOptions, PhaseRun, PhaseRunOptions } from '@secure-registry/analyzer';
import { unpackArtifact } from './bundle.js';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER, signBody } from './transfer.js';

export interface RunnerInputs {
  analysisId: string;
  artifactUrl: string;
  integrity: string;
  /** Tracee's JSON events of the analysis container: the report's kernel events come from it. */
  traceeEvents?: string;
  /** Wait until the Tracee file has not grown for this long before reading it. Default 0. */
  traceeQuietMs?: number;
}

/** Tracee's output, once it has stopped growing; '' when the file does not exist. */
async function readSettled(path: string, quietMs: number): Promise<string | undefined> {
  const sizeOf = () =>
    stat(path).then(
      (s) => s.size,
      () => undefined,
    );
  // Bounded: Tracee that keeps writing (a process left running) does not hold the runner forever.
  const until = Date.now() + Math.max(quietMs * 10, 60_000);
  for (let size = await sizeOf(); quietMs > 0 && Date.now() < until;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const next = await sizeOf();
    if (next === size) break;
    size = next;
  }
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
}

async function traceWithTracee(
  run: PhaseRun,
  options: PhaseRunOptions,
  inputs: RunnerInputs,
): Promise<PhaseRun> {
  const path = inputs.traceeEvents!;
  const text = await readSettled(path, inputs.traceeQuietMs ?? 0);
  if (text === undefined) {
    const error = `Tracee output ${path} does not exist: the run was not traced`;
    return { ...run, status: 'error', error, details: [...run.details, error] };
  }
  return withTraceeEvents(run, text, `${options.packageName}@${options.packageVersion}`);
}

export function resultUrlFor(artifactUrl: string, analysisId: string): string {
  const url = new URL(artifactUrl);
  return new URL(
    url.pathname.replace(/executor\/artifacts\/[^/]+$/, `executor/results/${analysisId}`),
    url.origin,
  ).toString();
}

/** A batch's result as it travels: everything but `isolate` (the server rebuilds it from its options). */
export type WireBatchRun = Omit<BatchRun, 'isolate'>;

/** The result document a runner posts. */
export type ResultDocument =
  { analysisId: string; run: PhaseRun } | { analysisId: string; batch: WireBatchRun };

export async function runAnalysis(
  inputs: RunnerInputs,
  run: (options: PhaseRunOptions) => Promise<PhaseRun> = runPhase,
  batch: (options: BatchRunOptions) => Promise<BatchRun> = runBatch,
): Promise<ResultDocument> {
  const response = await fetch(inputs.artifactUrl);
  if (!response.ok) throw new Error(`artifact download failed: HTTP ${response.status}`);
  const key = response.headers.get(RESULT_KEY_HEADER);
  if (!key) throw new Error('artifact download carried no result key');
  const bytes = Buffer.from(await response.arrayBuffer());
  const dir = await mkdtemp(join(tmpdir(), 'sr-runner-'));
  try {
    const artifact = await unpackArtifact(bytes, inputs.integrity, dir);
    let result: ResultDocument;
    if (artifact.kind === 'batch') {
      const { isolate: _isolate, ...wire } = await batch(artifact.options);
      result = { analysisId: inputs.analysisId, batch: wire };
    } else {
      let phaseRun = await run(artifact.options);
      if (inputs.traceeEvents !== undefined)
        phaseRun = await traceWithTracee(phaseRun, artifact.options, inputs);
      result = { analysisId: inputs.analysisId, run: phaseRun };
    }
    const body = JSON.stringify(result);
    const posted = await fetch(resultUrlFor(inputs.artifactUrl, inputs.analysisId), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(key, body) },
      body,
    });
    if (!posted.ok) throw new Error(`result upload failed: HTTP ${posted.status}`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
