// The upstream client's short-lived cache of full packuments, bounded by the size of their JSON: a
// cold scan fetches hundreds of packuments (79 MB of JSON for a 590-package lockfile, several times
// that once parsed), and a cache bounded by entries would keep them all for as long as it lives.
// The oldest entry goes first; an entry read again moves to the back; expired entries are dropped
// as they are met, and a packument larger than the whole budget is not kept.

export interface PackumentCacheOptions {
  /** How long an entry is served, in milliseconds. */
  ttlMs: number;
  /** The most JSON bytes (summed over the entries) kept at once. */
  maxBytes: number;
  /** The clock; tests replace it. */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  bytes: number;
  expires: number;
}

/** Packuments by name, at most `maxBytes` of their JSON at once, each for `ttlMs`. */
export class PackumentCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private total = 0;
  private readonly now: () => number;

  constructor(private readonly options: PackumentCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The JSON bytes of the entries kept now. */
  get bytes(): number {
    return this.total;
  }

  get(name: string): T | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    this.entries.delete(name);
    if (entry.expires <= this.now()) {
      this.total -= entry.bytes;
      return undefined;
    }
    this.entries.set(name, entry);
    return entry.value;
  }

  /** Keeps `value` (whose JSON was `bytes` long), dropping the oldest entries to stay in budget. */
  set(name: string, value: T, bytes: number): void {
    this.delete(name);
    if (bytes > this.options.maxBytes) return;
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (this.total + bytes <= this.options.maxBytes && entry.expires > now) break;
      this.delete(key);
    }
    this.entries.set(name, { value, bytes, expires: now + this.options.ttlMs });
    this.total += bytes;
  }

  private delete(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    this.total -= entry.bytes;
  }
}
