import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { BehaviourReport } from '@secure-registry/shared';
import { analysisError } from './analysis-error.js';
import { browserHook } from './browser-hook.js';
import { credentialAccess } from './credential-access.js';
import { envDump } from './env-dump.js';
import { exfilEndpoint } from './exfil-endpoint.js';
import { hostileTarball } from './hostile-tarball.js';
import { installScriptNew } from './install-script-new.js';
import { installScriptUndeclared } from './install-script-undeclared.js';
import { installScript } from './install-script.js';
import { maintainerChange } from './maintainer-change.js';
import { manifestInvalid } from './manifest-invalid.js';
import { obfuscatedBrowserHook } from './obfuscated-browser-hook.js';
import { obfuscation } from './obfuscation.js';
import { DEFAULT_POLICY, parsePolicy } from './policy.js';
import { provenanceLost } from './provenance-lost.js';
import { releaseAge } from './release-age.js';
import { shellDownloader } from './shell-downloader.js';
import { baseReport, signal, withCode } from './test-support/report.js';
import type { Rule, RuleContext } from './types.js';
import { typosquat } from './typosquat.js';

const now = new Date('2025-09-10T12:00:00Z');

function run(rule: Rule, report = baseReport(), extra: Partial<RuleContext> = {}) {
  return rule.evaluate({
    name: 'demo',
    version: '1.0.1',
    static: report,
    behaviour: [],
    policy: DEFAULT_POLICY,
    now,
    ...extra,
  });
}

function severities(rule: Rule, report = baseReport(), extra: Partial<RuleContext> = {}): string[] {
  return run(rule, report, extra).map((f) => f.severity);
}

const script = (
  event: 'preinstall' | 'install' | 'postinstall',
  isNew: boolean | null,
  previousCommand?: string,
) => ({
  event,
  command: 'node install.js',
  implicit: false,
  isNew,
  files: ['install.js'],
  ...(previousCommand ? { previousCommand } : {}),
});

describe('static rules', () => {
  test('hostile-tarball: one critical finding per issue kind, none for a clean archive', () => {
    const report = baseReport();
    report.extraction.issues = [
      { kind: 'path-escape', path: '../x', detail: 'd' },
      { kind: 'path-escape', path: '../y', detail: 'd' },
      { kind: 'corrupt', detail: 'gzip: unexpected end of file' },
    ];
    const hits = run(hostileTarball, report);
    assert.deepEqual(
      hits.map((h) => h.severity),
      ['critical', 'critical'],
    );
    assert.equal(hits.find((h) => h.message.includes('escape'))?.evidence.length, 2);
    assert.deepEqual(run(hostileTarball), []);
  });

  test('manifest-invalid: missing or unparsable package.json is high', () => {
    const report = baseReport();
    report.manifest = {
      found: true,
      error: 'package.json is not valid JSON',
      scripts: {},
      hasBindingGyp: false,
      entryPoints: [],
    };
    assert.deepEqual(severities(manifestInvalid, report), ['high']);
    assert.deepEqual(severities(manifestInvalid), []);
  });

  test('analysis-error: fail closed holds, fail open informs, none when complete', () => {
    const report = baseReport({ errors: ['static analysis failed: boom'] });
    const closed = run(analysisError, report);
    assert.deepEqual([closed[0]?.severity, closed[0]?.hold], ['high', true]);
    const open = run(analysisError, report, { policy: parsePolicy({ onError: 'fail-open' }) });
    assert.deepEqual([open[0]?.severity, open[0]?.hold], ['info', false]);
    assert.deepEqual(run(analysisError), []);
    const timeout = {
      phase: 'install',
      status: 'timeout',
      error: 'took 120 s',
    } as unknown as BehaviourReport;
    // A failed sandbox phase is sandbox-failure's finding, not this one's (one failure, one finding).
    assert.deepEqual(severities(analysisError, baseReport(), { behaviour: [timeout] }), []);
    const nothing = analysisError.evaluate({
      name: 'demo',
      version: '1.0.1',
      behaviour: [],
      policy: DEFAULT_POLICY,
      now,
    });
    assert.deepEqual(
      nothing.map((h) => h.severity),
      ['high'],
    );
  });

  test('install-script: low when present, nothing otherwise', () => {
    assert.deepEqual(
      severities(installScript, baseReport({ installScripts: [script('postinstall', false)] })),
      ['low'],
    );
    assert.deepEqual(severities(installScript), []);
  });

  test('install-script-new: high in a patch, medium in a minor, medium when changed in a patch', () => {
    assert.deepEqual(
      severities(installScriptNew, baseReport({ installScripts: [script('postinstall', true)] })),
      ['high'],
    );
    const minor = baseReport({ installScripts: [script('postinstall', true)] });
    minor.metadata.releaseType = 'minor';
    assert.deepEqual(severities(installScriptNew, minor), ['medium']);
    assert.deepEqual(
      severities(
        installScriptNew,
        baseReport({ installScripts: [script('install', false, 'node-gyp rebuild')] }),
      ),
      ['medium'],
    );
    assert.deepEqual(
      severities(installScriptNew, baseReport({ installScripts: [script('install', false)] })),
      [],
    );
    assert.deepEqual(
      severities(installScriptNew, baseReport({ installScripts: [script('install', null)] })),
      [],
    );
  });

  test('install-script-undeclared: tarball scripts the packument does not declare', () => {
    const hidden = baseReport({ installScripts: [script('preinstall', true)] });
    assert.deepEqual(severities(installScriptUndeclared, hidden), ['high']);
    const declared = baseReport({ installScripts: [script('preinstall', true)] });
    declared.metadata.packumentInstallEvents = ['preinstall'];
    assert.deepEqual(severities(installScriptUndeclared, declared), []);
    const unknown = baseReport({ installScripts: [script('preinstall', true)] });
    unknown.metadata.packumentInstallEvents = null;
    assert.deepEqual(severities(installScriptUndeclared, unknown), []);
  });

  test('shell-downloader: critical in scripts or exec-ed at install, medium as a string, at import or bare download', () => {
    const inScript = signal('shell-downloader', 'pipe-to-shell', {
      file: 'package.json#scripts.preinstall',
      install: true,
    });
    assert.deepEqual(severities(shellDownloader, withCode(inScript)), ['critical']);
    assert.deepEqual(
      severities(
        shellDownloader,
        withCode(signal('shell-downloader', 'reverse-shell', { file: 'setup.sh', install: true })),
      ),
      ['critical'],
    );
    assert.deepEqual(
      severities(
        shellDownloader,
        withCode(signal('shell-downloader', 'pipe-to-shell', { file: 'install.js', install: true })),
      ),
      ['medium'],
    );
    const executed = [
      signal('shell-downloader', 'pipe-to-shell', { file: 'install.js', install: true }),
      signal('shell-downloader', 'exec-dropper', { file: 'install.js', install: true }),
    ];
    assert.deepEqual(severities(shellDownloader, withCode(...executed)), ['critical']);
    assert.deepEqual(
      severities(
        shellDownloader,
        withCode(signal('shell-downloader', 'pipe-to-shell', { file: 'cli.js', import: true })),
      ),
      ['medium'],
    );
    const bare = signal('shell-downloader', 'download-tool', {
      file: 'package.json#scripts.install',
      install: true,
      strength: 'weak',
    });
    assert.deepEqual(severities(shellDownloader, withCode(bare)), ['medium']);
    assert.deepEqual(
      severities(shellDownloader, withCode(signal('shell-downloader', 'pipe-to-shell', { file: 'docs.js' }))),
      [],
    );
  });

  test('credential-access: tiers by reach, network in the same file and kinds of credential', () => {
    const cred = (pattern: string, o: { install?: boolean; import?: boolean }) =>
      signal('credential-path', pattern, { file: 'a.js', ...o });
    const net = (o: { install?: boolean; import?: boolean }) =>
      signal('network', 'network-module', { file: 'a.js', strength: 'weak', ...o });
    const install = { install: true };
    const imported = { import: true };
    assert.deepEqual(severities(credentialAccess, withCode(cred('ssh-keys', install))), ['high']);
    assert.deepEqual(severities(credentialAccess, withCode(cred('ssh-keys', install), net(install))), [
      'critical',
    ]);
    assert.deepEqual(severities(credentialAccess, withCode(cred('npmrc', install))), ['medium']);
    assert.deepEqual(severities(credentialAccess, withCode(cred('npmrc', install), net(install))), [
      'critical',
    ]);
    assert.deepEqual(
      severities(credentialAccess, withCode(cred('npmrc', install), cred('crypto-wallets', install))),
      ['high'],
    );
    assert.deepEqual(severities(credentialAccess, withCode(cred('npmrc', imported))), ['low']);
    assert.deepEqual(severities(credentialAccess, withCode(cred('npmrc', imported), net(imported))), [
      'medium',
    ]);
    assert.deepEqual(
      severities(
        credentialAccess,
        withCode(cred('npmrc', imported), cred('ssh-keys', imported), net(imported)),
      ),
      ['high'],
    );
    assert.deepEqual(severities(credentialAccess, withCode(cred('ssh-keys', {}))), []);
    // Network code in another file does not combine.
    const other = signal('network', 'network-module', { file: 'b.js', strength: 'weak', install: true });
    assert.deepEqual(severities(credentialAccess, withCode(cred('ssh-keys', install), other)), ['high']);
  });

  test('env-dump: dump at install high / critical with network; iteration needs network; import dump low / high', () => {
    const dump = (o: object) => signal('env-dump', 'stringify-process-env', { file: 'a.js', ...o });
    const iterate = (o: object) =>
      signal('env-dump', 'iterate-process-env', { file: 'a.js', strength: 'weak', ...o });
    const net = (o: object) => signal('network', 'network-module', { file: 'a.js', strength: 'weak', ...o });
    assert.deepEqual(severities(envDump, withCode(dump({ install: true }))), ['high']);
    assert.deepEqual(severities(envDump, withCode(dump({ install: true }), net({ install: true }))), [
      'critical',
    ]);
    assert.deepEqual(severities(envDump, withCode(iterate({ install: true }))), []);
    assert.deepEqual(severities(envDump, withCode(iterate({ install: true }), net({ install: true }))), [
      'high',
    ]);
    assert.deepEqual(severities(envDump, withCode(dump({ import: true }))), ['low']);
    assert.deepEqual(severities(envDump, withCode(dump({ import: true }), net({ import: true }))), ['high']);
    assert.deepEqual(severities(envDump, withCode(iterate({ import: true }), net({ import: true }))), []);
  });

  test('env-dump: an import-time dump in a bundle whose import ran quietly is medium; any egress keeps it high', () => {
    const code = withCode(
      signal('env-dump', 'stringify-process-env', { file: 'build/index.js', import: true }),
      signal('network', 'network-module', { file: 'build/index.js', strength: 'weak', import: true }),
    );
    code.bundles = [{ path: 'build/index.js', bytes: 9 * 1024 * 1024 }];
    const imported = (more: Partial<BehaviourReport> = {}): BehaviourReport => ({
      phase: 'import',
      package: 'demo@1.0.1',
      status: 'completed',
      durationMs: 10,
      processes: [],
      files: [],
      dns: [],
      connections: [],
      http: [],
      honeytokenHits: [],
      decoys: [],
      browser: [],
      ...more,
    });
    assert.deepEqual(severities(envDump, code, { behaviour: [imported()] }), ['medium']);
    assert.match(run(envDump, code, { behaviour: [imported()] })[0]?.message ?? '', /9\.0 MiB bundle/);
    const lookup = [{ name: 'collect.example', qtype: 'A', seq: [1] }];
    assert.deepEqual(severities(envDump, code, { behaviour: [imported({ dns: lookup })] }), ['high']);
    assert.deepEqual(severities(envDump, code, { behaviour: [imported({ status: 'timeout' })] }), ['high']);
    assert.deepEqual(severities(envDump, code), ['high']);
    const small = withCode(...code.code);
    assert.deepEqual(severities(envDump, small, { behaviour: [imported()] }), ['high']);
  });

  test('exfil-endpoint: install high, import medium, unreached nothing', () => {
    const hit = (o: object) => signal('network', 'exfil-endpoint', o);
    assert.deepEqual(severities(exfilEndpoint, withCode(hit({ install: true }))), ['high']);
    assert.deepEqual(severities(exfilEndpoint, withCode(hit({ import: true }))), ['medium']);
    assert.deepEqual(severities(exfilEndpoint, withCode(hit({}))), []);
  });

  test('obfuscation: reachable high, unreached medium, long line alone info', () => {
    assert.deepEqual(
      severities(obfuscation, withCode(signal('obfuscation', '_0x-identifiers', { import: true }))),
      ['high'],
    );
    assert.deepEqual(severities(obfuscation, withCode(signal('obfuscation', '_0x-identifiers', {}))), [
      'medium',
    ]);
    const weak = signal('obfuscation', 'long-line-in-readable-file', { import: true, strength: 'weak' });
    assert.deepEqual(severities(obfuscation, withCode(weak)), ['info']);
    assert.deepEqual(severities(obfuscation), []);
  });

  test('obfuscated-browser-hook: obfuscation with hooks in the same reachable file is critical', () => {
    const obf = signal('obfuscation', '_0x-identifiers', { import: true });
    const hook = signal('browser-hook', 'ethereum-override', { import: true });
    assert.deepEqual(severities(obfuscatedBrowserHook, withCode(obf, hook)), ['critical']);
    const addresses = signal('crypto-address-list', 'wallet-addresses', { import: true, strength: 'weak' });
    assert.deepEqual(severities(obfuscatedBrowserHook, withCode(obf, addresses)), ['critical']);
    assert.deepEqual(severities(obfuscatedBrowserHook, withCode(hook)), []);
    assert.deepEqual(
      severities(
        obfuscatedBrowserHook,
        withCode(obf, signal('browser-hook', 'fetch-override', { file: 'other.js', import: true })),
      ),
      [],
    );
    const weakObf = signal('obfuscation', 'long-line-in-readable-file', { import: true, strength: 'weak' });
    assert.deepEqual(severities(obfuscatedBrowserHook, withCode(weakObf, hook)), []);
    assert.deepEqual(severities(obfuscatedBrowserHook, withCode(weakObf, hook, addresses)), ['critical']);
  });

  test('browser-hook: medium alone', () => {
    assert.deepEqual(severities(browserHook, withCode(signal('browser-hook', 'fetch-override', {}))), [
      'medium',
    ]);
    assert.deepEqual(severities(browserHook), []);
  });

  test('typosquat: high for a young package, medium for an established one', () => {
    const young = baseReport({ typosquat: { target: 'lodash', technique: 'edit-distance' } });
    young.metadata.packageCreatedAt = '2025-09-09T00:00:00Z';
    young.metadata.versionCount = 1;
    assert.deepEqual(severities(typosquat, young), ['high']);
    const old = baseReport({ typosquat: { target: 'yargs', technique: 'edit-distance' } });
    assert.deepEqual(severities(typosquat, old), ['medium']);
    assert.deepEqual(severities(typosquat), []);
  });

  test('typosquat: a young imitation whose first release copies a grown version line is critical', () => {
    const first = (version: string, previousVersion?: string) => {
      const report = baseReport({ typosquat: { target: 'express', technique: 'edit-distance' } });
      report.metadata.packageCreatedAt = '2025-09-09T00:00:00Z';
      report.metadata.versionCount = 1;
      if (previousVersion === undefined) delete report.metadata.previousVersion;
      else report.metadata.previousVersion = previousVersion;
      return report;
    };
    const copied = run(typosquat, first('4.18.3'), { version: '4.18.3' });
    assert.equal(copied[0]?.severity, 'critical');
    assert.match(copied[0]?.message ?? '', /first release is 4\.18\.3/);
    assert.deepEqual(severities(typosquat, first('4.17.22'), { version: '4.17.22' }), ['critical']);
    // A first release at 0.x / 1.0.x, or a grown line with earlier versions: high as before.
    assert.deepEqual(severities(typosquat, first('1.0.0'), { version: '1.0.0' }), ['high']);
    assert.deepEqual(severities(typosquat, first('0.3.1'), { version: '0.3.1' }), ['high']);
    assert.deepEqual(severities(typosquat, first('4.18.3', '4.18.2'), { version: '4.18.3' }), ['high']);
    // An established neighbour stays medium whatever its numbering.
    const established = baseReport({ typosquat: { target: 'yargs', technique: 'edit-distance' } });
    delete established.metadata.previousVersion;
    assert.deepEqual(severities(typosquat, established, { version: '17.0.0' }), ['medium']);
  });

  test('release-age: info when recent, hold under the policy minimum or when unknown', () => {
    const recent = baseReport();
    recent.metadata.ageHours = 5;
    assert.deepEqual(severities(releaseAge, recent), ['info']);
    const held = run(releaseAge, recent, { policy: parsePolicy({ minReleaseAgeHours: 48 }) });
    assert.deepEqual([held[0]?.severity, held[0]?.hold], ['medium', true]);
    assert.deepEqual(
      severities(releaseAge, baseReport(), { policy: parsePolicy({ minReleaseAgeHours: 48 }) }),
      [],
    );
    const unknown = baseReport();
    delete unknown.metadata.ageHours;
    assert.equal(
      run(releaseAge, unknown, { policy: parsePolicy({ minReleaseAgeHours: 48 }) })[0]?.hold,
      true,
    );
    assert.deepEqual(severities(releaseAge, unknown), []);
  });

  test('maintainer-change: added maintainers, unfamiliar publisher; rotation within the team is fine', () => {
    const added = baseReport();
    added.metadata.maintainers = {
      current: ['alice', 'mallory'],
      previous: ['alice'],
      added: ['mallory'],
      removed: [],
      publisher: 'mallory',
      previousPublisher: 'alice',
    };
    assert.deepEqual(severities(maintainerChange, added), ['medium', 'medium']);
    const rotation = baseReport();
    rotation.metadata.maintainers = {
      current: ['alice', 'bob'],
      previous: ['alice', 'bob'],
      added: [],
      removed: [],
      publisher: 'bob',
      previousPublisher: 'alice',
    };
    assert.deepEqual(severities(maintainerChange, rotation), []);
  });

  test('provenance-lost: medium when lost', () => {
    const lost = baseReport();
    lost.metadata.provenance = { current: false, previous: true, lost: true };
    assert.deepEqual(severities(provenanceLost, lost), ['medium']);
    assert.deepEqual(severities(provenanceLost), []);
  });
});
