import { severityRank, type Evidence } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { argvText, eventEvidence, MAX_EVIDENCE } from './helpers.js';
import { matchProcess, type ProcessMatch } from './process-patterns.js';

/**
 * Commands no install or import should run: downloaders piped to a shell, interactive shells and
 * netcat/socat exec, AI CLIs with permission bypasses, secret scanners, `npm publish`, `git push`,
 * `gh auth token`, crontab, sudo. Seen as traced processes and as calls of the sandbox's decoy
 * tools (which answer plausibly, so a payload carries on). One finding per pattern and phase.
 */
export const suspiciousProcess: Rule = {
  id: 'suspicious-process',
  description: 'Shells, downloaders, AI CLIs, secret scanners, publishing and persistence commands',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const found = new Map<string, { match: ProcessMatch; evidence: Evidence[]; lines: Set<string> }>();
      const add = (argv: readonly string[], entry: { seq: number[] }, source: string): void => {
        for (const match of matchProcess(argv)) {
          const cur = found.get(match.pattern) ?? { match, evidence: [], lines: new Set<string>() };
          const line = argvText(argv);
          if (severityRank(match.severity) > severityRank(cur.match.severity)) cur.match = match;
          if (!cur.lines.has(line) && cur.evidence.length < MAX_EVIDENCE) {
            cur.evidence.push(eventEvidence(report, entry, { excerpt: line, detail: source }));
          }
          cur.lines.add(line);
          found.set(match.pattern, cur);
        }
      };
      for (const p of report.processes) add(p.argv, p, 'process');
      for (const d of report.decoys) add([d.tool, ...d.argv], d, `decoy ${d.tool} called`);
      for (const { match, evidence, lines } of found.values()) {
        const first = [...lines][0] ?? '';
        hits.push({
          rule: this.id,
          severity: match.severity,
          message: `${report.phase}: ${match.why}: ${first.length > 160 ? `${first.slice(0, 160)}…` : first}`,
          evidence,
        });
      }
    }
    return hits;
  },
};
