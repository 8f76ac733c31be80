import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { PhaseRun } from '@secure-registry/analyzer';
import type { BehaviourReport, Finding, TraceEvent } from '@secure-registry/shared';
import { evaluateArtifact } from '../rules/index.js';
import { environmentDifferential } from '../rules/behaviour/environment-differential.js';
import { report as behaviourReport } from '../rules/behaviour/test-support/behaviour-report.js';
import { joinVariants, runVariants, type VariantRun, type VariantSpec } from './variant-runs.js';

const dnsEvent = (seq: number, name: string): TraceEvent => ({
  kind: 'dns',
  seq,
  ts: seq,
  pid: 0,
  name,
  qtype: 'A',
});

const phaseRun = (events: TraceEvent[], status: PhaseRun['status'] = 'completed'): PhaseRun => ({
  status,
  durationMs: 10,
  exitCode: 0,
  events,
  honeytokens: [],
  home: '/home/maria',
  projectDir: '/home/maria/projects/acme-dashboard',
  packageDir: '/home/maria/projects/acme-dashboard/node_modules/x',
  details: [],
});

/** A report of a run: one `dns` entry per dns event, evidence by seq. */
const reduce = (run: PhaseRun): BehaviourReport => ({
  ...behaviourReport(),
  dns: run.events.flatMap((e) => (e.kind === 'dns' ? [{ name: e.name, qtype: e.qtype, seq: [e.seq] }] : [])),
});

/** A finding per name looked up (medium), as a behaviour rule would raise. */
const lookups = (report: BehaviourReport): Finding[] =>
  report.dns.map((d) => ({
    rule: `lookup-${d.name}`,
    severity: 'medium',
    message: `looks up ${d.name}`,
    evidence: d.seq.map((s) => ({ kind: 'event' as const, eventSeq: s })),
  }));

const variant = (spec: VariantSpec, label: string, run: PhaseRun): VariantRun => ({
  ...spec,
  label,
  run,
  timeoutMs: 1000,
});

describe('run variants', () => {
  test('round 2 runs only when names were asked, with every name of round 1 answered, under each environment', async () => {
    const calls: VariantSpec[] = [];
    const runs = await runVariants(['developer', 'ci'], async (spec) => {
      calls.push(spec);
      const asked =
        spec.environment === 'developer' ? [dnsEvent(0, 'A.example.')] : [dnsEvent(0, 'b.example')];
      return { run: phaseRun(spec.dnsAnswers.length === 0 ? asked : []), timeoutMs: 1000 };
    });
    assert.equal(runs.length, 4);
    assert.deepEqual(calls.slice(0, 2), [
      { environment: 'developer', dnsAnswers: [] },
      { environment: 'ci', dnsAnswers: [] },
    ]);
    for (const c of calls.slice(2)) assert.deepEqual([...c.dnsAnswers].sort(), ['a.example', 'b.example']);
    assert.match(runs[0]?.label ?? '', /strict DNS/);
    assert.match(runs[3]?.label ?? '', /resolving the 2 name/);

    const quiet = await runVariants(['developer'], async () => ({ run: phaseRun([]), timeoutMs: 1000 }));
    assert.equal(quiet.length, 1, 'nothing asked: one round');
    const onlyLaptop = await runVariants(['developer', 'ci'], async (spec) => ({
      run: phaseRun(spec.environment === 'developer' ? [dnsEvent(0, 'downloads.example')] : []),
      timeoutMs: 1000,
    }));
    assert.deepEqual(
      onlyLaptop.map((v) => [v.environment, v.dnsAnswers]),
      [
        ['developer', []],
        ['ci', []],
        ['developer', ['downloads.example']],
      ],
      'the CI run asked nothing: its first run stands',
    );
  });

  test('the joined report is the union, evidence renumbered; the environments differ only where findings do', () => {
    const developer = { environment: 'developer' as const, dnsAnswers: [] };
    const ci = { environment: 'ci' as const, dnsAnswers: [] };
    const runs = [
      variant(
        developer,
        'laptop',
        phaseRun([dnsEvent(0, 'shared.example'), dnsEvent(1, 'only-laptop.example')]),
      ),
      variant(ci, 'ci', phaseRun([dnsEvent(0, 'shared.example')])),
    ];
    const { report, run } = joinVariants(runs, reduce, lookups);
    assert.deepEqual(
      run.events.map((e) => e.seq),
      [0, 1, 2],
    );
    assert.deepEqual(
      report.dns.map((d) => [d.name, d.seq]),
      [
        ['shared.example', [0, 2]],
        ['only-laptop.example', [1]],
      ],
    );
    assert.deepEqual(report.variants, ['laptop', 'ci']);
    assert.deepEqual(report.differential, [
      {
        rule: 'lookup-only-laptop.example',
        severity: 'medium',
        message: 'looks up only-laptop.example',
        onlyIn: 'laptop',
        notIn: 'ci',
        seq: [1],
      },
    ]);
    const evaluation = evaluateArtifact({
      name: 'x',
      version: '1.0.0',
      behaviour: [report],
      rules: [environmentDifferential],
    });
    const [hit] = evaluation.findings;
    assert.equal(hit?.severity, 'high', 'one step above the behaviour itself');
    assert.match(hit?.message ?? '', /only on laptop, not on ci/);
    assert.equal(hit?.evidence[0]?.eventSeq, 1);
  });

  test('low findings and identical findings are no difference; a failed run makes the whole an error', () => {
    const developer = { environment: 'developer' as const, dnsAnswers: [] };
    const ci = { environment: 'ci' as const, dnsAnswers: [] };
    const low = (report: BehaviourReport): Finding[] =>
      lookups(report).map((f) => ({ ...f, severity: 'low' as const }));
    const runs = [
      variant(developer, 'laptop', phaseRun([dnsEvent(0, 'downloads.example')])),
      variant(ci, 'ci', phaseRun([])),
    ];
    assert.equal(joinVariants(runs, reduce, low).report.differential, undefined);
    const timedOut = joinVariants(
      [runs[0] as VariantRun, variant(ci, 'ci', phaseRun([], 'timeout'))],
      (run) => ({ ...reduce(run), status: run.status }),
      lookups,
    );
    assert.equal(timedOut.report.differential, undefined, 'a run that did not complete is not compared');
    const failed = joinVariants(
      [runs[0] as VariantRun, variant(ci, 'ci', { ...phaseRun([], 'error'), error: 'no sandbox' })],
      reduce,
      lookups,
    );
    assert.equal(failed.report.status, 'error');
    assert.match(failed.report.error ?? '', /ci: no sandbox/);
    assert.equal(failed.run.status, 'error');
  });
});
