import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { BehaviourReport } from '@secure-registry/shared';
import { evaluateArtifact } from '../engine.js';
import { detachedPayload } from './detached-payload.js';
import { conn, dns, http, late, proc, report } from './test-support/behaviour-report.js';

function run(...behaviour: BehaviourReport[]) {
  return evaluateArtifact({ name: 'demo', version: '1.0.1', behaviour, rules: [detachedPayload] });
}

describe('detached-payload', () => {
  test('a detached child beaconing after the script exited is critical, with the late request as evidence', () => {
    const beacon = http('GET', 'late.invalid', '/beacon?u=npm_x', '', false);
    const lookup = dns('late.invalid');
    const result = run(
      report({
        http: [beacon],
        dns: [lookup],
        lateActivity: [
          late('alive', 'still running when the run ended, 2900 ms after the lifecycle scripts exited', {
            afterMs: 2900,
          }),
          late('dns', 'A late.invalid', { pid: 0, argv: [], at: lookup.seq }),
          late('http', 'GET http://late.invalid/beacon?u=npm_x', { pid: 0, argv: [], at: beacon.seq }),
        ],
      }),
    );
    assert.equal(result.verdict, 'rejected');
    const [f, ...rest] = result.findings;
    assert.equal(rest.length, 0);
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /left running by the install script reaches .*late\.invalid/);
    assert.ok(f?.evidence.some((e) => e.eventSeq === beacon.seq[0]));
    assert.ok(f?.evidence.some((e) => /outlived the scripts/.test(e.detail ?? '')));
  });

  test('a process left running without network is high (held), not rejected', () => {
    const result = run(
      report({
        processes: [proc(['sleep', '600'])],
        lateActivity: [
          late('alive', 'still running when the run ended', { argv: ['sleep', '600'], afterMs: 3000 }),
        ],
      }),
    );
    assert.equal(result.verdict, 'review');
    assert.equal(result.findings[0]?.severity, 'high');
    assert.match(
      result.findings[0]?.message ?? '',
      /1 process left running by the install script, active up to 3000 ms/,
    );
  });

  test('a late contact with the npm registry only (an update check) is high, not critical', () => {
    const check = http('GET', 'registry.npmjs.org', '/some-cli/latest');
    const result = run(
      report({
        http: [check],
        lateActivity: [
          late('http', 'GET https://registry.npmjs.org/some-cli/latest', { pid: 0, at: check.seq }),
        ],
      }),
    );
    assert.equal(result.findings[0]?.severity, 'high');
  });

  test('network during the script (not late) and a loopback connection afterwards do not make it critical', () => {
    const during = http('POST', 'exfil.example', '/c', 'x');
    const local = conn('127.0.0.1', 9229);
    const result = run(
      report({
        http: [during],
        connections: [local],
        lateActivity: [late('connect', 'tcp 127.0.0.1:9229', { at: local.seq })],
      }),
    );
    assert.equal(result.findings[0]?.severity, 'high');
  });

  test('nothing late (benign install scripts wait for their children), or no measurement: no finding', () => {
    const get = http('GET', 'github.com', '/esbuild/releases/download/x.tgz');
    assert.deepEqual(
      run(report({ http: [get], processes: [proc(['node', 'install.js'])], lateActivity: [] })).findings,
      [],
    );
    assert.deepEqual(run(report({ http: [get] })).findings, []);
    assert.deepEqual(run(report({ phase: 'import' })).findings, []);
  });
});
