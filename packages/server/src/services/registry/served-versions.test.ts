import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { ArtifactRecord } from '../../storage/store.js';
import { selectServedVersions, tarballConsistent } from './served-versions.js';

const artifact = (declared: Record<string, unknown> | undefined, hasBindingGyp = false) =>
  ({
    name: 'demo',
    version: '1.0.0',
    integrity: 'sha512-AAAA',
    verdict: 'approved',
    storagePath: 'x',
    reports: declared ? { static: { manifest: { found: true, hasBindingGyp, declared } } } : {},
  }) as unknown as ArtifactRecord;

describe('the served manifest follows the tarball (manifest confusion)', () => {
  const lying = {
    name: 'demo',
    version: '1.0.0',
    dependencies: { a: '^1.0.0' },
    dist: { integrity: 'sha512-AAAA', tarball: 'https://upstream.example/demo.tgz' },
  };

  test('scripts, dependencies and bin come from the tarball; hasInstallScript follows them', () => {
    const declared = {
      name: 'demo',
      version: '1.0.0',
      scripts: { postinstall: 'node x.js' },
      dependencies: { a: '^1.0.0', hidden: '2.0.0' },
      bin: { demo: 'cli.js' },
    };
    const served = tarballConsistent(lying, artifact(declared));
    assert.deepEqual(served.dependencies, declared.dependencies);
    assert.deepEqual(served.scripts, declared.scripts);
    assert.deepEqual(served.bin, declared.bin);
    assert.equal(served.hasInstallScript, true);
    assert.deepEqual(served.dist, lying.dist);
    // A field the tarball does not have is dropped, and so is a hasInstallScript it does not back.
    const plain = tarballConsistent(
      { ...lying, hasInstallScript: true, bin: { x: 'x' } },
      artifact({ name: 'demo' }),
    );
    assert.equal(plain.dependencies, undefined);
    assert.equal(plain.bin, undefined);
    assert.equal(plain.hasInstallScript, undefined);
    // Nothing recorded (an artifact analysed before the field existed): upstream's manifest as is.
    assert.equal(tarballConsistent(lying, artifact(undefined)), lying);
  });

  test('selectServedVersions serves the consistent manifest', () => {
    const [served] = selectServedVersions({
      upstream: { versions: { '1.0.0': lying } },
      records: [artifact({ name: 'demo', version: '1.0.0', dependencies: { b: '1.0.0' } })],
    });
    assert.deepEqual(served?.manifest.dependencies, { b: '1.0.0' });
  });
});
