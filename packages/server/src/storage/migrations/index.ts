import type { Migration, MigrationProvider } from 'kysely';
import { initialMigration } from './0001-initial.js';
import { reviewsMigration } from './0002-reviews.js';
import { scanCountsMigration } from './0003-scan-counts.js';
import { advisoriesMigration } from './0004-advisories.js';

/** Migrations in code, applied in name order. Never edit a released one: add the next. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initialMigration,
  '0002-reviews': reviewsMigration,
  '0003-scan-counts': scanCountsMigration,
  '0004-advisories': advisoriesMigration,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...MIGRATIONS }),
};
