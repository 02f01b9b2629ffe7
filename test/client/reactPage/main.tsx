import { StatuscastProvider, useJob, useJobs } from '@statuscast/client/react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * A tiny app on @statuscast/client/react, as a user would write it: on another origin than
 * statuscast (the test allows it with CORS_ORIGINS), the token in the URL fragment (test
 * only), everything under StrictMode, two components on the same job.
 */
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('token') ?? '';
const baseUrl = params.get('api') ?? '';
const jobId = params.get('job') ?? '';

function Job({ id, copy }: { id: string; copy: number }) {
  const job = useJob(id);
  return (
    <section className="job" data-copy={copy} data-status={job.connection.status} data-transport={job.connection.transport ?? ''}>
      <h1>{id}</h1>
      <p className="latest">{job.latest ? `${job.latest.state}: ${job.latest.message ?? ''}` : 'no status yet'}</p>
      <p className="snapshot">{job.snapshot ? `snapshot at ${job.snapshot.meta.revision}` : 'no snapshot'}</p>
      <ol className="timeline">
        {job.timeline.map((entry) => (
          <li key={entry.revision} data-revision={entry.revision}>
            {entry.message}
          </li>
        ))}
      </ol>
      {job.connection.status === 'reconnecting' || job.connection.status === 'offline' ? (
        <button className="retry" onClick={job.reconnect}>
          Retry
        </button>
      ) : null}
    </section>
  );
}

function Jobs() {
  const feed = useJobs({ limit: 20 });
  return (
    <ul id="jobs" data-loaded={String(feed.loaded)} data-status={feed.connection.status}>
      {feed.jobs.map((job) => (
        <li key={job.job_id} data-job-id={job.job_id} data-state={job.latest?.state ?? ''}>
          {job.job_id}
        </li>
      ))}
    </ul>
  );
}

function App() {
  const [shown, setShown] = useState(true);
  return (
    <>
      <button id="toggle" onClick={() => setShown((value) => !value)}>
        {shown ? 'Hide' : 'Show'}
      </button>
      {shown ? <Job id={jobId} copy={1} /> : null}
      {/* A second component on the same job shares its follower. */}
      {shown ? <Job id={jobId} copy={2} /> : null}
      <Jobs />
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StatuscastProvider baseUrl={baseUrl} getToken={() => token}>
      <App />
    </StatuscastProvider>
  </StrictMode>,
);
