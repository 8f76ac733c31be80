/** Artifacts and their verdicts; API tokens. */
import type { Role } from '@secure-registry/shared';
import { nowIso, type StoreContext } from './context.js';
import { artifactFromRow, mergeArtifactPatch, newArtifactRow, tokenFromRow } from './rows.js';
import type { ArtifactKey, ArtifactPatch, ArtifactRecord, TokenRecord } from './store.js';

export async function getArtifact(ctx: StoreContext, key: ArtifactKey): Promise<ArtifactRecord | undefined> {
  const row = await ctx.db
    .selectFrom('artifacts')
    .selectAll()
    .where('name', '=', key.name)
    .where('version', '=', key.version)
    .where('integrity', '=', key.integrity)
    .executeTakeFirst();
  return row ? artifactFromRow(row) : undefined;
}

export async function listArtifactsByName(ctx: StoreContext, name: string): Promise<ArtifactRecord[]> {
  const rows = await ctx.db
    .selectFrom('artifacts')
    .selectAll()
    .where('name', '=', name)
    .orderBy('created_at')
    .orderBy('version')
    .orderBy('integrity')
    .execute();
  return rows.map(artifactFromRow);
}

/**
 * Insert-if-missing, then lock, merge (`mergeArtifactPatch`) and update, in one transaction, so
 * concurrent upserts of one artifact apply one after the other.
 */
export async function upsertArtifact(
  ctx: StoreContext,
  key: ArtifactKey,
  patch: ArtifactPatch,
): Promise<ArtifactRecord> {
  const now = nowIso(ctx);
  return ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('artifacts')
      .values(newArtifactRow(key, now))
      .onConflict((oc) => oc.doNothing())
      .execute();
    const current = await trx
      .selectFrom('artifacts')
      .selectAll()
      .where('name', '=', key.name)
      .where('version', '=', key.version)
      .where('integrity', '=', key.integrity)
      .$if(ctx.kind === 'postgres', (qb) => qb.forUpdate())
      .executeTakeFirstOrThrow();
    const next = mergeArtifactPatch(current, patch, now);
    const row = await trx
      .updateTable('artifacts')
      .set({
        verdict: next.verdict,
        reason: next.reason,
        findings: next.findings,
        reports: next.reports,
        rule_set_version: next.rule_set_version,
        storage_path: next.storage_path,
        decided_at: next.decided_at,
        updated_at: next.updated_at,
      })
      .where('name', '=', key.name)
      .where('version', '=', key.version)
      .where('integrity', '=', key.integrity)
      .returningAll()
      .executeTakeFirstOrThrow();
    return artifactFromRow(row);
  });
}

export async function createToken(
  ctx: StoreContext,
  token: { id: string; hash: string; role: Role; label?: string },
): Promise<TokenRecord> {
  const row = await ctx.db
    .insertInto('tokens')
    .values({
      id: token.id,
      hash: token.hash,
      role: token.role,
      label: token.label ?? null,
      created_at: nowIso(ctx),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return tokenFromRow(row);
}

export async function findTokenByHash(ctx: StoreContext, hash: string): Promise<TokenRecord | undefined> {
  const row = await ctx.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  return row ? tokenFromRow(row) : undefined;
}
