import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where AdminJS writes and serves the custom-component bundle: `<project>/admin-bundle/`.
 * AdminJS's default is `.adminjs/`, and Express 5 refuses to send files from a dot-folder, so
 * `components.bundle.js` would 404 in production. The path is absolute (from this file, the
 * same in src/ and dist/) so the working directory does not matter.
 */
export const ADMIN_BUNDLE_DIR = fileURLToPath(new URL('../../../admin-bundle', import.meta.url));
export const ADMIN_BUNDLE_FILE = join(ADMIN_BUNDLE_DIR, 'bundle.js');

// AdminJS takes this setting only from process.env, and reads it once when `adminjs` is first
// imported, so importing this file must come first: AdminPanelHost imports it, so it is set
// at start-up, before the panel loads (in the production bundle a chunk's imports of external
// packages such as adminjs run before the chunk's own code, so admin.module.ts importing it
// first is not enough there); the admin-bundle CLI imports it before adminjs. An operator's
// own ADMIN_JS_TMP_DIR wins.
process.env.ADMIN_JS_TMP_DIR ??= ADMIN_BUNDLE_DIR;

/** Whether `npm run build` left a prebuilt bundle (then production start-up does not bundle). */
export function prebuiltBundleExists(): boolean {
  return existsSync(join(process.env.ADMIN_JS_TMP_DIR ?? ADMIN_BUNDLE_DIR, 'bundle.js'));
}
