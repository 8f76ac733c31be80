import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

/** The repository root, resolved from this compiled file (`e2e/dist/support/paths.js`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Fixture package source directories: `fixtures/packages/<group>/<slug>[/<version>]/`. */
export const FIXTURE_PACKAGES_DIR = path.join(REPO_ROOT, 'fixtures', 'packages');

/** The built CLI entry point. */
export const CLI_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');

/** Real lockfiles vendored in the repository (fixtures/lockfiles/SOURCES.txt says where from). */
export const LOCKFILE_FIXTURES_DIR = path.join(REPO_ROOT, 'fixtures', 'lockfiles');
