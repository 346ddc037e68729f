/**
 * TRUST_PROXY as Express read it. Booleans and address lists mean the same to Fastify; a hop
 * count does not (Fastify 5 trusts no hop for a number), so it becomes Express's rule: the
 * first `hops` addresses from the socket are proxies.
 */
export function fastifyTrustProxy(
  value: boolean | number | string,
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}
