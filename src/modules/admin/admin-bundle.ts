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

/**
 * Points AdminJS at ADMIN_BUNDLE_DIR. AdminJS takes this setting only from process.env, and
 * reads it once when `adminjs` is first imported, so this must run before that import:
 * importing this file does it (admin.module.ts imports it before anything that imports
 * adminjs), and AdminPanelHost calls it before loading the panel, which the production bundle
 * needs (there a chunk's imports of external packages such as adminjs run before its own
 * code). An operator's own ADMIN_JS_TMP_DIR wins.
 */
export function useAdminBundleDir(): void {
  process.env.ADMIN_JS_TMP_DIR ??= ADMIN_BUNDLE_DIR;
}
useAdminBundleDir();

/** Whether `npm run build` left a prebuilt bundle (then production start-up does not bundle). */
export function prebuiltBundleExists(): boolean {
  return existsSync(join(process.env.ADMIN_JS_TMP_DIR ?? ADMIN_BUNDLE_DIR, 'bundle.js'));
}
