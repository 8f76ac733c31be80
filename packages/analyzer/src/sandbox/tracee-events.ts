// A phase run's kernel events from Tracee instead of strace (the github executor's runner on Actions,
// where Tracee watches the analysis container). Pure: takes the run and Tracee's JSON output.
//
// The run's own events with pid 0 (the fake internet's DNS/HTTP/TLS/TCP records, decoys, browser
// hooks) are kept; strace's process, file, connect and exit events are replaced by Tracee's events of
// the sandbox's process tree: the runner's exec (`node …/npm-cli.js`, as inside the sandbox) and its
// descendants, by host pid. Everything else Tracee saw in the container (the runner program, apt,
// the sink) is left out, as sandboxEventsOnly does for strace.
//
// Fail closed: output that is not Tracee events, or a trace without the sandbox's runner exec (Tracee
// was not watching, or lost the events), turns the run into status `error` — never a clean report.
import type { TraceEvent } from '@secure-registry/shared';
import { parseTraceeEvents, TraceeParseError } from '../trace/tracee-parser.js';
import { mergeEvents, sandboxEventsOnly, type Unsequenced } from './collect-events.js';
import { NODE_IN_SANDBOX, RUNNER_IN_SANDBOX } from './sandbox-env.js';
import type { PhaseRun } from './types.js';

const isRunnerExec = (e: TraceEvent): boolean =>
  e.kind === 'process' && e.path === NODE_IN_SANDBOX && e.argv.includes(RUNNER_IN_SANDBOX);

function failed(run: PhaseRun, error: string): PhaseRun {
  return { ...run, status: 'error', error, details: [...run.details, error] };
}

/** The run with Tracee's events of the sandbox in place of strace's (see the file comment). */
export function withTraceeEvents(run: PhaseRun, traceeOutput: string, packageId: string): PhaseRun {
  // A sandbox that never started has nothing for Tracee to add; its error stands.
  if (run.status === 'error' && run.home === '') return run;
  let parsed;
  try {
    parsed = parseTraceeEvents(traceeOutput);
  } catch (error) {
    if (error instanceof TraceeParseError) return failed(run, `Tracee output unusable: ${error.message}`);
    throw error;
  }
  const sandbox = sandboxEventsOnly(parsed.events, isRunnerExec);
  if (sandbox.length === 0)
    return failed(
      run,
      `Tracee saw no exec of the sandbox runner (${parsed.stats.records} events read): the trace does not cover the run`,
    );
  // The names the fake internet handed out, as strace's connects were given them.
  const names = new Map<string, string>();
  for (const e of run.events) if (e.kind === 'connect' && e.host) names.set(e.address, e.host);
  const other = run.events
    .filter((e) => e.pid === 0)
    .map(({ seq: _seq, package: _package, ...rest }) => rest as Unsequenced);
  const replaced = run.events.length - other.length;
  return {
    ...run,
    events: mergeEvents({ trace: sandbox, other, packageId, names }),
    details: [
      ...run.details,
      `tracee: ${parsed.stats.records} events, ${sandbox.length} of the sandbox's process tree in place of ${replaced} from strace`,
    ],
  };
}
