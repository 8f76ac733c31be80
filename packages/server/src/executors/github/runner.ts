// The runner side of the github executor: what .github/workflows/analyze-package.yml calls on the
// Actions runner. Downloads the artifact from the signed URL, checks its integrity, runs the phase in the
// same sandbox runtime as the local executor (the analyzer's runPhase), and posts `{ analysisId, run }`
// to the server's result route signed with the analysis's key (HMAC-SHA256 of the body).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPhase } from '@secure-registry/analyzer';
import type { PhaseRun, PhaseRunOptions } from '@secure-registry/analyzer';
import { unpackBundle } from './bundle.js';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER, signBody } from './transfer.js';

export interface RunnerInputs {
  analysisId: string;
  artifactUrl: string;
  integrity: string;
}

export function resultUrlFor(artifactUrl: string, analysisId: string): string {
  const url = new URL(artifactUrl);
  return new URL(
    url.pathname.replace(/executor\/artifacts\/[^/]+$/, `executor/results/${analysisId}`),
    url.origin,
  ).toString();
}

export async function runAnalysis(
  inputs: RunnerInputs,
  run: (options: PhaseRunOptions) => Promise<PhaseRun> = runPhase,
): Promise<PhaseRun> {
  const response = await fetch(inputs.artifactUrl);
  if (!response.ok) throw new Error(`artifact download failed: HTTP ${response.status}`);
  const key = response.headers.get(RESULT_KEY_HEADER);
  if (!key) throw new Error('artifact download carried no result key');
  const bytes = Buffer.from(await response.arrayBuffer());
  const dir = await mkdtemp(join(tmpdir(), 'sr-runner-'));
  try {
    const options = await unpackBundle(bytes, inputs.integrity, dir);
    const phaseRun = await run(options);
    const body = JSON.stringify({ analysisId: inputs.analysisId, run: phaseRun });
    const posted = await fetch(resultUrlFor(inputs.artifactUrl, inputs.analysisId), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(key, body) },
      body,
    });
    if (!posted.ok) throw new Error(`result upload failed: HTTP ${posted.status}`);
    return phaseRun;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
