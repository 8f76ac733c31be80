// Import and browser phases of many artifacts in one sandbox (`runBatch`): the artifacts the workers are
// analysing at the same time are collected for a moment and run together, so a sandbox, its fake internet
// and Node's start-up are paid once per batch instead of once per artifact. What a batch cannot pin on one
// package is never blamed on it: a package whose attribution is uncertain (ambiguous events, entries not
// seen loaded, a loader that failed while it was loading) or whose report would raise a finding while it
// shared its loader process with others is run again ALONE — and so is every package it shared with —
// and the single run's report is the one kept.
import {
  reduceEvents,
  runBatch,
  type Baseline,
  type BatchPackageRun,
  type BatchRun,
  type BatchRunOptions,
  type PhaseRun,
} from '@secure-registry/analyzer';
import type { BehaviourReport, Phase } from '@secure-registry/shared';
import { SANDBOX_RESOLVERS, withoutSandboxPlumbing } from './phase-events.js';
import type { SandboxSlots } from './sandbox-slots.js';

export type BatchedPhase = Extract<Phase, 'import' | 'browser'>;

export interface BatchItem {
  name: string;
  version: string;
  /** The extracted package on the host. */
  dir: string;
}

/** What a phase run left for the dynamic stage: the reduced report and the run's facts. */
export interface PhaseOutcome {
  report: BehaviourReport;
  run: PhaseRun;
  timeoutMs: number;
  /** How the package was run: in a batch of `size`, or alone after a batch (and why). */
  batch: { size: number; isolated?: string };
}

export interface PhaseBatcherOptions {
  phase: BatchedPhase;
  slots: SandboxSlots;
  graceMs: number;
  /** Packages per batch at most. Default 256. */
  maxBatch?: number;
  /** How long the first waiting package waits for others before its batch starts. Default 1 000 ms. */
  collectMs?: number;
  /** Packages per loader process. Default: runBatch's (16; browser 64). */
  groupSize?: number;
  /** Loader processes per batch. Default 2. */
  loaders?: number;
  /**
   * Every name gets NXDOMAIN in the batch (./variant-runs.ts); a package that asked names is run again
   * alone (`runAlone`, which answers them in a second round), with its loader-mates. Default false.
   */
  strictDns?: boolean;
  /** The control baseline (noise) to remove from every report. */
  baseline(): Baseline | undefined;
  /** Runs one package alone (the isolation run). */
  runAlone(item: BatchItem): Promise<PhaseOutcome>;
  /** Whether a report would raise a finding (then a shared loader is not trusted with its blame). */
  notable(report: BehaviourReport, item: BatchItem): boolean;
  /** The batch runner; tests replace it. Default `runBatch`. */
  run?: (options: BatchRunOptions) => Promise<BatchRun>;
}

interface Waiting {
  item: BatchItem;
  resolve(outcome: PhaseOutcome): void;
  reject(error: unknown): void;
}

/** A phase run reduced to its behaviour report, minus the sandbox's own plumbing and the baseline. */
export function reduceRun(
  phase: Phase,
  item: Pick<BatchItem, 'name' | 'version'>,
  run: PhaseRun,
  baseline: Baseline | undefined,
): BehaviourReport {
  return reduceEvents({
    events: withoutSandboxPlumbing(run.events),
    phase,
    packageName: `${item.name}@${item.version}`,
    packageDir: run.packageDir,
    home: run.home,
    projectDir: run.projectDir,
    honeytokens: run.honeytokens,
    ...(baseline ? { baseline } : {}),
    status: run.status,
    durationMs: run.durationMs,
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.error !== undefined ? { error: run.error } : {}),
    resolvers: SANDBOX_RESOLVERS,
    ...(run.existingFiles ? { existingFiles: run.existingFiles } : {}),
  });
}

export class PhaseBatcher {
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PhaseBatcherOptions) {}

  /** Resolves with the package's outcome once its batch (and any isolation run) is over. */
  submit(item: BatchItem): Promise<PhaseOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= (this.options.maxBatch ?? 256)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.collectMs ?? 1_000);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One install path per name in a batch: another version of a name already taken waits for the next.
    const max = this.options.maxBatch ?? 256;
    const taken = new Map<string, string>();
    const waiting: Waiting[] = [];
    const rest: Waiting[] = [];
    for (const w of this.queue) {
      const version = taken.get(w.item.name);
      if ((version === undefined && taken.size < max) || version === w.item.version) {
        taken.set(w.item.name, w.item.version);
        waiting.push(w);
      } else rest.push(w);
    }
    this.queue = rest;
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.options.collectMs ?? 1_000);
    if (waiting.length === 0) return;
    // The same artifact twice (two scans at once) runs once, for both.
    const unique = new Map<string, Waiting[]>();
    for (const w of waiting) {
      const key = `${w.item.name}@${w.item.version}`;
      unique.set(key, [...(unique.get(key) ?? []), w]);
    }
    // Whoever is still waiting when the batch fails gets the error (the others have their outcome).
    this.runBatch(unique).catch((error: unknown) => {
      for (const list of unique.values()) for (const w of list) w.reject(error);
    });
  }

  /**
   * Runs the batch; each package's waiters leave `unique` as they get their outcome, so that nothing
   * here (a waiter's promise keeps its value) holds an outcome's events once it is handed over.
   */
  private async runBatch(unique: Map<string, Waiting[]>): Promise<void> {
    const { phase, slots, graceMs } = this.options;
    const items = [...unique.values()].map((list) => (list[0] as Waiting).item);
    const resolve = (item: BatchItem, outcome: PhaseOutcome): void => {
      const key = `${item.name}@${item.version}`;
      for (const w of unique.get(key) ?? []) w.resolve(outcome);
      unique.delete(key);
    };
    if (items.length === 1) {
      const item = items[0] as BatchItem;
      resolve(item, { ...(await this.options.runAlone(item)), batch: { size: 1 } });
      return;
    }
    const slot = await slots.acquire();
    let batch: BatchRun | undefined;
    try {
      batch = await (this.options.run ?? runBatch)({
        phase,
        packages: items.map((i) => ({ name: i.name, version: i.version, dir: i.dir })),
        timeoutMs: slot.timeoutMs,
        graceMs,
        ...(this.options.groupSize !== undefined ? { groupSize: this.options.groupSize } : {}),
        concurrency: this.options.loaders ?? 2,
        ...(this.options.strictDns ? { dnsAnswers: [] } : {}),
      });
    } finally {
      slot.release();
    }
    const outcomes: (PhaseOutcome | undefined)[] = [];
    for (const [i, item] of items.entries())
      outcomes.push(
        this.outcomeOf(batch, batch.packages[i] as BatchPackageRun, item, slot.timeoutMs, items.length),
      );
    const isolate = this.toIsolate(batch, outcomes as PhaseOutcome[], items);
    // From here on each package's events are held only by its own outcome: handed to its waiters now
    // (they keep a bounded part with the report), or dropped for the run alone that replaces it.
    batch = undefined;
    const alone: { item: BatchItem; reason: string }[] = [];
    for (const [i, item] of items.entries()) {
      const reason = isolate.get(i);
      if (reason === undefined) resolve(item, outcomes[i] as PhaseOutcome);
      else alone.push({ item, reason });
      outcomes[i] = undefined;
    }
    await Promise.all(
      alone.map(async ({ item, reason }) => {
        const outcome = await this.options.runAlone(item);
        resolve(item, { ...outcome, batch: { size: items.length, isolated: reason } });
      }),
    );
  }

  private outcomeOf(
    batch: BatchRun,
    pkg: BatchPackageRun,
    item: BatchItem,
    timeoutMs: number,
    size: number,
  ): PhaseOutcome {
    const baseline = this.options.baseline();
    const run: PhaseRun = {
      status: pkg.status,
      ...(pkg.error !== undefined ? { error: pkg.error } : {}),
      durationMs: pkg.durationMs,
      ...(pkg.exitCode !== undefined ? { exitCode: pkg.exitCode } : {}),
      events: pkg.events,
      honeytokens: batch.honeytokens,
      home: batch.home,
      projectDir: batch.projectDir,
      packageDir: pkg.packageDir,
      ...(batch.existingFiles ? { existingFiles: batch.existingFiles } : {}),
      details: [...pkg.details, ...batch.details.slice(0, 5)],
    };
    return { report: reduceRun(this.options.phase, item, run, baseline), run, timeoutMs, batch: { size } };
  }

  /** Which packages of the batch are run again alone, and why. */
  private toIsolate(batch: BatchRun, outcomes: PhaseOutcome[], items: BatchItem[]): Map<number, string> {
    const out = new Map<number, string>();
    const byId = new Map(batch.packages.map((p, i) => [p.id, i]));
    const add = (i: number | undefined, reason: string): void => {
      if (i !== undefined && !out.has(i)) out.set(i, reason);
    };
    batch.packages.forEach((p, i) => {
      const outcome = outcomes[i] as PhaseOutcome;
      if (p.needsIsolation) add(i, 'its attribution in the batch was not certain');
      else if (p.status !== 'completed' && p.ran && p.sharedWith.length > 0)
        add(i, `its batch run ended ${p.status} in a shared loader; a neighbour may be the cause`);
      else if (p.status === 'error' && batch.status !== 'completed')
        add(i, `the batch ended (${batch.status}${batch.error ? `: ${batch.error}` : ''}) before its turn`);
      if (p.sharedWith.length > 0 && this.options.notable(outcome.report, items[i] as BatchItem)) {
        const reason = `${p.id}'s behaviour in a loader it shared with ${p.sharedWith.length} other package(s)`;
        add(i, reason);
        for (const id of p.sharedWith) add(byId.get(id), reason);
      }
      if (this.options.strictDns && outcome.report.dns.length > 0) {
        const reason = `${p.id} asked DNS for ${outcome.report.dns.length} name(s) under strict DNS: run again alone with them answered`;
        add(i, reason);
        for (const id of p.sharedWith) add(byId.get(id), reason);
      }
    });
    return out;
  }
}
