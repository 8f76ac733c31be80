import { RemoteError, UserError, isValidPackageName, parsePackageSpec } from '@secure-registry/shared';
import type {
  HeldPackage,
  ReviewDecisionKind,
  ReviewDecisionRequest,
  ReviewDecisionResponse,
  ReviewListResponse,
} from '@secure-registry/shared';

/** What the review commands need from the API client. */
export interface ReviewApi {
  listReviews(): Promise<ReviewListResponse>;
  decideReview(body: ReviewDecisionRequest): Promise<ReviewDecisionResponse>;
}

/** `name@version` (scoped names too) for a decision; the version is required. */
export function parseReviewTarget(spec: string): { name: string; version: string } {
  const { name, version } = parsePackageSpec(spec.trim());
  if (!isValidPackageName(name)) {
    throw new UserError('ERR_SR_USAGE', `not a package name: ${JSON.stringify(name)}`);
  }
  if (!version) {
    throw new UserError('ERR_SR_USAGE', `give the exact version to decide on: ${name}@<version>`);
  }
  return { name, version };
}

export async function listHeldPackages(api: ReviewApi): Promise<HeldPackage[]> {
  return (await api.listReviews()).packages;
}

export async function recordReviewDecision(
  api: ReviewApi,
  input: {
    spec: string;
    decision: ReviewDecisionKind;
    reason: string | undefined;
    integrity?: string | undefined;
  },
): Promise<ReviewDecisionResponse> {
  const target = parseReviewTarget(input.spec);
  const reason = input.reason?.trim();
  if (!reason) {
    throw new UserError('ERR_SR_USAGE', 'a decision needs a reason: --reason "…"');
  }
  return api.decideReview({
    ...target,
    decision: input.decision,
    reason,
    ...(input.integrity ? { integrity: input.integrity } : {}),
  });
}

/** True for the server refusing the caller (401/403): the token lacks the reviewer role. */
export function isPermissionError(error: unknown): boolean {
  return error instanceof RemoteError && error.code === 'ERR_SR_UNAUTHORIZED';
}
