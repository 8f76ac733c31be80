// Helpers for sandbox tests: fixture locations, running a fixture, timing, event queries.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceEvent, TraceEventKind, TraceEventOf } from '@secure-registry/shared';
import { runPhase } from '../run-phase.js';
import type { PhaseRun, PhaseRunOptions } from '../types.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../../../');
export const MALICIOUS = join(repoRoot, 'fixtures/packages/malicious');
export const BENIGN = join(repoRoot, 'fixtures/packages/malicious/benign');

export const timings: { fixture: string; phase: string; ms: number; status: string }[] = [];

export async function runFixture(
  dir: string,
  phase: PhaseRunOptions['phase'],
  extra: Partial<PhaseRunOptions> = {},
): Promise<PhaseRun> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const run = await runPhase({
    phase,
    packageName: manifest.name,
    packageVersion: manifest.version,
    packageDir: dir,
    timeoutMs: 20_000,
    graceMs: 2_000,
    ...extra,
  });
  timings.push({ fixture: manifest.name, phase, ms: run.durationMs, status: run.status });
  return run;
}

export function ofKind<K extends TraceEventKind>(run: PhaseRun, kind: K): TraceEventOf<K>[] {
  return run.events.filter((e: TraceEvent): e is TraceEventOf<K> => e.kind === kind);
}

export function token(run: PhaseRun, name: string): string {
  const found = run.honeytokens.find((t) => t.name === name);
  if (!found) throw new Error(`no honeytoken ${name}`);
  return found.value;
}

/** A readable summary for assertion messages. */
export function describeRun(run: PhaseRun): string {
  const interesting = run.events.filter((e) => e.kind !== 'file' && e.kind !== 'exit').slice(0, 40);
  return JSON.stringify({
    status: run.status,
    error: run.error,
    exitCode: run.exitCode,
    details: run.details,
    events: interesting,
  }).slice(0, 6000);
}
