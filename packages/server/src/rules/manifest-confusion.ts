import type { Rule } from './types.js';

const WHAT: Record<string, string> = {
  name: 'name',
  version: 'version',
  scripts: 'install scripts',
  dependencies: 'dependencies',
  optionalDependencies: 'optional dependencies',
  peerDependencies: 'peer dependencies',
  bin: 'bin',
};

/**
 * Manifest confusion: the registry's manifest of this version and the package.json inside its
 * tarball disagree on the name, version, install scripts, dependencies or `bin`. npm resolves
 * dependencies from the registry's copy but runs the tarball's scripts and links its `bin`, so
 * anything reading the registry (audits, lockfile reviews, our own metadata rules) sees another
 * package than the one installed: `high` (held). The vetted registry serves the tarball's values
 * for these fields, never the registry's.
 */
export const manifestConfusion: Rule = {
  id: 'manifest-confusion',
  description: "The registry's manifest differs from the tarball's package.json",
  evaluate(ctx) {
    const differences = ctx.static?.manifestDifferences ?? [];
    if (differences.length === 0) return [];
    const fields = differences.map((d) => WHAT[d.field] ?? d.field);
    return [
      {
        rule: this.id,
        severity: 'high',
        message: `the registry's manifest differs from the tarball's package.json in ${fields.join(', ')} (npm runs the tarball's)`,
        evidence: differences.map((d) => ({
          kind: 'metadata' as const,
          path: 'package.json',
          detail: d.field,
          excerpt: `registry: ${d.registry ?? '(none)'}; tarball: ${d.tarball ?? '(none)'}`.slice(0, 500),
        })),
      },
    ];
  },
};
