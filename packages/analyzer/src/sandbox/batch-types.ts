import type { Phase, TraceEvent } from '@secure-registry/shared';
import type { ExistingFile } from '../trace/file-detail.js';
import type { Honeytoken } from './honeytokens.js';
import type { PhaseRun, PhaseRunOptions } from './types.js';

export interface BatchPackage {
  name: string;
  version: string;
  /** The extracted package on the host. */
  dir: string;
  /**
   * Where npm would place it, relative to the project (`node_modules/a/node_modules/b` for a nested
   * copy). Default `node_modules/<name>` (the flat layout).
   */
  path?: string;
  /** False: only present in node_modules (a dependency of others), nothing of it is run. Default true. */
  run?: boolean;
}

export interface BatchRunOptions {
  phase: Phase;
  /** Install phase: in dependency order (dependencies first); scripts run one package at a time. */
  packages: BatchPackage[];
  layout?: 'flat';
  /** Wall-clock limit per package (all its scripts, or its loader process). Default 30 000. */
  timeoutMs?: number;
  /** Wall-clock limit for the whole batch. Default: enough for every package to time out, plus 30 s. */
  batchTimeoutMs?: number;
  /** How long to keep the sandbox alive after the last package (delayed payloads). Default 3 000. */
  graceMs?: number;
  /** Import / browser: how long a package's loader may keep running after loading. Default 1 000. */
  lingerMs?: number;
  /** Import / browser: loader processes at once. Default 2. */
  concurrency?: number;
  /**
   * Import / browser: packages loaded one after the other in one loader process (Node starts once per
   * group). Their events are then shared: see `BatchPackageRun.sharedWith`. Default 16 (browser 64); 1 gives every
   * package a process of its own.
   */
  groupSize?: number;
  /** The names the fake internet resolves; others get NXDOMAIN. Default: every name. */
  dnsAnswers?: string[];
  /** Default 4096. */
  memoryMb?: number;
  /** Default 1024. */
  maxProcesses?: number;
  /** The most trace (MiB) the batch may write before it is ended, fail closed. Default 512. */
  maxTraceMb?: number;
  /** Size of the run's tmpfs (HOME, project with every package, /tmp). Default 4096. */
  diskMb?: number;
  nodePath?: string;
}

export interface BatchPackageRun {
  name: string;
  version: string;
  /** `name@version`, as on attributed events. */
  id: string;
  /** The package's directory inside the sandbox. */
  packageDir: string;
  /**
   * `completed`: its scripts ran (or it had none) / its entries were loaded. `timeout` / `crashed`: its
   * own process did not finish. `error`: it never ran because the batch ended (timeout, crash, error)
   * before its turn. Only `completed` may count as clean.
   */
  status: PhaseRun['status'];
  error?: string;
  /** Whether anything of this package ran (install phase: false without lifecycle scripts). */
  ran: boolean;
  durationMs: number;
  exitCode?: number;
  /** Its events, plus the ambiguous ones it is a candidate for (those have no `package`). */
  events: TraceEvent[];
  /** Seqs (in `events`) of events that could not be attributed to one package alone. */
  ambiguousSeqs: number[];
  /**
   * Attribution is not certain for some of its evidence (ambiguous events, or its entries were not seen
   * loaded in a shared loader): re-run it alone (`isolate`).
   */
  needsIsolation: boolean;
  /**
   * Ids of the packages loaded before it in the same loader process (import / browser with groups). Their
   * pending timers and requests run on in that process, so an event in its window may be theirs: when its
   * events are worth a finding, re-run it and every one of these alone before blaming anyone.
   */
  sharedWith: string[];
  details: string[];
}

export interface BatchRun {
  /** The batch as a whole: `completed` only when the runner finished every package. */
  status: PhaseRun['status'];
  error?: string;
  durationMs: number;
  /** One entry per input package, in input order. */
  packages: BatchPackageRun[];
  /** Events that could not be tied to one package, with the ids of the packages they may belong to. */
  ambiguous: { event: TraceEvent; candidates: string[] }[];
  honeytokens: Honeytoken[];
  home: string;
  projectDir: string;
  /** The files planted in HOME and the project before the batch (absent when it could not start). */
  existingFiles?: ExistingFile[];
  details: string[];
  /**
   * Options for `runPhase` that re-run one package of the batch alone, with the batch's other packages
   * as its dependencies (for a package with `needsIsolation`, or any flagged one).
   */
  isolate(name: string, version?: string): PhaseRunOptions;
}
