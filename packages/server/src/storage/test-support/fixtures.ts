import type { DependencyGraph, Finding, ScanEvent } from '@secure-registry/shared';
import type { ScanPackageRecord } from '../store.js';

export const EMPTY_GRAPH: DependencyGraph = { root: { name: 'app', version: '1.0.0' }, nodes: [], edges: [] };

export function scanPackage(
  key: string,
  overrides: Partial<Omit<ScanPackageRecord, 'scanId' | 'key'>> = {},
): Omit<ScanPackageRecord, 'scanId'> {
  return {
    key,
    name: key.replace(/^.*node_modules\//, ''),
    version: '1.0.0',
    integrity: `sha512-${key}`,
    source: 'registry',
    dev: false,
    state: 'pending',
    reason: undefined,
    findings: [],
    blockedBy: undefined,
    ...overrides,
  };
}

export const FINDING: Finding = {
  rule: 'install-script-network',
  severity: 'high',
  message: 'the install script connects to exfil.example:443',
  evidence: [
    { kind: 'event', eventSeq: 42, detail: 'install', excerpt: 'connect 203.0.113.7:443 "ü\u0000"' },
    { kind: 'file', path: 'scripts/postinstall.js', line: 3, excerpt: "require('https').request(...)" },
  ],
};

export function stateEvent(key: string, index: number): ScanEvent {
  return {
    type: 'package.state',
    key,
    name: key,
    version: `1.0.${index}`,
    state: 'analyzing',
    findings: [],
    counts: {
      total: 1,
      pending: 0,
      analyzing: 1,
      approved: 0,
      rejected: 0,
      review: 0,
      blocked: 0,
      unvettable: 0,
    },
  };
}
