import type { Kysely, Migration } from 'kysely';

/**
 * Review decisions: an append-only log of who approved or rejected a held artifact, when, why, on
 * which evidence and which rule set. Rows are only ever inserted.
 */
export const reviewsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('review_decisions')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('version', 'text', (col) => col.notNull())
      .addColumn('integrity', 'text', (col) => col.notNull())
      .addColumn('decision', 'text', (col) => col.notNull())
      .addColumn('reviewer', 'text', (col) => col.notNull())
      .addColumn('role', 'text', (col) => col.notNull())
      .addColumn('reason', 'text', (col) => col.notNull())
      // JSON array of evidence references.
      .addColumn('evidence', 'text', (col) => col.notNull())
      .addColumn('rule_set_version', 'text')
      .addColumn('created_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema
      .createIndex('review_decisions_artifact_idx')
      .on('review_decisions')
      .columns(['name', 'version', 'integrity', 'created_at'])
      .execute();
    await db.schema.createIndex('artifacts_verdict_idx').on('artifacts').columns(['verdict']).execute();
  },
};
