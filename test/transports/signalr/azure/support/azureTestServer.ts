import type { Registry } from 'prom-client';
import type { AzureSignalRTuning } from '../../../../../src/transports/signalr/azure/index.ts';
import type { ServerOverrides } from '../../../../../src/server.ts';
import type { AzureSignalRStandIn } from '../../../../support/azureSignalRStandIn.ts';
import { startTestServer, type TestServer } from '../../../../support/testServer.ts';

/** Retries fast enough for tests; the shapes (attempts, doubling, jitter) are production's. */
export const FAST_TUNING: AzureSignalRTuning = {
  sendRetry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 40 },
  negotiateRetry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  requestTimeoutMs: 2_000,
  stopTimeoutMs: 300,
};

/** The real server in serverless mode, pointed at the stand-in. */
export function startAzureTestServer(
  standIn: AzureSignalRStandIn,
  tuning: AzureSignalRTuning = {},
  overrides: ServerOverrides = {},
): Promise<TestServer> {
  return startTestServer(
    { AZURE_SIGNALR_CONNECTION_STRING: standIn.connectionString },
    { ...overrides, tuning: { ...overrides.tuning, azureSignalR: { ...FAST_TUNING, ...tuning } } },
  );
}

/** A counter's or gauge's value for exactly these labels (0 when never set). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
  return found?.value ?? 0;
}

/** `POST` a negotiate as `userToken`; the job's route, or the feed's without a job id. */
export async function negotiate(t: TestServer, userToken: string, jobId?: string): Promise<{ status: number; body: any }> {
  const path = jobId === undefined ? '/signalr/negotiate' : `/jobs/${encodeURIComponent(jobId)}/signalr/negotiate`;
  const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${userToken}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
