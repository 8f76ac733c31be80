/**
 * The git pre-commit hook of `secure-registry hook install`: when a package-lock.json,
 * npm-shrinkwrap.json, pnpm-lock.yaml or yarn.lock is staged, it scans the staged lockfile (with the staged package.json) and
 * stops the commit when the scan fails. It lives in a delimited block so it can share the hook
 * file with husky, lefthook or hand-written hooks, and `--uninstall` removes only that block.
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { execa } from 'execa';
import { UserError } from '@secure-registry/shared';
import type { Env } from './config.js';

export const BLOCK_BEGIN = '# >>> secure-registry pre-commit >>>';
export const BLOCK_END = '# <<< secure-registry pre-commit <<<';

/** Which hook manager owns the hook file, as detected. */
export type HookKind = 'git' | 'husky' | 'husky-legacy' | 'lefthook' | 'hooks-path';

export interface HookLocation {
  repoRoot: string;
  file: string;
  kind: HookKind;
}

/** Quotes `value` for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook block. `command` is how this CLI was started (node + script); the hook uses it while
 * it exists, else `secure-registry` on PATH, else `npx --no-install secure-registry`.
 */
export function hookBlock(command: { node: string; script: string }): string {
  return `${BLOCK_BEGIN}
# Added by \`secure-registry hook install\`; remove with \`secure-registry hook install --uninstall\`.
# Scans each staged package-lock.json / npm-shrinkwrap.json / pnpm-lock.yaml / yarn.lock; a failed scan stops the commit.
sr_lockfiles=$(git diff --cached --name-only --diff-filter=ACMR -- package-lock.json '*/package-lock.json' npm-shrinkwrap.json '*/npm-shrinkwrap.json' pnpm-lock.yaml '*/pnpm-lock.yaml' yarn.lock '*/yarn.lock')
if [ -n "$sr_lockfiles" ]; then
  if [ -f ${shellQuote(command.script)} ] && [ -x ${shellQuote(command.node)} ]; then
    sr_cmd() { ${shellQuote(command.node)} ${shellQuote(command.script)} "$@"; }
  elif command -v secure-registry >/dev/null 2>&1; then
    sr_cmd() { secure-registry "$@"; }
  else
    sr_cmd() { npx --no-install secure-registry "$@"; }
  fi
  sr_status=0
  sr_tmp=$(mktemp -d)
  while IFS= read -r sr_file; do
    sr_dir=$(dirname "$sr_file")
    mkdir -p "$sr_tmp/$sr_dir"
    git show ":$sr_file" > "$sr_tmp/$sr_file" || sr_status=3
    if git cat-file -e ":$sr_dir/package.json" 2>/dev/null; then
      git show ":$sr_dir/package.json" > "$sr_tmp/$sr_dir/package.json"
    fi
    if [ -f "$sr_dir/.npmrc" ]; then cp "$sr_dir/.npmrc" "$sr_tmp/$sr_dir/.npmrc"; fi
    echo "secure-registry: scanning the staged $sr_file" >&2
    sr_cmd scan "$sr_tmp/$sr_dir" || { sr_code=$?; [ "$sr_status" -ne 0 ] || sr_status=$sr_code; }
  done <<SR_LOCKFILES
$sr_lockfiles
SR_LOCKFILES
  rm -rf "$sr_tmp"
  if [ "$sr_status" -ne 0 ]; then
    echo "secure-registry: commit stopped (scan exit $sr_status); see above. git commit --no-verify skips this check." >&2
    exit "$sr_status"
  fi
fi
${BLOCK_END}
`;
}

function blockRange(text: string): { start: number; end: number } | undefined {
  const start = text.indexOf(BLOCK_BEGIN);
  if (start < 0) return undefined;
  const endMarker = text.indexOf(BLOCK_END, start);
  if (endMarker < 0) return undefined;
  let end = endMarker + BLOCK_END.length;
  if (text[end] === '\n') end++;
  return { start, end };
}

/** The hook text with `block` added at the end, or replacing an earlier block in place. */
export function withBlock(existing: string | null, block: string): string {
  if (existing === null || existing.trim() === '') return `#!/bin/sh\n${block}`;
  const range = blockRange(existing);
  if (range) return existing.slice(0, range.start) + block + existing.slice(range.end);
  return `${existing}${existing.endsWith('\n') ? '' : '\n'}\n${block}`;
}

/** The hook text without the block; `empty` when nothing but a shebang and blank lines remain. */
export function withoutBlock(text: string): { text: string; removed: boolean; empty: boolean } {
  const range = blockRange(text);
  if (!range) return { text, removed: false, empty: false };
  let before = text.slice(0, range.start);
  if (before.endsWith('\n\n')) before = before.slice(0, -1);
  const rest = before + text.slice(range.end);
  const meaningful = rest.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#!'));
  return { text: rest, removed: true, empty: meaningful.length === 0 };
}

async function git(args: string[], cwd: string, env: Env): Promise<string | undefined> {
  const result = await execa('git', args, { cwd, env: { ...env }, extendEnv: false, reject: false });
  const cause = (result as { cause?: NodeJS.ErrnoException }).cause;
  if (cause?.code === 'ENOENT') {
    throw new UserError('ERR_SR_GIT_NOT_FOUND', 'git is not installed (not found on PATH)');
  }
  return result.exitCode === 0 ? String(result.stdout).trim() : undefined;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** Finds the pre-commit hook file git runs for the repository containing `cwd`. */
export async function locateHook(cwd: string, env: Env): Promise<HookLocation> {
  const repoRoot = await git(['rev-parse', '--show-toplevel'], cwd, env);
  if (!repoRoot) {
    throw new UserError('ERR_SR_NOT_A_GIT_REPO', `${cwd} is not inside a git work tree`, {
      hint: 'run it in the repository whose commits should be checked',
    });
  }
  const hooksPath = await git(['config', '--get', 'core.hooksPath'], repoRoot, env);
  if (hooksPath) {
    const absolute = isAbsolute(hooksPath) ? hooksPath : join(repoRoot, hooksPath);
    const rel = relative(repoRoot, absolute).split('\\').join('/');
    // husky 9: git runs .husky/_/pre-commit, generated; the user's script is .husky/pre-commit.
    if (rel === '.husky/_') return { repoRoot, file: join(repoRoot, '.husky', 'pre-commit'), kind: 'husky' };
    if (rel === '.husky') return { repoRoot, file: join(absolute, 'pre-commit'), kind: 'husky-legacy' };
    return { repoRoot, file: join(absolute, 'pre-commit'), kind: 'hooks-path' };
  }
  const hooksDir = await git(['rev-parse', '--git-path', 'hooks'], repoRoot, env);
  if (!hooksDir) throw new UserError('ERR_SR_GIT', 'git rev-parse --git-path hooks failed');
  const file = join(isAbsolute(hooksDir) ? hooksDir : join(repoRoot, hooksDir), 'pre-commit');
  const text = await readFile(file, 'utf8').catch(() => '');
  return { repoRoot, file, kind: /lefthook/i.test(text) ? 'lefthook' : 'git' };
}

export interface InstallHookResult extends HookLocation {
  action: 'created' | 'added' | 'updated';
}

export async function installHook(options: {
  cwd: string;
  env: Env;
  command: { node: string; script: string };
}): Promise<InstallHookResult> {
  const location = await locateHook(options.cwd, options.env);
  const existing = await readFile(location.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const text = withBlock(existing, hookBlock(options.command));
  await mkdir(dirname(location.file), { recursive: true });
  await writeFile(location.file, text);
  const mode = (await stat(location.file)).mode;
  await chmod(location.file, mode | 0o111);
  const action =
    existing === null || existing.trim() === '' ? 'created' : blockRange(existing) ? 'updated' : 'added';
  return { ...location, action };
}

export interface UninstallHookResult extends HookLocation {
  removed: boolean;
  /** The file held nothing else and was deleted. */
  deleted: boolean;
}

export async function uninstallHook(options: { cwd: string; env: Env }): Promise<UninstallHookResult> {
  const location = await locateHook(options.cwd, options.env);
  if (!(await exists(location.file))) return { ...location, removed: false, deleted: false };
  const result = withoutBlock(await readFile(location.file, 'utf8'));
  if (!result.removed) return { ...location, removed: false, deleted: false };
  if (result.empty) {
    await rm(location.file);
    return { ...location, removed: true, deleted: true };
  }
  await writeFile(location.file, result.text);
  return { ...location, removed: true, deleted: false };
}
