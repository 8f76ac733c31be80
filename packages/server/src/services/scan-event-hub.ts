/** Wakes live SSE listeners of a scan when events were appended (in this process or, via the store's notifications, another). */
export class ScanEventHub {
  private readonly listeners = new Map<string, Set<() => void>>();

  subscribe(scanId: string, listener: () => void): () => void {
    let set = this.listeners.get(scanId);
    if (!set) {
      set = new Set();
      this.listeners.set(scanId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(scanId);
    };
  }

  notify(scanId: string): void {
    for (const listener of this.listeners.get(scanId) ?? []) listener();
  }

  /** Wakes every listener (after missed cross-process notifications). */
  notifyAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) listener();
  }

  listenerCount(scanId: string): number {
    return this.listeners.get(scanId)?.size ?? 0;
  }
}
