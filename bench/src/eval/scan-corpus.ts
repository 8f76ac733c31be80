import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { startServer } from '@secure-registry/server';
import type { DependencyGraph, Finding, ScanResult } from '@secure-registry/shared';
import { Phase, readArtifactReports, scaledMs } from '@secure-registry/shared';
import { freePort, githubExecutorEnv, startStandin } from '../github-standin-env.js';

export type ExecutorKind = 'local' | 'github';

export interface CorpusPackage {
  name: string;
  version: string;
  integrity: string;
  resolved?: string;
  installScript: boolean;
}

export interface ScannedPackage {
  name: string;
  version: string;
  state: string;
  reason: string | undefined;
  findings: Finding[];
  /** The analysis stages whose reports are stored for the artifact (`static`, `install`, …). */
  stages: string[];
  /** The sandbox phases that ran and how each ended (`completed`, `timeout`, `crashed`, `error`). */
  phases: { phase: string; status: string }[];
  /** Why the sandbox could not run, when it could not. */
  sandboxUnavailable?: string[];
}

/** The phase statuses and sandbox availability from an artifact's stored reports. */
export function phasesOf(
  stored: Record<string, unknown>,
): Pick<ScannedPackage, 'phases' | 'sandboxUnavailable'> {
  const reports = readArtifactReports(stored);
  const phases = Phase.options.flatMap((phase) => {
    const record = reports[phase];
    return record ? [{ phase, status: record.report.status }] : [];
  });
  const unavailable = reports.sandbox?.unavailable;
  return { phases, ...(unavailable ? { sandboxUnavailable: unavailable } : {}) };
}

/** A graph with every package as a direct dependency of the root (each judged on its own). */
export function corpusGraph(packages: readonly CorpusPackage[]): DependencyGraph {
  const nodes = packages.map((pkg) => ({
    key: `eval/${pkg.name}@${pkg.version}`,
    name: pkg.name,
    version: pkg.version,
    integrity: pkg.integrity,
    ...(pkg.resolved ? { resolved: pkg.resolved } : {}),
    source: 'registry' as const,
    dev: false,
    optional: false,
    peer: false,
    hasInstallScript: pkg.installScript,
  }));
  return {
    root: { name: 'eval', version: '0.0.0' },
    lockfileVersion: 3,
    nodes,
    edges: nodes.map((node) => ({ from: '', to: node.key, type: 'prod' as const })),
  };
}

/**
 * Starts the server in-process (local mode: loopback, tokenless, SQLite in a temp dir) against
 * `upstream`, submits one scan of the corpus and waits for every verdict. With the `github` executor the
 * server dispatches every phase to the GitHub REST stand-in, whose runs execute the workflow's runner
 * program here, in the real sandbox; as those runs share this machine, at most one per core by default.
 */
export async function scanCorpus(options: {
  upstream: string;
  packages: readonly CorpusPackage[];
  concurrency: number | undefined;
  /** How long the scan may go without a package finishing (scaled by the machine's load). */
  stallMs: number;
  label: string;
  executor?: ExecutorKind;
  /** SR_GITHUB_MAX_JOBS for the github executor; default: this machine's cores. */
  maxJobs?: number | undefined;
}): Promise<{ packages: ScannedPackage[]; durationMs: number }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sr-eval-'));
  const started = Date.now();
  const standin = options.executor === 'github' ? await startStandin() : undefined;
  const port = standin ? await freePort() : 0;
  const server = await startServer({
    env: standin
      ? {
          ...process.env,
          ...githubExecutorEnv(standin, port, options.maxJobs ?? availableParallelism()),
        }
      : process.env,
    port,
    dataDir,
    upstream: options.upstream,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    llm: null,
    logger: false,
  });
  try {
    const created = await request(`${server.url}/api/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph: corpusGraph(options.packages), label: options.label }),
    });
    const summary = (await created.body.json()) as { id?: string; error?: string };
    if (created.statusCode !== 201 || !summary.id) {
      throw new Error(`the server refused the scan: HTTP ${created.statusCode} ${JSON.stringify(summary)}`);
    }
    // A corpus in the full sandbox takes as long as it takes: the scan fails only when nothing
    // finishes for the stall time (a wedged pipeline), never for being slow on a busy machine.
    let finished = -1;
    let stallDeadline = 0;
    for (;;) {
      const response = await request(`${server.url}/api/v1/scans/${summary.id}`);
      const result = (await response.body.json()) as ScanResult;
      const { total, pending, analyzing } = result.counts;
      const done = total - pending - analyzing;
      if (done !== finished) {
        finished = done;
        stallDeadline = Date.now() + scaledMs(options.stallMs);
      }
      if (result.status !== 'running') {
        const packages: ScannedPackage[] = [];
        for (const pkg of result.packages) {
          const stored = pkg.integrity
            ? await server.store.getArtifact({
                name: pkg.name,
                version: pkg.version,
                integrity: pkg.integrity,
              })
            : undefined;
          packages.push({
            name: pkg.name,
            version: pkg.version,
            state: pkg.state,
            reason: pkg.reason,
            findings: pkg.findings,
            stages: Object.keys(stored?.reports ?? {}).filter(
              (key) => key !== 'decision' && key !== 'llm' && key !== 'sandbox',
            ),
            ...phasesOf(stored?.reports ?? {}),
          });
        }
        return { packages, durationMs: Date.now() - started };
      }
      if (Date.now() > stallDeadline) {
        throw new Error(
          `the ${options.label} scan stalled: ${finished}/${result.counts.total} finished, none in the last ${scaledMs(options.stallMs)} ms`,
        );
      }
      await delay(250);
    }
  } finally {
    await server.close();
    await standin?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
