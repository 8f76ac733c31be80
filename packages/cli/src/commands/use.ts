/**
 * `secure-registry use [--project] [--undo]`: points npm (and every client that reads .npmrc:
 * pnpm, yarn 1) at the vetted registry of the configured server.
 *
 * Exit codes: 0 done; 3 no persistent server configured (local mode) or bad input; 4 npm failed.
 */
import { UserError } from '@secure-registry/shared';
import { ExitCode } from '../exit-codes.js';
import { openConfigStore, resolveTarget } from '../services/config.js';
import { backupPath, registryUrlFor, undoRegistry, useRegistry } from '../services/npm-config.js';
import { runNpm } from '../services/npm.js';
import type { CommandIo } from './io.js';

export interface UseFlags {
  project?: boolean;
  undo?: boolean;
}

const LOCAL_MODE_HINT = [
  'local mode has no registry that outlives a command. Either:',
  '  - run a server and log in to it:  AUTH=none secure-registry-server   (listens on http://127.0.0.1:4874)',
  '                                    secure-registry login --server http://127.0.0.1:4874',
  '  - or install through a one-off local registry: secure-registry install',
].join('\n');

/** The vetted registry the configured server serves, with its read token. */
export function vettedRegistry(env: CommandIo['env']): { registry: string; token: string | undefined } {
  const target = resolveTarget(openConfigStore(env).store, env);
  if (target.mode === 'local') {
    throw new UserError('ERR_SR_NO_SERVER', 'no secure-registry server is configured', {
      hint: LOCAL_MODE_HINT,
    });
  }
  return { registry: registryUrlFor(target.server), token: target.token };
}

export async function runUse(flags: UseFlags, io: CommandIo, cwd = process.cwd()): Promise<number> {
  const location = flags.project ? 'project' : 'user';
  const backupFile = backupPath(openConfigStore(io.env).path);
  if (flags.undo) {
    const result = await undoRegistry({ location, cwd, env: io.env, backupFile });
    if (result.nothingToUndo) {
      io.stdout.write(
        `nothing to undo: secure-registry use${flags.project ? ' --project' : ''} was not run\n`,
      );
      return ExitCode.Ok;
    }
    for (const change of result.restored) {
      const what = change.previous === null ? 'removed' : `restored to ${show(change.key, change.previous)}`;
      io.stdout.write(`${change.key}: ${what} (${change.file})\n`);
    }
    for (const change of result.skipped) {
      io.stderr.write(
        `${change.key}: left as is in ${change.file}: it was changed after secure-registry use ` +
          `(now ${change.current === null ? 'absent' : show(change.key, change.current)})\n`,
      );
    }
    return ExitCode.Ok;
  }
  const { registry, token } = vettedRegistry(io.env);
  const result = await useRegistry({ registry, token, location, cwd, env: io.env, backupFile });
  for (const change of result.changes) {
    const before = change.previous === null ? 'was unset' : `was ${show(change.key, change.previous)}`;
    io.stdout.write(`${change.key} = ${show(change.key, change.value)} (${change.file}; ${before})\n`);
  }
  const ping = await runNpm(['ping', '--registry', registry], { cwd, env: io.env, timeoutMs: 30_000 });
  if (ping.exitCode !== 0) {
    io.stderr.write(`warning: npm ping ${registry} failed; is the server running?\n`);
  }
  io.stdout.write(
    `npm now installs only vetted versions from ${registry}\n` +
      `undo with: secure-registry use --undo${flags.project ? ' --project' : ''}\n`,
  );
  return ExitCode.Ok;
}

function show(key: string, value: string): string {
  return key.endsWith(':_authToken') ? '***' : value;
}
