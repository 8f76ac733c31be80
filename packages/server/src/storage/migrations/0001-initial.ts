import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The initial schema. Only types both SQLite and PostgreSQL understand the same way: `text`
 * (JSON and ISO-8601 timestamps too) and `integer` (booleans as 0/1).
 */
export const initialMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('artifacts')
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('version', 'text', (col) => col.notNull())
      .addColumn('integrity', 'text', (col) => col.notNull())
      .addColumn('verdict', 'text', (col) => col.notNull())
      .addColumn('reason', 'text')
      .addColumn('findings', 'text', (col) => col.notNull())
      .addColumn('reports', 'text', (col) => col.notNull())
      .addColumn('rule_set_version', 'text')
      .addColumn('storage_path', 'text')
      .addColumn('decided_at', 'text')
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('artifacts_pk', ['name', 'version', 'integrity'])
      .execute();

    await db.schema
      .createTable('scans')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('label', 'text')
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('graph', 'text', (col) => col.notNull())
      .addColumn('last_event_seq', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('completed_at', 'text')
      .execute();
    await db.schema.createIndex('scans_status_idx').on('scans').column('status').execute();

    await db.schema
      .createTable('scan_packages')
      .addColumn('scan_id', 'text', (col) => col.notNull().references('scans.id').onDelete('cascade'))
      .addColumn('key', 'text', (col) => col.notNull())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('version', 'text', (col) => col.notNull())
      .addColumn('integrity', 'text')
      .addColumn('source', 'text', (col) => col.notNull())
      .addColumn('dev', 'integer', (col) => col.notNull())
      .addColumn('state', 'text', (col) => col.notNull())
      .addColumn('reason', 'text')
      .addColumn('findings', 'text', (col) => col.notNull())
      .addColumn('blocked_by', 'text')
      .addPrimaryKeyConstraint('scan_packages_pk', ['scan_id', 'key'])
      .execute();
    await db.schema
      .createIndex('scan_packages_artifact_idx')
      .on('scan_packages')
      .columns(['name', 'version', 'integrity'])
      .execute();

    await db.schema
      .createTable('scan_events')
      .addColumn('scan_id', 'text', (col) => col.notNull().references('scans.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (col) => col.notNull())
      .addColumn('data', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('scan_events_pk', ['scan_id', 'seq'])
      .execute();

    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('version', 'text', (col) => col.notNull())
      .addColumn('integrity', 'text', (col) => col.notNull())
      .addColumn('resolved', 'text')
      .addColumn('status', 'text', (col) => col.notNull())
      .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('worker_id', 'text')
      .addColumn('locked_until', 'text')
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('jobs_status_idx').on('jobs').columns(['status', 'created_at']).execute();
    // At most one active (queued or running) job per artifact: enqueue relies on this index.
    await db.schema
      .createIndex('jobs_active_artifact_uq')
      .unique()
      .on('jobs')
      .columns(['name', 'version', 'integrity'])
      .where(sql.ref('status'), 'in', [sql.lit('queued'), sql.lit('running')])
      .execute();

    await db.schema
      .createTable('tokens')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('hash', 'text', (col) => col.notNull().unique())
      .addColumn('role', 'text', (col) => col.notNull())
      .addColumn('label', 'text')
      .addColumn('created_at', 'text', (col) => col.notNull())
      .execute();
  },
};
