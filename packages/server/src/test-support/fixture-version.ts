// A fixture package directory of the repository (fixtures/packages/…) as FakeUpstream input.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeVersion } from './fake-upstream.js';

export const FIXTURE_PACKAGES = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../fixtures/packages',
);

/** `dir` relative to fixtures/packages (`benign/dep-banner/1.0.0`); its package.json gives name and version. */
export function fixtureVersion(dir: string): FakeVersion & { manifest: Record<string, unknown> } {
  const root = join(FIXTURE_PACKAGES, dir);
  const files: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path !== join(root, 'package.json')) files[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  const { name, version, ...manifest } = JSON.parse(
    readFileSync(join(root, 'package.json'), 'utf8'),
  ) as Record<string, unknown>;
  return { name: String(name), version: String(version), manifest, files };
}
