import { isWithinPath } from './paths.js';
import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, pathList, writesOf } from './file-writes.js';

const GIT_HOOK = /\/\.git\/hooks\/[^/]+$/;

/**
 * Writes to persistence locations: shell rc and profile files, crontabs, autostart and systemd
 * units, launch agents, `authorized_keys`, sudoers: `critical` (s1ngularity appended `sudo shutdown`
 * to ~/.bashrc). Git hooks are the exception by evidence: hook installers (husky, lefthook,
 * simple-git-hooks) write into the hooks of the project being installed — `low`; hooks of any other
 * repository stay `critical`.
 */
export const persistenceWrite: Rule = {
  id: 'persistence-write',
  description: 'Writes to shell rc files, crontabs, autostart and other persistence locations',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const writes = writesOf(report, 'persistence');
      const projectDirs = new Set(
        report.processes.flatMap((p) => (p.cwd ? [projectOf(p.cwd)] : [])).filter((d): d is string => !!d),
      );
      const projectHooks = writes.filter(
        (f) => GIT_HOOK.test(f.path) && [...projectDirs].some((d) => isWithinPath(f.path, `${d}/.git/hooks`)),
      );
      const other = writes.filter((f) => !projectHooks.includes(f));
      if (other.length > 0) {
        hits.push({
          rule: this.id,
          severity: 'critical',
          message: `${report.phase}: writes persistence locations (${pathList(other)})`,
          evidence: fileEvidence(report, other),
        });
      }
      if (projectHooks.length > 0) {
        hits.push({
          rule: this.id,
          severity: 'low',
          message: `${report.phase}: installs git hooks in the project (${pathList(projectHooks)})`,
          evidence: fileEvidence(report, projectHooks),
        });
      }
    }
    return hits;
  },
};

/** The project a lifecycle process runs for: the directory above its `node_modules`, or its cwd. */
function projectOf(cwd: string): string | undefined {
  const i = cwd.indexOf('/node_modules/');
  return i > 0 ? cwd.slice(0, i) : cwd.endsWith('/node_modules') ? cwd.slice(0, -13) : cwd;
}
