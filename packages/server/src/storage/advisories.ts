/** Advisories naming packages as malicious (../advisories/osv.ts): upserted by id and name, read by name. */
import type { PackageAdvisory } from '../advisories/osv.js';
import { nowIso, type StoreContext } from './context.js';

export interface AdvisoriesTable {
  id: string;
  name: string;
  summary: string;
  source: string;
  modified: string | null;
  aliases: string;
  versions: string;
  ranges: string;
  imported_at: string;
}

function advisoryDb(ctx: StoreContext) {
  return ctx.db.withTables<{ advisories: AdvisoriesTable }>();
}

function advisoryFromRow(row: AdvisoriesTable): PackageAdvisory {
  const aliases = JSON.parse(row.aliases) as string[];
  return {
    id: row.id,
    name: row.name,
    summary: row.summary,
    source: row.source,
    ...(row.modified !== null ? { modified: row.modified } : {}),
    ...(aliases.length > 0 ? { aliases } : {}),
    versions: JSON.parse(row.versions) as string[],
    ranges: JSON.parse(row.ranges) as PackageAdvisory['ranges'],
  };
}

/** Inserts or replaces each advisory (by id and name), in one transaction. */
export async function putAdvisories(
  ctx: StoreContext,
  advisories: readonly PackageAdvisory[],
): Promise<void> {
  if (advisories.length === 0) return;
  const importedAt = nowIso(ctx);
  await ctx.db.transaction().execute(async (trx) => {
    const db = trx.withTables<{ advisories: AdvisoriesTable }>();
    for (const advisory of advisories) {
      const row = {
        summary: advisory.summary,
        source: advisory.source,
        modified: advisory.modified ?? null,
        aliases: JSON.stringify(advisory.aliases ?? []),
        versions: JSON.stringify(advisory.versions),
        ranges: JSON.stringify(advisory.ranges),
        imported_at: importedAt,
      };
      await db
        .insertInto('advisories')
        .values({ id: advisory.id, name: advisory.name, ...row })
        .onConflict((oc) => oc.columns(['id', 'name']).doUpdateSet(row))
        .execute();
    }
  });
}

/** Removes every row of the advisory ids (withdrawn advisories); returns the names they named. */
export async function deleteAdvisories(ctx: StoreContext, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await advisoryDb(ctx)
    .deleteFrom('advisories')
    .where('id', 'in', ids)
    .returning('name')
    .execute();
  return [...new Set(rows.map((row) => row.name))];
}

export async function listAdvisories(ctx: StoreContext, name: string): Promise<PackageAdvisory[]> {
  const rows = await advisoryDb(ctx)
    .selectFrom('advisories')
    .selectAll()
    .where('name', '=', name)
    .orderBy('id')
    .execute();
  return rows.map(advisoryFromRow);
}
