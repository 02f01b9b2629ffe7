import { describe, expect, it } from 'vitest';
import type { ReportStatus } from '../../src/domain/job/commands.ts';
import type { JobMeta, JobRegistered, StatusReported, StatusReportedData } from '../../src/domain/job/events.ts';
import { fold } from '../../src/domain/job/state.ts';
import { given } from '../support/deciderSpec.ts';

const TS = '2026-11-20T10:00:00.000Z';

function report(overrides: Partial<ReportStatus['data']> = {}): ReportStatus {
  return {
    type: 'ReportStatus',
    data: {
      job_id: 'job-42',
      user_id: 'auth0|alice',
      message_id: 'm-1',
      stage: 'parsing',
      state: 'running',
      message: 'Parsed 12 of 40 pages',
      artifact: null,
      cycle: 2,
      progress: 0.3,
      details: { pages: 12 },
      ts: TS,
      meta: null,
      ...overrides,
    },
  };
}

function registered(meta: JobMeta = { stage_order: null, expected_cycles: null }): JobRegistered {
  return { type: 'JobRegistered', data: { job_id: 'job-42', user_id: 'auth0|alice', meta, registered_at: TS } };
}

function reported(overrides: Partial<StatusReportedData> = {}): StatusReported {
  return {
    type: 'StatusReported',
    data: {
      job_id: 'job-42',
      user_id: 'auth0|alice',
      message_id: 'm-1',
      stage: 'parsing',
      state: 'running',
      message: 'Parsed 12 of 40 pages',
      artifact: null,
      cycle: 2,
      progress: 0.3,
      details: { pages: 12 },
      ts: TS,
      ...overrides,
    },
  };
}

describe('job decider', () => {
  describe('the first message of a job', () => {
    it('registers the job with its owner and meta, then reports the status', () => {
      const meta = { stage_order: ['queued', 'parsing', 'done'], expected_cycles: 3 };
      given()
        .when(report({ meta }))
        .thenAppends(registered(meta), reported());
    });

    it('fills meta the message left out with null', () => {
      given()
        .when(report({ meta: { expected_cycles: 2 } }))
        .thenAppends(registered({ stage_order: null, expected_cycles: 2 }), reported());
    });

    it('is dropped when it names no user_id', () => {
      given()
        .when(report({ user_id: null }))
        .then({ outcome: 'dropped', reason: 'user_id missing for unknown job' });
    });
  });

  describe('a message for an existing job', () => {
    it('reports the status stamped with the owner even without a user_id', () => {
      given(registered(), reported())
        .when(report({ user_id: null, message_id: 'm-2', stage: 'done', state: 'succeeded' }))
        .thenAppends(reported({ message_id: 'm-2', stage: 'done', state: 'succeeded' }));
    });

    it('is rejected when its user_id is not the owner', () => {
      given(registered(), reported())
        .when(report({ user_id: 'auth0|mallory', message_id: 'm-2' }))
        .then({ outcome: 'rejected', reason: "user_id does not match the job's owner" });
    });

    it('is a duplicate when its message_id was already reported, naming that revision', () => {
      given(registered(), reported(), reported({ message_id: 'm-2' }))
        .when(report({ message_id: 'm-1' }))
        .then({ outcome: 'duplicate', revision: 1 });
    });

    it('is appended again when it has no message_id (no idempotency key)', () => {
      given(registered(), reported({ message_id: null }))
        .when(report({ message_id: null }))
        .thenAppends(reported({ message_id: null }));
    });

    it('records a change of meta on the status', () => {
      given(registered(), reported())
        .when(report({ message_id: 'm-2', meta: { expected_cycles: 5 } }))
        .thenAppends(reported({ message_id: 'm-2', meta: { expected_cycles: 5 } }));
    });

    for (const terminal of ['succeeded', 'failed', 'cancelled'] as const) {
      it(`is rejected after the job ${terminal}`, () => {
        given(registered(), reported({ state: terminal }))
          .when(report({ message_id: 'm-2' }))
          .then({ outcome: 'rejected', reason: `job already ${terminal}; no further status is accepted` });
      });
    }

    it('is still a duplicate (not rejected) when the terminal status itself is retried', () => {
      given(registered(), reported({ state: 'succeeded' }))
        .when(report({ state: 'succeeded' }))
        .then({ outcome: 'duplicate', revision: 1 });
    });
  });

  describe('folding a stream', () => {
    it('tracks revision, state, merged meta and every message id', () => {
      const job = fold([
        registered({ stage_order: ['a'], expected_cycles: null }),
        reported({ message_id: 'm-1' }),
        reported({ message_id: 'm-2', state: 'failed', meta: { expected_cycles: 4 } }),
      ]);
      expect(job).toMatchObject({
        status: 'registered',
        owner: 'auth0|alice',
        revision: 2,
        state: 'failed',
        meta: { stage_order: ['a'], expected_cycles: 4 },
      });
      if (job.status !== 'registered') throw new Error('unreachable');
      expect(job.messageRevisions.get('m-1')).toBe(1);
      expect(job.messageRevisions.get('m-2')).toBe(2);
    });

    it('leaves an earlier state untouched when folding further (pure evolve)', () => {
      const before = fold([registered(), reported({ message_id: 'm-1' })]);
      const after = fold([reported({ message_id: 'm-2' })], before);
      if (before.status !== 'registered' || after.status !== 'registered') throw new Error('unreachable');
      expect(before.messageRevisions.get('m-2')).toBeUndefined();
      expect(after.messageRevisions.get('m-2')).toBe(2);
      expect(before.revision).toBe(1);
    });
  });
});
