import { describe, expect, it } from 'vitest';
import { JobTimeline } from '../../web/src/jobTimeline.ts';
import type { JobHistory, LatestStatus, TimelineEntry } from '../../web/src/wire.ts';

function entry(revision: number, overrides: Partial<TimelineEntry> = {}): TimelineEntry {
  return {
    revision,
    stage: 'parse',
    state: 'running',
    artifact: null,
    message: `step ${revision}`,
    cycle: null,
    progress: revision / 10,
    details: {},
    ts: new Date(Date.UTC(2026, 10, 20, 10, 0, revision)).toISOString(),
    ...overrides,
  };
}

function latest(revision: number, overrides: Partial<LatestStatus> = {}): LatestStatus {
  return { ...entry(revision), job_id: 'job-1', ...overrides };
}

function history(revisions: number[], meta: Partial<JobHistory['meta']> = {}): JobHistory {
  const events = revisions.map((r) => entry(r));
  const head = revisions.at(-1) ?? 0;
  return {
    latest_status: head ? latest(head) : null,
    timeline_events: events,
    meta: { stage_order: null, expected_cycles: null, owner: 'alice', revision: head, created_at: null, ...meta },
  };
}

const revisionsOf = (timeline: JobTimeline) => timeline.entries.map((e) => e.revision);

describe('JobTimeline', () => {
  it('resumes after the history snapshot', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyHistory(history([1, 2, 3]));
    expect(revisionsOf(timeline)).toEqual([1, 2, 3]);
    expect(timeline.resumeAfter).toBe(3);
    expect(new JobTimeline('job-2').resumeAfter).toBe(0);
  });

  it('applies an overlapping bulk and replayed live events once, in revision order', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyHistory(history([1, 2]));
    expect(timeline.applyEntries([entry(2), entry(3), entry(4)]).map((e) => e.revision)).toEqual([3, 4]);
    expect(timeline.applyEntries([entry(4)])).toEqual([]);
    expect(timeline.applyEntries([entry(6), entry(5)]).map((e) => e.revision)).toEqual([5, 6]);
    expect(timeline.applyEntries([entry(1), entry(3)])).toEqual([]);
    expect(revisionsOf(timeline)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(timeline.duplicatesIgnored).toBe(4);
  });

  it('resumes before a hole, so the next catch-up refills it', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyEntries([entry(1), entry(2), entry(4)]);
    expect(timeline.resumeAfter).toBe(2);
    timeline.applyEntries([entry(3)]);
    expect(timeline.resumeAfter).toBe(4);
  });

  it('keeps the newest status, whichever arrives first', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyEntries([entry(1), entry(2, { stage: 'render', state: 'running' })]);
    expect(timeline.current?.revision).toBe(2);
    expect(timeline.applyLatest(latest(1))).toBe(false);
    expect(timeline.current?.stage).toBe('render');
    expect(timeline.applyLatest(latest(3, { state: 'succeeded', stage: 'publish' }))).toBe(true);
    expect(timeline.state).toBe('succeeded');
    expect(timeline.applyLatest(latest(2))).toBe(false);
  });

  it('lists stages in stage_order, the current one highlighted, unknown ones appended', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyHistory(history([], { stage_order: ['queued', 'parse', 'render', 'publish'] }));
    timeline.applyEntries([entry(1, { stage: 'queued' }), entry(2, { stage: 'render' }), entry(3, { stage: 'retry' })]);
    timeline.applyEntries([entry(4, { stage: 'render' })]);
    expect(timeline.stages).toEqual([
      { name: 'queued', position: 'past' },
      { name: 'parse', position: 'past' },
      { name: 'render', position: 'current' },
      { name: 'publish', position: 'future' },
      { name: 'retry', position: 'future' },
    ]);
  });

  it('orders stages by first appearance when the job gave no stage_order', () => {
    const timeline = new JobTimeline('job-1');
    timeline.applyEntries([entry(2, { stage: 'b' }), entry(1, { stage: 'a' }), entry(3, { stage: 'a' })]);
    expect(timeline.stages.map((s) => `${s.name}:${s.position}`)).toEqual(['a:current', 'b:future']);
  });

  it('ignores entries that are not timeline revisions', () => {
    const timeline = new JobTimeline('job-1');
    expect(timeline.applyEntries([entry(0), entry(-1), entry(1.5)])).toEqual([]);
    expect(timeline.entries).toEqual([]);
  });
});
