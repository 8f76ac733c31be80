import type { Finding, ScanPackage, ScanResult, Severity } from '@secure-registry/shared';
import { explain, sortByRootCause } from './order.js';

export type SarifLevel = 'error' | 'warning' | 'note';

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'critical' || severity === 'high') return 'error';
  if (severity === 'medium') return 'warning';
  return 'note';
}

/** Synthetic rules for non-approved packages that carry no finding of their own. */
const STATE_RULES: Partial<
  Record<ScanPackage['state'], { id: string; level: SarifLevel; description: string }>
> = {
  rejected: {
    id: 'secure-registry/rejected',
    level: 'error',
    description: 'The package version was rejected.',
  },
  blocked: {
    id: 'secure-registry/blocked',
    level: 'error',
    description: 'The package depends, directly or transitively, on a rejected package version.',
  },
  review: {
    id: 'secure-registry/review',
    level: 'warning',
    description: 'The package version is held for review.',
  },
  unvettable: {
    id: 'secure-registry/unvettable',
    level: 'warning',
    description: 'The package comes from a git, URL, file or link source and cannot be vetted.',
  },
  pending: { id: 'secure-registry/undecided', level: 'warning', description: 'No verdict was reached.' },
  analyzing: { id: 'secure-registry/undecided', level: 'warning', description: 'No verdict was reached.' },
};

interface SarifResult {
  ruleId: string;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string } };
    logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[];
  }[];
  properties: Record<string, unknown>;
}

/** SARIF 2.1.0: one result per finding, located at the lockfile with the package as logical location. */
export function buildSarif(input: { result: ScanResult; lockfileUri: string; toolVersion: string }) {
  const rules = new Map<
    string,
    { id: string; shortDescription: { text: string }; defaultConfiguration: { level: SarifLevel } }
  >();
  const results: SarifResult[] = [];
  const location = (pkg: ScanPackage) => [
    {
      physicalLocation: { artifactLocation: { uri: input.lockfileUri } },
      logicalLocations: [
        { name: `${pkg.name}@${pkg.version}`, fullyQualifiedName: pkg.key, kind: 'package' },
      ],
    },
  ];
  const addRule = (id: string, text: string, level: SarifLevel) => {
    if (!rules.has(id)) rules.set(id, { id, shortDescription: { text }, defaultConfiguration: { level } });
  };
  for (const pkg of sortByRootCause(input.result.packages)) {
    for (const finding of pkg.findings) {
      addRule(finding.rule, finding.message, sarifLevel(finding.severity));
      results.push(findingResult(pkg, finding, location(pkg)));
    }
    const stateRule = STATE_RULES[pkg.state];
    if (pkg.findings.length === 0 && stateRule) {
      addRule(stateRule.id, stateRule.description, stateRule.level);
      results.push({
        ruleId: stateRule.id,
        level: stateRule.level,
        message: { text: `${pkg.name}@${pkg.version} is ${pkg.state}: ${explain(pkg)}` },
        locations: location(pkg),
        properties: { package: pkg.name, version: pkg.version, state: pkg.state, source: pkg.source },
      });
    }
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0' as const,
    runs: [
      {
        tool: {
          driver: {
            name: 'secure-registry',
            version: input.toolVersion,
            informationUri: 'https://github.com/secure-registry/secure-registry',
            rules: [...rules.values()],
          },
        },
        automationDetails: { id: `secure-registry/scan/${input.result.id}` },
        results,
      },
    ],
  };
}

function findingResult(pkg: ScanPackage, finding: Finding, locations: SarifResult['locations']): SarifResult {
  return {
    ruleId: finding.rule,
    level: sarifLevel(finding.severity),
    message: { text: `${pkg.name}@${pkg.version}: ${finding.message}` },
    locations,
    properties: {
      package: pkg.name,
      version: pkg.version,
      state: pkg.state,
      severity: finding.severity,
      evidence: finding.evidence,
    },
  };
}
