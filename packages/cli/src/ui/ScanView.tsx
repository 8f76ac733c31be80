import { Box, Text } from 'ink';
import type { PackageState, Severity } from '@secure-registry/shared';
import { formatCounts } from '../output/plain.js';
import { explain, problemPackages } from '../output/order.js';
import { decidedCount } from './scan-state.js';
import type { ScanViewState } from './scan-state.js';

const STATE_COLOR: Record<PackageState, string> = {
  approved: 'green',
  rejected: 'red',
  blocked: 'red',
  review: 'yellow',
  unvettable: 'yellow',
  pending: 'gray',
  analyzing: 'cyan',
};
const SEVERITY_COLOR: Record<Severity, string> = {
  critical: 'red',
  high: 'red',
  medium: 'yellow',
  low: 'blue',
  info: 'gray',
};

export function ProgressBar({ done, total, width = 30 }: { done: number; total: number; width?: number }) {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return (
    <Text>
      <Text color="green">{'█'.repeat(filled)}</Text>
      <Text color="gray">{'░'.repeat(width - filled)}</Text>
      <Text>
        {' '}
        {done}/{total} ({Math.round(ratio * 100)}%)
      </Text>
    </Text>
  );
}

function Counts({ state }: { state: ScanViewState }) {
  const { counts } = state;
  const keys = ['approved', 'rejected', 'blocked', 'review', 'unvettable', 'analyzing', 'pending'] as const;
  return (
    <Box gap={2}>
      {keys.map((key) => (
        <Text key={key} color={counts[key] > 0 ? STATE_COLOR[key] : 'gray'}>
          {key} {counts[key]}
        </Text>
      ))}
    </Box>
  );
}

/** The live scan view: progress, counts by state, packages in analysis, findings as they arrive, then the summary. */
export function ScanView({ state, maxFindings = 8 }: { state: ScanViewState; maxFindings?: number }) {
  const { counts, result } = state;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>secure-registry</Text> scanning {state.lockfile}
        {state.scanId ? <Text color="gray"> (scan {state.scanId})</Text> : null}
      </Text>
      <ProgressBar done={decidedCount(counts)} total={counts.total} />
      <Counts state={state} />
      {!result && state.analyzing.length > 0 ? (
        <Text color="cyan">
          analysing: {state.analyzing.slice(0, 5).join(', ')}
          {state.analyzing.length > 5 ? ` and ${state.analyzing.length - 5} more` : ''}
        </Text>
      ) : null}
      {!result && state.findings.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>findings</Text>
          {state.findings.slice(-maxFindings).map((entry, index) => (
            <Text key={index}>
              <Text color={SEVERITY_COLOR[entry.finding.severity]}>[{entry.finding.severity}]</Text>{' '}
              {entry.pkg} {entry.finding.rule}: {entry.finding.message}
            </Text>
          ))}
        </Box>
      ) : null}
      {result ? <Summary state={state} /> : null}
    </Box>
  );
}

function Summary({ state }: { state: ScanViewState }) {
  const result = state.result!;
  const problems = problemPackages(result.packages);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>summary: {formatCounts(result.counts)}</Text>
      {problems.map((pkg) => (
        <Box key={pkg.key} flexDirection="column">
          <Text>
            <Text color={STATE_COLOR[pkg.state]}>{pkg.state.padEnd(10)}</Text> {pkg.name}@{pkg.version}{' '}
            <Text color="gray">{explain(pkg)}</Text>
          </Text>
          {pkg.findings.map((finding, index) => (
            <Text key={index}>
              {'           '}
              <Text color={SEVERITY_COLOR[finding.severity]}>[{finding.severity}]</Text> {finding.rule}:{' '}
              {finding.message}
            </Text>
          ))}
        </Box>
      ))}
      {problems.length === 0 ? <Text color="green">every package is approved</Text> : null}
      <Text color="gray">exit code {state.exitCode}</Text>
    </Box>
  );
}
