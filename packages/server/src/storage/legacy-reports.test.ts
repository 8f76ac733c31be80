import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ARTIFACT_REPORTS_SCHEMA_VERSION, readArtifactReports } from '@secure-registry/shared';
import { reevaluateStore } from '../cli/reevaluate.js';
import { defaultPolicy } from '../rules/policy-file.js';
import { dynamicPhases } from '../services/investigation-events.js';
import { decide } from '../verdict/index.js';
import { BACKENDS, withDatabase } from './test-support/backends.js';
import { LEGACY_ARTIFACT_ROW as LEGACY } from './test-support/legacy-artifact-row.js';

const KEY = { name: LEGACY.name, version: LEGACY.version, integrity: LEGACY.integrity };

for (const backend of BACKENDS) {
  describe(`rows stored before typed reports still load (${backend.kind})`, () => {
    test('a real row of the old shape reads as ArtifactReports, decides as it did, and re-evaluates', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        // Written as the old pipeline wrote it: the whole decision with its reports, in one upsert.
        await store.upsertArtifact(KEY, {
          verdict: LEGACY.verdict,
          reason: LEGACY.reason,
          findings: LEGACY.findings,
          ruleSetVersion: LEGACY.ruleSetVersion,
          reports: LEGACY.reports,
        });
        const stored = await store.getArtifact(KEY);
        assert.ok(stored);
        assert.equal(stored.reports.schemaVersion, undefined, 'stored as the old code stored it');

        const reports = readArtifactReports(stored.reports);
        assert.equal(reports.schemaVersion, ARTIFACT_REPORTS_SCHEMA_VERSION);
        assert.equal(reports.unreadable, undefined, 'every piece validates');
        assert.equal(reports.static?.name, LEGACY.name);
        assert.equal(reports.install?.report.phase, 'install');
        assert.ok((reports.install?.report.honeytokenHits.length ?? 0) > 0);
        assert.equal(reports.install?.events.length, 12);
        assert.ok((reports.install?.eventsOmitted ?? 0) > 0);
        // The summaries moved from sandbox.phases into their phases.
        assert.equal(reports.install?.summary?.phase, 'install');
        assert.equal(reports.install?.summary?.timeoutMs, 40_000);
        assert.equal(reports.import?.summary?.phase, 'import');
        assert.equal('phases' in (reports.sandbox ?? {}), false);
        assert.deepEqual(reports.sandbox?.planned, ['install', 'import', 'browser']);
        assert.equal(reports.decision?.policySource, 'default');

        // decide() on the old row gives the verdict and findings the old code stored, less one: the
        // old rules reported the resolver's search-domain retry (exfil.example.home) as a lookup of its
        // own; today's fold it into exfil.example's finding.
        const decided = decide({ name: KEY.name, version: KEY.version, reports, policy: defaultPolicy() });
        assert.equal(decided.verdict, LEGACY.verdict);
        assert.equal(decided.reason, LEGACY.reason);
        assert.deepEqual(
          decided.findings.map((f) => `${f.rule}:${f.severity}`),
          LEGACY.findings
            .filter((f) => !(f.rule === 'install-network' && f.message.includes('exfil.example.home')))
            .map((f) => `${f.rule}:${f.severity}`),
        );

        // The MCP tools' reader sees the old row's events too.
        const install = dynamicPhases(stored.reports).find((p) => p.phase === 'install');
        assert.equal(install?.events.length, 12);

        // reevaluate re-decides it unchanged and stamps it; the row (old shape plus a new stamp) still reads.
        const summary = await reevaluateStore(store, { policy: defaultPolicy(), all: true, dryRun: false });
        assert.equal(summary.reevaluated, 1);
        assert.equal(summary.unchanged, 1);
        assert.deepEqual(summary.changes, []);
        const after = await store.getArtifact(KEY);
        assert.equal(after?.verdict, LEGACY.verdict);
        const again = readArtifactReports(after?.reports);
        assert.equal(again.unreadable, undefined);
        assert.equal(again.install?.events.length, 12);
        assert.notEqual(again.decision?.evaluatedAt, reports.decision?.evaluatedAt);

        // A new analysis (reports with a schema version) replaces every piece of the old one.
        await store.upsertArtifact(KEY, {
          reports: {
            schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION,
            failure: { kind: 'error', attempts: 1, message: 'upstream unreachable' },
          },
        });
        const replaced = readArtifactReports((await store.getArtifact(KEY))?.reports);
        assert.deepEqual(Object.keys(replaced).sort(), ['failure', 'schemaVersion']);
      }));
  });
}
