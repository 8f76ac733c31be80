// How many sandbox runs may run at once, and how long each may take given how many are running: on
// a shared machine a phase slows down with every concurrent run, and a timeout must not turn that
// slowness into a (fail-closed) failure.
import { availableParallelism } from 'node:os';

export class SandboxSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly baseTimeoutMs: number,
    private readonly cores: number = availableParallelism(),
  ) {}

  /** Waits for a slot; returns the timeout for this run and the release function. */
  async acquire(): Promise<{ timeoutMs: number; release: () => void }> {
    // A released slot is handed to the next waiter directly, so `running` never exceeds the limit.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    let released = false;
    return {
      timeoutMs: this.timeoutFor(this.running),
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next();
        else this.running--;
      },
    };
  }

  /** The base timeout, scaled by how many runs share each core (never below the base). */
  timeoutFor(running: number): number {
    return Math.round(this.baseTimeoutMs * Math.max(1, running / Math.max(1, this.cores)));
  }
}
