import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * The browser tests' Chromium: Debian's package, driven by playwright-core. Without it a suite
 * skips locally (saying so) and fails in CI (CI=true), saying how to install it.
 */
// CHROMIUM_PATH only exists to try the skip/fail paths; the tests target Debian's package.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const HOW_TO =
  `Chromium not found at ${CHROMIUM}: the admin browser tests need Debian's Chromium. ` +
  'Install it with `apt-get update && apt-get install -y chromium` (CI does this in .ci/run).';

/**
 * Whether `suite`'s browser tests run: with Chromium, or in CI (where `launchChromium` then
 * fails with HOW_TO). Locally without Chromium it says on stderr that the suite is skipped.
 */
export function browserTestsRun(suite: string): boolean {
  if (!hasChromium && !inCi) process.stderr.write(`\n[${suite}] SKIPPED. ${HOW_TO}\n\n`);
  return hasChromium || inCi;
}

export interface LaunchedChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile (removed by `close`), wide enough for the sidebar. */
export async function launchChromium(
  options: { acceptDownloads?: boolean } = {},
): Promise<LaunchedChromium> {
  if (!hasChromium) throw new Error(HOW_TO);
  const profileDir = await mkdtemp(join(tmpdir(), 'nest-saas-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: options.acceptDownloads ?? false,
    // Wide enough for AdminJS to show its sidebar instead of the hamburger menu.
    viewport: { width: 1600, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
