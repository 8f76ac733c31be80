/** The scan API of a tokenless server process, spoken with fetch (e2e tests that skip the CLI). */
import { strict as assert } from 'node:assert';
import type { FixtureRegistry, PackedVersion } from './fixture-registry.js';

export interface ScanJson {
  id: string;
  status: string;
  packages: {
    name: string;
    version: string;
    state: string;
    integrity?: string;
    /** Why the package was not analysed, when it is the server's doing (an outage, a full disk). */
    failure?: { kind: string; cause?: string; reason: string };
  }[];
}

/** A lockfile graph of fixture versions (`deps`: name, version) with `edges` (from '' is the root). */
export function graphOf(
  registry: FixtureRegistry,
  deps: [string, string][],
  edges: [string, string][],
): unknown {
  const key = (name: string): string => `node_modules/${name}`;
  const nodes = deps.map(([name, version]) => {
    const pkg: PackedVersion | undefined = registry.find(name, version);
    assert.ok(pkg, `${name}@${version} is not a fixture`);
    return {
      key: key(name),
      name,
      version,
      resolved: `${registry.url}/${name}/-/${name.replace(/^@[^/]+\//, '')}-${version}.tgz`,
      integrity: pkg.integrity,
      source: 'registry',
    };
  });
  return {
    root: { name: 'e2e-project', version: '1.0.0' },
    lockfileVersion: 3,
    nodes,
    edges: edges.map(([from, to]) => ({ from: from === '' ? '' : key(from), to: key(to), type: 'prod' })),
  };
}

/** `POST /api/v1/scans` without a token (AUTH=none). */
export async function postScan(
  url: string,
  graph: unknown,
  label = 'e2e',
): Promise<{ status: number; body: { id?: string; error?: string; code?: string } }> {
  const res = await fetch(`${url}/api/v1/scans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graph, label }),
  });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: string; code?: string } };
}

/** Polls the scan until it is no longer running or `timeoutMs` passed; returns its last state. */
export async function waitForScan(url: string, id: string, timeoutMs: number): Promise<ScanJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const scan = (await (await fetch(`${url}/api/v1/scans/${id}`)).json()) as ScanJson;
    if (scan.status !== 'running' || Date.now() > deadline) return scan;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
