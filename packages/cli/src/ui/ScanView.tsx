import { Box, Text } from 'ink';
import type { PackageState, Severity } from '@secure-registry/shared';
import { formatCounts } from '../output/plain.js';
import { explain, problemPackages } from '../output/order.js';
import { estimateRemainingMs, formatDuration, phaseSummaryLines } from './phase-state.js';
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

/** Packages done, time so far and the estimate of the time left (from the pace of this scan's analyses). */
function Pace({ state }: { state: ScanViewState }) {
  const { counts, phases, now } = state;
  const done = decidedCount(counts);
  const eta = estimateRemainingMs(phases, counts, now);
  return (
    <Text color="gray">
      {done} done, {counts.total - done} to go · {formatDuration(Math.max(0, now - phases.startedAt))} elapsed
      {eta !== undefined ? ` · ETA ~${formatDuration(eta)}` : ''}
    </Text>
  );
}

/** The steps running now, longest-running first, with how long each has run and where. */
function RunningNow({ state, max }: { state: ScanViewState; max: number }) {
  const running = [...state.phases.running].sort((a, b) => a.since - b.since);
  if (running.length === 0) {
    if (state.analyzing.length === 0) return null;
    return (
      <Text color="cyan">
        analysing: {state.analyzing.slice(0, 5).join(', ')}
        {state.analyzing.length > 5 ? ` and ${state.analyzing.length - 5} more` : ''}
      </Text>
    );
  }
  const width = Math.min(40, Math.max(...running.slice(0, max).map((r) => r.pkg.length)));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>running now</Text>
      {running.slice(0, max).map((step) => (
        <Text key={`${step.pkg} ${step.phase}`}>
          {'  '}
          <Text color="cyan">{step.phase.padEnd(13)}</Text> {step.pkg.padEnd(width)}{' '}
          {formatDuration(Math.max(0, state.now - step.since)).padStart(7)}
          {step.place ? <Text color="gray"> {step.place}</Text> : null}
        </Text>
      ))}
      {running.length > max ? <Text color="gray"> and {running.length - max} more</Text> : null}
    </Box>
  );
}

/**
 * The live scan view: progress, counts by state, the pace and ETA, the analysis steps running now,
 * findings as they arrive, then the summary with what ran where.
 */
export function ScanView({
  state,
  maxFindings = 8,
  maxRunning = 6,
}: {
  state: ScanViewState;
  maxFindings?: number;
  maxRunning?: number;
}) {
  const { counts, result } = state;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>secure-registry</Text> scanning {state.lockfile}
        {state.scanId ? <Text color="gray"> (scan {state.scanId})</Text> : null}
      </Text>
      <ProgressBar done={decidedCount(counts)} total={counts.total} />
      <Counts state={state} />
      {!result ? <Pace state={state} /> : null}
      {!result ? <RunningNow state={state} max={maxRunning} /> : null}
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
      {phaseSummaryLines(state.phases).map((line, index) => (
        <Text key={`analysis-${index}`} color="gray">
          {line}
        </Text>
      ))}
      <Text color="gray">exit code {state.exitCode}</Text>
    </Box>
  );
}
