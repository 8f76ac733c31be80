import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { environmentHelp } from './config-help.js';
import { defaultDataDir, parseServerConfig } from './server-config.js';
import { DEFAULT_PORT, VARIABLES } from './variables.js';

const BASE = { SR_UPSTREAM_REGISTRY: 'http://up.test/', HOME: '/home/u' };

test('defaults: 127.0.0.1, the documented port, token auth, XDG data dir, sandbox on', () => {
  const { config, warnings } = parseServerConfig({ ...BASE, XDG_DATA_HOME: '/xdg' }, '/cwd');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, DEFAULT_PORT);
  assert.equal(config.auth, 'token');
  assert.equal(config.dataDir, '/xdg/secure-registry');
  assert.equal(config.upstream, 'http://up.test/');
  assert.deepEqual(config.sandbox, {});
  assert.equal(config.llm, undefined);
  assert.deepEqual(warnings, []);
  assert.equal(defaultDataDir(undefined, '/home/u'), '/home/u/.local/share/secure-registry');
  assert.equal(parseServerConfig({ ...BASE, SR_DATA_DIR: 'rel' }, '/cwd').config.dataDir, '/cwd/rel');
});

test('old names still work, with a warning; the SR_ name wins over the old one', () => {
  const { config, warnings } = parseServerConfig(
    { ...BASE, PORT: '81', SANDBOX: 'off', SR_HOST: '::1', HOST: '0.0.0.0', POLICY_FILE: 'p.json' },
    '/cwd',
  );
  assert.equal(config.port, 81);
  assert.equal(config.sandbox, false);
  assert.equal(config.host, '::1');
  assert.equal(config.policyFile, '/cwd/p.json');
  assert.deepEqual(warnings.map((warning) => warning.split(' ')[0]).sort(), [
    'POLICY_FILE',
    'PORT',
    'SANDBOX',
  ]);
  assert.match(warnings[0] ?? '', /deprecated: use SR_/);
});

test('the sandbox settings and the LLM investigator come from the same table', () => {
  const { config } = parseServerConfig(
    {
      ...BASE,
      SR_SANDBOX_TIMEOUT_MS: '90000',
      SR_SANDBOX_CONCURRENCY: '1',
      SR_LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: 'k',
    },
    '/cwd',
  );
  assert.deepEqual(config.sandbox, { timeoutMs: 90_000, concurrency: 1 });
  assert.equal(config.llm?.provider, 'anthropic');
  assert.equal(config.llm?.apiKey, 'k');
});

test('bad values name the variable as it was spelt', () => {
  for (const [name, value] of [
    ['SR_PORT', 'eighty'],
    ['PORT', '70000'],
    ['SR_CONCURRENCY', '0'],
    ['SR_AUTH', 'maybe'],
    ['SR_UPSTREAM_REGISTRY', 'not a url'],
    ['DATABASE_URL', 'mysql://x'],
    ['SR_BODY_LIMIT', '-1'],
    ['SR_LOG_LEVEL', 'loud'],
    ['SR_SANDBOX', 'maybe'],
    ['SANDBOX_TIMEOUT_MS', '-5'],
    ['SR_LLM_PROVIDER', 'other'],
    ['SR_VET_ON_DEMAND', '2'],
    ['SR_DATABASE_SCHEMA', 'x; drop table y'],
  ] as const) {
    assert.throws(
      () => parseServerConfig({ ...BASE, [name]: value }, '/cwd'),
      (error: Error & { code?: string }) =>
        error.code === 'ERR_SR_CONFIG' && error.message.startsWith(`${name}: `),
      `${name}=${value}`,
    );
  }
  assert.throws(
    () => parseServerConfig({ ...BASE, SR_LLM_PROVIDER: 'openai' }, '/cwd'),
    /OPENAI_API_KEY: required/,
  );
});

test('SR_DATABASE_SCHEMA picks the PostgreSQL schema of SR_DATABASE_URL, and means nothing without it', () => {
  const url = 'postgres://db.test/registry';
  const { config } = parseServerConfig(
    { ...BASE, SR_DATABASE_URL: url, SR_DATABASE_SCHEMA: 'replicas_1' },
    '/cwd',
  );
  assert.equal(config.databaseUrl, url);
  assert.equal(config.databaseSchema, 'replicas_1');
  assert.equal(parseServerConfig({ ...BASE, SR_DATABASE_URL: url }, '/cwd').config.databaseSchema, undefined);
  assert.throws(
    () => parseServerConfig({ ...BASE, SR_DATABASE_SCHEMA: 'replicas_1' }, '/cwd'),
    /SR_DATABASE_SCHEMA: is for PostgreSQL: set SR_DATABASE_URL too/,
  );
});

test('--help lists every variable of the table, and so does the README', async () => {
  const help = environmentHelp();
  const readme = await readFile(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## The sandbox'));
  for (const spec of Object.values(VARIABLES)) {
    assert.ok(help.includes(spec.name), `--help lacks ${spec.name}`);
    assert.ok(section.includes(`\`${spec.name}\``), `README's configuration lacks ${spec.name}`);
  }
  // …and the README documents no server variable the table does not have.
  const names = new Set(Object.values(VARIABLES).map((spec) => spec.name));
  for (const [, name] of section.matchAll(/`(SR_[A-Z_]+)`/g)) {
    assert.ok(names.has(name ?? ''), `README documents ${name}, which the server does not read`);
  }
});

test('the artifact store: the data directory by default, an S3 bucket with SR_ARTIFACT_STORE=s3', () => {
  assert.deepEqual(parseServerConfig(BASE, '/cwd').config.artifactStore, { kind: 'local' });
  assert.throws(
    () => parseServerConfig({ ...BASE, SR_ARTIFACT_STORE: 's3' }, '/cwd'),
    /SR_S3_BUCKET: required/,
  );
  const s3 = {
    ...BASE,
    SR_ARTIFACT_STORE: 's3',
    SR_S3_BUCKET: 'artifacts',
    SR_S3_PREFIX: 'prod/',
    SR_S3_ENDPOINT: 'http://127.0.0.1:9000',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
  };
  assert.deepEqual(parseServerConfig(s3, '/cwd').config.artifactStore, {
    kind: 's3',
    bucket: 'artifacts',
    prefix: 'prod/',
    endpoint: 'http://127.0.0.1:9000',
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: undefined },
  });
  const aws = { ...s3, SR_S3_ENDPOINT: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
  const onAws = parseServerConfig(aws, '/cwd').config.artifactStore;
  assert.ok(onAws.kind === 's3' && !onAws.forcePathStyle && onAws.credentials === undefined);
  assert.throws(() => parseServerConfig({ ...s3, AWS_SECRET_ACCESS_KEY: '' }, '/cwd'), /go together/);
  assert.throws(() => parseServerConfig({ ...s3, SR_S3_BUCKET: 'Bad_Bucket' }, '/cwd'), /SR_S3_BUCKET/);
});
