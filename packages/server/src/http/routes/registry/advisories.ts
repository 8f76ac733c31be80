/** `POST /-/npm/v1/security/advisories/bulk`: rejected and held versions as npm advisories. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { buildBulkAdvisories, parseBulkRequest } from '../../../services/registry/index.js';
import type { ArtifactRecord } from '../../../storage/store.js';
import type { RegistryContext } from './context.js';

/** The most (decompressed) bytes a bulk request may have. */
export const BULK_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * A `preParsing` hook that decompresses a `Content-Encoding: gzip` (npm's default) or `deflate`
 * body, keeping Fastify's length checks on the encoded bytes and its limit on the decoded ones.
 */
export async function decompressBody(
  request: FastifyRequest,
  _reply: FastifyReply,
  payload: Readable,
): Promise<Readable> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw Object.assign(new Error(`unsupported content-encoding: ${encoding}`), { statusCode: 415 });
  }
  const decoder: Transform & { receivedEncodedLength?: number } =
    encoding === 'deflate' ? createInflate() : createGunzip();
  decoder.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    decoder.receivedEncodedLength = (decoder.receivedEncodedLength ?? 0) + chunk.length;
  });
  payload.on('error', (error) => decoder.destroy(error));
  decoder.on('error', () => payload.destroy());
  payload.pipe(decoder);
  return decoder;
}

export async function handleBulkAdvisories(
  context: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  let wanted: Map<string, string[]>;
  try {
    wanted = parseBulkRequest(request.body);
  } catch (error) {
    return reply.code(400).send({ error: (error as Error).message, code: 'ERR_SR_BAD_REQUEST' });
  }
  const recordsByName = new Map<string, readonly ArtifactRecord[]>();
  const names = [...wanted.keys()];
  const batch = 16;
  for (let start = 0; start < names.length; start += batch) {
    const slice = names.slice(start, start + batch);
    const lists = await Promise.all(slice.map((name) => context.deps.store.listArtifactsByName(name)));
    slice.forEach((name, index) => recordsByName.set(name, lists[index] ?? []));
  }
  const advisories = buildBulkAdvisories({
    request: wanted,
    recordsByName,
    baseUrl: context.baseUrl(request),
  });
  return reply.header('cache-control', 'no-store').type('application/json').send(JSON.stringify(advisories));
}
