// express-formidable ships no types; the admin loader calls it exactly like @adminjs/express.
declare module 'express-formidable' {
  import type { RequestHandler } from 'express';

  export default function formidableMiddleware(options?: Record<string, unknown>): RequestHandler;
}
