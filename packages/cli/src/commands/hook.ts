/**
 * `secure-registry hook install [--uninstall]`: a git pre-commit hook that scans staged lockfiles.
 *
 * Exit codes: 0 done; 3 not a git repository / git missing.
 */
import { ExitCode } from '../exit-codes.js';
import { installHook, uninstallHook } from '../services/git-hook.js';
import type { HookKind } from '../services/git-hook.js';
import type { CommandIo } from './io.js';

const MANAGER: Record<HookKind, string> = {
  git: 'git hooks directory',
  husky: 'husky (core.hooksPath .husky/_)',
  'husky-legacy': 'husky (core.hooksPath .husky)',
  lefthook:
    'lefthook-managed hook; `lefthook install` may rewrite it: run `secure-registry hook install` again after it',
  'hooks-path': 'core.hooksPath',
};

export async function runHookInstall(
  flags: { uninstall?: boolean },
  io: CommandIo,
  cwd = process.cwd(),
  command: { node: string; script: string } = { node: process.execPath, script: process.argv[1] ?? '' },
): Promise<number> {
  if (flags.uninstall) {
    const result = await uninstallHook({ cwd, env: io.env });
    if (!result.removed) io.stdout.write(`no secure-registry block in ${result.file}; nothing to remove\n`);
    else if (result.deleted)
      io.stdout.write(`removed ${result.file} (it held only the secure-registry block)\n`);
    else io.stdout.write(`removed the secure-registry block from ${result.file}; the rest is unchanged\n`);
    return ExitCode.Ok;
  }
  const result = await installHook({ cwd, env: io.env, command });
  const verb = { created: 'created', added: 'added a block to', updated: 'updated the block in' }[
    result.action
  ];
  io.stdout.write(
    `${verb} ${result.file} (${MANAGER[result.kind]})\n` +
      'commits that stage package-lock.json or npm-shrinkwrap.json now run `secure-registry scan` first\n',
  );
  return ExitCode.Ok;
}
