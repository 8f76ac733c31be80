import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeRun, MALICIOUS, ofKind, runFixture, token } from './test-support/fixtures.js';
import { dnsNamesAsked } from './variants.js';

describe('sandbox variants: strict DNS and the CI environment', { concurrency: 2 }, () => {
  test('a DNS probe: quiet when every name resolves; under strict DNS it tries, and with the names asked answered it exfiltrates', async () => {
    const dir = join(MALICIOUS, 'dns-probe-evasion');
    const fake = await runFixture(dir, 'install', { graceMs: 1_000 });
    assert.equal(fake.status, 'completed', describeRun(fake));
    assert.deepEqual(ofKind(fake, 'http'), [], 'a fake internet resolving the probe is recognised');

    const strict = await runFixture(dir, 'install', { graceMs: 1_000, dnsAnswers: [] });
    assert.equal(strict.status, 'completed', describeRun(strict));
    const asked = dnsNamesAsked(strict.events);
    assert.ok(asked.includes('nx-exfil.example'), describeRun(strict));
    assert.ok(asked.some((n) => n.endsWith('.probe.invalid')));
    assert.deepEqual(ofKind(strict, 'http'), []);

    const answered = await runFixture(dir, 'install', { graceMs: 1_000, dnsAnswers: asked });
    assert.equal(answered.status, 'completed', describeRun(answered));
    const post = ofKind(answered, 'http').find((e) => e.host === 'nx-exfil.example' && e.method === 'POST');
    assert.ok(post?.body.includes(token(answered, 'env:NPM_TOKEN')), describeRun(answered));
    const fresh = dnsNamesAsked(answered.events).filter(
      (n) => n.endsWith('.probe.invalid') && !asked.includes(n),
    );
    assert.equal(fresh.length, 1, 'a fresh made-up name, which still got NXDOMAIN');
  });

  test('a CI-only payload acts on the CI runner variant, not on the developer laptop', async () => {
    const dir = join(MALICIOUS, 'ci-only-exfil');
    const laptop = await runFixture(dir, 'install', { graceMs: 1_000, dnsAnswers: ['ci-loot.example'] });
    assert.equal(laptop.status, 'completed', describeRun(laptop));
    assert.deepEqual(ofKind(laptop, 'http'), []);
    const ci = await runFixture(dir, 'install', {
      graceMs: 1_000,
      dnsAnswers: ['ci-loot.example'],
      environment: 'ci',
    });
    assert.equal(ci.status, 'completed', describeRun(ci));
    const post = ofKind(ci, 'http').find((e) => e.host === 'ci-loot.example');
    assert.ok(post?.body.includes('"GITHUB_ACTIONS":"true"'), describeRun(ci));
    assert.ok(post?.body.includes(token(ci, 'env:NPM_TOKEN')));
  });
});
