import { writeFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { UserError, unifiedDiff } from '@secure-registry/shared';
import type { DependencyNode, PackageVerdictResponse } from '@secure-registry/shared';
import type { ApiClient } from '../api-client.js';
import { decideInstallScripts } from '../services/install-scripts.js';
import { loadLockfile } from '../services/lockfile.js';
import { submitAndFollowScan } from '../services/scan-follow.js';
import { SCRIPT_CLIENTS, planAllowlists } from '../services/script-allowlists.js';
import type { FileChange, ScriptClient } from '../services/script-allowlists.js';
import { openServerSession } from '../services/server-session.js';
import { writeOut } from './io.js';
import type { CommandIo } from './io.js';

export interface ScriptsFlags {
  /** Apply the changes (default: print them as a diff). */
  write?: boolean;
  /** Comma-separated clients to write for (default: the one whose lockfile the project has). */
  client?: string;
  upstream?: string;
}

/** Verdict look-ups in flight at once. */
const LOOKUPS = 8;

function parseClients(value: string): ScriptClient[] {
  const clients = value
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of clients) {
    if (!(SCRIPT_CLIENTS as readonly string[]).includes(c)) {
      throw new UserError('ERR_SR_USAGE', `--client ${c}: expected one of ${SCRIPT_CLIENTS.join(', ')}`);
    }
  }
  if (clients.length === 0) throw new UserError('ERR_SR_USAGE', '--client needs at least one client');
  return clients as ScriptClient[];
}

async function lookUpVerdicts(
  client: ApiClient,
  nodes: readonly DependencyNode[],
): Promise<{ node: DependencyNode; verdict: PackageVerdictResponse | undefined }[]> {
  const registry = nodes.filter((n) => n.source === 'registry');
  const out: { node: DependencyNode; verdict: PackageVerdictResponse | undefined }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < registry.length) {
      const node = registry[next++]!;
      out.push({ node, verdict: await client.getPackageVerdict(node.name, node.version, node.integrity) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS, registry.length) }, worker));
  return out;
}

function diffOf(change: FileChange, dir: string): string {
  const name = relative(dir, change.path) || basename(change.path);
  const result = unifiedDiff(change.before ?? '', change.after, {
    oldPath: change.before === undefined ? '/dev/null' : `a/${name}`,
    newPath: `b/${name}`,
  });
  return result.kind === 'diff' ? result.text : `${name}: too large to diff\n`;
}

/**
 * `secure-registry scripts [dir]`: vets the lockfile (a scan), then writes each client's install-script
 * allow-list from the verdicts — allowed: install script observed in the sandbox and approved; every
 * other package with an install script denied. Dry run (a diff) unless `--write`.
 */
export async function runScripts(dir: string, flags: ScriptsFlags, io: CommandIo): Promise<number> {
  const lockfile = await loadLockfile(dir);
  const clients = flags.client ? parseClients(flags.client) : [lockfile.kind];
  if (clients.includes('yarn') && lockfile.reader === 'yarn') {
    throw new UserError(
      'ERR_SR_USAGE',
      'Yarn classic (yarn.lock v1) has no per-package setting for build scripts',
      {
        hint: 'Yarn Berry reads dependenciesMeta.<name>.built; with Yarn classic use --ignore-scripts',
      },
    );
  }
  const session = await openServerSession({
    env: io.env,
    projectDir: lockfile.dir,
    upstream: flags.upstream,
  });
  let decisions;
  try {
    io.stderr.write(
      `secure-registry: vetting ${lockfile.graph.nodes.length} packages from ${lockfile.fileName}\n`,
    );
    await submitAndFollowScan({
      client: session.client,
      graph: lockfile.graph,
      label: basename(lockfile.dir),
    });
    decisions = decideInstallScripts(await lookUpVerdicts(session.client, lockfile.graph.nodes));
  } finally {
    await session.close();
  }
  const lines: string[] = [];
  if (decisions.length === 0) lines.push('no package in the lockfile has an install script');
  for (const d of decisions) lines.push(`${d.allowed ? 'allow' : 'deny '}  ${d.name}@${d.version}  ${d.why}`);
  const changes = await planAllowlists(lockfile.dir, clients, decisions);
  const changed = changes.filter(
    (c, i) => c.before !== c.after && changes.findIndex((o) => o.path === c.path) === i,
  );
  lines.push('');
  for (const c of changes) lines.push(`${c.client}: ${relative(lockfile.dir, c.path)} ${c.setting}`);
  await writeOut(io.stdout, `${lines.join('\n')}\n`);
  if (changed.length === 0) {
    await writeOut(io.stdout, 'already up to date: nothing to change\n');
    return 0;
  }
  await writeOut(io.stdout, changed.map((c) => diffOf(c, lockfile.dir)).join(''));
  if (!flags.write) {
    await writeOut(io.stdout, 'dry run: nothing written (--write applies these changes)\n');
    return 0;
  }
  for (const c of changed) await writeFile(c.path, c.after);
  await writeOut(io.stdout, `wrote ${changed.map((c) => relative(lockfile.dir, c.path)).join(', ')}\n`);
  return 0;
}
