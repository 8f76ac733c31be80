import { availableParallelism, loadavg } from 'node:os';

/**
 * Test budgets that scale with the machine's load: `ms` is what the wait needs on an idle machine,
 * multiplied by the run queue per core (1-minute load average / cores, at least 1, at most 20). A
 * budget is measured against the load *now*, so a wait that started on a quiet machine is not cut
 * short when the load rises during it. Meant for the tests' budgets (the test harnesses of every
 * package and e2e share it through this public entry), not for product timeouts.
 */
export function loadFactor(): number {
  const perCore = loadavg()[0]! / availableParallelism();
  return Math.min(20, Math.max(1, perCore));
}

/** `ms` scaled by the current load (see `loadFactor`). */
export function scaledMs(ms: number): number {
  return Math.round(ms * loadFactor());
}

/** A deadline of `ms` (idle-machine time) from now, re-scaled by the load each time it is asked. */
export class LoadBudget {
  readonly #start = Date.now();
  constructor(readonly baseMs: number) {}

  elapsedMs(): number {
    return Date.now() - this.#start;
  }

  expired(): boolean {
    return this.elapsedMs() > scaledMs(this.baseMs);
  }

  /** Describes the budget for an error message: base, scaled and elapsed times and the load. */
  describe(): string {
    return `${this.baseMs} ms at idle, ${scaledMs(this.baseMs)} ms at load ${loadavg()[0]!.toFixed(1)}; ${this.elapsedMs()} ms elapsed`;
  }
}

/**
 * Calls `onExpire` once the load-scaled budget of `ms` has passed (checked again whenever the
 * timer fires, so a rising load extends it). Returns a function that cancels it.
 */
export function loadScaledTimeout(ms: number, onExpire: (budget: LoadBudget) => void): () => void {
  const budget = new LoadBudget(ms);
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = scaledMs(ms) - budget.elapsedMs();
    if (left <= 0) onExpire(budget);
    else timer = setTimeout(arm, left);
  };
  arm();
  return () => clearTimeout(timer);
}
