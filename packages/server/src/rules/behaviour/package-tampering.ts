import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, pathList, writesOf } from './file-writes.js';
import { locateWrites } from './footprint.js';

/** Other packages written into: from this many on, a mass rewrite. */
const MASS = 3;

/**
 * Writes into other installed packages (`node_modules/<other>/…`): the way a worm injects itself
 * into its neighbours, or a payload patches a wallet or HTTP library. `high`; `critical` when
 * {@link MASS} or more packages are rewritten. The package's own directory and node_modules' dot
 * directories (`.cache/<tool>`, `.prisma`: build outputs and caches) are not counted;
 * `node_modules/.bin` is: replacing the commands the project's scripts run is `high`.
 */
export const packageTampering: Rule = {
  id: 'package-tampering',
  description: 'Writes into other packages in node_modules',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const writes = writesOf(report, 'other-package');
      if (writes.length > 0) {
        const packages = [...new Set(writes.map((f) => packageOf(f.path)))];
        hits.push({
          rule: this.id,
          severity: packages.length >= MASS ? 'critical' : 'high',
          message: `${report.phase}: modifies ${packages.length} other installed package${packages.length === 1 ? '' : 's'} (${packages.slice(0, 3).join(', ')}${packages.length > 3 ? ` and ${packages.length - 3} more` : ''}): ${pathList(writes)}`,
          evidence: fileEvidence(report, writes),
        });
      }
      const bins = locateWrites(report)
        .filter((l) => l.area === 'modules-bin' && l.entry.ownScratch !== true)
        .map((l) => l.entry);
      if (bins.length > 0)
        hits.push({
          rule: this.id,
          severity: 'high',
          message: `${report.phase}: replaces commands in node_modules/.bin: ${pathList(bins)}`,
          evidence: fileEvidence(report, bins),
        });
    }
    return hits;
  },
};

function packageOf(path: string): string {
  const rest = path.slice(path.lastIndexOf('/node_modules/') + 14).split('/');
  return rest[0]?.startsWith('@') && rest[1] ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
}
