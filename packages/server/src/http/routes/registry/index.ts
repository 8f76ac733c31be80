/**
 * The read side of the npm registry protocol, serving approved versions only:
 * `GET /{name}` (full and abbreviated packuments), `GET /{name}/{version|tag}`,
 * `GET /{name}/-/{file}.tgz`, `GET /-/ping`, `GET /-/whoami` and
 * `POST /-/npm/v1/security/advisories/bulk`. Scoped names work as `@scope%2fname` (either case)
 * and `@scope/name`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseRegistryPath } from '../../../services/registry/index.js';
import { BULK_BODY_LIMIT, decompressBody, handleBulkAdvisories } from './advisories.js';
import { RegistryContext } from './context.js';
import type { RegistryDeps } from './deps.js';
import { handlePackument, handleVersion } from './packument.js';
import { handleTarball } from './tarball.js';

export type { RegistryDeps } from './deps.js';
export { registryDepsFrom } from './adapter.js';
export type { RegistryAdapterOptions } from './adapter.js';

function principalName(request: FastifyRequest): string | undefined {
  const principal = (request as FastifyRequest & { principal?: { id?: unknown } }).principal;
  return typeof principal?.id === 'string' ? principal.id : undefined;
}

/** Registers the registry routes on `app` (at its root: the registry URL is the server URL). */
export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryDeps): void {
  const context = new RegistryContext(deps);
  const onRequest = deps.authorize ? [deps.authorize] : [];

  app.get('/-/ping', async (_request, reply) => reply.send({}));

  app.get('/-/whoami', { onRequest }, async (request, reply) => {
    const username = deps.authorize ? principalName(request) : undefined;
    if (username === undefined) {
      return reply.code(401).send({ error: 'not logged in to this registry', code: 'ERR_SR_UNAUTHORIZED' });
    }
    return reply.send({ username });
  });

  app.post(
    '/-/npm/v1/security/advisories/bulk',
    { onRequest, preParsing: decompressBody, bodyLimit: BULK_BODY_LIMIT },
    async (request, reply) => handleBulkAdvisories(context, request, reply),
  );

  app.get('/*', { onRequest }, async (request: FastifyRequest, reply: FastifyReply) => {
    // The API's and npm's own namespaces are never package names: unknown routes there are 404s.
    if (/^\/(api|-)\//.test(request.url)) return reply.callNotFound();
    const path = parseRegistryPath(request.url);
    switch (path.kind) {
      case 'packument':
        return handlePackument(context, request, reply, path.name);
      case 'version':
        return handleVersion(context, request, reply, path);
      case 'tarball':
        return handleTarball(context, request, reply, path);
      case 'invalid':
        return reply.code(404).send({ error: path.error, code: 'ERR_SR_NOT_FOUND' });
    }
  });
}
