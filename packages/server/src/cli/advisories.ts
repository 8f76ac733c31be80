import { parseArgs } from 'node:util';
import { redact, UserError } from '@secure-registry/shared';
import { importAdvisories, readAdvisorySources, type AdvisoryImportSummary } from '../advisories/import.js';
import { createStore } from '../storage/index.js';
import { RegistryClient } from '../upstream/registry-client.js';
import type { Env } from '../config/server-config.js';
import { loadConfig } from './load-config.js';

export const ADVISORIES_USAGE = `Usage: secure-registry-server advisories import [--offline] [--json] <file|dir|url>...

Imports OSV advisories of malicious npm packages (MAL- records; vulnerability records are left out)
from JSON files (one record, an array, or an OSV API answer), directories of them (e.g. a clone of
github.com/ossf/malicious-packages), zip archives (OSV's npm/all.zip) or http(s) URLs, and rejects
what they name, with the advisory as evidence: the stored artifacts now, every version analysed
from now on (without downloading it), and the versions the upstream still serves (unless --offline).
Withdrawn records remove the advisory. A running server sees the new verdicts at once.

  --offline  do not ask the upstream registry for the versions it serves
  --json     print the summary as JSON
`;

function usageError(message: string): UserError {
  return new UserError('ERR_SR_USAGE', message, {
    hint: 'run `secure-registry-server advisories --help`',
  });
}

export function formatImportSummary(summary: AdvisoryImportSummary): string {
  const lines = [
    `read ${summary.records} record${summary.records === 1 ? '' : 's'}: imported ${summary.imported} ` +
      `(naming ${summary.names} package${summary.names === 1 ? '' : 's'}), withdrawn ${summary.withdrawn}, ` +
      `not malware or not npm ${summary.skipped}, unreadable ${summary.invalid.length}`,
    `rejected ${summary.rejected.length} version${summary.rejected.length === 1 ? '' : 's'}` +
      (summary.rejected.length > 0
        ? `: ${summary.rejected.slice(0, 20).join(', ')}${summary.rejected.length > 20 ? ', …' : ''}`
        : ''),
    ...(summary.released.length > 0
      ? [`no longer named (withdrawn), queued for analysis: ${summary.released.join(', ')}`]
      : []),
    ...summary.invalid.slice(0, 20).map((entry) => `  unreadable: ${entry}`),
    ...summary.upstreamErrors.map((entry) => `  upstream: ${entry}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `secure-registry-server advisories import …`. */
export async function advisoriesCommand(
  args: readonly string[],
  env: Env,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(ADVISORIES_USAGE);
    return 0;
  }
  if (sub !== 'import')
    throw usageError(
      sub === undefined ? 'advisories needs a subcommand: import' : `unknown advisories subcommand ${sub}`,
    );
  let parsed: { values: { offline?: boolean; json?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        offline: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(ADVISORIES_USAGE);
    return 0;
  }
  if (positionals.length === 0)
    throw usageError('advisories import needs at least one file, directory or URL');
  const config = loadConfig(env, io);
  const read = await readAdvisorySources(positionals);
  const store = await createStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
  });
  const registry = values.offline ? undefined : new RegistryClient({ baseUrl: config.upstream });
  try {
    const summary = await importAdvisories(store, read, { registry });
    io.stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatImportSummary(summary));
    if (!values.json && registry) io.stderr(`upstream: ${redact(config.upstream)}\n`);
  } finally {
    await registry?.close();
    await store.close();
  }
  return 0;
}
