// Which install scripts may run, from the evidence: a package whose install script ran in the
// sandbox (the install phase completed) and that was approved is allowed; every other package with
// an install script is denied — held, rejected, approved on static analysis alone (the sandbox never
// ran its script), or never vetted. Pure: lockfile nodes and verdicts in, decisions out.
import type { DependencyNode, PackageVerdictResponse } from '@secure-registry/shared';

export interface ScriptDecision {
  name: string;
  version: string;
  allowed: boolean;
  /** Why, in a few words, for the printed list. */
  why: string;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Install-time commands the static stage found (incl. npm's implicit `node-gyp rebuild`), if it ran. */
function staticInstallScripts(verdict: PackageVerdictResponse | undefined): string[] | undefined {
  const scripts = record(verdict?.reports.static)?.installScripts;
  if (!Array.isArray(scripts)) return undefined;
  return scripts.map((s) => {
    const entry = record(s);
    return `${String(entry?.event ?? 'install')}: ${String(entry?.command ?? '')}`;
  });
}

/** The install phase's run in the sandbox, when there was one. */
function installRun(
  verdict: PackageVerdictResponse | undefined,
): { status: string; durationMs: number | undefined } | undefined {
  const summary = record(record(verdict?.reports.install)?.summary);
  if (!summary || typeof summary.status !== 'string') return undefined;
  return {
    status: summary.status,
    durationMs: typeof summary.durationMs === 'number' ? summary.durationMs : undefined,
  };
}

/**
 * One decision per registry package version with an install script (from the static report, or the
 * lockfile's `hasInstallScript` when the server has no static report for it), sorted by name.
 */
export function decideInstallScripts(
  entries: readonly { node: DependencyNode; verdict: PackageVerdictResponse | undefined }[],
): ScriptDecision[] {
  const out = new Map<string, ScriptDecision>();
  for (const { node, verdict } of entries) {
    if (node.source !== 'registry') continue;
    const id = `${node.name}@${node.version}`;
    if (out.has(id)) continue;
    const scripts = staticInstallScripts(verdict);
    const hasScripts = scripts ? scripts.length > 0 : node.hasInstallScript;
    if (!hasScripts) continue;
    const run = installRun(verdict);
    let decision: Omit<ScriptDecision, 'name' | 'version'>;
    if (!verdict) decision = { allowed: false, why: 'not vetted by the server' };
    else if (verdict.verdict !== 'approved')
      decision = { allowed: false, why: `${verdict.verdict}${verdict.reason ? `: ${verdict.reason}` : ''}` };
    else if (!run)
      decision = { allowed: false, why: 'approved without running its install script in the sandbox' };
    else if (run.status !== 'completed')
      decision = {
        allowed: false,
        why: `its install script did not complete in the sandbox (${run.status})`,
      };
    else decision = { allowed: true, why: 'install script observed in the sandbox, approved' };
    out.set(id, { name: node.name, version: node.version, ...decision });
  }
  return [...out.values()].sort((a, b) =>
    a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1,
  );
}
