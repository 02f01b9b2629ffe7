import { type JobFollower, type JobMeta, type JobUpdate, type TimelineEntry, TERMINAL_STATES, followJob } from '@statuscast/client';
import { h, setProgress, stateBadge } from './dom.ts';
import { formatAge, formatClock, formatCycle, formatPercent } from './format.ts';
import { stagesOf } from './stages.ts';
import { type View, type ViewContext, createLinkIndicator } from './view.ts';

export interface JobViewOptions {
  /** `?transport=sse`: skip SignalR and use the SSE endpoint. */
  readonly forceSse: boolean;
}

/**
 * One job, live, through `followJob` from `@statuscast/client`: the history snapshot is on
 * screen as soon as negotiate answers (before any transport starts), then each revision is
 * inserted once, in order, whatever the transport, reconnects and token renewals do.
 */
export function showJobView(ctx: ViewContext, jobId: string, options: JobViewOptions): View {
  ctx.root.replaceChildren(h('p', { class: 'loading', role: 'status' }, `Loading job ${jobId}…`));
  const job = followJob(jobId, { getToken: ctx.token, transport: options.forceSse ? 'sse' : 'auto' });
  let dom: JobDom | null = null;
  let announced = '';
  let ended = false;

  function refresh(announce: boolean): void {
    if (!dom) return;
    dom.renderStatus(job);
    const current = job.latest;
    const key = current ? `${current.state}|${current.stage}` : '';
    if (announce && key !== announced && current) {
      ctx.announce(
        TERMINAL_STATES.has(current.state)
          ? `Job ${jobId} ${current.state}${current.message ? `: ${current.message}` : ''}.`
          : `Job ${jobId}: ${current.stage}, ${current.state}${current.message ? `. ${current.message}` : ''}.`,
      );
    }
    announced = key;
  }

  function apply(update: JobUpdate): void {
    if (ended) return;
    const error = job.connection.status === 'offline' ? job.connection.error : null;
    if (error?.kind === 'not-found' || error?.kind === 'invalid') {
      stop();
      showNotFound(ctx, jobId);
      return;
    }
    if (error?.kind === 'unauthorized') {
      stop();
      ctx.signInAgain(`Your sign-in was not accepted (${error.message}). Please sign in again.`);
      return;
    }
    if (!dom) {
      // Nothing to show until the snapshot (or, in a tab fed by another, the first entries) arrived.
      if (!job.snapshot && job.timeline.length === 0) {
        const { status, error: failure } = job.connection;
        if (status === 'offline' && failure) showLoadError(ctx, jobId, failure.message);
        else if (status === 'reconnecting' && failure) ctx.root.querySelector('.loading')?.replaceChildren(`Loading job ${jobId}… (${failure.message}; retrying)`);
        return;
      }
      dom = renderSkeleton(ctx, jobId, () => job.reconnect());
      dom.insertEntries(job.timeline, job.snapshot?.meta ?? null);
      refresh(false);
    } else {
      if (update.added.length > 0) dom.insertEntries(update.added, job.snapshot?.meta ?? null);
      if (update.added.length > 0 || update.latestChanged || update.snapshotChanged) refresh(true);
    }
    dom.link.show(job.connection, { forcedSse: options.forceSse });
  }

  function stop(): void {
    ended = true;
    unsubscribe();
    job.close();
  }

  const unsubscribe = job.subscribe(apply);
  return { dispose: stop };
}

interface JobDom {
  readonly link: ReturnType<typeof createLinkIndicator>;
  renderStatus(job: JobFollower): void;
  insertEntries(added: readonly TimelineEntry[], meta: JobMeta | null): void;
}

function renderSkeleton(ctx: ViewContext, jobId: string, onRetry: () => void): JobDom {
  const link = createLinkIndicator(onRetry);
  const badgeSlot = h('span', { id: 'job-state', class: 'badge-slot' });
  const stageText = h('span', { id: 'job-stage', class: 'job-stage' });
  const messageText = h('p', { id: 'job-message', class: 'job-message' });
  const progress = h('progress', { id: 'job-progress', max: 1, 'aria-labelledby': 'job-progress-label' });
  const percent = h('span', { id: 'job-percent', class: 'job-percent' });
  const cycle = h('span', { id: 'job-cycle', class: 'job-cycle' });
  const owner = h('dd', { id: 'job-owner' });
  const updated = h('dd', null);
  const stages = h('ol', { id: 'stages', class: 'stages' });
  const count = h('span', { class: 'count', id: 'timeline-count' });
  const timeline = h('ol', { id: 'timeline', class: 'timeline', 'aria-describedby': 'timeline-count' });
  const empty = h('p', { class: 'empty', id: 'timeline-empty' }, 'No status reported yet.');

  const header = h(
    'header',
    { class: 'job-header' },
    h('div', { class: 'job-title-row' }, h('h1', { id: 'job-title', tabindex: -1 }, h('span', { class: 'muted' }, 'Job '), h('code', null, jobId)), badgeSlot),
    h('p', { class: 'job-now' }, h('span', { class: 'muted' }, 'Stage '), stageText),
    messageText,
    h('div', { class: 'progress-row' }, h('span', { id: 'job-progress-label', class: 'visually-hidden' }, 'Progress'), progress, percent, cycle),
    h('dl', { class: 'facts' }, h('div', null, h('dt', null, 'Owner'), owner), h('div', null, h('dt', null, 'Updated'), updated)),
    link.indicator,
  );

  ctx.root.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, '← All jobs')),
    header,
    link.banner,
    h('section', { class: 'card', 'aria-labelledby': 'stages-heading' }, h('h2', { id: 'stages-heading' }, 'Stages'), stages),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'timeline-heading' },
      h('h2', { id: 'timeline-heading' }, 'Timeline ', count),
      empty,
      timeline,
    ),
  );

  return {
    link,
    renderStatus(job) {
      const current = job.latest;
      const meta = job.snapshot?.meta ?? null;
      const state = current?.state ?? null;
      header.className = `job-header state-${state ?? 'unknown'}`;
      badgeSlot.replaceChildren(stateBadge(state));
      stageText.textContent = current?.stage ?? '—';
      messageText.textContent = current?.message ?? '';
      messageText.hidden = !current?.message;
      const value = current?.progress ?? null;
      setProgress(progress, value !== null ? value : state === 'succeeded' ? 1 : state === 'running' ? 'indeterminate' : 0);
      percent.textContent = formatPercent(value ?? (state === 'succeeded' ? 1 : null));
      cycle.textContent = formatCycle(current?.cycle, meta?.expected_cycles);
      owner.textContent = meta?.owner ?? '—';
      updated.replaceChildren(current ? h('time', { datetime: current.ts, title: current.ts }, `${formatClock(current.ts)} (${formatAge(current.ts, Date.now())})`) : '—');
      stages.replaceChildren(
        ...stagesOf(job.timeline, meta, current).map((stage) =>
          h(
            'li',
            {
              class: `stage stage-${stage.position}${stage.position === 'current' && state ? ` state-${state}` : ''}`,
              'aria-current': stage.position === 'current' ? 'step' : null,
            },
            h('span', { class: 'stage-marker', 'aria-hidden': 'true' }),
            stage.name,
            stage.position === 'past' ? h('span', { class: 'visually-hidden' }, ' (done)') : null,
            stage.position === 'current' ? h('span', { class: 'visually-hidden' }, ` (current, ${state ?? 'unknown'})`) : null,
          ),
        ),
      );
      const n = job.timeline.length;
      count.textContent = `(${n} ${n === 1 ? 'entry' : 'entries'})`;
      empty.hidden = n > 0;
      document.title = `${state ?? '…'} · ${jobId} — statuscast`;
    },
    insertEntries(added, meta) {
      for (const entry of added) {
        const item = entryItem(entry, meta?.expected_cycles ?? null);
        // Newest at the bottom; an entry that arrives late goes before every later revision.
        let after = timeline.lastElementChild;
        while (after && Number((after as HTMLElement).dataset['revision']) > entry.revision) after = after.previousElementSibling;
        if (after) after.after(item);
        else timeline.prepend(item);
      }
    },
  };
}

function entryItem(entry: TimelineEntry, expectedCycles: number | null): HTMLLIElement {
  const detailKeys = Object.keys(entry.details ?? {});
  return h(
    'li',
    { class: `entry state-${entry.state}`, 'data-revision': entry.revision },
    h(
      'div',
      { class: 'entry-head' },
      h('time', { datetime: entry.ts, title: entry.ts }, formatClock(entry.ts)),
      h('span', { class: 'entry-stage' }, entry.stage),
      stateBadge(entry.state, 'small'),
      entry.progress !== null ? h('span', { class: 'entry-progress' }, formatPercent(entry.progress)) : null,
      entry.cycle !== null ? h('span', { class: 'entry-cycle' }, formatCycle(entry.cycle, expectedCycles)) : null,
      h('span', { class: 'entry-rev', title: 'revision' }, `#${entry.revision}`),
    ),
    entry.message ? h('p', { class: 'entry-message' }, entry.message) : null,
    entry.artifact ? h('p', { class: 'entry-artifact' }, h('span', { class: 'muted' }, 'Artifact '), artifactLink(entry.artifact)) : null,
    detailKeys.length > 0
      ? h(
          'details',
          { class: 'entry-details' },
          h('summary', null, `Details (${detailKeys.length} ${detailKeys.length === 1 ? 'field' : 'fields'})`),
          h('pre', null, JSON.stringify(entry.details, null, 2)),
        )
      : null,
  );
}

/** Artifacts are names; an http(s) URL becomes a link that leaks no referrer. */
function artifactLink(artifact: string): HTMLElement {
  if (/^https?:\/\//i.test(artifact)) return h('a', { href: artifact, rel: 'noopener noreferrer', target: '_blank' }, artifact);
  return h('code', null, artifact);
}

function showNotFound(ctx: ViewContext, jobId: string): void {
  ctx.root.replaceChildren(
    h(
      'section',
      { class: 'notice', 'aria-labelledby': 'not-found-heading', id: 'not-found' },
      h('h1', { id: 'not-found-heading', tabindex: -1 }, 'Job not found'),
      h('p', null, 'There is no job ', h('code', null, jobId), ' that you can see. It may not exist, or it may belong to another user.'),
      h('p', null, h('a', { href: '/' }, '← Back to your jobs')),
    ),
  );
  document.title = 'Job not found — statuscast';
  ctx.announce(`Job ${jobId} was not found.`);
  ctx.root.querySelector<HTMLElement>('h1')?.focus();
}

function showLoadError(ctx: ViewContext, jobId: string, message: string): void {
  const retry = h('button', { type: 'button', class: 'button' }, 'Try again');
  retry.addEventListener('click', () => location.reload());
  ctx.root.replaceChildren(
    h(
      'section',
      { class: 'notice', role: 'alert' },
      h('h1', null, 'Could not load the job'),
      h('p', null, 'Loading ', h('code', null, jobId), ` failed: ${message}`),
      h('p', null, retry, ' ', h('a', { href: '/' }, 'Back to your jobs')),
    ),
  );
}
