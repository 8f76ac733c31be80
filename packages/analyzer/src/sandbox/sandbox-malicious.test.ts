import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { join } from 'node:path';
import { describeRun, MALICIOUS, ofKind, runFixture, timings, token } from './test-support/fixtures.js';

describe('sandbox: malicious fixtures produce their evidence', { concurrency: 3 }, () => {
  after(() => {
    for (const t of timings)
      process.stdout.write(`# sandbox timing ${t.fixture} ${t.phase}: ${t.ms} ms (${t.status})\n`);
  });

  test('exfil-https: env honeytokens POSTed over intercepted HTTPS to exfil.example', async () => {
    const run = await runFixture(join(MALICIOUS, 'exfil-https'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const npmToken = token(run, 'env:NPM_TOKEN');
    const post = ofKind(run, 'http').find((e) => e.host === 'exfil.example' && e.method === 'POST');
    assert.ok(post, describeRun(run));
    if (!post) return;
    assert.equal(post.tls, true);
    assert.ok(post.body.includes(npmToken), 'the NPM_TOKEN honeytoken is in the captured body');
    assert.ok(ofKind(run, 'tls').some((e) => e.sni === 'exfil.example' && e.intercepted));
    assert.ok(ofKind(run, 'dns').some((e) => e.name === 'exfil.example'));
    const connect = ofKind(run, 'connect').find((e) => e.protocol === 'tcp' && e.port === 443);
    assert.equal(connect?.host, 'exfil.example');
    assert.ok(ofKind(run, 'process').some((e) => e.argv.join(' ') === 'sh -c node telemetry.js'));
    assert.ok(run.events.every((e) => e.package === 'fixture-exfil-https@1.0.3'));
  });
});
