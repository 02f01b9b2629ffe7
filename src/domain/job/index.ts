export * from './commands.ts';
export * from './decide.ts';
export * from './events.ts';
export * from './jobId.ts';
export * from './state.ts';
export * from './timeline.ts';
