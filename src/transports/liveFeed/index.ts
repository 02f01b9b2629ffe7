export { createLiveFeed, type LiveFeedOptions, type RunningLiveFeed } from './createLiveFeed.ts';
export * from './types.ts';
