import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { issueToken, requireRole } from '../../auth.js';
import { reasonPhrase } from './refuse.js';
import { startHarness } from './test-support/harness.js';
import type { Harness } from './test-support/harness.js';

async function getJson(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked by value
  return { response, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('reasonPhrase', () => {
  test('visible ASCII only, one line, bounded', () => {
    assert.equal(
      reasonPhrase(404, 'no approved version of x:\n\t1 rejected — “bad”'),
      'Not Found - no approved version of x: 1 rejected bad',
    );
    const long = reasonPhrase(403, 'x'.repeat(1000));
    assert.equal(long.length, 800);
    assert.ok(long.startsWith('Forbidden - xxx') && long.endsWith('...'));
  });
});

describe('registry tarball route', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ vetOnDemand: true });
  });
  after(() => h.close());

  test('serves the approved bytes in every scoped form', async () => {
    const { bytes } = await h.publish('@sc/a-b', '1.0.0-rc.1');
    for (const path of [
      '/@sc/a-b/-/a-b-1.0.0-rc.1.tgz',
      '/@sc%2fa-b/-/a-b-1.0.0-rc.1.tgz',
      '/@sc%2Fa-b/-/a-b-1.0.0-rc.1.tgz',
    ]) {
      const response = await fetch(h.url + path);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), 'application/octet-stream');
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
    }
    const etag = (await fetch(`${h.url}/@sc/a-b/-/a-b-1.0.0-rc.1.tgz`, { method: 'HEAD' })).headers.get(
      'etag',
    );
    assert.ok(etag);
    const cached = await fetch(`${h.url}/@sc/a-b/-/a-b-1.0.0-rc.1.tgz`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(cached.status, 304);
  });

  test('rejected, held, pending and unstored versions are 403 with the reason', async () => {
    await h.publish('bad', '1.0.0', { verdict: 'rejected', reason: 'honeytoken sent to exfil.test' });
    await h.publish('bad', '1.0.1', { verdict: 'review', reason: 'network during install' });
    await h.publish('bad', '1.0.2', { verdict: 'pending' });
    await h.publish('bad', '1.0.3', { stored: false });
    const cases: [string, string][] = [
      ['1.0.0', 'rejected: honeytoken sent to exfil.test'],
      ['1.0.1', 'held for review: network during install'],
      ['1.0.2', 'not yet vetted: analysis of bad@1.0.2 is in progress'],
      ['1.0.3', 'not yet vetted: the approved bad@1.0.3 has no stored tarball'],
    ];
    for (const [version, error] of cases) {
      const { response, body } = await getJson(`${h.url}/bad/-/bad-${version}.tgz`);
      assert.equal(response.status, 403, version);
      assert.ok(body!.error.startsWith(`secure-registry refused bad@${version}: ${error} | `), body!.error);
      // pnpm and yarn print the status line only: the reason is in it.
      assert.equal(response.statusText, reasonPhrase(403, body!.error));
      assert.ok(response.statusText.startsWith(`Forbidden - secure-registry refused bad@${version}: `));
    }
    const rejected = await getJson(`${h.url}/bad/-/bad-1.0.0.tgz`);
    assert.match(
      rejected.body!.error,
      /evidence: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/packages\/bad\/1\.0\.0 or `secure-registry review bad@1\.0\.0`/,
    );
    const held = await getJson(`${h.url}/bad/-/bad-1.0.1.tgz`);
    assert.match(
      held.body!.error,
      /waiting for a person: ask a reviewer to run `secure-registry review bad@1\.0\.1`/,
    );
    const byNpm = await getJson(`${h.url}/bad/-/bad-1.0.0.tgz`, {
      headers: { 'user-agent': 'npm/11.6.0 node/v24.0.0 linux x64' },
    });
    assert.equal(byNpm.response.statusText, 'Forbidden', 'npm prints the body: not twice');
    const wrongFile = await getJson(`${h.url}/bad/-/other-1.0.0.tgz`);
    assert.equal(wrongFile.response.status, 404);
  });

  test('never vetted: 403, queued on demand, served after approval', async () => {
    const { bytes, integrity } = await h.publish('fresh-pkg', '2.0.0', { verdict: 'none' });
    const first = await getJson(`${h.url}/fresh-pkg/-/fresh-pkg-2.0.0.tgz`);
    assert.equal(first.response.status, 403);
    assert.match(
      first.body!.error,
      /^secure-registry refused fresh-pkg@2\.0\.0: not yet vetted \(an analysis is queued now\) \| retry in a few minutes$/,
    );
    const job = await h.store.claimJob('test-worker', 60_000);
    assert.deepEqual(
      { name: job?.name, version: job?.version, integrity: job?.integrity },
      { name: 'fresh-pkg', version: '2.0.0', integrity },
    );
    assert.equal(job?.resolved, `${h.upstream.url}/fresh-pkg/-/fresh-pkg-2.0.0.tgz`);
    await h.store.upsertArtifact(
      { name: 'fresh-pkg', version: '2.0.0', integrity },
      { verdict: 'approved', storagePath: await h.artifacts.put(bytes) },
    );
    const second = await fetch(`${h.url}/fresh-pkg/-/fresh-pkg-2.0.0.tgz`);
    assert.equal(second.status, 200);
    assert.deepEqual(Buffer.from(await second.arrayBuffer()), bytes);

    const unknown = await getJson(`${h.url}/fresh-pkg/-/fresh-pkg-9.9.9.tgz`);
    assert.equal(unknown.response.status, 404);
  });

  test('a name upstream does not have: 404 with an npm error body, not 403 "not yet vetted" (13.15)', async () => {
    const queued = await h.store.countJobs('queued');
    for (const path of ['/no-such-name-x/-/no-such-name-x-1.0.0.tgz', '/@nope/none/-/none-1.0.0.tgz']) {
      const { response, body } = await getJson(h.url + path);
      assert.equal(response.status, 404, path);
      assert.equal(typeof body!.error, 'string');
      assert.match(body!.error, /is not in the upstream registry/);
      assert.equal(
        await h.store.countJobs('queued'),
        queued,
        'nothing queued for a name that does not exist',
      );
    }
    const packument = await getJson(`${h.url}/no-such-name-x`);
    assert.equal(packument.response.status, 404);
  });

  test('stored bytes that no longer match the approved integrity are never served', async () => {
    const { storagePath } = await h.publish('tampered', '1.0.0');
    await writeFile(join(h.dataDir, 'artifacts', storagePath!), gzipSync(Buffer.from('evil')));
    const { response, body } = await getJson(`${h.url}/tampered/-/tampered-1.0.0.tgz`);
    assert.equal(response.status, 500);
    assert.match(body!.error, /does not match its approved integrity/);
  });

  test('bulk advisories from a gzip body and a plain body', async () => {
    await h.publish('evil-lib', '1.0.0', { verdict: 'rejected', reason: 'reverse shell' });
    await h.publish('evil-lib', '1.0.1');
    const request = { 'evil-lib': ['1.0.0', '1.0.1'], bad: ['1.0.1'], 'clean-lib': ['1.0.0'] };
    const gzipped = await getJson(`${h.url}/-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(request)),
    });
    assert.equal(gzipped.response.status, 200);
    assert.deepEqual(Object.keys(gzipped.body!).sort(), ['bad', 'evil-lib']);
    const advisory = gzipped.body!['evil-lib'][0];
    assert.equal(advisory.vulnerable_versions, '1.0.0');
    assert.equal(advisory.severity, 'high');
    assert.match(advisory.title, /rejected: reverse shell/);
    assert.equal(gzipped.body!.bad[0].severity, 'moderate');

    const plain = await getJson(`${h.url}/-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    assert.deepEqual(plain.body, gzipped.body);

    const broken = await getJson(`${h.url}/-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: Buffer.from('not gzip'),
    });
    assert.equal(broken.response.status >= 400 && broken.response.status < 500, true);
    const wrongShape = await getJson(`${h.url}/-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x' }),
    });
    assert.equal(wrongShape.response.status, 400);
  });
});

describe('registry read access by token', () => {
  let h: Harness;
  let token: string;
  before(async () => {
    h = await startHarness({
      authorize: (request, reply) =>
        requireRole({ store: h.store, mode: 'token' }, ['admin', 'reviewer', 'ci'])(request, reply),
    });
    token = (await issueToken(h.store, { role: 'ci', label: 'npm' })).token;
    await h.publish('private-ok', '1.0.0');
  });
  after(() => h.close());

  test('ping is open; whoami, packuments and tarballs need the token', async () => {
    const ping = await getJson(`${h.url}/-/ping?write=true`);
    assert.equal(ping.response.status, 200);
    assert.deepEqual(ping.body, {});
    for (const path of ['/-/whoami', '/private-ok', '/private-ok/-/private-ok-1.0.0.tgz']) {
      const anonymous = await getJson(h.url + path);
      assert.equal(anonymous.response.status, 401, path);
      const wrong = await getJson(h.url + path, { headers: { authorization: 'Bearer srt_wrongwrongwrong' } });
      assert.equal(wrong.response.status, 401, path);
      const allowed = await fetch(h.url + path, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(allowed.status, 200, path);
      await allowed.arrayBuffer();
    }
    const whoami = await getJson(`${h.url}/-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(typeof whoami.body!.username, 'string');
  });
});
