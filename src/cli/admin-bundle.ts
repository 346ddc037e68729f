/**
 * `postbuild`: bundles the admin panel's custom React components into admin-bundle/bundle.js,
 * so a production start serves it at once instead of bundling at start-up (~1 s, offline).
 * Production mode gives the minified bundle AdminJS serves as a static asset there.
 */
process.env.NODE_ENV = 'production';
delete process.env.ADMIN_JS_SKIP_BUNDLE;
// Sets ADMIN_JS_TMP_DIR; must run before adminjs is imported.
const { ADMIN_BUNDLE_FILE } = await import('../modules/admin/admin-bundle.js');
const { default: AdminJS } = await import('adminjs');
const { componentLoader } = await import('../modules/admin/admin.components.js');

const started = Date.now();
await new AdminJS({ componentLoader }).initialize();
process.stdout.write(
  `admin bundle written to ${ADMIN_BUNDLE_FILE} in ${Date.now() - started} ms\n`,
);
