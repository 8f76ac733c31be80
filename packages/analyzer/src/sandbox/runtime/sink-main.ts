// Entry point of the fake-internet sink. Trusted code: runs as root inside the sandbox's own network
// namespace (never package code). Usage: node sink-main.js <config.json>. Prints SINK_READY_LINE when
// every listener is up; on SIGTERM writes out open streams and exits.
import { appendFileSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { SINK_READY_LINE, type SinkConfig, type SinkRecord } from '../sink-protocol.js';
import { generateRsaKeyPem } from '../tls-ca.js';
import { AddressBook, resolverFor, startDns } from './sink-dns.js';
import { listenDual, startTcpSink } from './sink-tcp.js';
import { socketOwner } from './socket-owner.js';

async function main(): Promise<void> {
  const configPath = process.argv[2];
  if (!configPath) throw new Error('usage: sink-main <config.json>');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as SinkConfig;
  const record = (entry: SinkRecord): void => {
    appendFileSync(config.logPath, `${JSON.stringify(entry)}\n`);
  };
  const ca = { certPem: config.caCertPem, keyPem: config.caKeyPem };
  const leafKey = await generateRsaKeyPem();
  const book = new AddressBook();
  const uid = config.ownerUid;
  const ownerOf =
    uid === undefined
      ? undefined
      : (protocol: 'tcp' | 'udp', port: number): number | undefined => socketOwner(protocol, port, uid);
  const resolves = resolverFor(config.dnsAnswers);
  const closeDns = await startDns({ port: config.dnsPort, book, record, ownerOf, resolves });
  const tcp = await startTcpSink({
    port: config.tcpPort,
    ca,
    leafKey,
    record,
    maxCapture: config.maxCapture,
    ownerOf,
  });
  const decoys = net.createServer((socket) => {
    const pid = ownerOf?.('tcp', socket.remotePort ?? 0);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (text.length < config.maxCapture) text += chunk;
    });
    socket.on('end', () => {
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const parsed = JSON.parse(line) as { tool?: unknown; argv?: unknown; cwd?: unknown };
          record({
            t: 'decoy',
            ts: Date.now() / 1000,
            tool: String(parsed.tool),
            argv: Array.isArray(parsed.argv) ? parsed.argv.map(String) : [],
            cwd: typeof parsed.cwd === 'string' ? parsed.cwd : undefined,
            ...(pid !== undefined ? { pid } : {}),
          });
        } catch {
          record({
            t: 'decoy',
            ts: Date.now() / 1000,
            tool: 'unknown',
            argv: [line.slice(0, 1000)],
            ...(pid !== undefined ? { pid } : {}),
          });
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await listenDual(decoys, config.decoyPort);
  const stop = (): void => {
    tcp.flush();
    tcp.close();
    closeDns();
    decoys.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${SINK_READY_LINE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`sink failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
