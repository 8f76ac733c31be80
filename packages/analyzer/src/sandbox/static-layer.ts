// What the sandbox takes read-only from the host — node, the runner's support packages (npm's
// node_modules), node-gyp's headers — copied once per process into a tmpfs of its own, at the paths
// they have in the sandbox. Bound from there, every such mount in /proc/self/mountinfo has its root
// equal to where it is mounted (as a real machine's file systems do), instead of naming where this
// host keeps them (a checkout, a global install under @secure-registry, a CI runner's tool cache).
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mountTmpfs, runCommand } from './host-ops.js';
import { NODE_GYP_SHIM, type NodeHeaders } from './native-build.js';
import { copyPackages } from './place-packages.js';
import { supportPackages } from './prepare-run.js';
import { NODE_IN_SANDBOX, NPM_DIR_IN_SANDBOX } from './sandbox-env.js';
import { initLink } from './sandbox-process.js';

/** npm's node_modules in the sandbox: the support packages and npm's node-gyp shim, one mount. */
export const NPM_MODULES_IN_SANDBOX = `${NPM_DIR_IN_SANDBOX}/node_modules`;

export interface StaticLayer {
  /** The layer's root on the host: `root + path-in-sandbox` is the file to bind. */
  root: string;
  /** Whether it is a tmpfs of its own (else a plain directory: mount roots name the host path). */
  ownFileSystem: boolean;
}

const layers = new Map<string, Promise<StaticLayer>>();
const headerCopies = new Map<string, Promise<void>>();

/** The layer for this node binary (made on first use; removed when the process exits). */
export function staticLayer(nodePath: string): Promise<StaticLayer> {
  let layer = layers.get(nodePath);
  if (!layer) {
    layer = makeLayer(nodePath, join(dirname(initLink()), `static-${layers.size}`));
    layers.set(nodePath, layer);
    layer.catch(() => layers.delete(nodePath));
  }
  return layer;
}

async function makeLayer(nodePath: string, root: string): Promise<StaticLayer> {
  await mkdir(root, { recursive: true });
  // Node alone is ~130 MB; the size is a ceiling, tmpfs holds only what is written.
  const ownFileSystem = await mountTmpfs(root, { sizeMb: 1024, uid: 0, gid: 0 });
  if (ownFileSystem) unmountAtExit(root);
  await chmod(root, 0o755);
  const at = (path: string): string => join(root, path);
  await mkdir(dirname(at(NODE_IN_SANDBOX)), { recursive: true });
  // Copied by `cp` processes, not through this process's event loop and thread pool: the first
  // sandbox run waits for this copy, and during a cold scan those are busy with hundreds of
  // artifacts' downloads, static analyses and extractions (the copy took 23 s there, not 2).
  const copied = await runCommand('cp', ['--', nodePath, at(NODE_IN_SANDBOX)], { timeoutMs: 300_000 });
  if (copied.code !== 0) throw new Error(`copying node failed: ${copied.stderr.trim().slice(0, 500)}`);
  await chmod(at(NODE_IN_SANDBOX), 0o755);
  await copyPackages(
    supportPackages().map((support) => ({
      from: support.hostDir,
      to: at(`${NPM_MODULES_IN_SANDBOX}/${support.name}`),
    })),
  );
  const shim = at(`${NPM_DIR_IN_SANDBOX}/${NODE_GYP_SHIM.path}`);
  await mkdir(dirname(shim), { recursive: true });
  await writeFile(shim, NODE_GYP_SHIM.content, { mode: 0o755 });
  return { root, ownFileSystem };
}

/** node-gyp's headers in the layer at `pathInSandbox` (copied once per layer and version). */
export async function staticHeaders(
  layer: StaticLayer,
  headers: NodeHeaders,
  pathInSandbox: string,
): Promise<string> {
  const target = join(layer.root, pathInSandbox);
  const key = `${layer.root}\0${pathInSandbox}`;
  let copy = headerCopies.get(key);
  if (!copy) {
    copy = copyPackages([{ from: headers.hostDir, to: target }]);
    headerCopies.set(key, copy);
    copy.catch(() => headerCopies.delete(key));
  }
  await copy;
  return target;
}

const mounted = new Set<string>();
function unmountAtExit(root: string): void {
  if (mounted.size === 0)
    process.once('exit', () => {
      for (const dir of mounted) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
    });
  mounted.add(root);
}
