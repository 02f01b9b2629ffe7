import type { LatestStatus, TimelineEntry } from '@statuscast/client';
import { describe, expect, it } from 'vitest';
import { stagesOf } from '../../web/src/stages.ts';

// The timeline itself (each revision once, in order, holes held back) is @statuscast/client's
// JobTimeline, specified in packages/client/test/jobTimeline.test.ts; the page only adds stages.

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

const latestOf = (timeline: TimelineEntry[]): LatestStatus | null => {
  const newest = timeline[timeline.length - 1];
  return newest ? { ...newest, job_id: 'job-1' } : null;
};

describe('the stages the job view shows', () => {
  it('lists stages in stage_order, the current one highlighted, unknown ones appended', () => {
    const timeline = [entry(1, { stage: 'queued' }), entry(2, { stage: 'render' }), entry(3, { stage: 'retry' }), entry(4, { stage: 'render' })];
    expect(stagesOf(timeline, { stage_order: ['queued', 'parse', 'render', 'publish'], expected_cycles: null }, latestOf(timeline))).toEqual([
      { name: 'queued', position: 'past' },
      { name: 'parse', position: 'past' },
      { name: 'render', position: 'current' },
      { name: 'publish', position: 'future' },
      { name: 'retry', position: 'future' },
    ]);
  });

  it('orders stages by first appearance when the job gave no stage_order', () => {
    const timeline = [entry(1, { stage: 'a' }), entry(2, { stage: 'b' }), entry(3, { stage: 'a' })];
    expect(stagesOf(timeline, null, latestOf(timeline)).map((s) => `${s.name}:${s.position}`)).toEqual(['a:current', 'b:future']);
  });

  it('shows the current stage even before any timeline entry arrived', () => {
    expect(stagesOf([], { stage_order: ['x'], expected_cycles: null }, { ...entry(5, { stage: 'y' }), job_id: 'job-1' })).toEqual([
      { name: 'x', position: 'past' },
      { name: 'y', position: 'current' },
    ]);
  });
});
