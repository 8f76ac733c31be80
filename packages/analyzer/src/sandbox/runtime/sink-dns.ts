// DNS part of the fake internet: answers A/AAAA/TXT queries with a sink address and records every query.
// With a list of names to resolve, every other name gets NXDOMAIN (a fake internet that resolves made-up
// names gives itself away).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import dnsPacket from 'dns-packet';
import type { SinkRecord } from '../sink-protocol.js';

type Record = (record: SinkRecord) => void;

/** Hands out one address per name from 198.18.0.0/15 (benchmarking range), so connections map back to names. */
export class AddressBook {
  private next = 10;
  private readonly byName = new Map<string, number>();

  indexOf(name: string): number {
    const key = name.toLowerCase();
    let n = this.byName.get(key);
    if (n === undefined) {
      n = this.next++;
      this.byName.set(key, n);
    }
    return n;
  }

  ipv4(name: string): string {
    const n = this.indexOf(name);
    return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
  }

  ipv6(name: string): string {
    const v4 = this.ipv4(name).split('.').map(Number);
    const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
    return `64:ff9b::${hex(v4[0] ?? 0, v4[1] ?? 0)}:${hex(v4[2] ?? 0, v4[3] ?? 0)}`;
  }
}

/** Which names resolve: all, or only those listed. */
export type Resolves = (name: string) => boolean;

/** The resolver policy for a list of names (absent: every name). Pure. */
export function resolverFor(names: string[] | undefined): Resolves {
  if (names === undefined) return () => true;
  const known = new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')));
  return (name) => known.has(name.toLowerCase().replace(/\.$/, ''));
}

function answer(
  query: Buffer,
  book: AddressBook,
  record: Record,
  transport: 'udp' | 'tcp',
  pid: number | undefined,
  resolves: Resolves,
): Buffer | undefined {
  let packet: dnsPacket.Packet;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  const answers: dnsPacket.Answer[] = [];
  let unknown = false;
  for (const q of packet.questions ?? []) {
    const known = resolves(q.name);
    unknown ||= !known;
    let data: string | undefined;
    if (known && q.type === 'A') data = book.ipv4(q.name);
    else if (known && q.type === 'AAAA') data = book.ipv6(q.name);
    record({
      t: 'dns',
      ts: Date.now() / 1000,
      name: q.name,
      qtype: q.type,
      answer: data,
      ...(known ? {} : { rcode: 'NXDOMAIN' as const }),
      transport,
      ...(pid !== undefined ? { pid } : {}),
    });
    if (data) answers.push({ type: q.type as 'A', name: q.name, ttl: 60, class: 'IN', data });
    else if (known && q.type === 'TXT')
      answers.push({ type: 'TXT', name: q.name, ttl: 60, class: 'IN', data: ['v=spf1 -all'] });
  }
  const rcode = unknown ? 3 : 0; // NXDOMAIN : NOERROR
  return dnsPacket.encode({
    id: packet.id ?? 0,
    type: 'response',
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: packet.questions ?? [],
    answers: unknown ? [] : answers,
  });
}

export async function startDns(options: {
  port: number;
  book: AddressBook;
  record: Record;
  /** The sandbox process owning a client socket, by its local port. */
  ownerOf?: (protocol: 'tcp' | 'udp', port: number) => number | undefined;
  resolves?: Resolves;
}): Promise<() => void> {
  const { port, book, record, ownerOf } = options;
  const resolves = options.resolves ?? resolverFor(undefined);
  const closers: (() => void)[] = [];
  for (const type of ['udp4', 'udp6'] as const) {
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
    socket.on('message', (msg, rinfo) => {
      const reply = answer(msg, book, record, 'udp', ownerOf?.('udp', rinfo.port), resolves);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    socket.on('error', () => undefined);
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, type === 'udp4' ? '0.0.0.0' : '::', () => resolve(true));
    });
    if (bound) closers.push(() => socket.close());
    else if (type === 'udp4') throw new Error(`DNS sink could not bind udp ${port}`);
  }
  const tcp = net.createServer((socket) => {
    const pid = ownerOf?.('tcp', socket.remotePort ?? 0);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const reply = answer(buffered.subarray(2, 2 + length), book, record, 'tcp', pid, resolves);
        buffered = buffered.subarray(2 + length);
        if (reply) {
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port, host: '::', ipv6Only: false }, () => resolve());
  });
  closers.push(() => tcp.close());
  return () => closers.forEach((close) => close());
}
