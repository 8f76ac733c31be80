/**
 * Row types of the database, as Kysely sees them. The same columns serve SQLite and PostgreSQL:
 * JSON is TEXT, timestamps are ISO-8601 TEXT (UTC, `toISOString()`, so they sort as text) and
 * booleans are INTEGER 0/1.
 */
export interface ArtifactsTable {
  name: string;
  version: string;
  integrity: string;
  verdict: string;
  reason: string | null;
  /** JSON array of findings. */
  findings: string;
  /** JSON object of stage reports keyed by stage name. */
  reports: string;
  rule_set_version: string | null;
  storage_path: string | null;
  decided_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ScansTable {
  id: string;
  label: string | null;
  status: string;
  /** The last sequence number handed out for this scan's events (0 = none yet). */
  last_event_seq: number;
  /** JSON of the scan's `ScanCounts`, kept with every package change; null until first counted. */
  counts: string | null;
  created_at: string;
  completed_at: string | null;
}

/** Write-once: the graph of a scan, apart so that updates of the scan's row stay small. */
export interface ScanGraphsTable {
  scan_id: string;
  /** JSON of the submitted dependency graph. */
  graph: string;
}

export interface ScanPackagesTable {
  scan_id: string;
  key: string;
  name: string;
  version: string;
  integrity: string | null;
  source: string;
  dev: number;
  state: string;
  reason: string | null;
  findings: string;
  /** JSON of `BlockedBy`, or null. */
  blocked_by: string | null;
}

export interface ScanEventsTable {
  scan_id: string;
  seq: number;
  /** JSON of the `ScanEvent`. */
  data: string;
  created_at: string;
}

export interface JobsTable {
  id: string;
  name: string;
  version: string;
  integrity: string;
  resolved: string | null;
  status: string;
  attempts: number;
  worker_id: string | null;
  locked_until: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface TokensTable {
  id: string;
  hash: string;
  role: string;
  label: string | null;
  created_at: string;
}

export interface Database {
  artifacts: ArtifactsTable;
  scans: ScansTable;
  scan_graphs: ScanGraphsTable;
  scan_packages: ScanPackagesTable;
  scan_events: ScanEventsTable;
  jobs: JobsTable;
  tokens: TokensTable;
}
