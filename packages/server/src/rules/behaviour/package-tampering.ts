import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, pathList, writesOf } from './file-writes.js';

/**
 * Writes into other installed packages (`node_modules/<other>/…`): the way a worm injects itself
 * into its neighbours, or a payload patches a wallet or HTTP library. `high`; the package's own
 * directory, `node_modules/.bin` and `node_modules/.cache`-style dot directories are not counted.
 */
export const packageTampering: Rule = {
  id: 'package-tampering',
  description: 'Writes into other packages in node_modules',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const writes = writesOf(report, 'other-package');
      if (writes.length === 0) continue;
      const packages = [...new Set(writes.map((f) => packageOf(f.path)))];
      hits.push({
        rule: this.id,
        severity: 'high',
        message: `${report.phase}: modifies other installed packages (${packages.slice(0, 3).join(', ')}${packages.length > 3 ? ` and ${packages.length - 3} more` : ''}): ${pathList(writes)}`,
        evidence: fileEvidence(report, writes),
      });
    }
    return hits;
  },
};

function packageOf(path: string): string {
  const rest = path.slice(path.lastIndexOf('/node_modules/') + 14).split('/');
  return rest[0]?.startsWith('@') && rest[1] ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
}
