/** Where the e2e workspace's pnpm and Yarn Berry devDependencies live, and Yarn's test config. */
import { createRequire } from 'node:module';
import * as path from 'node:path';

const requireHere = createRequire(import.meta.url);

/** pnpm's JavaScript entry, run with this Node. */
export const PNPM = path.join(path.dirname(requireHere.resolve('pnpm/package.json')), 'bin', 'pnpm.mjs');

/** Yarn Berry's JavaScript entry, run with this Node. */
export const YARN = path.join(
  path.dirname(requireHere.resolve('@yarnpkg/cli-dist/package.json')),
  'bin',
  'yarn.js',
);

/** `.yarnrc.yml` for a project installing from `registry` over loopback HTTP, node-modules linker. */
export function yarnrc(registry: string): string {
  return [
    `npmRegistryServer: "${registry.replace(/\/$/, '')}"`,
    'unsafeHttpWhitelist:',
    '  - "127.0.0.1"',
    'enableGlobalCache: false',
    'nodeLinker: node-modules',
    'enableTelemetry: false',
    'enableImmutableInstalls: false',
    'httpRetry: 0',
    '',
  ].join('\n');
}
