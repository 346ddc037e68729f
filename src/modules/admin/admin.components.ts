import { ComponentLoader } from 'adminjs';
import { fileURLToPath } from 'node:url';

/**
 * The panel's custom React components. Paths come from import.meta.url (ESM has no
 * __dirname); nest-cli.json copies the .jsx files next to the compiled module in dist/.
 * The same loader feeds the app and the build-time bundler (src/cli/admin-bundle.ts).
 */
export const componentLoader = new ComponentLoader();

const path = (file: string): string =>
  fileURLToPath(new URL(`./components/${file}`, import.meta.url));

export const Components = {
  SetPassword: componentLoader.add('SetPassword', path('set-password.jsx')),
  DisableMfa: componentLoader.add('DisableMfa', path('disable-mfa.jsx')),
  PlanOverride: componentLoader.add('PlanOverride', path('plan-override.jsx')),
  Dashboard: componentLoader.add('Dashboard', path('dashboard.jsx')),
  // AdminJS's own login page plus a two-factor code field (admins with MFA on need it).
  Login: componentLoader.override('Login', path('login.jsx')),
  // AdminJS's list plus an "Export CSV" link where the resource has the export action.
  ListWithExport: componentLoader.override('DefaultListAction', path('list-with-export.jsx')),
} as const;
