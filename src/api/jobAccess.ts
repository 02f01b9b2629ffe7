import { type Principal, canSeeJob } from '../auth/principal.ts';
import { isValidJobId } from '../domain/job/jobId.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { JobDirectory } from '../store/jobDirectory.ts';

/**
 * Resolves a job the caller may see, or fails with "not found": a job that exists but
 * belongs to someone else answers exactly like one that does not exist (contract §2).
 */
export async function visibleJob(
  directory: JobDirectory,
  principal: Principal,
  jobId: string,
): Promise<{ jobId: string; owner: string }> {
  if (!isValidJobId(jobId)) {
    throw new ValidationError('The job id is malformed.', [
      { path: 'job_id', message: 'must be 1..128 characters of [A-Za-z0-9._:-]' },
    ]);
  }
  const owner = await directory.ownerOf(jobId);
  if (owner === null || !canSeeJob(principal, owner)) throw new NotFoundError(`No job "${jobId}" is visible to you.`);
  return { jobId, owner };
}
