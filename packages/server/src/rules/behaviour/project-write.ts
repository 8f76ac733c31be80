import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, pathList } from './file-writes.js';
import { locateWrites } from './footprint.js';

/** New project files from this many on: a package spreading itself over the project. */
const MANY = 10;

/**
 * New files a package creates in the consuming project, outside node_modules (existing files are
 * `project-destruction`'s; git hooks `persistence-write`'s; CI files `ci-workflow-write`'s):
 * - a registry or secrets file (`.npmrc`, `.env`): `high` — it redirects the project's installs;
 * - a copy of one of the package's own files (it read a file of that name from its directory
 *   first: msw copying `mockServiceWorker.js` into `public/`): `info`;
 * - a few other new files (a config file a tool creates on first use): `low`;
 * - {@link MANY} or more: `high` (held) — no install legitimately scatters files over a project.
 * Deletes of paths that were not there before (and not the package's own scratch files) count as
 * attempts on the project: several of them are `high`.
 */
export const projectWrite: Rule = {
  id: 'project-write',
  description: 'Creates files in the consuming project',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const located = locateWrites(report).filter(
        (l) =>
          l.area === 'project' &&
          l.entry.existedBytes === undefined &&
          l.entry.class !== 'ci-config' &&
          !(l.entry.class === 'persistence' && /(^|\/)\.git\/hooks\//.test(l.rel)),
      );
      const created = located.map((l) => l.entry).filter((f) => f.op === 'write' && f.directory !== true);
      const configs = created.filter((f) => f.class === 'credentials');
      const copies = created.filter((f) => f.copyOf !== undefined && !configs.includes(f));
      const other = created.filter((f) => f.copyOf === undefined && !configs.includes(f));
      const attempts = located.map((l) => l.entry).filter((f) => f.op === 'delete' && f.ownScratch !== true);
      if (configs.length > 0)
        hits.push({
          rule: this.id,
          severity: 'high',
          message: `${report.phase}: plants registry or secret configuration in the project: ${pathList(configs)}`,
          evidence: fileEvidence(report, configs),
        });
      if (copies.length > 0)
        hits.push({
          rule: this.id,
          severity: 'info',
          message: `${report.phase}: copies its own files into the project: ${copies
            .map((f) => `${f.path} (from ${f.copyOf})`)
            .slice(0, 3)
            .join(', ')}`,
          evidence: fileEvidence(report, copies),
        });
      if (other.length > 0)
        hits.push({
          rule: this.id,
          severity: other.length >= MANY ? 'high' : 'low',
          message: `${report.phase}: creates ${other.length} new file${other.length === 1 ? '' : 's'} in the project: ${pathList(other)}`,
          evidence: fileEvidence(report, other),
        });
      if (attempts.length > 0)
        hits.push({
          rule: this.id,
          severity: attempts.length >= 3 ? 'high' : 'low',
          message: `${report.phase}: tries to delete ${attempts.length} project path${attempts.length === 1 ? '' : 's'} it did not create: ${pathList(attempts)}`,
          evidence: fileEvidence(report, attempts),
        });
    }
    return hits;
  },
};
