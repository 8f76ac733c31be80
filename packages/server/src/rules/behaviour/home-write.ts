import type { Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, type FileEntry, pathList } from './file-writes.js';
import { destroyed, locateWrites, modifiedInPlace } from './footprint.js';

/**
 * HOME-relative configuration that decides what later runs: git (aliases, `core.sshCommand`,
 * `core.hooksPath`), editors and their extensions, shells' line editing, other package managers.
 * Shell rc files, crontabs and autostart are `persistence-write`'s.
 */
const EXECUTION_CONFIG = [
  '.gitconfig', '.config/git/', '.vimrc', '.config/nvim/', '.emacs', '.emacs.d/', '.vscode/', '.vscode-server/',
  '.config/Code/', '.cursor/', '.inputrc', '.tmux.conf', '.config/pip/', '.pip/', '.m2/', '.gradle/', '.cargo/config',
  '.cargo/config.toml', '.yarnrc', '.yarnrc.yml', '.bunfig.toml', '.config/pnpm/', '.claude/', '.gemini/',
]; // prettier-ignore

const matches = (rel: string, list: readonly string[]): boolean =>
  list.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p));

/**
 * Writes and deletes in the user's HOME outside the project, judged by what they touch (caches and
 * temp files are the expected footprint and stay quiet; persistence locations have their own rule):
 * - credential, wallet or honeytoken files written or deleted: `critical` (a planted `~/.npmrc`
 *   redirects every install; deleted keys and wallets are lost);
 * - existing dotfiles or tool configs deleted, several replaced or patched, or one that decides
 *   what later runs: `critical`; one other replaced or patched: `high`;
 * - configuration that decides what later runs (`~/.gitconfig`, editor settings and extensions,
 *   other package managers' configs) created: `high`;
 * - the user's own files (documents, other projects, the desktop) created or changed: `high`,
 *   deleted: `critical`;
 * - other new dotfiles and `~/.config/<tool>/` files (a tool's settings, an update notifier's
 *   state): `low`.
 */
export const homeWrite: Rule = {
  id: 'home-write',
  description: "Writes or deletes the user's dotfiles, tool configs, credentials or files in HOME",
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const groups = new Map<string, { severity: Severity; what: string; files: FileEntry[] }>();
      const add = (severity: Severity, what: string, entry: FileEntry): void => {
        const key = `${severity}\0${what}`;
        const group = groups.get(key) ?? { severity, what, files: [] };
        group.files.push(entry);
        groups.set(key, group);
      };
      const located = locateWrites(report).filter(
        (l) => (l.area === 'home-config' || l.area === 'home-files') && l.entry.ownScratch !== true,
      );
      const configsReplaced = located.filter(
        (l) => l.area === 'home-config' && (destroyed(l.entry) || modifiedInPlace(l.entry)),
      ).length;
      for (const { entry, area, rel } of located) {
        if (entry.class === 'persistence' || entry.class === 'ci-config') continue;
        if (entry.class === 'credentials' || entry.class === 'wallet' || entry.class === 'honeytoken') {
          add(
            'critical',
            `${entry.op === 'delete' ? 'deletes' : 'writes'} credential or wallet files`,
            entry,
          );
        } else if (area === 'home-files') {
          if (entry.op === 'delete' && entry.existedBytes !== undefined)
            add('critical', "deletes the user's files", entry);
          else if (entry.op === 'write') add('high', "writes into the user's files", entry);
        } else if (destroyed(entry) || modifiedInPlace(entry)) {
          const critical = entry.op === 'delete' || configsReplaced >= 2 || matches(rel, EXECUTION_CONFIG);
          add(critical ? 'critical' : 'high', 'changes existing dotfiles or tool configuration', entry);
        } else if (entry.op === 'write' && entry.directory !== true) {
          if (matches(rel, EXECUTION_CONFIG))
            add('high', 'writes configuration that decides what runs later', entry);
          else add('low', 'writes tool configuration in HOME', entry);
        }
      }
      for (const group of groups.values())
        hits.push({
          rule: this.id,
          severity: group.severity,
          message: `${report.phase}: ${group.what}: ${pathList(group.files)}`,
          evidence: fileEvidence(report, group.files),
        });
    }
    return hits;
  },
};
