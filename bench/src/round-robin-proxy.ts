/**
 * A TCP load balancer for the benches, as a deployment puts one in front of replicas: each new
 * client connection goes to the next backend in turn (per-connection round robin) and the two
 * sockets are piped both ways. It runs as its own process, so it does not share an event loop with
 * autocannon, and it is the same kind of hop whatever stands behind it (replicas or Verdaccio).
 * Usage: node bench/dist/round-robin-proxy.js http://127.0.0.1:PORT [http://127.0.0.1:PORT …]
 * (prints `listening on http://127.0.0.1:PORT` on stdout).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Proxy {
  url: string;
  stop(): Promise<void>;
}

function backendsOf(urls: readonly string[]): { host: string; port: number }[] {
  return urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port) };
  });
}

/** Listens on 127.0.0.1 and forwards each connection to the next of `targets`. */
export async function listenRoundRobin(targets: readonly string[]): Promise<{ port: number; close(): void }> {
  const backends = backendsOf(targets);
  if (backends.length === 0) throw new Error('a proxy needs at least one backend');
  let next = 0;
  const open = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    const backend = backends[next++ % backends.length]!;
    const upstream = connect({ ...backend, noDelay: true });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    // Either side failing ends both: the client sees a reset, as behind a real balancer.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      server.close();
      for (const socket of open) socket.destroy();
    },
  };
}

/** Starts the proxy as a child process in front of `targets`. */
export async function startRoundRobinProxy(targets: readonly string[]): Promise<Proxy> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...targets], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code}) before listening: ${output}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const proxy = await listenRoundRobin(process.argv.slice(2));
  process.stdout.write(`listening on http://127.0.0.1:${proxy.port}\n`);
  process.once('SIGTERM', () => {
    proxy.close();
    process.exitCode = 0;
  });
}
