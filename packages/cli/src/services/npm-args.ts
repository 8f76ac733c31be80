/**
 * Splits `npm install` arguments into package specs and flags (pure). `install <pkg>` resolves
 * with the specs, then installs the resolved lockfile with the flags alone, so the tree installed
 * is exactly the tree scanned.
 */
import { UserError } from '@secure-registry/shared';

/** npm flags (long names without `--`, or one-letter aliases) that take the next argument as value. */
const VALUE_FLAGS = new Set([
  'omit',
  'include',
  'install-strategy',
  'tag',
  'workspace',
  'w',
  'prefix',
  'registry',
  'loglevel',
  'cache',
  'userconfig',
  'globalconfig',
  'before',
  'cpu',
  'os',
  'libc',
  'save-prefix',
  'fetch-timeout',
  'fetch-retries',
  'script-shell',
  'location',
  'C',
]);

/** Flags this CLI sets itself; passing them would silently change what is vetted or where from. */
const RESERVED = new Set(['registry', 'replace-registry-host', 'package-lock-only', 'global', 'g']);

export interface SplitArgs {
  specs: string[];
  flags: string[];
}

function flagName(arg: string): string {
  const body = arg.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? body : body.slice(0, eq);
}

export function splitNpmArgs(args: readonly string[]): SplitArgs {
  const specs: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      specs.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      specs.push(arg);
      continue;
    }
    const name = flagName(arg);
    if (RESERVED.has(name)) {
      throw new UserError('ERR_SR_USAGE', `${arg} cannot be passed to secure-registry install`, {
        hint: 'the registry is the vetted one (set the upstream with --upstream); global installs are not vetted',
      });
    }
    flags.push(arg);
    const takesValue = !arg.includes('=') && VALUE_FLAGS.has(name) && !name.startsWith('no-');
    if (takesValue && i + 1 < args.length) flags.push(args[++i]!);
  }
  return { specs, flags };
}
