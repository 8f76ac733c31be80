import type { Phase, TraceEvent } from '@secure-registry/shared';
import type { ExistingFile } from '../trace/file-detail.js';
import type { Honeytoken } from './honeytokens.js';
import type { EnvironmentVariant } from './variants.js';

export interface PhaseRunOptions {
  phase: Phase;
  packageName: string;
  packageVersion: string;
  /** The extracted package on the host. */
  packageDir: string;
  /**
   * Already extracted dependencies, present in the project's node_modules (nothing of them is run).
   * `path` is the install path relative to the project, as npm would place it (`node_modules/a` or
   * nested `node_modules/a/node_modules/b`); default `node_modules/<name>`.
   */
  dependencies?: { name: string; dir: string; path?: string }[];
  /** Wall-clock limit for the phase's main process. Default 30 000. */
  timeoutMs?: number;
  /** How long to keep the sandbox alive after the main process is done (delayed payloads). Default 3 000. */
  graceMs?: number;
  /** Default 1024. */
  memoryMb?: number;
  /** Default 256. */
  maxProcesses?: number;
  /** The most trace (MiB) the run may write before it is ended, fail closed. Default 128. */
  maxTraceMb?: number;
  /** Size of the run's tmpfs (HOME, project, /tmp). Default 256. */
  diskMb?: number;
  /** The Node binary to bind into the sandbox. Default: the running Node (process.execPath). */
  nodePath?: string;
  /**
   * The names the fake internet resolves; every other name gets NXDOMAIN, as from a real resolver for a
   * made-up name. Default: every name resolves. (`[]`: strict, nothing resolves.)
   */
  dnsAnswers?: string[];
  /**
   * Which machine the run looks like: a developer's laptop (default) or a CI runner (`CI`,
   * `GITHUB_ACTIONS` and the runner's variables set: ./variants.ts).
   */
  environment?: EnvironmentVariant;
}

export interface PhaseRun {
  status: 'completed' | 'timeout' | 'crashed' | 'error';
  error?: string;
  durationMs: number;
  exitCode?: number;
  events: TraceEvent[];
  honeytokens: Honeytoken[];
  /** Paths as seen inside the sandbox. */
  home: string;
  projectDir: string;
  packageDir: string;
  /** The files planted in HOME and the project before the phase (absent when it could not start). */
  existingFiles?: ExistingFile[];
  /** Limits that could not be applied, parse statistics and other notes about the run. */
  details: string[];
}
