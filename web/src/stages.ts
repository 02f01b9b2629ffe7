import type { JobMeta, LatestStatus, TimelineEntry } from '@statuscast/client';

/** Where a stage stands relative to the job's current stage. */
export interface StageView {
  readonly name: string;
  readonly position: 'past' | 'current' | 'future';
}

/**
 * The stages to show: those in `stage_order` (or in order of first appearance when the job
 * gave none), plus any stage reported outside that order, each placed relative to the
 * current one. No DOM here.
 */
export function stagesOf(timeline: readonly TimelineEntry[], meta: JobMeta | null, current: LatestStatus | null): StageView[] {
  const names: string[] = [...(meta?.stage_order ?? [])];
  for (const entry of timeline) if (!names.includes(entry.stage)) names.push(entry.stage);
  const currentStage = current?.stage;
  if (currentStage !== undefined && !names.includes(currentStage)) names.push(currentStage);
  const currentIndex = currentStage === undefined ? -1 : names.indexOf(currentStage);
  return names.map((name, index) => ({
    name,
    position: index < currentIndex ? 'past' : index === currentIndex ? 'current' : 'future',
  }));
}
