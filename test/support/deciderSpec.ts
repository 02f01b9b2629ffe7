import { expect } from 'vitest';
import type { ReportStatus } from '../../src/domain/job/commands.ts';
import { type Decision, decide } from '../../src/domain/job/decide.ts';
import type { JobEvent } from '../../src/domain/job/events.ts';
import { fold } from '../../src/domain/job/state.ts';

/** `given(events).when(command).then(...)`: domain specifications that read as behaviour. */
export function given(...history: JobEvent[]) {
  return {
    when(command: ReportStatus) {
      const decision = decide(command, fold(history));
      return {
        thenAppends(...events: JobEvent[]) {
          expect(decision).toEqual({ outcome: 'appended', events });
        },
        then(expected: Decision) {
          expect(decision).toEqual(expected);
        },
      };
    },
  };
}
