import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_UPSTREAM, configuredRegistry, parseNpmrcRegistry } from './npmrc.js';

test('registry= is read from npmrc text, ignoring comments and scoped registries', () => {
  assert.equal(
    parseNpmrcRegistry(
      '# registry=http://no.test/\n@x:registry=http://scoped.test/\nregistry = "http://r.test/"\n',
    ),
    'http://r.test/',
  );
  assert.equal(parseNpmrcRegistry('; nothing\n'), undefined);
});

test('precedence: npm_config_registry, project .npmrc, user .npmrc, then the public registry', async () => {
  const project = await mkdtemp(join(tmpdir(), 'sr-npmrc-p-'));
  const home = await mkdtemp(join(tmpdir(), 'sr-npmrc-h-'));
  try {
    assert.equal(configuredRegistry({ env: {}, cwd: project, home }), DEFAULT_UPSTREAM);
    await writeFile(join(home, '.npmrc'), 'registry=http://user.test/\n');
    assert.equal(configuredRegistry({ env: {}, cwd: project, home }), 'http://user.test/');
    await writeFile(join(project, '.npmrc'), 'registry=http://project.test/\n');
    assert.equal(configuredRegistry({ env: {}, cwd: project, home }), 'http://project.test/');
    assert.equal(
      configuredRegistry({ env: { npm_config_registry: 'http://env.test/' }, cwd: project, home }),
      'http://env.test/',
    );
  } finally {
    await rm(project, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
});
