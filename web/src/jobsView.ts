import { ApiError } from './api.ts';
import { h, setProgress, stateBadge } from './dom.ts';
import { formatAge, formatPercent } from './format.ts';
import { followSse, withQuery } from './sseFollower.ts';
import { StreamCredentials, errorText } from './streamLink.ts';
import { type View, type ViewContext, createLinkIndicator } from './view.ts';
import { type JobSummary, type LatestStatus, TERMINAL_STATES } from './wire.ts';

interface Row {
  readonly element: HTMLTableRowElement;
  revision: number;
  latest: LatestStatus | null;
  updatedAt: string;
}

/**
 * The caller's jobs, newest first: seeded from `GET /jobs`, then kept current by the
 * `/events` feed over SSE, resumed from the `position` the list reflects (so nothing that
 * happened between the two is missed). `feed.reset` reloads the list and follows again.
 */
export function showJobsView(ctx: ViewContext, options: { readonly seesAll: boolean }): View {
  let disposed = false;
  let follower: ReturnType<typeof followSse> | null = null;
  const rows = new Map<string, Row>();
  let position: string | null = null;
  /** An empty store has no position to resume from: list again once the feed is live. */
  let reseedWhenLive = false;

  const link = createLinkIndicator(() => follower?.retry());
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

  void load(true);

  async function load(first: boolean): Promise<void> {
    let page;
    try {
      page = await ctx.api.listJobs();
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.status === 401) ctx.signInAgain('Your sign-in was not accepted. Please sign in again.');
      else link.show({ status: 'disconnected', transport: 'HTTP', reason: `The job list could not be loaded (${errorText(error)}).` });
      return;
    }
    if (disposed) return;
    ctx.root.querySelector('#jobs-loading')?.remove();
    // Newest first: walk the page oldest → newest so each insert goes on top.
    for (const job of [...page.jobs].reverse()) upsertSummary(job);
    empty.hidden = rows.size > 0;
    position = page.position;
    if (first) {
      reseedWhenLive = position === null;
      await follow();
    }
  }

  async function follow(): Promise<void> {
    let grant;
    try {
      grant = await ctx.api.negotiateFeed();
    } catch (error) {
      if (disposed) return;
      link.show({ status: 'disconnected', transport: 'SSE', reason: `Live updates are unavailable (${errorText(error)}).` });
      return;
    }
    if (disposed) return;
    const credentials = new StreamCredentials(grant, () => ctx.api.negotiateFeed());
    follower = followSse({
      credentials,
      url: (g) => (position ? withQuery(g.sse_url, 'after', position) : g.sse_url),
      events: {
        'status.latest': (data, id) => {
          if (id) position = id;
          applyLatest(data as LatestStatus);
        },
        'timeline.event': (_data, id) => {
          if (id) position = id;
        },
        'feed.reset': () => {
          // The resume point is too old to replay: reload the list and follow from its position.
          follower?.stop();
          void load(false).then(() => follower?.start());
        },
      },
      link: (state) => {
        if (disposed) return;
        link.show(state);
        if (state.status === 'live' && reseedWhenLive) {
          reseedWhenLive = false;
          void load(false);
        }
      },
      lost: (reason) => {
        if (disposed) return;
        if (reason === 'unauthorized') ctx.signInAgain('Your sign-in has expired. Please sign in again.');
      },
    });
    follower.start();
  }

  function upsertSummary(job: JobSummary): void {
    const row = rowFor(job.job_id, job.revision);
    if (!row || job.revision < row.revision) return;
    row.revision = job.revision;
    row.latest = job.latest_status;
    row.updatedAt = job.latest_status?.ts ?? job.updated_at;
    renderRow(job.job_id, row);
  }

  function applyLatest(latest: LatestStatus): void {
    const row = rowFor(latest.job_id, latest.revision);
    if (!row || latest.revision < row.revision) return;
    const before = row.latest?.state;
    row.revision = latest.revision;
    row.latest = latest;
    row.updatedAt = latest.ts;
    renderRow(latest.job_id, row);
    empty.hidden = true;
    if (before !== latest.state && TERMINAL_STATES.has(latest.state)) ctx.announce(`Job ${latest.job_id} ${latest.state}.`);
  }

  /** The row for a job, created on top of the table when it is new. */
  function rowFor(jobId: string, revision: number): Row | null {
    let row = rows.get(jobId);
    if (!row) {
      row = { element: h('tr', { 'data-job-id': jobId }), revision: -1, latest: null, updatedAt: '' };
      rows.set(jobId, row);
      tbody.prepend(row.element);
    }
    return revision >= row.revision ? row : null;
  }

  function renderRow(jobId: string, row: Row): void {
    const latest = row.latest;
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
      h('td', { 'data-label': 'Updated' }, h('time', { datetime: row.updatedAt, title: row.updatedAt, 'data-age': '' }, formatAge(row.updatedAt, Date.now()))),
    );
  }

  function refreshAges(): void {
    for (const time of tbody.querySelectorAll<HTMLTimeElement>('time[data-age]')) time.textContent = formatAge(time.dateTime, Date.now());
  }

  return {
    dispose() {
      disposed = true;
      clearInterval(ageTimer);
      follower?.stop();
    },
  };
}
