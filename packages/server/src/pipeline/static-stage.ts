import {
  analyzeStaticInto,
  createStaticPool,
  type AnalyzeStaticInput,
  type StaticPool,
  type StaticResult,
} from '@secure-registry/analyzer';
import { rm } from 'node:fs/promises';
import type { StageReports } from '@secure-registry/shared';
import { newPackageDir, packageDirOf, type PackageDir } from './package-dir.js';
import { inPhase } from './phase-events.js';
import type { ArtifactAnalyzer } from './types.js';

export interface StaticStageOptions {
  /**
   * Worker threads for the static analysis (SR_STATIC_WORKERS): 0 analyses on the event loop.
   * Default: the machine's cores, at most 4. One pool per size is shared by every server of the process.
   */
  workers?: number;
}

/** The static stage; `analyzeKeeping` also leaves npm's files on disk for the sandbox. */
export interface StaticStage extends ArtifactAnalyzer {
  /**
   * The static pieces, and the package directory the sandbox runs: the files the static analysis
   * read, extracted once (undefined when the extraction failed: the caller extracts again).
   */
  analyzeKeeping(
    input: Parameters<ArtifactAnalyzer['analyze']>[0],
  ): Promise<{ pieces: StageReports; packageDir: PackageDir | undefined }>;
}

const pools = new Map<number, StaticPool>();

function sharedPool(workers: number | undefined): StaticPool | undefined {
  if (workers === 0) return undefined;
  const key = workers ?? -1;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = createStaticPool(workers !== undefined ? { workers } : {})));
  return pool;
}

/** The first analysis stage: static and metadata signals of the tarball and its packument. */
export function createStaticAnalyzer(options: StaticStageOptions = {}): StaticStage {
  const run = (input: AnalyzeStaticInput, dir?: string): Promise<StaticResult> =>
    sharedPool(options.workers)?.analyze(input, dir) ?? analyzeStaticInto(input, dir);
  return {
    async analyze({ name, version, tarball, packument, signal, progress }) {
      const { report } = await inPhase(progress, 'static', () => run({ name, version, tarball, packument }));
      signal.throwIfAborted();
      return { static: report };
    },
    async analyzeKeeping({ name, version, tarball, packument, signal, progress }) {
      const dir = await newPackageDir();
      let handedOver = false;
      try {
        const { report, tree } = await inPhase(progress, 'static', () =>
          run({ name, version, tarball, packument }, dir),
        );
        signal.throwIfAborted();
        const packageDir = tree ? await packageDirOf(tree, report.extraction) : undefined;
        handedOver = packageDir !== undefined;
        return { pieces: { static: report }, packageDir };
      } finally {
        if (!handedOver) await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
