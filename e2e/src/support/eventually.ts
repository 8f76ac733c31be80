import { setTimeout as delay } from 'node:timers/promises';
import { LoadBudget } from '@secure-registry/shared';

/**
 * Polls `probe` every 100 ms until it returns a value (anything but undefined) within a load-scaled
 * budget of `baseMs` (idle-machine time); throws naming `what` when the budget runs out.
 */
export async function eventually<T>(
  what: string,
  baseMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const budget = new LoadBudget(baseMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (budget.expired()) throw new Error(`${what}: not within ${budget.describe()}`);
    await delay(100);
  }
}
