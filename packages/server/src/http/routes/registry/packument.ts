/** `GET /{name}` and `GET /{name}/{version|tag}`: packuments with approved versions only. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as semver from 'semver';
import {
  ABBREVIATED_MEDIA_TYPE,
  describeRefusal,
  isRecord,
  noServedVersionsMessage,
  recomputeDistTags,
  refusalLine,
  selectRefusedVersions,
  shapePackument,
} from '../../../services/registry/index.js';
import type { JsonRecord } from '../../../services/registry/index.js';
import type { RegistryContext, NameState } from './context.js';
import { etagOf, isNotModified, latestDate } from './http-cache.js';
import { printsOnlyTarballUrls, sendRefusal } from './refuse.js';

/** True when the client asks for the abbreviated form (`Accept: application/vnd.npm.install-v1+json`). */
export function wantsAbbreviated(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (type !== ABBREVIATED_MEDIA_TYPE) return false;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** Changes to any record of the name (a new verdict, a stored tarball) change the fingerprint. */
function fingerprintOf(state: NameState): string {
  return state.records
    .map((r) => `${r.version}\t${r.integrity}\t${r.verdict}\t${r.storagePath ?? ''}\t${r.decidedAt ?? ''}`)
    .sort()
    .join('\n');
}

function upstreamVersions(upstream: JsonRecord | undefined): string[] {
  return upstream && isRecord(upstream.versions) ? Object.keys(upstream.versions) : [];
}

function upstreamLatest(upstream: JsonRecord | undefined): string | undefined {
  const tags = upstream && isRecord(upstream['dist-tags']) ? upstream['dist-tags'] : undefined;
  return typeof tags?.latest === 'string' ? tags.latest : undefined;
}

/** Refuses a name without servable versions, naming why. */
async function sendNothingServed(
  context: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  state: NameState,
): Promise<FastifyReply> {
  if (!state.offline && !state.upstream) {
    return reply
      .code(404)
      .send({ error: `${state.name} is not in the upstream registry`, code: 'ERR_SR_NOT_FOUND' });
  }
  let message = noServedVersionsMessage({
    name: state.name,
    upstreamVersions: upstreamVersions(state.upstream),
    records: state.records,
    baseUrl: context.baseUrl(request),
  });
  const latest = upstreamLatest(state.upstream);
  if (latest && (await context.queueIfUnknown({ ...state, version: latest, log: request.log }))) {
    message += `; analysis of ${state.name}@${latest} queued, retry when it completes`;
  }
  if (state.offline)
    message += ' (the upstream registry is unreachable; only stored approved versions are served)';
  return sendRefusal(request, reply, { status: 404, error: message, code: 'ERR_SR_NOT_APPROVED' });
}

/** Builds (or reuses) the serialized packument for a name and form. */
function renderPackument(
  context: RegistryContext,
  state: NameState,
  options: { abbreviated: boolean; baseUrl: string; latestRefused?: boolean },
) {
  const key = `${state.name}\n${options.abbreviated ? 'a' : 'f'}${options.latestRefused ? 'r' : ''}\n${options.baseUrl}`;
  const fingerprint = fingerprintOf(state);
  const cached = state.offline ? undefined : context.packuments.get(key);
  if (cached && cached.upstream === state.upstream && cached.fingerprint === fingerprint) return cached;
  const refused = state.upstream
    ? selectRefusedVersions({
        name: state.name,
        upstream: state.upstream,
        records: state.records,
        served: state.served,
        baseUrl: options.baseUrl,
      })
    : [];
  const doc = shapePackument({
    name: state.name,
    upstream: state.upstream,
    served: state.served,
    refused,
    baseUrl: options.baseUrl,
    abbreviated: options.abbreviated,
  });
  if (options.latestRefused) {
    const upstreamTag = upstreamLatest(state.upstream);
    const newestRefused = refused.some((entry) => entry.version === upstreamTag)
      ? upstreamTag
      : refused.map((entry) => entry.version).sort(semver.rcompare)[0];
    if (newestRefused !== undefined) doc['dist-tags'] = { latest: newestRefused };
  }
  const body = JSON.stringify(doc);
  const upstreamTime = state.upstream && isRecord(state.upstream.time) ? state.upstream.time : {};
  const lastModified = latestDate([
    typeof upstreamTime.modified === 'string' ? upstreamTime.modified : undefined,
    ...state.records.map((record) => record.decidedAt ?? record.createdAt),
  ]);
  const rendered = { upstream: state.upstream, fingerprint, body, etag: etagOf(body), lastModified };
  if (!state.offline) context.packuments.set(key, rendered, body.length);
  return rendered;
}

export async function handlePackument(
  context: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
): Promise<FastifyReply> {
  const state = await context.nameState(name, request.log);
  const latest = upstreamLatest(state.upstream);
  // For pnpm, a name without approved versions is a packument of refused versions (`latest` at the
  // newest): it then fails on a refused tarball, whose URL says why (see printsOnlyTarballUrls).
  const refusedOnly =
    state.served.length === 0 && state.upstream !== undefined && printsOnlyTarballUrls(request);
  if (state.served.length === 0 && !refusedOnly) return sendNothingServed(context, request, reply, state);
  if (latest) await context.queueIfUnknown({ ...state, version: latest, log: request.log });

  const abbreviated = wantsAbbreviated(request.headers.accept);
  const rendered = renderPackument(context, state, {
    abbreviated,
    baseUrl: context.baseUrl(request),
    latestRefused: refusedOnly,
  });
  reply.header('vary', 'Accept, Authorization');
  reply.header('etag', rendered.etag);
  reply.header('cache-control', 'private, no-cache');
  if (rendered.lastModified) reply.header('last-modified', rendered.lastModified.toUTCString());
  if (isNotModified(request, rendered.etag, rendered.lastModified)) return reply.code(304).send();
  reply.type(abbreviated ? ABBREVIATED_MEDIA_TYPE : 'application/json');
  return reply.send(rendered.body);
}

/** `GET /{name}/{version|tag}`: one served version's manifest. */
export async function handleVersion(
  context: RegistryContext,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { name: string; spec: string },
): Promise<FastifyReply> {
  const state = await context.nameState(input.name, request.log);
  if (state.served.length === 0) return sendNothingServed(context, request, reply, state);
  const tags = recomputeDistTags(
    state.upstream?.['dist-tags'],
    state.served.map((served) => served.version),
  );
  const version = Object.hasOwn(tags, input.spec) ? tags[input.spec] : input.spec;
  const doc = shapePackument({
    name: input.name,
    upstream: state.upstream,
    served: state.served.filter((served) => served.version === version),
    baseUrl: context.baseUrl(request),
    abbreviated: false,
  });
  const versions = doc.versions as Record<string, unknown>;
  if (version === undefined || !Object.hasOwn(versions, version)) {
    // Only this version's refusal: the whole packument's list is not needed.
    const published =
      version !== undefined &&
      isRecord(state.upstream?.versions) &&
      Object.hasOwn(state.upstream.versions, version);
    const refusal = published
      ? refusalLine(
          describeRefusal({
            name: input.name,
            version,
            records: state.records.filter((record) => record.version === version),
            baseUrl: context.baseUrl(request),
          }),
        )
      : undefined;
    return sendRefusal(request, reply, {
      status: 404,
      error: refusal ?? `${input.name}@${input.spec} is not an approved version on this registry`,
      code: 'ERR_SR_NOT_APPROVED',
    });
  }
  return reply.type('application/json').send(JSON.stringify(versions[version]));
}
