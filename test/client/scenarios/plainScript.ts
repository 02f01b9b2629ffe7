import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/childProcess.ts';
import { openPage, timelineRevisions, unexpectedErrors, waitForRevisions } from '../../web/support/page.ts';
import { type WebFixture, range, startWebFixture } from '../../web/support/webFixture.ts';
import { type TestSite, startTestSite } from '../support/testSite.ts';

/**
 * The package without a bundler: test/client/plainPage/index.html (the README's example) with a
 * <script type="module"> importing the browser build (dist/browser/statuscast-client.js, built
 * here by the package's own script), served from another origin than statuscast.
 */
export function plainScript(context: () => BrowserContext): void {
  describe('@statuscast/client from a plain <script type="module">', () => {
    let fixture: WebFixture | undefined;
    let site: TestSite | undefined;
    afterEach(async () => {
      await fixture?.close();
      await site?.close();
      fixture = undefined;
      site = undefined;
    });

    it('renders the snapshot and every live revision once, and says when the job finished', async () => {
      await promisify(execFile)(process.execPath, ['packages/client/scripts/buildBrowser.mjs'], { cwd: ROOT });
      site = await startTestSite({
        '/': ['text/html', readFileSync(`${ROOT}test/client/plainPage/index.html`, 'utf8')],
        '/statuscast-client.js': ['text/javascript', readFileSync(`${ROOT}packages/client/dist/browser/statuscast-client.js`, 'utf8')],
      });
      fixture = await startWebFixture({ env: { CORS_ORIGINS: site.url } });
      await fixture.publish('job-plain', 'alice', 2);
      const token = await fixture.server.token('alice');
      const { page, errors } = await openPage(context(), null);
      try {
        await page.goto(`${site.url}/#${new URLSearchParams({ token, api: fixture.url, job: 'job-plain' })}`);
        await page.waitForSelector('#status[data-status="live"]');
        await fixture.publish('job-plain', 'alice', 3);
        await fixture.publish('job-plain', 'alice', 1, { state: 'succeeded' });
        await waitForRevisions(page, 6);
        expect(await timelineRevisions(page)).toEqual(range(6));
        expect(await page.textContent('#status')).toBe('finished: succeeded');
        expect(await page.textContent('#timeline > li:last-child')).toBe('publish · succeeded · job-plain step 6');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
