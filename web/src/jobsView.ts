import { type FeedUpdate, type FollowedJob, TERMINAL_STATES, followJobs } from '@statuscast/client';
import { h, setProgress, stateBadge } from './dom.ts';
import { formatAge, formatPercent } from './format.ts';
import { type View, type ViewContext, createLinkIndicator } from './view.ts';

interface Row {
  readonly element: HTMLTableRowElement;
  job: FollowedJob;
}

/**
 * The caller's jobs, newest first, through `followJobs` from `@statuscast/client`: seeded
 * from `GET /jobs`, then kept current by the live feed resumed from the position that list
 * reflects (a `feed.reset` reloads the list). Terminal states are announced.
 */
export function showJobsView(ctx: ViewContext, options: { readonly seesAll: boolean }): View {
  const rows = new Map<string, Row>();
  const feed = followJobs({ getToken: ctx.token, limit: 100 });
  const link = createLinkIndicator(() => feed.reconnect());
  const tbody = h('tbody', { id: 'jobs-body' });
  const table = h(
    'table',
    { class: 'jobs', id: 'jobs' },
    h('caption', { class: 'visually-hidden' }, 'Jobs, newest first'),
    h(
      'thead',
      null,
      h('tr', null, ...['Job', 'State', 'Stage', 'Progress', 'Updated'].map((name) => h('th', { scope: 'col' }, name))),
    ),
    tbody,
  );
  const empty = h(
    'div',
    { class: 'empty card', id: 'jobs-empty', hidden: true },
    h('p', null, 'No jobs yet.'),
    h('p', null, 'Start the demo worker with ', h('code', null, 'npm run demo'), ' and sign in as the user it prints.'),
  );
  ctx.root.replaceChildren(
    h('div', { class: 'page-title-row' }, h('h1', { tabindex: -1 }, options.seesAll ? 'All jobs' : 'Your jobs'), link.indicator),
    link.banner,
    h('p', { class: 'loading', id: 'jobs-loading', role: 'status' }, 'Loading jobs…'),
    empty,
    h('div', { class: 'table-wrap' }, table),
  );
  document.title = 'Jobs — statuscast';
  const ageTimer = setInterval(refreshAges, 10_000);
  let ended = false;

  function apply(update: FeedUpdate): void {
    if (ended) return;
    const error = feed.connection.status === 'offline' ? feed.connection.error : null;
    if (error?.kind === 'unauthorized') {
      dispose();
      ctx.signInAgain('Your sign-in was not accepted. Please sign in again.');
      return;
    }
    if (feed.loaded) ctx.root.querySelector('#jobs-loading')?.remove();
    for (const job of update.changed) upsert(job);
    empty.hidden = !feed.loaded || rows.size > 0;
    link.show(feed.connection);
  }

  function upsert(job: FollowedJob): void {
    let row = rows.get(job.job_id);
    const before = row?.job.latest?.state;
    if (!row) {
      row = { element: h('tr', { 'data-job-id': job.job_id }), job };
      rows.set(job.job_id, row);
      // Changes arrive oldest first, so a new job goes on top.
      tbody.prepend(row.element);
    }
    row.job = job;
    renderRow(job.job_id, row);
    const state = job.latest?.state;
    if (before !== undefined && state !== undefined && before !== state && TERMINAL_STATES.has(state)) ctx.announce(`Job ${job.job_id} ${state}.`);
  }

  function dispose(): void {
    ended = true;
    clearInterval(ageTimer);
    unsubscribe();
    feed.close();
  }

  const unsubscribe = feed.subscribe(apply);

  function renderRow(jobId: string, row: Row): void {
    const latest = row.job.latest;
    const updatedAt = latest?.ts ?? row.job.created_at ?? '';
    const bar = h('progress', { max: 1, 'aria-label': `Progress of ${jobId}` });
    const state = latest?.state ?? null;
    setProgress(bar, latest?.progress ?? (state === 'succeeded' ? 1 : 0));
    row.element.dataset['state'] = state ?? 'unknown';
    // The state class colours the row's progress bar (see app.css).
    row.element.className = `state-${state ?? 'unknown'}`;
    row.element.replaceChildren(
      h('th', { scope: 'row', 'data-label': 'Job' }, h('a', { href: `/job/${encodeURIComponent(jobId)}` }, jobId)),
      h('td', { 'data-label': 'State' }, stateBadge(state)),
      h('td', { 'data-label': 'Stage', class: 'cell-stage' }, latest?.stage ?? '—'),
      h('td', { 'data-label': 'Progress', class: 'cell-progress' }, bar, h('span', { class: 'job-percent' }, formatPercent(latest?.progress ?? (state === 'succeeded' ? 1 : null)))),
      h('td', { 'data-label': 'Updated' }, h('time', { datetime: updatedAt, title: updatedAt, 'data-age': '' }, formatAge(updatedAt, Date.now()))),
    );
  }

  function refreshAges(): void {
    for (const time of tbody.querySelectorAll<HTMLTimeElement>('time[data-age]')) time.textContent = formatAge(time.dateTime, Date.now());
  }

  return { dispose };
}
