/**
 * `GET /{name}/-/{bare}-{version}.tgz`: the stored, approved bytes and nothing else. This is where
 * the vetted registry is enforced (`npm ci` reads no packument): anything but an approved, stored
 * artifact whose bytes hash to the approved integrity is refused with a reason npm shows.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { integritiesMatch } from '@secure-registry/shared';
import {
  approvedArtifactFor,
  isRecord,
  isServable,
  describeRefusal,
  parseTarballVersion,
  refusalLine,
  upstreamIntegrityOf,
} from '../../../services/registry/index.js';
import type { ArtifactRecord } from '../../../storage/store.js';
import { ArtifactReadError } from './artifact-reader.js';
import type { RegistryContext } from './context.js';
import { isNotModified } from './http-cache.js';
import { sendRefusal } from './refuse.js';

/** The approved artifact to serve for name@version, or a refusal message. */
async function chooseArtifact(
  context: RegistryContext,
  request: FastifyRequest,
  input: { name: string; version: string; records: ArtifactRecord[] },
): Promise<{ artifact: ArtifactRecord } | { refusal: string } | { missing: string }> {
  const approved = input.records.filter(isServable);
  const first = approved[0];
  if (first && approved.every((record) => integritiesMatch(record.integrity, first.integrity))) {
    return { artifact: first };
  }
  const upstream = await context.upstreamPackument(input.name, request.log);
  const packument = upstream === 'down' ? undefined : upstream;
  if (first) {
    // Approved artifacts with different bytes: only upstream's current integrity can choose.
    const versions = packument && isRecord(packument.versions) ? packument.versions : {};
    const manifest = Object.hasOwn(versions, input.version) ? versions[input.version] : undefined;
    const chosen = approvedArtifactFor(approved, upstreamIntegrityOf(manifest));
    if (chosen) return { artifact: chosen };
    return {
      refusal: `not yet vetted: approved tarballs of ${input.name}@${input.version} differ and the upstream registry cannot tell which one is published`,
    };
  }
  // A name upstream does not have (404): nothing to vet, as npm's registry says.
  if (input.records.length === 0 && upstream === undefined) {
    return { missing: `${input.name} is not in the upstream registry` };
  }
  if (input.records.length === 0 && packument) {
    const versions = isRecord(packument.versions) ? packument.versions : {};
    if (!Object.hasOwn(versions, input.version)) {
      return { missing: `${input.name}@${input.version} is not in the upstream registry` };
    }
  }
  const queued =
    input.records.length === 0 &&
    (await context.queueIfUnknown({ ...input, upstream: packument, log: request.log }));
  const refusal = describeRefusal({
    name: input.name,
    version: input.version,
    records: input.records,
    baseUrl: context.baseUrl(request),
    queued,
  });
  return { refusal: refusalLine(refusal) };
}

export async function handleTarball(
  context: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { name: string; file: string },
): Promise<FastifyReply> {
  const version = parseTarballVersion(input.name, input.file);
  if (version === undefined) {
    return reply
      .code(404)
      .send({ error: `${input.file} is not a tarball of ${input.name}`, code: 'ERR_SR_NOT_FOUND' });
  }
  const records = (await context.deps.store.listArtifactsByName(input.name)).filter(
    (record) => record.version === version,
  );
  const choice = await chooseArtifact(context, request, { name: input.name, version, records });
  if ('missing' in choice) return reply.code(404).send({ error: choice.missing, code: 'ERR_SR_NOT_FOUND' });
  if ('refusal' in choice) {
    return sendRefusal(request, reply, { status: 403, error: choice.refusal, code: 'ERR_SR_NOT_APPROVED' });
  }

  const { artifact } = choice;
  const etag = `"${artifact.integrity.replace(/[^A-Za-z0-9+/=-]/g, '').slice(0, 120)}"`;
  reply.header('etag', etag);
  reply.header('cache-control', 'private, no-cache');
  if (isNotModified(request, etag)) return reply.code(304).send();
  let bytes: Buffer;
  try {
    bytes = await context.reader.read(artifact);
  } catch (error) {
    if (!(error instanceof ArtifactReadError)) throw error;
    request.log.error(
      { err: error.message, name: input.name, version },
      'refusing to serve a stored tarball',
    );
    return reply.code(500).send({ error: error.message, code: 'ERR_SR_ARTIFACT_UNUSABLE' });
  }
  reply.type('application/octet-stream');
  reply.header('content-length', bytes.byteLength);
  return reply.send(bytes);
}
