// The typed client as a package, proven the way an app gets it (CI's "client package" step):
//   node clients/typescript/test/run.mjs [--node <node binary>]...
// 1. `npm pack` in clients/typescript (its `prepack` builds dist/ with the repository's tsc);
// 2. a scratch project in a temporary folder installs the tarball with the repository's
//    typescript and @types/node versions from the npm registry;
// 3. typechecks there, with `strict` and `noUncheckedIndexedAccess`: flow.ts (Node,
//    moduleResolution nodenext) and every ```ts block that imports '@nest-saas/client' in
//    clients/typescript/README.md and docs/*.md (a browser app: DOM types, no Node types,
//    moduleResolution bundler);
// 4. starts the built app (dist/bundle/main.js, run `npm run build` first) on a free port,
//    on a fresh database on DATABASE_URL's server, or on an embedded PostgreSQL in the
//    temporary folder when DATABASE_URL is not set;
//    with NODE_ENV=test and no SMTP_URL, so its dev outbox (/dev/mail.json) keeps the mails;
// 5. runs flow.js (compiled flow.ts) with each `--node` given (default: this Node).
// Everything is cleaned up afterwards; each stage has a time limit.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const here = fileURLToPath(new URL('.', import.meta.url));
const clientDir = join(here, '..');
const root = join(clientDir, '..', '..');

const nodes = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--node' && process.argv[i + 1]) nodes.push(process.argv[++i]);
  else throw new Error(`unknown argument ${process.argv[i]} (usage: run.mjs [--node <binary>]...)`);
}
if (nodes.length === 0) nodes.push(process.execPath);

const log = (line) => process.stdout.write(`${line}\n`);

/** Runs a command to its end within `timeoutMs`; rejects on a non-zero exit. */
function run(command, args, { cwd, env = process.env, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')}: ${signal ?? `exit ${code}`}`));
    });
  });
}

async function version(pkg) {
  const json = JSON.parse(await readFile(join(root, 'node_modules', pkg, 'package.json'), 'utf8'));
  return json.version;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The ```ts blocks of a Markdown file that use the client. */
function clientExamples(markdown) {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1])
    .filter((code) => code.includes("from '@nest-saas/client'"));
}

const compilerOptions = {
  target: 'es2022',
  strict: true,
  noUncheckedIndexedAccess: true,
  // The package's own declarations are checked too.
  skipLibCheck: false,
};

const work = await mkdtemp(join(tmpdir(), 'nest-saas-client-'));
// Root runs PostgreSQL as `postgres`, which must enter the embedded data dir's parent.
await chmod(work, 0o755);
let app;
let database;
try {
  log('--- npm pack (clients/typescript, built by its prepack script)');
  await run('npm', ['pack', '--pack-destination', work], { cwd: clientDir });
  const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');

  log(`--- scratch project: npm install ${tarball}`);
  const scratch = join(work, 'app');
  await mkdir(join(scratch, 'docs'), { recursive: true });
  await writeFile(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'client-consumer', private: true, type: 'module' }),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(work, tarball),
      `typescript@${await version('typescript')}`,
      `@types/node@${await version('@types/node')}`,
    ],
    { cwd: scratch },
  );

  await copyFile(join(here, 'flow.ts'), join(scratch, 'flow.ts'));
  await writeFile(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...compilerOptions,
        lib: ['es2022'],
        types: ['node'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        outDir: 'out',
      },
      files: ['flow.ts'],
    }),
  );
  const sources = [join(clientDir, 'README.md')];
  const docs = join(root, 'docs');
  for (const name of await readdir(docs).catch(() => [])) {
    if (name.endsWith('.md')) sources.push(join(docs, name));
  }
  let examples = 0;
  for (const source of sources) {
    const blocks = clientExamples(await readFile(source, 'utf8'));
    if (source === sources[0] && blocks.length === 0) {
      throw new Error(`no \`\`\`ts example that imports '@nest-saas/client' in ${source}`);
    }
    for (const [i, code] of blocks.entries()) {
      const name = `${source.slice(root.length + 1).replace(/[^\w]+/g, '-')}-${i + 1}.ts`;
      await writeFile(join(scratch, 'docs', name), code);
      log(`    example ${name}`);
      examples++;
    }
  }
  await writeFile(
    join(scratch, 'tsconfig.docs.json'),
    JSON.stringify({
      compilerOptions: {
        ...compilerOptions,
        lib: ['es2022', 'dom'],
        types: [],
        module: 'esnext',
        moduleResolution: 'bundler',
        noEmit: true,
      },
      include: ['docs/*.ts'],
    }),
  );
  const tsc = join(scratch, 'node_modules', 'typescript', 'bin', 'tsc');
  log('--- tsc: flow.ts against the installed package (Node, nodenext)');
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: scratch });
  log(`--- tsc: ${examples} README/docs example(s) (browser, bundler)`);
  await run(process.execPath, [tsc, '-p', 'tsconfig.docs.json'], { cwd: scratch });

  const env = { ...process.env };
  // No SMTP_URL, not production, workers on: the dev outbox (GET /dev/mail.json) keeps the
  // mails, and flow.ts reads its verification link there.
  for (const name of [
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'SMTP_URL',
    'REDIS_URL',
    'WORKERS',
  ]) {
    delete env[name];
  }
  const port = await freePort();
  Object.assign(env, {
    NODE_ENV: 'test',
    PORT: String(port),
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'error',
    ADMIN_PANEL: 'false',
  });
  if (process.env.DATABASE_URL) {
    database = {
      admin: process.env.DATABASE_URL,
      name: `nest_saas_client_${Date.now()}_${randomBytes(3).toString('hex')}`,
    };
    const admin = new pg.Client({ connectionString: database.admin });
    await admin.connect();
    try {
      await admin.query(`create database "${database.name}"`);
    } finally {
      await admin.end();
    }
    const url = new URL(database.admin);
    url.pathname = `/${database.name}`;
    env.DATABASE_URL = url.toString();
  } else {
    env.EMBEDDED_PG_DIR = join(work, 'pg');
  }

  log(`--- start the app on 127.0.0.1:${port} (${database ? 'fresh database' : 'embedded'})`);
  app = spawn(process.execPath, [join(root, 'dist', 'bundle', 'main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => app.on('exit', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (app.exitCode !== null) throw new Error(`the app exited (${app.exitCode}) before ready`);
    const ready = await fetch(`${baseUrl}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the app was not ready within 90 s');
    await Promise.race([sleep(250), exited]);
  }

  for (const node of nodes) {
    log(`--- flow.js on ${node}`);
    await run(node, ['--version'], { timeoutMs: 10_000 });
    await run(node, [join(scratch, 'out', 'flow.js')], {
      cwd: scratch,
      env: { ...process.env, API_URL: baseUrl, JWT_SECRET: env.JWT_SECRET },
      timeoutMs: 60_000,
    });
  }
  log('--- client package: ok');
} finally {
  if (app && app.exitCode === null && app.signalCode === null) {
    const exited = new Promise((resolve) => app.on('exit', resolve));
    app.kill('SIGTERM');
    const timer = setTimeout(() => app.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  if (database) {
    const admin = new pg.Client({ connectionString: database.admin });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${database.name}" with (force)`);
    } finally {
      await admin.end();
    }
  }
  await rm(work, { recursive: true, force: true });
}
