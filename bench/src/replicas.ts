// The pipeline bench's server as several `secure-registry-server` processes (issue 9: "with two
// replicas on PostgreSQL the same cold scan finishes, every artifact analysed exactly once"): N built
// servers on one fresh PostgreSQL schema, each with its own data directory, sharing the work through
// the database. `report()` says who did what and whether any artifact was analysed twice.
// The registry bench (registry-vs-verdaccio --replicas) serves tarballs from them too: with
// `sharedArtifacts` every replica uses one data directory, so one local artifact store (the product's
// shape for replicas on one machine; S3 for many), and any replica can serve what another stored.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysesPerArtifact, freshSchema } from '@secure-registry/e2e/postgres';
import { startServerProcess } from '@secure-registry/e2e/server-process';
import type { ServerProcess } from '@secure-registry/e2e/server-process';

export interface Replicas {
  /** The replica scans are submitted to. */
  url: string;
  /** Every replica, submission target first. */
  urls: string[];
  /** Lines for the bench's output: jobs per replica, analyses per artifact. */
  report(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startReplicas(options: {
  count: number;
  databaseUrl: string;
  upstream: string;
  /** One data directory (so one local artifact store) for all replicas; default: one each. */
  sharedArtifacts?: boolean;
  /** More environment for every replica (e.g. SR_SANDBOX, NODE_OPTIONS). */
  env?: Record<string, string>;
}): Promise<Replicas> {
  const schema = freshSchema('bench_replicas', options.databaseUrl);
  const dataRoot = await mkdtemp(join(tmpdir(), 'sr-bench-replicas-'));
  const servers: ServerProcess[] = [];
  const close = async (): Promise<void> => {
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => server.exited));
    await schema.drop();
    await rm(dataRoot, { recursive: true, force: true });
  };
  try {
    // One at a time: the first creates the schema and runs the migrations (the others would wait
    // on the setup lock anyway).
    for (let i = 0; i < options.count; i++)
      servers.push(
        await startServerProcess(
          {
            SR_AUTH: 'none',
            SR_DATA_DIR: join(dataRoot, options.sharedArtifacts ? 'shared' : `replica-${i}`),
            SR_DATABASE_URL: options.databaseUrl,
            SR_DATABASE_SCHEMA: schema.name,
            SR_UPSTREAM_REGISTRY: options.upstream,
            SR_SANDBOX: process.env.SR_SANDBOX ?? 'on',
            ...options.env,
          },
          120_000,
        ),
      );
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url: servers[0]!.url,
    urls: servers.map((server) => server.url),
    async report() {
      const jobs = await schema.rows<{ worker_id: string | null; n: number }>(
        `SELECT worker_id, count(*)::int AS n FROM jobs WHERE status IN ('done', 'failed') GROUP BY 1`,
      );
      const perReplica = servers.map((server, i) => {
        const n = jobs
          .filter((row) => row.worker_id?.includes(`-${server.child.pid}-`))
          .reduce((sum, row) => sum + row.n, 0);
        return `replica ${i + 1} ${n}`;
      });
      const counts = [...(await analysesPerArtifact(schema)).values()];
      const analyses = counts.reduce((sum, count) => sum + count.analyses, 0);
      const once = counts.every((count) => count.analyses === 1 && count.done === 1);
      return [
        `replicas: ${servers.length} server processes on PostgreSQL schema ${schema.name}; jobs completed by ${perReplica.join(', ')}`,
        `every artifact analysed exactly once: ${once ? 'yes' : 'no'} (${counts.length} artifacts, ${analyses} analyses)`,
      ];
    },
    close,
  };
}
