import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { startHarness } from './test-support/harness.js';
import type { Harness } from './test-support/harness.js';

const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked by value
  return { response, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('registry packument routes', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.publish('@scope/pkg', '1.0.0', { manifest: { dependencies: { 'left-pad': '^1.0.0' } } });
    await h.publish('@scope/pkg', '1.1.0-beta.1', { tags: { beta: '1.1.0-beta.1' } });
    await h.publish('@scope/pkg', '1.1.0', { verdict: 'rejected', reason: 'honeytoken sent to exfil.test' });
    await h.publish('@scope/pkg', '1.2.0', { verdict: 'none', tags: { next: '1.2.0' } });
    await h.publish('all-bad', '1.0.0', { verdict: 'rejected', reason: 'reverse shell to 127.0.0.1:4444' });
    await h.publish('all-bad', '1.0.1', { verdict: 'review', reason: 'network during install' });
  });
  after(() => h.close());

  test('scoped packument in all three URL forms: approved versions served, the others listed as refused', async () => {
    const bodies = [];
    for (const path of ['/@scope%2fpkg', '/@scope%2Fpkg', '/@scope/pkg']) {
      const { response, body } = await getJson(h.url + path);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      bodies.push(body);
    }
    assert.deepEqual(bodies[0], bodies[1]);
    assert.deepEqual(bodies[0], bodies[2]);
    const doc = bodies[0]!;
    const served = Object.keys(doc.versions).filter((v) => doc.versions[v].deprecated === undefined);
    assert.deepEqual(served.sort(), ['1.0.0', '1.1.0-beta.1']);
    assert.deepEqual(doc['dist-tags'], { latest: '1.0.0', beta: '1.1.0-beta.1' });
    assert.equal(doc.versions['1.0.0'].dist.tarball, `${h.url}/@scope/pkg/-/pkg-1.0.0.tgz`);
    // Refused versions say why in `deprecated` and in their tarball URL, with nothing to install.
    const rejected = doc.versions['1.1.0'];
    assert.equal(
      rejected.deprecated,
      `secure-registry refused @scope/pkg@1.1.0: rejected: honeytoken sent to exfil.test | evidence: ${h.url}/api/v1/packages/@scope/pkg/1.1.0 or \`secure-registry review @scope/pkg@1.1.0\`; pick another version, or ask a reviewer to decide again`,
    );
    assert.equal(
      rejected.dist.tarball,
      `${h.url}/@scope/pkg/-/refused/rejected-honeytoken-sent-to-exfil.test--see-secure-registry-review-@scope+pkg@1.1.0/pkg-1.1.0.tgz`,
    );
    assert.deepEqual(Object.keys(rejected).sort(), ['deprecated', 'dist', 'name', 'version']);
    assert.deepEqual(Object.keys(rejected.dist), ['tarball'], 'no integrity: no cache can satisfy it');
    assert.match(
      doc.versions['1.2.0'].deprecated,
      /^secure-registry refused @scope\/pkg@1\.2\.0: not yet vetted \| vet it first/,
    );
    assert.deepEqual(Object.keys(doc.time).sort(), [
      '1.0.0',
      '1.1.0',
      '1.1.0-beta.1',
      '1.2.0',
      'created',
      'modified',
    ]);
    // The refused URL is refused like the plain one, whatever words it carries.
    for (const url of [rejected.dist.tarball, `${h.url}/@scope/pkg/-/refused/approved/pkg-1.1.0.tgz`]) {
      const refused = await getJson(url);
      assert.equal(refused.response.status, 403, url);
      assert.equal(refused.body!.error, rejected.deprecated);
    }
    const servedUrl = await fetch(`${h.url}/@scope/pkg/-/refused/anything/pkg-1.0.0.tgz`);
    assert.equal(servedUrl.status, 200, 'an approved version is served under any words');
    await servedUrl.arrayBuffer();
  });

  test('abbreviated form with the npm Accept header', async () => {
    const { response, body } = await getJson(`${h.url}/@scope%2fpkg`, { accept: ABBREVIATED });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/vnd\.npm\.install-v1\+json/);
    assert.deepEqual(Object.keys(body!), ['name', 'modified', 'dist-tags', 'versions']);
    assert.deepEqual(body!.versions['1.0.0'].dependencies, { 'left-pad': '^1.0.0' });
  });

  test('ETag and Last-Modified give 304; a new verdict changes the ETag', async () => {
    const first = await fetch(`${h.url}/@scope/pkg`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    const lastModified = first.headers.get('last-modified');
    assert.ok(etag && lastModified);
    const cached = await fetch(`${h.url}/@scope/pkg`, { headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    const since = await fetch(`${h.url}/@scope/pkg`, { headers: { 'if-modified-since': lastModified } });
    assert.equal(since.status, 304);
    const abbreviated = await fetch(`${h.url}/@scope/pkg`, {
      headers: { 'if-none-match': etag, accept: ABBREVIATED },
    });
    assert.equal(abbreviated.status, 200, 'the abbreviated form has its own ETag');
    await abbreviated.arrayBuffer();

    const { integrity, bytes } = await h.publish('@scope/pkg', '1.3.0', { verdict: 'none' });
    await h.store.upsertArtifact(
      { name: '@scope/pkg', version: '1.3.0', integrity },
      { verdict: 'approved', storagePath: await h.artifacts.put(bytes) },
    );
    const changed = await getJson(`${h.url}/@scope/pkg`, { 'if-none-match': etag });
    assert.equal(changed.response.status, 200);
    assert.notEqual(changed.response.headers.get('etag'), etag);
    assert.equal(changed.body!['dist-tags'].latest, '1.3.0');
  });

  test('an approved artifact whose integrity differs from upstream is not served', async () => {
    await h.publish('swapped', '1.0.0');
    await h.publish('swapped', '1.0.1');
    // Upstream now publishes other bytes for 1.0.1 (same version, new integrity).
    const doc = h.upstream.packuments.get('swapped')!;
    (doc.versions as Record<string, { dist: { integrity: string } }>)['1.0.1']!.dist.integrity =
      'sha512-b3RoZXI=';
    const { body } = await getJson(`${h.url}/swapped`);
    assert.deepEqual(Object.keys(body!.versions).sort(), ['1.0.0', '1.0.1']);
    assert.equal(body!.versions['1.0.0'].deprecated, undefined);
    assert.match(body!.versions['1.0.1'].deprecated, /differs from the upstream tarball/);
    assert.equal(body!['dist-tags'].latest, '1.0.0');
  });

  test('no approved version: 404 with the reasons', async () => {
    const { response, body } = await getJson(`${h.url}/all-bad`);
    assert.equal(response.status, 404);
    assert.equal(
      body!.error,
      `secure-registry: no approved version of all-bad: 1 rejected, 1 held for review (1.0.0: rejected: reverse shell to 127.0.0.1:4444) | evidence: ${h.url}/api/v1/packages/all-bad/1.0.0 or \`secure-registry review all-bad@1.0.0\`; pick another version, or ask a reviewer to decide again`,
    );
    assert.equal(response.statusText, `Not Found - ${body!.error}`, 'pnpm and yarn print the status line');
    // pnpm prints no 404 reason for a dependency, only refused tarball URLs: it gets the refused versions.
    const forPnpm = await getJson(`${h.url}/all-bad`, {
      'user-agent': 'pnpm/12.21.0 npm/? node/? linux x64',
    });
    assert.equal(forPnpm.response.status, 200);
    assert.deepEqual(forPnpm.body!['dist-tags'], { latest: '1.0.1' });
    assert.deepEqual(Object.keys(forPnpm.body!.versions).sort(), ['1.0.0', '1.0.1']);
    assert.match(
      forPnpm.body!.versions['1.0.1'].dist.tarball,
      /\/all-bad\/-\/refused\/held-for-review-network-during-install--see-secure-registry-review-all-bad@1\.0\.1\/all-bad-1\.0\.1\.tgz$/,
    );
    const notUpstream = await getJson(`${h.url}/not-anywhere`, { 'user-agent': 'pnpm/12.21.0' });
    assert.equal(notUpstream.response.status, 404);
    const missing = await getJson(`${h.url}/not-anywhere`);
    assert.equal(missing.response.status, 404);
    assert.equal(missing.body!.error, 'not-anywhere is not in the upstream registry');
  });

  test('invalid and hostile names get a JSON 404 and never reach upstream', async () => {
    for (const path of ['/__proto__', '/%2e%2e', '/@scope%2f..%2f..', '/a%ZZ', '/constructor%2fprototype']) {
      const { response, body } = await getJson(h.url + path);
      // Fastify itself answers 400 to a malformed percent-encoding.
      assert.equal(response.status, path === '/a%ZZ' ? 400 : 404, path);
      assert.equal(typeof body!.error, 'string');
    }
    assert.equal(h.upstream.hits.get('__proto__'), undefined);
  });

  test('a version or tag manifest', async () => {
    const { body } = await getJson(`${h.url}/@scope%2fpkg/beta`);
    assert.equal(body!.version, '1.1.0-beta.1');
    assert.equal(body!.dist.tarball, `${h.url}/@scope/pkg/-/pkg-1.1.0-beta.1.tgz`);
    const refused = await getJson(`${h.url}/@scope%2fpkg/1.1.0`);
    assert.equal(refused.response.status, 404);
  });

  test('identical concurrent packument requests share one upstream fetch', async () => {
    await h.publish('popular', '1.0.0');
    h.upstream.hits.delete('popular');
    // Long enough that all ten requests are in flight before the first upstream answer, even on
    // a loaded machine.
    h.upstream.delayMs = 1500;
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(`${h.url}/popular`)));
      for (const response of responses) {
        assert.equal(response.status, 200);
        await response.arrayBuffer();
      }
    } finally {
      h.upstream.delayMs = 0;
    }
    assert.equal(h.upstream.hits.get('popular'), 1);
  });
});

describe('registry packument routes while the upstream is down', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.publish('offline-pkg', '1.0.0', { manifest: { dependencies: { a: '1' } } });
    await h.publish('offline-pkg', '2.0.0', {
      manifest: { bin: { op: 'cli.js' } },
      reports: {
        upstream: {
          manifest: {
            name: 'offline-pkg',
            version: '2.0.0',
            bin: { op: 'cli.js' },
            dist: { integrity: 'x' },
          },
          time: '2024-02-02T00:00:00.000Z',
        },
      },
    });
    await h.publish('offline-pkg', '3.0.0', { verdict: 'rejected', reason: 'bad' });
    h.upstream.mode = 'error';
  });
  after(() => h.close());

  test('vetted versions keep being served from the store', async () => {
    const { response, body } = await getJson(`${h.url}/offline-pkg`);
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(body!.versions).sort(), ['1.0.0', '2.0.0']);
    assert.equal(body!['dist-tags'].latest, '2.0.0');
    assert.deepEqual(
      body!.versions['1.0.0'].dependencies,
      { a: '1' },
      'manifest read from the stored tarball',
    );
    assert.equal(body!.time['2.0.0'], '2024-02-02T00:00:00.000Z', 'recorded upstream time kept');
    const stored = await h.store.listArtifactsByName('offline-pkg');
    const v2 = stored.find((record) => record.version === '2.0.0')!;
    assert.equal(body!.versions['2.0.0'].dist.integrity, v2.integrity);
    assert.equal(body!.versions['2.0.0'].dist.tarball, `${h.url}/offline-pkg/-/offline-pkg-2.0.0.tgz`);

    const tarball = await fetch(`${h.url}/offline-pkg/-/offline-pkg-1.0.0.tgz`);
    assert.equal(tarball.status, 200);
    assert.equal((await tarball.arrayBuffer()).byteLength > 0, true);
  });

  test('a name never vetted is a 404 saying the upstream is unreachable', async () => {
    const { response, body } = await getJson(`${h.url}/never-seen`);
    assert.equal(response.status, 404);
    assert.match(body!.error, /upstream registry is unreachable/);
  });
});
