import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { BehaviourReport } from '@secure-registry/shared';
import { evaluateArtifact } from '../engine.js';
import { parsePolicy } from '../policy.js';
import { baseReport, signal } from '../test-support/report.js';
import type { Rule } from '../types.js';
import { browserHookRuntime, PROBE_RECIPIENT } from './browser-hook-runtime.js';
import { ciWorkflowWrite } from './ci-workflow-write.js';
import { cloudMetadata } from './cloud-metadata.js';
import { dnsTunnelling } from './dns-tunnelling.js';
import { installNetwork } from './install-network.js';
import { packageTampering } from './package-tampering.js';
import { persistenceWrite } from './persistence-write.js';
import { sandboxFailure } from './sandbox-failure.js';
import {
  browser,
  conn,
  dns,
  file,
  HOME,
  http,
  proc,
  PROJECT,
  report,
} from './test-support/behaviour-report.js';

function findings(rule: Rule, ...behaviour: BehaviourReport[]) {
  return evaluateArtifact({ name: 'demo', version: '1.0.1', behaviour, rules: [rule] }).findings;
}

describe('file write rules', () => {
  test('ci-workflow-write: a workflow written into the project is critical; reading one is not', () => {
    const path = `${PROJECT}/.github/workflows/shai-hulud-workflow.yml`;
    const [f] = findings(ciWorkflowWrite, report({ files: [file('write', path, 'ci-config')] }));
    assert.equal(f?.severity, 'critical');
    assert.equal(f?.evidence[0]?.path, path);
    assert.deepEqual(findings(ciWorkflowWrite, report({ files: [file('read', path, 'ci-config')] })), []);
  });

  test('persistence-write: shell rc files are critical; husky-style hooks in the project are low', () => {
    const rc = report({
      files: [
        file('write', `${HOME}/.bashrc`, 'persistence'),
        file('write', `${HOME}/.zshrc`, 'persistence'),
      ],
    });
    const [f] = findings(persistenceWrite, rc);
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /\.bashrc, \/home\/maria\/\.zshrc/);
    const husky = report({
      processes: [proc(['sh', '-c', 'node install-hooks.js'], `${PROJECT}/node_modules/husky`)],
      files: [file('write', `${PROJECT}/.git/hooks/pre-commit`, 'persistence')],
    });
    assert.deepEqual(
      findings(persistenceWrite, husky).map((x) => x.severity),
      ['low'],
    );
    const elsewhere = report({
      processes: [proc(['node', 'x.js'], `${PROJECT}/node_modules/evil`)],
      files: [file('write', `${HOME}/projects/other-repo/.git/hooks/pre-push`, 'persistence')],
    });
    assert.deepEqual(
      findings(persistenceWrite, elsewhere).map((x) => x.severity),
      ['critical'],
    );
    assert.deepEqual(
      findings(persistenceWrite, report({ files: [file('read', `${HOME}/.bashrc`, 'persistence')] })),
      [],
    );
  });

  test('package-tampering: writes into another package are high; dot dirs and own files are not reported', () => {
    const [f] = findings(
      packageTampering,
      report({
        files: [file('write', `${PROJECT}/node_modules/@ethersproject/wallet/lib/index.js`, 'other-package')],
      }),
    );
    assert.equal(f?.severity, 'high');
    assert.match(f?.message ?? '', /@ethersproject\/wallet/);
    assert.deepEqual(
      findings(
        packageTampering,
        report({ files: [file('write', `${PROJECT}/node_modules/.cache/x`, 'outside-package')] }),
      ),
      [],
    );
  });
});

describe('network rules', () => {
  test('dns-tunnelling: hex labels that decode to text are critical', () => {
    const label = Buffer.from('maria-laptop|maria|/home/maria').toString('hex');
    const [f] = findings(dnsTunnelling, report({ dns: [dns(`${label}.0.s7f3.tunnel.test`)] }));
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /maria-laptop/);
  });

  test('dns-tunnelling: many unique subdomains or random hex are high; ordinary names do not fire', () => {
    const many = Array.from({ length: 10 }, (_, i) => dns(`x${i}q.beacon.example`));
    assert.equal(findings(dnsTunnelling, report({ dns: many }))[0]?.severity, 'high');
    assert.equal(
      findings(dnsTunnelling, report({ dns: [dns('9f86d081884c7d659a2feaa0c55ad015.cdn.example')] }))[0]
        ?.severity,
      'high',
    );
    const benign = [
      'registry.npmjs.org',
      'github.com',
      'objects.githubusercontent.com',
      'storage.googleapis.com',
      'd3a1b2c4e5f6g7.cloudfront.net',
    ].map((n) => dns(n));
    assert.deepEqual(findings(dnsTunnelling, report({ dns: benign })), []);
  });

  test('cloud-metadata: 169.254.169.254 and metadata.google.internal are critical', () => {
    const [f] = findings(
      cloudMetadata,
      report({
        connections: [conn('169.254.169.254', 80)],
        http: [http('GET', '169.254.169.254', '/latest/meta-data/iam/security-credentials/', '', false)],
      }),
    );
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /latest\/meta-data/);
    assert.equal(
      findings(cloudMetadata, report({ dns: [dns('metadata.google.internal')] }))[0]?.severity,
      'critical',
    );
    assert.deepEqual(
      findings(cloudMetadata, report({ connections: [conn('198.18.0.10', 443, 'github.com')] })),
      [],
    );
  });

  test('install-network: a prebuilt-binary GET is its own low finding; registry traffic is not reported', () => {
    const out = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      rules: [installNetwork],
      behaviour: [
        report({
          dns: [dns('github.com'), dns('registry.npmjs.org')],
          connections: [
            conn('198.18.0.10', 443, 'github.com'),
            conn('198.18.0.11', 443, 'registry.npmjs.org'),
          ],
          http: [
            http(
              'GET',
              'github.com',
              '/lovell/sharp-libvips/releases/download/v8.14.5/libvips-8.14.5-linux-x64.tar.br',
            ),
            http('GET', 'registry.npmjs.org', '/@esbuild%2flinux-x64'),
          ],
        }),
      ],
    });
    assert.deepEqual(
      out.findings.map((f) => [f.rule, f.severity]),
      [['prebuilt-download', 'low']],
    );
    assert.equal(out.verdict, 'approved');
  });

  test("install-network: the resolver's search-domain retry (github.com.home) is the name it retried", () => {
    // bcrypt@5.1.1's install in the popular-lockfile bench: node-pre-gyp fetches its binary from
    // GitHub, and the C library also asked for github.com.home (resolv.conf's `search home`).
    const prebuilt = (...names: string[]) =>
      findings(
        installNetwork,
        report({
          dns: names.map((n) => dns(n)),
          connections: [conn('198.18.0.10', 443, 'github.com')],
          http: [
            http('GET', 'github.com', '/kelektiv/node.bcrypt.js/releases/download/v5.1.1/bcrypt.tar.gz'),
          ],
        }),
      ).map((f) => [f.rule, f.severity, f.message.split(':')[1]]);
    assert.deepEqual(prebuilt('github.com', 'github.com.home'), [
      ['prebuilt-download', 'low', ' downloads a prebuilt binary (github.com)'],
    ]);
    // A lookup of its own under the search domain is still reported, as the name asked for.
    assert.deepEqual(
      findings(installNetwork, report({ dns: [dns('c2.example.home')] })).map((f) => f.message),
      ['install: looks up the name (c2.example): c2.example.home'],
    );
    // Only lookups are folded: a request names the host it reached.
    assert.deepEqual(
      findings(installNetwork, report({ http: [http('GET', 'files.home', '/x', '', false)] })).map(
        (f) => f.message.split(':')[1],
      ),
      [' makes requests (files.home)'],
    );
  });

  test('install-network: the same GET after a secret read is not a prebuilt download', () => {
    const out = findings(
      installNetwork,
      report({
        files: [file('read', `${HOME}/.ssh/id_rsa`, 'honeytoken')],
        http: [http('GET', 'cdn.example', '/bin/tool-linux-x64.tar.gz')],
      }),
    );
    assert.deepEqual(
      out.map((f) => [f.rule, f.severity]),
      [['install-network', 'medium']],
    );
  });

  test('install-network: a POST body or data in the query is high; a plain GET medium; raw TCP high', () => {
    const sev = (r: BehaviourReport) => findings(installNetwork, r).map((f) => f.severity);
    assert.deepEqual(
      sev(report({ http: [http('POST', 'beacon.example', '/i', '{"host":"maria-laptop"}')] })),
      ['high'],
    );
    assert.deepEqual(
      sev(report({ http: [http('GET', 'beacon.example', '/p?d=6d617269612d6c6170746f70')] })),
      ['high'],
    );
    assert.deepEqual(sev(report({ http: [http('GET', 'dropper.invalid', '/x.sh', '', false)] })), ['medium']);
    assert.deepEqual(sev(report({ connections: [conn('198.51.100.7', 4444)] })), ['high']);
    assert.deepEqual(sev(report({ phase: 'import', http: [http('POST', 'x.example', '/', 'a')] })), []);
  });
});

describe('browser-hook-runtime and sandbox-failure', () => {
  const hooked = () =>
    report({
      phase: 'browser',
      browser: [
        browser('fetch', 'replaced', "window.fetch is no longer the page's original"),
        browser('fetch', 'wrapped', 'window.fetch wraps the original'),
      ],
    });

  test('fetch wrapped at load is high; with obfuscated import code it is critical', () => {
    assert.equal(findings(browserHookRuntime, hooked())[0]?.severity, 'high');
    const obfuscated = baseReport({ code: [signal('obfuscation', '_0x-identifiers', { import: true })] });
    const out = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      static: obfuscated,
      behaviour: [hooked()],
      rules: [browserHookRuntime],
    });
    assert.equal(out.findings[0]?.severity, 'critical');
    assert.equal(out.verdict, 'rejected');
    assert.ok(out.findings[0]?.evidence.some((e) => e.kind === 'file' && e.detail?.includes('_0x')));
  });

  test('a rewritten transaction recipient is critical; calls through an untouched API do not fire', () => {
    const tx = (to: string) =>
      `request [{"method":"eth_sendTransaction","params":[{"from":"0x3f5c","to":"${to}"}]}]`;
    const r = report({
      phase: 'browser',
      browser: [
        browser('ethereum', 'replaced', "window.ethereum.request is no longer the page's original"),
        browser('ethereum', 'called', tx('0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976')),
      ],
    });
    const [f] = findings(browserHookRuntime, r);
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /rewritten to 0xfc4a/);
    const calls = report({
      phase: 'browser',
      browser: [
        browser('ethereum', 'called', tx(PROBE_RECIPIENT)),
        browser('fetch', 'called', 'https://a.example/'),
      ],
    });
    assert.deepEqual(findings(browserHookRuntime, calls), []);
  });

  test('sandbox-failure: timeouts and errors hold (fail closed), info when fail open; a non-zero exit is not a failure', () => {
    const timeout = report({
      status: 'timeout',
      error: 'the install phase did not finish within 60000 ms',
      exitCode: undefined,
    });
    const closed = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      behaviour: [timeout],
      rules: [sandboxFailure],
    });
    assert.equal(closed.findings[0]?.severity, 'high');
    assert.equal(closed.verdict, 'review');
    const open = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      behaviour: [report({ status: 'error', error: 'sandbox unavailable: missing bwrap' })],
      rules: [sandboxFailure],
      policy: parsePolicy({ onError: 'fail-open' }),
    });
    assert.equal(open.findings[0]?.severity, 'info');
    assert.equal(open.verdict, 'approved');
    assert.deepEqual(findings(sandboxFailure, report({ exitCode: 1 })), []);
  });

  test('a failed phase makes exactly one finding in the full rule set (sandbox-failure), never waived', () => {
    const failed = report({ status: 'crashed', error: 'killed for exceeding the memory limit' });
    const policy = parsePolicy({
      exceptions: [{ package: 'demo@*', reason: 'trusted', expires: '2999-01-01' }],
    });
    for (const options of [{}, { policy }]) {
      const result = evaluateArtifact({
        name: 'demo',
        version: '1.0.1',
        static: baseReport(),
        behaviour: [failed],
        ...options,
      });
      const failures = result.findings.filter(
        (f) => f.rule === 'sandbox-failure' || f.rule === 'analysis-error',
      );
      assert.deepEqual(
        failures.map((f) => [f.rule, f.severity]),
        [['sandbox-failure', 'high']],
      );
      assert.equal(result.verdict, 'review');
    }
    // A completed phase with a static error: analysis-error alone.
    const staticError = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      static: baseReport({ errors: ['boom'] }),
      behaviour: [report()],
    });
    assert.deepEqual(
      staticError.findings
        .filter((f) => f.rule === 'sandbox-failure' || f.rule === 'analysis-error')
        .map((f) => f.rule),
      ['analysis-error'],
    );
  });
});
