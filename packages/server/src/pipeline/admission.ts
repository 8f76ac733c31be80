// How many artifacts may be between their download and the moment the analysis holds them on disk only:
// a tarball's bytes, its packument and the files the static stage reads are in memory for those; the
// hundreds of other artifacts in flight wait for their turn here, or for a sandbox batch with nothing
// of theirs in memory but their package directory and reports.

export class Admission {
  private admitted = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`admission limit must be ≥ 1, got ${limit}`);
  }

  /** Artifacts admitted now (for tests). */
  get inside(): number {
    return this.admitted;
  }

  /** Waits for a turn; the returned function ends it (calling it again does nothing). */
  async enter(): Promise<() => void> {
    // A turn that ends is handed to the next waiter directly, so `admitted` never exceeds the limit.
    if (this.admitted < this.limit) this.admitted++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.admitted--;
    };
  }
}
