/**
 * The string `code` of a thrown value (Node's `ECONNREFUSED`, zlib's `Z_DATA_ERROR`, Fastify's
 * `FST_ERR_*`...), read without `instanceof Error`: errors from Node's own realm fail that
 * check inside Jest's VM.
 */
export function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
