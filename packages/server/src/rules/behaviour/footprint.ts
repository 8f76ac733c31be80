// Where a file a package wrote or deleted lies on the machine, relative to the phase's expected
// footprint (its own directory, npm's and the toolchain's caches, temp files). Pure path logic over
// the report's layout; shared by the rules about writes outside the package.
import type { BehaviourReport } from '@secure-registry/shared';
import type { FileEntry } from './file-writes.js';
import { isWithinPath } from './paths.js';

export type Area =
  /** The consuming project, outside node_modules (its sources, manifest, README, .git). */
  | 'project'
  /** node_modules' own dot directories (`.cache/<tool>`, `.prisma`, `.vite`, …): build outputs and caches. */
  | 'modules-meta'
  /** node_modules/.bin: the commands the project's scripts run. */
  | 'modules-bin'
  /** Another installed package. */
  | 'other-package'
  /** A cache directory in HOME (`~/.cache`, `~/.npm`, `~/.node-gyp`, …). */
  | 'home-cache'
  /** Dotfiles and tool configuration in HOME (`~/.foorc`, `~/.config/foo/…`). */
  | 'home-config'
  /** The user's own files in HOME (documents, other projects). */
  | 'home-files'
  /** Anywhere else (system directories). */
  | 'system';

/** HOME-relative prefixes of package-manager and toolchain caches. */
const HOME_CACHES = [
  '.cache/', '.npm/', '.node-gyp/', '.yarn/berry/cache/', '.yarn/cache/', '.cache/yarn/', '.pnpm-store/',
  '.local/share/pnpm/', '.bun/install/cache/', 'Library/Caches/', '.electron/', '.electron-gyp/',
]; // prettier-ignore

export interface Located {
  entry: FileEntry;
  area: Area;
  /** The path relative to the project (project areas) or HOME (home areas); else the path. */
  rel: string;
}

/** The area of every non-read file entry of a report; nothing when the report has no layout. */
export function locateWrites(report: BehaviourReport): Located[] {
  const layout = report.layout;
  if (!layout) return [];
  const home = layout.home.replace(/\/+$/, '');
  const project = layout.projectDir.replace(/\/+$/, '');
  const out: Located[] = [];
  for (const entry of report.files) {
    if (entry.op === 'read' || isWithinPath(entry.path, layout.packageDir)) continue;
    out.push(locate(entry, home, project));
  }
  return out;
}

function locate(entry: FileEntry, home: string, project: string): Located {
  const path = entry.path;
  if (entry.class === 'other-package') return { entry, area: 'other-package', rel: path };
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const inner = path.slice(modules + '/node_modules/'.length);
    const area = inner.startsWith('.bin/') ? 'modules-bin' : 'modules-meta';
    return { entry, area, rel: inner };
  }
  if (project && isWithinPath(path, project))
    return { entry, area: 'project', rel: path.slice(project.length + 1) };
  if (home && isWithinPath(path, home)) {
    const rel = path.slice(home.length + 1);
    if (HOME_CACHES.some((prefix) => rel.startsWith(prefix))) return { entry, area: 'home-cache', rel };
    return { entry, area: rel.startsWith('.') ? 'home-config' : 'home-files', rel };
  }
  return { entry, area: 'system', rel: path };
}

/** A file that was there before the phase and is now gone or its content replaced. */
export function destroyed(entry: FileEntry): boolean {
  return entry.existedBytes !== undefined && (entry.op === 'delete' || entry.truncated === true);
}

/** A file that was there before the phase and was changed in place (appended to, patched). */
export function modifiedInPlace(entry: FileEntry): boolean {
  return entry.existedBytes !== undefined && entry.op === 'write' && entry.truncated !== true;
}
