/** SignalR group names of contract §1; also the scopes written into stream tokens. */
export const groupNames = {
  /** The job's primary group: `job:<job_id>:user:<owner>`. */
  job: (jobId: string, owner: string): string => `job:${jobId}:user:${owner}`,
  /** The owner's multi-job feed: `user:<user_id>`. */
  user: (userId: string): string => `user:${userId}`,
  /**
   * Every job's feed, for admins and auditors. Only ever a scope in a stream token: no
   * `job:` or `user:` name can collide with it.
   */
  allJobs: 'jobs:all',
};
