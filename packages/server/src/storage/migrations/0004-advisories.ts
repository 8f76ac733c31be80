import type { Kysely, Migration } from 'kysely';

/**
 * Published advisories naming npm packages as malicious (OSV `MAL-` records), one row per advisory
 * and package name, with the versions and ranges it names: matched against every version analysed
 * from then on, and against the artifacts already stored when imported.
 */
export const advisoriesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('advisories')
      .addColumn('id', 'text', (col) => col.notNull())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('summary', 'text', (col) => col.notNull())
      .addColumn('source', 'text', (col) => col.notNull())
      .addColumn('modified', 'text')
      // JSON arrays: aliases, the versions listed, the SEMVER/ECOSYSTEM ranges.
      .addColumn('aliases', 'text', (col) => col.notNull())
      .addColumn('versions', 'text', (col) => col.notNull())
      .addColumn('ranges', 'text', (col) => col.notNull())
      .addColumn('imported_at', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('advisories_pk', ['id', 'name'])
      .execute();
    await db.schema.createIndex('advisories_name_idx').on('advisories').columns(['name']).execute();
  },
};
