import type { CodeSignal, StaticReport } from '@secure-registry/analyzer';

/** Builders of static reports for rule tests. */

export function baseReport(overrides: Partial<StaticReport> = {}): StaticReport {
  return {
    schemaVersion: 1,
    analyzerVersion: 'test',
    name: 'demo',
    version: '1.0.1',
    extraction: {
      complete: true,
      gzip: true,
      compressedBytes: 100,
      unpackedBytes: 200,
      fileCount: 2,
      issues: [],
    },
    manifest: {
      found: true,
      name: 'demo',
      version: '1.0.1',
      scripts: {},
      hasBindingGyp: false,
      entryPoints: ['index.js'],
    },
    installScripts: [],
    code: [],
    reachable: { install: [], import: ['index.js'] },
    skippedFiles: [],
    typosquat: null,
    metadata: {
      previousVersion: '1.0.0',
      releaseType: 'patch',
      publishedAt: '2025-01-01T00:00:00Z',
      ageHours: 24 * 200,
      packageCreatedAt: '2020-01-01T00:00:00Z',
      versionCount: 10,
      maintainers: {
        current: ['alice'],
        previous: ['alice'],
        added: [],
        removed: [],
        publisher: 'alice',
        previousPublisher: 'alice',
      },
      provenance: { current: false, previous: false, lost: false },
      packumentInstallEvents: [],
    },
    errors: [],
    ...overrides,
  };
}

export function signal(
  kind: CodeSignal['kind'],
  pattern: string,
  opts: {
    file?: string;
    strength?: 'strong' | 'weak';
    install?: boolean;
    import?: boolean;
    line?: number;
  } = {},
): CodeSignal {
  return {
    kind,
    pattern,
    strength: opts.strength ?? 'strong',
    file: opts.file ?? 'index.js',
    line: opts.line ?? 1,
    excerpt: `${pattern} excerpt`,
    count: 1,
    reach: { install: opts.install ?? false, import: opts.import ?? false },
  };
}

export function withCode(...code: CodeSignal[]): StaticReport {
  return baseReport({ code });
}
