import type { BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openPage, unexpectedErrors } from '../support/page.ts';
import { type WebFixture, startWebFixture } from '../support/webFixture.ts';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any, sessionStorage: any, localStorage: any;

export function signIn(context: () => BrowserContext): void {
  describe('sign-in', () => {
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('dev mode: the picker mints a token kept in sessionStorage and never put in a URL', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-mine', 'carol', 2);
      const { page, errors, urls } = await openPage(context(), null);
      try {
        await page.goto(`${fixture.url}/job/job-mine`);
        await page.waitForSelector('#dev-sign-in');
        await page.fill('#sign-in-user', 'carol');
        await page.press('#sign-in-user', 'Enter');
        await page.waitForSelector('#link[data-status="live"]');
        expect(await page.textContent('#who')).toBe('carol');
        expect(page.url()).toBe(`${fixture.url}/job/job-mine`);

        const token = await page.evaluate(() => sessionStorage.getItem('statuscast.token'));
        expect(token).toMatch(/^ey/);
        expect(await page.evaluate(() => localStorage.length)).toBe(0);
        expect(await page.evaluate(() => document.cookie)).toBe('');
        expect(urls.length).toBeGreaterThan(3);
        expect(urls.filter((u) => u.includes(token!))).toEqual([]);
        // The stream token from negotiate is the only token that travels in URLs.
        expect(urls.some((u) => u.includes('access_token='))).toBe(true);

        await page.click('#sign-out');
        await page.waitForSelector('#dev-sign-in');
        expect(await page.evaluate(() => sessionStorage.getItem('statuscast.token'))).toBeNull();
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('dev mode: a refused token sends the reader back to sign-in with a reason', async () => {
      fixture = await startWebFixture();
      const { page } = await openPage(context(), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.');
      try {
        await page.goto(`${fixture.url}/`);
        await page.waitForSelector('#dev-sign-in');
        expect(await page.textContent('main')).toContain('Your sign-in was not accepted');
      } finally {
        await page.close();
      }
    });

    it('JWKS mode: offers a field to paste a token instead of the picker', async () => {
      fixture = await startWebFixture({
        env: { AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json', AUTH_ISSUER: 'https://issuer.example/', AUTH_AUDIENCE: 'statuscast' },
      });
      const { page } = await openPage(context(), null);
      try {
        await page.goto(`${fixture.url}/`);
        await page.waitForSelector('#token-sign-in');
        expect(await page.$('#dev-sign-in')).toBeNull();
        await page.fill('#sign-in-token', 'not a token');
        await page.click('#token-sign-in button[type=submit]');
        expect(await page.textContent('#sign-in-error')).toBe('That is not a valid, unexpired token.');
      } finally {
        await page.close();
      }
    });
  });
}
