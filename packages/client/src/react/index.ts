import { createContext, createElement, useCallback, useContext, useMemo, useRef, useSyncExternalStore, type ReactElement, type ReactNode } from 'react';
import type { GetToken } from '../api.ts';
import { INITIAL_CONNECTION } from '../connectionState.ts';
import { type FollowOptions, type JobFollowState, type JobFollower, followJob } from '../followJob.ts';
import { type FeedFollowState, type FeedFollower, type FollowJobsOptions, followJobs } from '../followJobs.ts';
import { FollowerRegistry } from './followerRegistry.ts';

/** What the hooks connect with: `followJob`'s options without `signal` (a component's lifetime is its signal). */
export type StatuscastConfig = Omit<FollowOptions, 'signal'>;

const StatuscastContext = createContext<StatuscastConfig | null>(null);

/**
 * Gives `useJob` and `useJobs` below it their `baseUrl`, `getToken` and other options. The
 * latest `getToken` is always the one called, so it may be a new function on every render.
 */
export function StatuscastProvider(props: StatuscastConfig & { readonly children?: ReactNode }): ReactElement {
  const { children, ...config } = props;
  return createElement(StatuscastContext.Provider, { value: config }, children);
}

/** A job's state from `useJob`, plus a retry for a Retry button. */
export type UseJobResult = JobFollowState & {
  /** Retries now instead of waiting for the back-off (or after `offline`). */
  readonly reconnect: () => void;
};

/** The feed's state from `useJobs`, plus a retry. */
export type UseJobsResult = FeedFollowState & { readonly reconnect: () => void };

const jobs = new FollowerRegistry<JobFollower>();
const feeds = new FollowerRegistry<FeedFollower>();

/**
 * Follows a job live (see `followJob`) for as long as a component uses it. Suspense-free:
 * the first render has an empty timeline and `connection.status` `connecting`; the
 * component re-renders as the snapshot and each revision arrive. Components that follow the
 * same job share one follower, and StrictMode's double mount opens one connection, not two.
 * `jobId` `null` or `undefined` follows nothing.
 *
 * ```tsx
 * const job = useJob(jobId);
 * return <ol>{job.timeline.map((e) => <li key={e.revision}>{e.message}</li>)}</ol>;
 * ```
 */
export function useJob(jobId: string | null | undefined, options?: Partial<StatuscastConfig>): UseJobResult {
  const config = useConfig(options);
  const key = jobId ? JSON.stringify(['job', config.baseUrl ?? '', jobId, config.transport ?? 'auto']) : null;
  const latest = useLatest(config);
  const empty = useMemo<JobFollowState>(
    () => ({ jobId: jobId ?? '', snapshot: null, timeline: [], latest: null, terminal: false, connection: INITIAL_CONNECTION }),
    [jobId],
  );
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (key === null || !jobId) return () => {};
      const release = jobs.acquire(key, () => followJob(jobId, withLatestToken(latest)));
      const unsubscribe = jobs.peek(key)!.subscribe(onChange);
      return () => {
        unsubscribe();
        release();
      };
    },
    [key, jobId, latest],
  );
  const getSnapshot = () => (key === null ? undefined : jobs.peek(key)?.state) ?? empty;
  const state = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const reconnect = useCallback(() => (key === null ? undefined : jobs.peek(key)?.reconnect()), [key]);
  return useMemo(() => ({ ...state, reconnect }), [state, reconnect]);
}

/**
 * Follows the caller's jobs live (see `followJobs`) for as long as a component uses them;
 * newest first. Suspense-free, shared and StrictMode-safe like `useJob`.
 */
export function useJobs(options?: Partial<StatuscastConfig> & Pick<FollowJobsOptions, 'limit' | 'maxJobs'>): UseJobsResult {
  const config = useConfig(options);
  const key = JSON.stringify(['feed', config.baseUrl ?? '', config.transport ?? 'auto', options?.limit ?? 50, options?.maxJobs ?? 1000]);
  const latest = useLatest(config);
  const limits = useRef({ limit: options?.limit, maxJobs: options?.maxJobs });
  const empty = useMemo<FeedFollowState>(() => ({ jobs: [], loaded: false, position: null, connection: INITIAL_CONNECTION }), []);
  const subscribe = useCallback(
    (onChange: () => void) => {
      const release = feeds.acquire(key, () =>
        followJobs({ ...withLatestToken(latest), ...(limits.current.limit !== undefined && { limit: limits.current.limit }), ...(limits.current.maxJobs !== undefined && { maxJobs: limits.current.maxJobs }) }),
      );
      const unsubscribe = feeds.peek(key)!.subscribe(onChange);
      return () => {
        unsubscribe();
        release();
      };
    },
    [key, latest],
  );
  const getSnapshot = () => feeds.peek(key)?.state ?? empty;
  const state = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const reconnect = useCallback(() => feeds.peek(key)?.reconnect(), [key]);
  return useMemo(() => ({ ...state, reconnect }), [state, reconnect]);
}

function useConfig(options: Partial<StatuscastConfig> | undefined): StatuscastConfig {
  const context = useContext(StatuscastContext);
  const getToken = options?.getToken ?? context?.getToken;
  if (!getToken) throw new Error('useJob/useJobs need a getToken: wrap the app in <StatuscastProvider getToken={…}> or pass it as an option.');
  return { ...context, ...options, getToken };
}

/** A ref that always holds the latest config (its identity never changes). */
function useLatest(config: StatuscastConfig): { current: StatuscastConfig } {
  const ref = useRef(config);
  ref.current = config;
  return ref;
}

/** The options to create a follower with, calling whatever `getToken` the component rendered last. */
function withLatestToken(latest: { current: StatuscastConfig }): FollowOptions {
  const getToken: GetToken = () => latest.current.getToken();
  return { ...latest.current, getToken };
}
