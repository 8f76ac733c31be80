import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { API_PREFIX, ReviewDecisionRequest, UserError } from '@secure-registry/shared';
import type { ReviewListResponse } from '@secure-registry/shared';
import type { ReviewActor, ReviewService } from '../../services/review-service.js';
import { formatZodIssues } from '../validation.js';

export interface ReviewRouteDeps {
  reviews: ReviewService;
  /** Requires the reviewer or admin role. */
  canReview: onRequestAsyncHookHandler;
}

/** The person behind an authenticated request, as recorded in the decision log. */
export function actorOf(request: FastifyRequest): ReviewActor {
  const principal = request.principal;
  if (!principal) throw new UserError('ERR_SR_UNAUTHORIZED', 'authentication required');
  return { reviewer: principal.label ?? principal.id, role: principal.role };
}

/** `GET /api/v1/reviews` (held packages with evidence) and `POST /api/v1/reviews` (a decision). */
export function registerReviewRoutes(app: FastifyInstance, deps: ReviewRouteDeps): void {
  app.get(`${API_PREFIX}/reviews`, { onRequest: deps.canReview }, async (): Promise<ReviewListResponse> => {
    return { packages: await deps.reviews.listHeld() };
  });

  app.post(`${API_PREFIX}/reviews`, { onRequest: deps.canReview }, async (request, reply) => {
    const parsed = ReviewDecisionRequest.safeParse(request.body);
    if (!parsed.success) {
      throw new UserError('ERR_SR_INVALID_BODY', `invalid review decision: ${formatZodIssues(parsed.error)}`);
    }
    const result = await deps.reviews.decide(parsed.data, actorOf(request));
    return reply.status(201).send(result);
  });
}
