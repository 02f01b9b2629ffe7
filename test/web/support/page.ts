import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any, sessionStorage: any;

/** Where screenshots go (git-ignored). */
export const ARTIFACTS_DIR = join(import.meta.dirname, '../../../test-artifacts');

export interface WatchedPage {
  readonly page: Page;
  /** Uncaught exceptions and console errors (CSP violations are console errors). */
  readonly errors: string[];
  /** Every URL the page requested, WebSocket URLs included. */
  readonly urls: string[];
}

/**
 * A new tab signed in with `token` (put into `sessionStorage` before the page's scripts run,
 * as the sign-in form would), recording errors and request URLs.
 */
export async function openPage(context: BrowserContext, token: string | null): Promise<WatchedPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => urls.push(request.url()));
  page.on('websocket', (socket) => urls.push(socket.url()));
  if (token) await page.addInitScript((value) => sessionStorage.setItem('statuscast.token', value), token);
  return { page, errors, urls };
}

/** Revisions of the timeline entries, in the order the page shows them. */
export function timelineRevisions(page: Page): Promise<number[]> {
  return page.$$eval('#timeline > li', (items) => items.map((item) => Number(item.getAttribute('data-revision'))));
}

/** Waits until the timeline shows exactly `1..count`. */
export async function waitForRevisions(page: Page, count: number, timeoutMs = 15_000): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const items: { getAttribute(name: string): string | null }[] = [...document.querySelectorAll('#timeline > li')];
      return items.length >= n && items.slice(0, n).every((item, i) => Number(item.getAttribute('data-revision')) === i + 1);
    },
    count,
    { timeout: timeoutMs },
  );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Errors the page logged, minus the ones a test provoked on purpose. */
export function unexpectedErrors(errors: readonly string[], allowed: readonly RegExp[] = []): string[] {
  return errors.filter((error) => !allowed.some((pattern) => pattern.test(error)));
}
