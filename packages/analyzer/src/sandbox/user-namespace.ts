// The sandbox's user namespace, made by the host (root) before bubblewrap starts: the developer's
// uid 1000 is the host's SANDBOX_HOST_UID, and root and the system users 0–999 are a block of other
// unprivileged host uids — so the sandbox has a root that is not the developer (its init and system
// processes are closed to the package, as on a real machine) and that owns nothing on the host.
// Nested user namespaces are disabled in it (user.max_user_namespaces = 0), as bubblewrap's
// --disable-userns did. One per run; a holder process keeps it alive until the run is over.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { killQuietly, runCommand as run } from './host-ops.js';
import type { Persona } from './layout.js';

/** Host uid (and gid) of the sandbox's uid 0; its uids 1–999 follow. Nothing on the host has them. */
export const SANDBOX_SYSTEM_HOST_UID = 62000;

export interface SandboxUserNamespace {
  /** /proc/PID/ns/user of the holder: `nsenter --user=` it. */
  path: string;
  close(): void;
}

/** uid_map / gid_map lines: the persona's id to `personaHostId`, 0–999 to SANDBOX_SYSTEM_HOST_UID… */
export function idMap(persona: Persona, personaHostId: number, kind: 'uid' | 'gid'): string {
  const inside = kind === 'uid' ? persona.uid : persona.gid;
  return `0 ${SANDBOX_SYSTEM_HOST_UID} 1000\n${inside} ${personaHostId} 1\n`;
}

const HOLDER = 'echo ready; exec sleep 2147483647';

/** Creates the namespace (as root); throws with the reason when the kernel refuses. */
export async function createUserNamespace(
  persona: Persona,
  personaHostId: number,
  env: Record<string, string>,
): Promise<SandboxUserNamespace> {
  const holder = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'unshare', '--user', '--', 'sh', '-c', HOLDER],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  );
  const close = (): void => killQuietly(holder.pid ?? -1);
  try {
    await holderSays(holder, 'ready');
    const proc = `/proc/${holder.pid}`;
    await writeFile(`${proc}/uid_map`, idMap(persona, personaHostId, 'uid'));
    await writeFile(`${proc}/gid_map`, idMap(persona, personaHostId, 'gid'));
    // As the namespace's root (nsenter's uid 0 there): the holder lost its capabilities when it
    // exec'd before the maps existed.
    const limit = await run(
      'nsenter',
      [`--user=${proc}/ns/user`, '--', 'sh', '-c', 'echo 0 > /proc/sys/user/max_user_namespaces'],
      { timeoutMs: 60_000 },
    );
    if (limit.code !== 0) throw new Error(`nested user namespaces stay allowed: ${limit.stderr.trim()}`);
    return { path: `${proc}/ns/user`, close };
  } catch (error) {
    close();
    throw new Error(`the sandbox's user namespace could not be made: ${(error as Error).message}`);
  }
}

function holderSays(holder: ChildProcess, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onOut = (d: Buffer): void => {
      out += d.toString();
      if (out.split('\n').includes(word)) {
        done();
        resolve();
      }
    };
    const onErr = (d: Buffer): void => void (err += d.toString());
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(err.trim() || `exit ${code}`));
    };
    const done = (): void => {
      holder.stdout?.off('data', onOut);
      holder.stderr?.off('data', onErr);
      holder.off('exit', onExit);
    };
    holder.stdout?.on('data', onOut);
    holder.stderr?.on('data', onErr);
    holder.once('exit', onExit);
    holder.once('error', (e) => {
      done();
      reject(e);
    });
  });
}
