import { parseArgs } from 'node:util';
import type { ConnectionState } from '../connectionState.ts';
import { followJob } from '../followJob.ts';
import type { TransportOption } from '../liveConnection.ts';
import type { TimelineEntry } from '../wire.ts';

const USAGE = `Usage: statuscast follow <job_id> [options]

Prints a job's timeline, then each new status as it happens; exits 0 when the job
succeeds, fails or is cancelled.

Options:
  --url <url>          statuscast's address (env STATUSCAST_URL; default http://127.0.0.1:3000)
  --token <jwt>        the user token (env STATUSCAST_TOKEN, which keeps it out of the process list)
  --transport <name>   auto (default), websockets, server-sent-events, long-polling or sse
  --json               one JSON timeline entry per line instead of text
  -h, --help           this help

Exit status: 0 the job reached a terminal state, 1 it cannot be followed (not found, not
signed in), 2 wrong usage, 130 interrupted.`;

const TRANSPORTS: readonly TransportOption[] = ['auto', 'websockets', 'server-sent-events', 'long-polling', 'sse'];

interface Output {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the command line; resolves with the exit status. */
export async function main(argv: readonly string[], io: Output = consoleOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        transport: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`statuscast: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const [command, jobId, ...rest] = positionals;
  if (command !== 'follow' || !jobId || rest.length > 0) {
    io.err(USAGE);
    return 2;
  }
  const transport = (values.transport ?? 'auto') as TransportOption;
  if (!TRANSPORTS.includes(transport)) {
    io.err(`statuscast: --transport must be one of ${TRANSPORTS.join(', ')}`);
    return 2;
  }
  const token = values.token ?? env['STATUSCAST_TOKEN'];
  if (!token) {
    io.err('statuscast: give the user token in STATUSCAST_TOKEN (or --token)');
    return 2;
  }
  return follow(jobId, { url: values.url ?? env['STATUSCAST_URL'] ?? 'http://127.0.0.1:3000', token, transport, json: values.json === true }, io);
}

async function follow(jobId: string, options: { url: string; token: string; transport: TransportOption; json: boolean }, io: Output): Promise<number> {
  const job = followJob(jobId, { baseUrl: options.url, getToken: () => options.token, transport: options.transport });
  const print = (entry: TimelineEntry) => io.out(options.json ? JSON.stringify({ job_id: jobId, ...entry }) : formatEntry(entry));
  return new Promise<number>((resolve) => {
    let reported = '';
    const finish = (code: number) => {
      unsubscribe();
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      job.close();
      resolve(code);
    };
    const interrupt = () => finish(130);
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    const unsubscribe = job.subscribe(({ added, connectionChanged }) => {
      for (const entry of added) print(entry);
      if (connectionChanged) {
        const line = describeConnection(job.connection);
        if (line !== reported) io.err(line);
        reported = line;
      }
      if (job.terminal) {
        if (!options.json) io.err(`statuscast: job ${jobId} ${job.latest?.state}`);
        finish(0);
      } else if (job.connection.status === 'offline' && job.connection.error?.permanent) {
        finish(1);
      }
    });
  });
}

function formatEntry(entry: TimelineEntry): string {
  const parts = [`#${entry.revision}`, entry.ts, entry.stage, entry.state];
  if (entry.progress !== null) parts.push(`${Math.round(entry.progress * 100)}%`);
  if (entry.cycle !== null) parts.push(`cycle ${entry.cycle}`);
  if (entry.message) parts.push(entry.message);
  if (entry.artifact) parts.push(`artifact ${entry.artifact}`);
  return parts.join('  ');
}

function describeConnection(state: ConnectionState): string {
  switch (state.status) {
    case 'connecting':
      return 'statuscast: connecting…';
    case 'live':
      return `statuscast: live (${state.transport}${state.fallback ? ', SignalR unavailable' : ''})`;
    case 'reconnecting': {
      const seconds = state.nextRetryAt === null ? 0 : Math.max(0, Math.round((state.nextRetryAt - Date.now()) / 1000));
      return `statuscast: connection lost (${state.error?.message ?? 'unknown'}); retrying${seconds > 0 ? ` in ${seconds} s` : ''} (attempt ${state.attempt})`;
    }
    case 'offline':
      return `statuscast: ${state.error ? `cannot follow the job: ${state.error.message}` : 'stopped'}`;
    default: {
      const never: never = state.status;
      return never;
    }
  }
}
