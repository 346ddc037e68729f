// Jest runs in ESM mode (NODE_OPTIONS=--experimental-vm-modules, set by the npm scripts).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
      // `import … with { type: 'json' }` (the translations) reaches Jest's ESM loader intact.
      experimental: { keepImportAttributes: true },
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Source imports use the `.js` suffix that Node's ESM resolution wants; Jest resolves the .ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

// One fresh PostgreSQL database per run (the configured server, else an embedded one), only
// for the DB-backed tiers. Jest runs a project's global hooks only when one of its tests was
// selected, and runs a hook file once per run even when several projects name it.
const database = {
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};

/** @type {import('jest').Config} */
export default {
  testTimeout: 30_000,
  // On 2 cores Jest runs in band (one worker or fewer): every suite in Jest's own process, where
  // the ESM module graphs of ~80 suites pile up and the last suites crawl in GC (a 30 s hook
  // timed out in CI). With a limit, Jest runs the suites in a worker and replaces the worker
  // whenever it holds more than this after a suite.
  workerIdleMemoryLimit: '1GB',
  projects: [
    // No database: pure functions and classes with their collaborators in memory.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      ...database,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    {
      ...common,
      ...database,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
    },
  ],
};
