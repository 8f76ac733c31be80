/** Scans, their packages and their event log. */
import { CompiledQuery, sql } from 'kysely';
import type { ScanCounts, ScanEvent, ScanStatus } from '@secure-registry/shared';
import { BugError, countStates, pendingScanCounts } from '@secure-registry/shared';
import type { Transaction } from 'kysely';
import { nowIso, type StoreContext } from './context.js';
import { scanFromRow, scanPackageFromRow, scanPackageToRow } from './rows.js';
import { fromOtherOrigin, notifyPayload, watchChannel } from './store-jobs.js';
import type { Database, ScanPackagesTable } from './schema.js';
import type {
  ArtifactKey,
  ScanPackageRecord,
  ScanRecord,
  ScanTransition,
  Store,
  StoredScanEvent,
} from './store.js';

/**
 * Rows per multi-row insert. 11 columns x 1000 rows = 11,000 bound parameters: under SQLite's
 * 32,766 and PostgreSQL's 65,535 limits.
 */
export const SCAN_PACKAGE_CHUNK = 1000;

const SCAN_PACKAGE_COLUMNS = [
  'scan_id',
  'key',
  'name',
  'version',
  'integrity',
  'source',
  'dev',
  'state',
  'reason',
  'findings',
  'blocked_by',
] as const satisfies readonly (keyof ScanPackagesTable)[];

/**
 * The multi-row INSERT for `rows` rows, built once per size: Kysely's builder spends more time
 * compiling 11,000 parameters than the database spends inserting them. Only the placeholder
 * style differs between the dialects.
 */
export function bulkInsertSql(kind: StoreContext['kind'], rows: number): string {
  const width = SCAN_PACKAGE_COLUMNS.length;
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const marks = Array.from({ length: width }, (_, column) =>
      kind === 'postgres' ? `$${row * width + column + 1}` : '?',
    );
    tuples.push(`(${marks.join(', ')})`);
  }
  return `insert into scan_packages (${SCAN_PACKAGE_COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
}

const bulkSqlCache = new Map<string, string>();

function cachedBulkInsertSql(kind: StoreContext['kind'], rows: number): string {
  const cacheKey = `${kind}:${rows}`;
  let text = bulkSqlCache.get(cacheKey);
  if (text === undefined) {
    text = bulkInsertSql(kind, rows);
    if (rows === SCAN_PACKAGE_CHUNK) bulkSqlCache.set(cacheKey, text);
  }
  return text;
}

export async function createScan(
  ctx: StoreContext,
  scan: Parameters<Store['createScan']>[0],
): Promise<ScanRecord> {
  const createdAt = nowIso(ctx);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('scans')
      .values({
        id: scan.id,
        label: scan.label ?? null,
        status: 'running',
        last_event_seq: 0,
        counts: JSON.stringify(countStates(scan.packages)),
        created_at: createdAt,
        completed_at: null,
      })
      .execute();
    await trx
      .insertInto('scan_graphs')
      .values({ scan_id: scan.id, graph: JSON.stringify(scan.graph) })
      .execute();
    for (let start = 0; start < scan.packages.length; start += SCAN_PACKAGE_CHUNK) {
      const chunk = scan.packages.slice(start, start + SCAN_PACKAGE_CHUNK);
      const parameters: unknown[] = [];
      for (const pkg of chunk) {
        const row = scanPackageToRow(scan.id, pkg);
        for (const column of SCAN_PACKAGE_COLUMNS) parameters.push(row[column]);
      }
      await trx.executeQuery(CompiledQuery.raw(cachedBulkInsertSql(ctx.kind, chunk.length), parameters));
    }
  });
  return {
    id: scan.id,
    label: scan.label,
    status: 'running',
    graph: scan.graph,
    createdAt,
    completedAt: undefined,
  };
}

export async function getScan(ctx: StoreContext, id: string): Promise<ScanRecord | undefined> {
  const row = await ctx.db
    .selectFrom('scans')
    .innerJoin('scan_graphs', 'scan_graphs.scan_id', 'scans.id')
    .selectAll('scans')
    .select('scan_graphs.graph')
    .where('scans.id', '=', id)
    .executeTakeFirst();
  return row ? scanFromRow(row) : undefined;
}

/** The scan's status alone (no graph): what a waiting event stream checks after each wake-up. */
export async function getScanStatus(ctx: StoreContext, id: string): Promise<ScanStatus | undefined> {
  const row = await ctx.db.selectFrom('scans').select('status').where('id', '=', id).executeTakeFirst();
  return row?.status as ScanStatus | undefined;
}

/** Sets the status; a final status without `completedAt` is stamped now, `running` clears it. */
export async function setScanStatus(
  ctx: StoreContext,
  id: string,
  status: ScanStatus,
  completedAt: string | undefined,
): Promise<void> {
  const stamp = status === 'running' ? null : (completedAt ?? nowIso(ctx));
  const result = await ctx.db
    .updateTable('scans')
    .set({ status, completed_at: stamp })
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new BugError('ERR_SR_SCAN_NOT_FOUND', `no scan ${id}`);
}

export async function listScanPackages(ctx: StoreContext, scanId: string): Promise<ScanPackageRecord[]> {
  const rows = await ctx.db
    .selectFrom('scan_packages')
    .selectAll()
    .where('scan_id', '=', scanId)
    .orderBy('key')
    .execute();
  return rows.map(scanPackageFromRow);
}

/** Keys per `in (…)` list when reading packages by key. */
const KEY_CHUNK = 500;

/** The scan's counts as stored, or counted from its packages (scans stored before counts were kept). */
async function currentCounts(
  trx: Transaction<Database>,
  scanId: string,
  stored: string | null,
): Promise<ScanCounts> {
  if (stored !== null) return JSON.parse(stored) as ScanCounts;
  const rows = await trx
    .selectFrom('scan_packages')
    .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('scan_id', '=', scanId)
    .groupBy('state')
    .execute();
  const counts = pendingScanCounts();
  for (const row of rows) {
    const n = Number(row.n);
    counts.total += n;
    counts[row.state as keyof ScanCounts] += n;
  }
  return counts;
}

export async function transitionScanPackages(
  ctx: StoreContext,
  scanId: string,
  plan: Parameters<Store['transitionScanPackages']>[1],
  event: Parameters<Store['transitionScanPackages']>[2],
): Promise<ScanTransition | undefined> {
  return ctx.db.transaction().execute(async (trx) => {
    // Takes the scan's row lock first: another replica changing the same scan waits here.
    const scan = await trx
      .updateTable('scans')
      .set((eb) => ({ last_event_seq: eb.ref('last_event_seq') }))
      .where('id', '=', scanId)
      .where('status', '=', 'running')
      .returning(['counts', 'last_event_seq'])
      .executeTakeFirst();
    if (!scan) return undefined;
    const read = new Map<string, ScanPackageRecord>();
    const reader = async (keys: readonly string[]): Promise<ScanPackageRecord[]> => {
      const missing = [...new Set(keys)].filter((key) => !read.has(key));
      for (let start = 0; start < missing.length; start += KEY_CHUNK) {
        const rows = await trx
          .selectFrom('scan_packages')
          .selectAll()
          .where('scan_id', '=', scanId)
          .where('key', 'in', missing.slice(start, start + KEY_CHUNK))
          .execute();
        for (const row of rows) read.set(row.key, scanPackageFromRow(row));
      }
      return keys.flatMap((key) => read.get(key) ?? []);
    };
    const changed = await plan(reader);
    const counts = await currentCounts(trx, scanId, scan.counts);
    const before = new Map<string, ScanPackageRecord>();
    for (const pkg of changed) {
      const previous = before.get(pkg.key) ?? read.get(pkg.key);
      if (!previous)
        throw new BugError('ERR_SR_SCAN_NOT_FOUND', `package ${pkg.key} of scan ${scanId} changed unread`);
      counts[previous.state]--;
      counts[pkg.state]++;
      before.set(pkg.key, pkg);
      const row = scanPackageToRow(scanId, pkg);
      await trx
        .updateTable('scan_packages')
        .set({ state: row.state, reason: row.reason, findings: row.findings, blocked_by: row.blocked_by })
        .where('scan_id', '=', scanId)
        .where('key', '=', pkg.key)
        .execute();
    }
    const firstSeq = Number(scan.last_event_seq) + 1;
    const createdAt = nowIso(ctx);
    const rows = changed.map((pkg, index) => ({
      scan_id: scanId,
      seq: firstSeq + index,
      data: JSON.stringify(event(pkg, counts)),
      created_at: createdAt,
    }));
    for (let start = 0; start < rows.length; start += SCAN_PACKAGE_CHUNK)
      await trx
        .insertInto('scan_events')
        .values(rows.slice(start, start + SCAN_PACKAGE_CHUNK))
        .execute();
    await trx
      .updateTable('scans')
      .set({ counts: JSON.stringify(counts), last_event_seq: firstSeq - 1 + rows.length })
      .where('id', '=', scanId)
      .execute();
    if (rows.length > 0) await notifyScanEvents(ctx, trx, scanId);
    return { changed, counts };
  });
}

export async function findRunningScansWithArtifact(
  ctx: StoreContext,
  key: ArtifactKey,
): Promise<{ scanId: string; keys: string[] }[]> {
  const rows = await ctx.db
    .selectFrom('scan_packages as p')
    .innerJoin('scans as s', 's.id', 'p.scan_id')
    .select(['p.scan_id as scanId', 'p.key as key'])
    .where('s.status', '=', 'running')
    .where('p.name', '=', key.name)
    .where('p.version', '=', key.version)
    .where('p.integrity', '=', key.integrity)
    .orderBy('p.scan_id')
    .orderBy('p.key')
    .execute();
  const byScan = new Map<string, string[]>();
  for (const row of rows) {
    const keys = byScan.get(row.scanId);
    if (keys) keys.push(row.key);
    else byScan.set(row.scanId, [row.key]);
  }
  return [...byScan].map(([scanId, keys]) => ({ scanId, keys }));
}

/**
 * Takes the next number from the scan's counter and inserts the event, in one transaction. The
 * counter's row lock orders concurrent appends: the next number is handed out only after the
 * previous append committed.
 */
export async function appendScanEvent(ctx: StoreContext, scanId: string, event: ScanEvent): Promise<number> {
  return ctx.db.transaction().execute(async (trx) => {
    const counter = await trx
      .updateTable('scans')
      .set((eb) => ({ last_event_seq: eb('last_event_seq', '+', 1) }))
      .where('id', '=', scanId)
      .returning('last_event_seq')
      .executeTakeFirst();
    if (!counter) throw new BugError('ERR_SR_SCAN_NOT_FOUND', `no scan ${scanId}`);
    const seq = Number(counter.last_event_seq);
    await trx
      .insertInto('scan_events')
      .values({ scan_id: scanId, seq, data: JSON.stringify(event), created_at: nowIso(ctx) })
      .execute();
    await notifyScanEvents(ctx, trx, scanId);
    return seq;
  });
}

/**
 * PostgreSQL: tells the other replicas' streams of the scan that it has new events, delivered at
 * the commit of `trx`. The payload is the sender and the id (well under PostgreSQL's 8000-byte
 * limit); the streams re-read the events from the table.
 */
async function notifyScanEvents(
  ctx: StoreContext,
  trx: Transaction<Database>,
  scanId: string,
): Promise<void> {
  if (ctx.kind === 'postgres')
    await sql`SELECT pg_notify(${ctx.scanEventsChannel}, ${notifyPayload(ctx, scanId)})`.execute(trx);
}

/**
 * Calls `onScan` with the id of every scan another store appended events to; this store's own
 * appends are not heard back (its process has woken its streams already: ../services/scan-service.ts).
 */
export function watchScanEvents(
  ctx: StoreContext,
  onScan: (scanId: string) => void,
  onReconnect: () => void,
  onError?: (error: Error) => void,
): Promise<() => Promise<void>> {
  return watchChannel(
    ctx,
    ctx.scanEventsChannel,
    (payload) => {
      const scanId = fromOtherOrigin(ctx, payload);
      if (scanId !== undefined) onScan(scanId);
    },
    onReconnect,
    onError,
  );
}

export async function listScanEvents(
  ctx: StoreContext,
  scanId: string,
  afterSeq: number,
): Promise<StoredScanEvent[]> {
  const rows = await ctx.db
    .selectFrom('scan_events')
    .select(['seq', 'data'])
    .where('scan_id', '=', scanId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({ seq: Number(row.seq), event: JSON.parse(row.data) as ScanEvent }));
}
