import { strict as assert } from 'node:assert';
import type { CommandResult } from './project.js';
import { describeResult } from './cli.js';

export interface JsonFinding {
  rule: string;
  severity: string;
  message: string;
  evidence: { kind?: string; path?: string; line?: number; excerpt?: string; detail?: string }[];
}

export interface JsonPackage {
  name: string;
  version: string;
  integrity?: string;
  verdict?: string;
  state?: string;
  reason?: string;
  findings: JsonFinding[];
  blockedBy?: { name: string; version: string; path: string[] };
}

export interface ScanJson {
  packages: JsonPackage[];
  [key: string]: unknown;
}

/** Parses `scan --json` output, failing the test with the CLI's output when it is not JSON. */
export function parseScanJson(result: CommandResult): ScanJson {
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    assert.fail(`scan --json did not print JSON\n${describeResult(result)}`);
  }
  assert.ok(
    json && typeof json === 'object' && Array.isArray((json as ScanJson).packages),
    `no packages[] in the JSON\n${describeResult(result)}`,
  );
  return json as ScanJson;
}

/** The decision of a package in the JSON result (`verdict`, falling back to `state`). */
export function stateOf(pkg: JsonPackage): string | undefined {
  return pkg.verdict ?? pkg.state;
}

export function findPackage(json: ScanJson, name: string, version?: string): JsonPackage {
  const pkg = json.packages.find((p) => p.name === name && (version === undefined || p.version === version));
  assert.ok(
    pkg,
    `${name}${version ? `@${version}` : ''} missing from the result: ${json.packages.map((p) => `${p.name}@${p.version}`).join(', ')}`,
  );
  return pkg;
}
