import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';
import { makeTempDir } from '../../support/tempDir.ts';

/** Debian's Chromium (`apt-get install -y chromium`); Playwright never downloads a browser here. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * The flags the project runs Chromium with (issue 4): headless comes from the launch
 * option; the rest keep a sandboxed CI machine's closed network from being hammered.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
] as const;

export interface Chromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh user-data dir. Throws (the test fails, loudly)
 * when Chromium is not installed: a browser test that cannot run must never pass.
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: the browser tests cannot run. ` +
        'Install it with "apt-get install -y chromium" (never "npx playwright install").',
    );
  }
  const profile = makeTempDir('chromium-profile');
  try {
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1100, height: 900 },
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    return {
      context,
      async close() {
        await context.close();
        profile.remove();
      },
    };
  } catch (error) {
    profile.remove();
    throw error;
  }
}
