import { dropTestDatabase } from './global-setup.mjs';

export default async function globalTeardown() {
  const state = globalThis.__NEST_SAAS_TEST__;
  if (state) await dropTestDatabase(state);
}
