import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { API_PREFIX, UserError, VerdictSignaturesRequest } from '@secure-registry/shared';
import type { VerdictSignaturesResponse } from '@secure-registry/shared';
import { getPackageVerdict } from '../../services/package-service.js';
import type { Store } from '../../storage/store.js';
import { checkPackageName, checkParam, formatZodIssues } from '../validation.js';
import { SERVER_VERSION } from '../../version.js';

interface PackageQuery {
  integrity?: string;
}

export function registerPackageRoutes(
  app: FastifyInstance,
  deps: { store: Store; canRead: onRequestAsyncHookHandler },
): void {
  const lookup = async (name: string, version: string, integrity: string | undefined) => {
    checkPackageName(name);
    checkParam('version', version);
    checkParam('integrity', integrity);
    const verdict = await getPackageVerdict(deps.store, { name, version, integrity });
    if (!verdict) throw new UserError('ERR_SR_PACKAGE_NOT_FOUND', `no verdict for ${name}@${version}`);
    return verdict;
  };
  // `@scope%2fname` arrives decoded as one parameter.
  app.get<{ Params: { name: string; version: string }; Querystring: PackageQuery }>(
    `${API_PREFIX}/packages/:name/:version`,
    { onRequest: deps.canRead },
    async (request) => lookup(request.params.name, request.params.version, request.query.integrity),
  );
  // `@scope/name` unencoded.
  app.get<{ Params: { scope: string; name: string; version: string }; Querystring: PackageQuery }>(
    `${API_PREFIX}/packages/:scope/:name/:version`,
    { onRequest: deps.canRead },
    async (request) => {
      const { scope, name, version } = request.params;
      if (!scope.startsWith('@')) throw new UserError('ERR_SR_NOT_FOUND', 'unknown route');
      return lookup(`${scope}/${name}`, version, request.query.integrity);
    },
  );
  // Many artifacts at once, no reports: a client's warm re-check of a result it kept.
  app.post(
    `${API_PREFIX}/verdicts/signatures`,
    { onRequest: deps.canRead },
    async (request): Promise<VerdictSignaturesResponse> => {
      const parsed = VerdictSignaturesRequest.safeParse(request.body);
      if (!parsed.success) {
        throw new UserError('ERR_SR_INVALID_BODY', `invalid request: ${formatZodIssues(parsed.error)}`);
      }
      const rows = await deps.store.getVerdictSignatures(parsed.data.artifacts);
      return { server: SERVER_VERSION, verdicts: Object.fromEntries(rows) };
    },
  );
}
