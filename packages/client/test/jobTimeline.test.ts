import { describe, expect, it } from 'vitest';
import { JobTimeline, entryOfAuditEvent } from '../src/jobTimeline.ts';
import type { TimelineEntry } from '../src/wire.ts';

const entry = (revision: number, state: TimelineEntry['state'] = 'running'): TimelineEntry => ({
  revision,
  stage: `stage-${revision}`,
  state,
  artifact: null,
  message: `step ${revision}`,
  cycle: null,
  progress: null,
  details: {},
  ts: '2026-11-20T10:00:00.000Z',
});
const revisions = (entries: readonly TimelineEntry[]) => entries.map((e) => e.revision);

describe('JobTimeline', () => {
  it('releases each revision once, in order, whatever overlaps and replays arrive', () => {
    const timeline = new JobTimeline('job-1');
    expect(revisions(timeline.accept([entry(1), entry(2), entry(3)]))).toEqual([1, 2, 3]);
    expect(revisions(timeline.accept([entry(2), entry(3), entry(4)]))).toEqual([4]);
    expect(revisions(timeline.accept([entry(4), entry(1)]))).toEqual([]);
    expect(revisions(timeline.entries)).toEqual([1, 2, 3, 4]);
    expect(timeline.head).toBe(4);
    expect(timeline.duplicates).toBe(4);
  });

  it('holds entries beyond a hole back until the hole is filled, then releases them in order', () => {
    const timeline = new JobTimeline('job-1');
    timeline.accept([entry(1)]);
    expect(timeline.accept([entry(4)])).toEqual([]);
    expect(timeline.accept([entry(3)])).toEqual([]);
    expect(timeline.hasHole).toBe(true);
    expect(timeline.head).toBe(1);
    expect(revisions(timeline.accept([entry(2)]))).toEqual([2, 3, 4]);
    expect(timeline.hasHole).toBe(false);
  });

  it('holds a status.latest beyond the head back with the entries it belongs to', () => {
    const timeline = new JobTimeline('job-1');
    timeline.accept([entry(1)]);
    expect(timeline.acceptLatest({ ...entry(3, 'succeeded'), job_id: 'job-1' })).toBe(false);
    expect(timeline.latest?.revision).toBe(1);
    timeline.accept([entry(3, 'succeeded')]);
    expect(timeline.latest?.revision).toBe(1);
    timeline.accept([entry(2)]);
    expect(timeline.latest).toMatchObject({ revision: 3, state: 'succeeded', job_id: 'job-1' });
  });

  it('never moves latest backwards', () => {
    const timeline = new JobTimeline('job-1');
    timeline.accept([entry(1), entry(2)]);
    expect(timeline.acceptLatest({ ...entry(1), job_id: 'job-1' })).toBe(false);
    expect(timeline.latest?.revision).toBe(2);
  });

  it('ignores entries without a valid revision (revision 0 is JobRegistered, never a timeline entry)', () => {
    const timeline = new JobTimeline('job-1');
    expect(timeline.accept([entry(0), { ...entry(1), revision: 1.5 }, entry(1)])).toHaveLength(1);
  });

  it('reads StatusReported events of the raw history as timeline entries, and skips the rest', () => {
    expect(entryOfAuditEvent({ revision: 0, type: 'JobRegistered', data: { user_id: 'alice' } })).toBeNull();
    expect(
      entryOfAuditEvent({ revision: 2, type: 'StatusReported', data: { stage: 'parse', state: 'running', ts: 't', progress: 0.5, message: 'm' } }),
    ).toEqual({ revision: 2, stage: 'parse', state: 'running', artifact: null, message: 'm', cycle: null, progress: 0.5, details: {}, ts: 't' });
  });
});
