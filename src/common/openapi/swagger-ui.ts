import type { FastifyInstance, FastifyReply } from 'fastify';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The swagger-ui-dist files the page loads, with their content types. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>nest-saas API · Swagger UI</title>
  <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
  <style>html { box-sizing: border-box; overflow-y: scroll; } *, *:before, *:after { box-sizing: inherit; } body { margin: 0; background: #fafafa; } .swagger-ui .topbar .download-url-wrapper { display: none }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/swagger-ui-init.js"></script>
</body>
</html>
`;

/**
 * Swagger UI at `/docs`, on the document served at `documentUrl`. Served here rather than by
 * `SwaggerModule.setup`'s UI, which on Fastify needs @fastify/static: that package requires
 * an ESM-only dependency (content-disposition 3, Node ≥ 22), which Node 20 loads only through
 * require(esm) and Jest's ESM runtime not at all. The page, its init script and a fixed list
 * of swagger-ui-dist files (streamed from disk, never held in memory) are all it needs.
 */
export function serveSwaggerUi(fastify: FastifyInstance, documentUrl: string): void {
  const assetsDir = join(
    createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
    '..',
  );
  const init = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(documentUrl)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;
  const page = (_request: unknown, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').send(PAGE);
  fastify.get('/docs', page);
  fastify.get('/docs/index.html', page);
  fastify.get('/docs/swagger-ui-init.js', (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(init),
  );
  for (const [file, type] of Object.entries(ASSETS)) {
    fastify.get(`/docs/${file}`, (_request, reply) =>
      reply.type(type).send(createReadStream(join(assetsDir, file))),
    );
  }
}
