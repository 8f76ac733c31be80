import type { Kysely } from 'kysely';
import type { OpenedDatabase } from './open-database.js';
import type { Database } from './schema.js';

/** What the store modules share: the query builder, the dialect and the clock. */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly kind: 'sqlite' | 'postgres';
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** PostgreSQL only: LISTEN on a channel (../open-database.ts). */
  readonly listen?: OpenedDatabase['listen'];
  /** The NOTIFY channel announcing queued jobs: one per database schema. */
  readonly jobsChannel: string;
  /** The NOTIFY channel carrying the id of a scan that got new events: one per database schema. */
  readonly scanEventsChannel: string;
  /** This store's id in the notifications it sends, so that it can ignore its own (./store-jobs.ts). */
  readonly origin: string;
}

export function nowIso(ctx: StoreContext, offsetMs = 0): string {
  return new Date(ctx.clock() + offsetMs).toISOString();
}
