import type { FastifyRequest } from 'fastify';

/**
 * The request as guards, interceptors, parameter decorators and controllers see it: Fastify's,
 * with route parameters and the query as strings (Express's `req.params` shape).
 */
export type HttpRequest = FastifyRequest<{
  Params: Record<string, string | undefined>;
  Querystring: Record<string, unknown>;
}>;
