/** Artifacts and their verdicts; API tokens. */
import { createHash } from 'node:crypto';
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

/** Keys per query of `getArtifacts` (3 bound parameters each). */
const ARTIFACT_CHUNK = 300;

export async function getArtifacts(
  ctx: StoreContext,
  keys: readonly ArtifactKey[],
): Promise<Map<string, ArtifactRecord>> {
  const found = new Map<string, ArtifactRecord>();
  for (let start = 0; start < keys.length; start += ARTIFACT_CHUNK) {
    const chunk = keys.slice(start, start + ARTIFACT_CHUNK);
    // By name (the primary key's first column, so an index lookup on both databases; row-value
    // IN lists are not), then exact keys.
    const wanted = new Set(chunk.map((key) => `${key.name}@${key.version}#${key.integrity}`));
    const rows = (
      await ctx.db
        .selectFrom('artifacts')
        .selectAll()
        .where('name', 'in', [...new Set(chunk.map((key) => key.name))])
        .execute()
    ).filter((row) => wanted.has(`${row.name}@${row.version}#${row.integrity}`));
    for (const row of rows) {
      const record = artifactFromRow(row);
      found.set(`${record.name}@${record.version}#${record.integrity}`, record);
    }
  }
  return found;
}

/**
 * What a stored verdict of each of `keys` rests on, without the reports: the verdict, its reason and
 * a signature of every column a decision rewrites (verdict, reason, findings, rule set, decided and
 * updated times). Keyed by `name@version#integrity`; absent keys have no row.
 */
export async function getVerdictSignatures(
  ctx: StoreContext,
  keys: readonly ArtifactKey[],
): Promise<Map<string, { verdict: string; reason: string | undefined; signature: string }>> {
  const found = new Map<string, { verdict: string; reason: string | undefined; signature: string }>();
  for (let start = 0; start < keys.length; start += ARTIFACT_CHUNK) {
    const chunk = keys.slice(start, start + ARTIFACT_CHUNK);
    const wanted = new Set(chunk.map((key) => `${key.name}@${key.version}#${key.integrity}`));
    const rows = await ctx.db
      .selectFrom('artifacts')
      .select(['name', 'version', 'integrity', 'verdict', 'reason', 'findings', 'rule_set_version'])
      .select(['decided_at', 'updated_at'])
      .where('name', 'in', [...new Set(chunk.map((key) => key.name))])
      .execute();
    for (const row of rows) {
      const id = `${row.name}@${row.version}#${row.integrity}`;
      if (!wanted.has(id)) continue;
      const columns = [row.verdict, row.reason, row.findings, row.rule_set_version, row.decided_at];
      const signature = createHash('sha256')
        .update(JSON.stringify([...columns, row.updated_at]))
        .digest('base64url');
      found.set(id, { verdict: row.verdict, reason: row.reason ?? undefined, signature });
    }
  }
  return found;
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

/** The names with a stored artifact (with an approved one, for `approvedOnly`), in name order. */
export async function listArtifactNames(ctx: StoreContext, approvedOnly: boolean): Promise<string[]> {
  let query = ctx.db.selectFrom('artifacts').select('name').distinct();
  if (approvedOnly) query = query.where('verdict', '=', 'approved');
  const rows = await query.orderBy('name').execute();
  return rows.map((row) => row.name);
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
