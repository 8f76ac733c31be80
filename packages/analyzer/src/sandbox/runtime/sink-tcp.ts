// TCP part of the fake internet. Every TCP destination is DNAT-ed to one port; the first bytes decide:
// TLS (intercepted with a per-run CA; SNI recorded when the client refuses it), HTTP, or raw TCP.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { issueLeafCertificate, type PemPair } from '../tls-ca.js';
import type { SinkRecord } from '../sink-protocol.js';

type Record = (record: SinkRecord) => void;

interface Origin {
  address: string;
  port: number;
  /** The client's local port: joins records of one connection to its `conn` record. */
  clientPort: number;
}

const plainAddress = (address: string | undefined): string => (address ?? '').replace(/^::ffff:/, '');

/** The destination port before DNAT, from the connection-tracking table of this network namespace. */
function originalPort(clientPort: number, sinkPort: number): number | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/nf_conntrack', 'utf8');
  } catch {
    return undefined;
  }
  const tuple = /src=\S+ dst=\S+ sport=(\d+) dport=(\d+) .*?src=\S+ dst=\S+ sport=(\d+) dport=(\d+)/;
  for (const line of table.split('\n')) {
    if (!line.includes(`dport=${clientPort}`)) continue;
    const m = tuple.exec(line);
    if (m && Number(m[3]) === sinkPort && Number(m[4]) === clientPort && Number(m[1]) === clientPort)
      return Number(m[2]);
  }
  return undefined;
}

/** Where each accepted stream (proxy or TLS socket) was originally headed. */
const origins = new WeakMap<object, Origin>();

function responseFor(path: string): { type: string; body: string } {
  if (path.includes('/-/whoami'))
    return { type: 'application/json', body: '{"username":"maria-keller-dev"}' };
  if (/\.(sh|bash)(\?|$)/.test(path)) return { type: 'text/x-sh', body: '#!/bin/sh\nexit 0\n' };
  if (/\.(json)(\?|$)/.test(path) || path.startsWith('/api') || path.startsWith('/latest/'))
    return { type: 'application/json', body: '{}' };
  return { type: 'text/plain', body: 'ok\n' };
}

function makeHttpHandler(record: Record, maxCapture: number, isTls: boolean): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size - chunk.length < maxCapture) chunks.push(chunk);
    });
    req.on('end', () => {
      const origin = origins.get(req.socket);
      const headers: { [k: string]: string } = {};
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        headers[(req.rawHeaders[i] ?? '').toLowerCase()] = req.rawHeaders[i + 1] ?? '';
      record({
        t: 'http',
        ts: Date.now() / 1000,
        method: req.method ?? 'GET',
        host: headers.host ?? origin?.address ?? '',
        path: req.url ?? '/',
        tls: isTls,
        headers,
        body: Buffer.concat(chunks).subarray(0, maxCapture).toString('utf8'),
        bodySize: size,
        address: origin?.address ?? '',
        port: origin?.port ?? 0,
        ...(origin ? { clientPort: origin.clientPort } : {}),
      });
      const reply = responseFor(req.url ?? '/');
      res.writeHead(200, { 'content-type': reply.type, server: 'nginx' });
      res.end(reply.body);
    });
    req.on('error', () => undefined);
  };
}

export interface TcpSink {
  close(): void;
  /** Writes out raw streams still open. */
  flush(): void;
}

export async function startTcpSink(options: {
  port: number;
  ca: PemPair;
  leafKey: { privateKeyPem: string; publicKeyPem: string };
  record: Record;
  maxCapture: number;
  /** The sandbox process owning a client socket, by its local port. */
  ownerOf?: (protocol: 'tcp' | 'udp', port: number) => number | undefined;
}): Promise<TcpSink> {
  const { port, ca, leafKey, record, maxCapture, ownerOf } = options;
  const contexts = new Map<string, tls.SecureContext>();
  const contextFor = (host: string): tls.SecureContext => {
    let ctx = contexts.get(host);
    if (!ctx) {
      const cert = issueLeafCertificate({ host, ca, leafPublicKeyPem: leafKey.publicKeyPem });
      ctx = tls.createSecureContext({ cert: `${cert}${ca.certPem}`, key: leafKey.privateKeyPem });
      contexts.set(host, ctx);
    }
    return ctx;
  };
  const httpServer = http.createServer(makeHttpHandler(record, maxCapture, false));
  const httpsServer = http.createServer(makeHttpHandler(record, maxCapture, true));
  const defaultContext = contextFor('localhost');
  const interceptTls = (proxy: Duplex, origin: Origin): void => {
    const socket = new tls.TLSSocket(proxy, {
      isServer: true,
      secureContext: defaultContext,
      SNICallback: (servername: string, cb: (error: Error | null, ctx?: tls.SecureContext) => void) => {
        try {
          cb(null, contextFor(servername));
        } catch (error) {
          cb(error as Error);
        }
      },
    });
    origins.set(socket, origin);
    const sni = (): string => (typeof socket.servername === 'string' ? socket.servername : '');
    let reported = false;
    socket.on('secure', () => {
      reported = true;
      record({
        t: 'tls',
        ts: Date.now() / 1000,
        sni: sni(),
        intercepted: true,
        address: origin.address,
        port: origin.port,
        clientPort: origin.clientPort,
      });
      httpsServer.emit('connection', socket);
    });
    const refused = (): void => {
      if (reported) return;
      reported = true;
      record({
        t: 'tls',
        ts: Date.now() / 1000,
        sni: sni(),
        intercepted: false,
        address: origin.address,
        port: origin.port,
        clientPort: origin.clientPort,
      });
    };
    socket.on('error', refused);
    socket.on('close', refused);
  };

  const raw = new Map<net.Socket, { origin: Origin; chunks: Buffer[]; size: number; written: boolean }>();
  const writeRaw = (socket: net.Socket): void => {
    const entry = raw.get(socket);
    if (!entry || entry.written) return;
    entry.written = true;
    record({
      t: 'tcp',
      ts: Date.now() / 1000,
      address: entry.origin.address,
      port: entry.origin.port,
      clientPort: entry.origin.clientPort,
      data: Buffer.concat(entry.chunks).subarray(0, maxCapture).toString('utf8'),
    });
  };

  const server = net.createServer((socket) => {
    const clientPort = socket.remotePort ?? 0;
    const origin: Origin = {
      address: plainAddress(socket.localAddress),
      port: originalPort(clientPort, port) ?? socket.localPort ?? 0,
      clientPort,
    };
    const pid = ownerOf?.('tcp', clientPort);
    record({
      t: 'conn',
      ts: Date.now() / 1000,
      address: origin.address,
      port: origin.port,
      clientPort,
      ...(pid !== undefined ? { pid } : {}),
    });
    socket.on('error', () => undefined);
    // Servers that speak first (SSH, SMTP) get nothing; most clients send within a moment.
    const idle = setTimeout(() => {
      raw.set(socket, { origin, chunks: [], size: 0, written: false });
    }, 1500);
    socket.once('data', (first: Buffer) => {
      clearTimeout(idle);
      socket.pause();
      socket.unshift(first);
      if (first[0] === 0x16) {
        interceptTls(proxyOf(socket, origin), origin);
      } else if (/^[A-Z]{3,10} \S+ HTTP\/1\.[01]\r?\n/.test(first.subarray(0, 2048).toString('latin1'))) {
        httpServer.emit('connection', proxyOf(socket, origin));
      } else {
        const entry = { origin, chunks: [] as Buffer[], size: 0, written: false };
        raw.set(socket, entry);
        socket.on('data', (chunk: Buffer) => {
          if (entry.size < maxCapture) entry.chunks.push(chunk);
          entry.size += chunk.length;
          if (entry.size >= maxCapture) writeRaw(socket);
        });
        socket.on('close', () => writeRaw(socket));
        // A reverse shell waits for commands: keep it open, record what it sent so far after a moment.
        setTimeout(() => writeRaw(socket), 2000).unref();
      }
      socket.resume();
    });
    socket.on('close', () => {
      clearTimeout(idle);
      const entry = raw.get(socket);
      if (entry && !entry.written) writeRaw(socket);
    });
  });
  await listenDual(server, port);
  return {
    close: () => {
      server.close();
      for (const socket of raw.keys()) socket.destroy();
    },
    flush: () => {
      for (const socket of raw.keys()) writeRaw(socket);
    },
  };
}

/**
 * A JS stream over the accepted socket. TLS and HTTP servers read a native socket's handle directly and
 * would miss the bytes already read for sniffing; through a JS stream they see everything.
 */
function proxyOf(socket: net.Socket, origin: Origin): Duplex {
  const proxy = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, () => callback());
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!proxy.push(chunk)) socket.pause();
  });
  socket.on('end', () => proxy.push(null));
  socket.on('close', () => proxy.destroy());
  origins.set(proxy, origin);
  return proxy;
}

export async function listenDual(server: net.Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '::', ipv6Only: false }, () => resolve());
    });
  } catch {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '0.0.0.0' }, () => resolve());
    });
  }
}
