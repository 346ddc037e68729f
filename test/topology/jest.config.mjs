// The topology e2e (test/topology, `npm run test:topology`, run by .ci/run after the build):
// HAProxy, two API instances, a worker, PgBouncer and Redis as real processes. Not part of
// `npm test`: it needs the build and the haproxy and pgbouncer packages, and takes minutes.
import { fileURLToPath } from 'node:url';
import base from '../../jest.config.mjs';

const rootDir = fileURLToPath(new URL('../..', import.meta.url));

const e2e = base.projects.find((project) => project.displayName === 'e2e');

/** @type {import('jest').Config} */
export default {
  rootDir,
  testTimeout: 30_000,
  projects: [
    {
      ...e2e,
      rootDir,
      displayName: 'topology',
      testMatch: ['<rootDir>/test/topology/**/*.topology-spec.ts'],
    },
  ],
};
