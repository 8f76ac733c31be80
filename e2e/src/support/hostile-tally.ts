/**
 * The hostile suite's per-group figures (issue 13 "Done when"): every case tried is either handled
 * (its assertions held) or failed; `print()` writes `hostile <group>: tried N, handled N, failed N`.
 */
export class HostileTally {
  private tried = 0;
  private handled = 0;
  private failed = 0;

  constructor(private readonly group: string) {}

  /** Runs one case; an assertion failure counts as failed and is rethrown (the test fails). */
  async check(run: () => Promise<void> | void): Promise<void> {
    this.tried++;
    try {
      await run();
      this.handled++;
    } catch (error) {
      this.failed++;
      throw error;
    }
  }

  /** The one-line figures of the group. */
  line(): string {
    return `hostile ${this.group}: tried ${this.tried}, handled ${this.handled}, failed ${this.failed}`;
  }

  print(): void {
    console.log(this.line());
  }
}
