import { jobLatestProjection } from './jobLatest/index.ts';
import { jobTimelineProjection } from './jobTimeline/index.ts';

/** The projections that make up the read models, in the order they are applied. */
export const READ_MODEL_PROJECTIONS = [jobLatestProjection, jobTimelineProjection];

export { createReadModel, type JobHistory, type JobPage, type JobSummary, type ReadModel } from './readModel.ts';
export { openReadModelDatabase, type ReadModelDatabase } from './readModelDatabase.ts';
export { createProjectionRunner, resetReadModels, type ProjectionRunner } from './runner.ts';
