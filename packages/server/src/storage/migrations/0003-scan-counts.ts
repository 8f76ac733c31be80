import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Scan state changes cost the packages they touch, not the size of the scan:
 * - each scan keeps the number of its packages in each state (`counts`, JSON of `ScanCounts`),
 *   changed in the same transaction as the packages (null for scans stored before: counted once
 *   on their next change);
 * - the graph (up to 100,000 nodes, megabytes of JSON) moves to its own write-once table, so the
 *   updates of a scan's counters do not rewrite it (SQLite rewrites a whole row on update).
 */
export const scanCountsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('scan_graphs')
      .addColumn('scan_id', 'text', (col) => col.primaryKey().references('scans.id').onDelete('cascade'))
      .addColumn('graph', 'text', (col) => col.notNull())
      .execute();
    await sql`insert into scan_graphs (scan_id, graph) select id, graph from scans`.execute(db);
    await db.schema.alterTable('scans').dropColumn('graph').execute();
    await db.schema.alterTable('scans').addColumn('counts', 'text').execute();
  },
};
