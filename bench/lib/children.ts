import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A message a child sends on its own (progress reports), not as an answer. */
export interface ChildEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface SpawnOptions {
  /** Shown in errors and logs. */
  readonly name: string;
  readonly args?: readonly string[];
  /** Extra Node flags (`--expose-gc`, `--max-old-space-size=…`). */
  readonly nodeFlags?: readonly string[];
  readonly env?: Record<string, string>;
  /** How long the child may take to say it is ready. Defaults to 30 s. */
  readonly readyTimeoutMs?: number;
  /** The child exits by itself after this long, whatever happens here. Defaults to 30 min. */
  readonly maxLifetimeMs?: number;
}

/** A child process driven over IPC: `request` sends `{ op, … }` and resolves with its answer. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: any): void; reject(error: Error): void; op: string }>();
  private readonly listeners = new Set<(event: ChildEvent) => void>();
  private readonly output: string[] = [];
  private exitedWith: string | null = null;
  readonly exited: Promise<void>;
  /** What the child said when it became ready. */
  ready: Record<string, any> = {};

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.output.push(line);
      if (this.output.length > 60) this.output.splice(0, this.output.length - 60);
      if (process.env['BENCH_VERBOSE']) process.stderr.write(`[${name}] ${chunk}`);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('message', (message: any) => {
      if (message && typeof message.id === 'number') {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${name}: ${waiter.op} failed: ${message.error}`));
      } else if (message && typeof message.event === 'string') {
        for (const listener of this.listeners) listener(message as ChildEvent);
      }
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitedWith = signal ?? String(code);
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited (${this.exitedWith}) during ${waiter.op}\n${this.tail()}`));
        this.pending.clear();
        live.delete(this);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get isAlive(): boolean {
    return this.exitedWith === null;
  }

  /** The last lines the child printed, for error messages. */
  tail(): string {
    return this.output.slice(-20).join('\n');
  }

  request<T = any>(op: string, payload: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    if (!this.isAlive) return Promise.reject(new Error(`${this.name} is not running (${this.exitedWith})\n${this.tail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        op,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.proc.send({ id, op, ...payload });
    });
  }

  on(listener: (event: ChildEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the child to exit, then kills it if it does not within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.isAlive) return;
    try {
      await this.request('exit', {}, graceMs);
    } catch {
      // It may exit before answering.
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.isAlive) this.proc.kill('SIGKILL');
  }
}

const live = new Set<Child>();
let cleanupInstalled = false;

/** Every child still running; the runner's exit handlers kill them. */
export function liveChildren(): readonly Child[] {
  return [...live];
}

export function killAllChildren(): void {
  for (const child of live) child.kill();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/**
 * Forks a TypeScript child (run by tsx) with an IPC channel and waits for its `ready`
 * event. The child exits by itself when this process goes away (see `serveIpc`).
 */
export async function spawnChild(script: string | URL, options: SpawnOptions): Promise<Child> {
  installCleanup();
  const path = script instanceof URL ? fileURLToPath(script) : script;
  const proc = fork(path, [...(options.args ?? [])], {
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    env: {
      ...process.env,
      BENCH_CHILD_NAME: options.name,
      BENCH_CHILD_MAX_MS: String(options.maxLifetimeMs ?? 30 * 60_000),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const child = new Child(options.name, proc);
  live.add(child);
  const readyTimeout = options.readyTimeoutMs ?? 30_000;
  try {
    child.ready = await new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name} did not start within ${readyTimeout} ms\n${child.tail()}`)), readyTimeout);
      const off = child.on((event) => {
        if (event.event === 'ready') {
          clearTimeout(timer);
          off();
          resolve(event);
        } else if (event.event === 'failed') {
          clearTimeout(timer);
          off();
          reject(new Error(`${options.name} failed to start: ${String(event['error'])}\n${child.tail()}`));
        }
      });
      void child.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited before it was ready\n${child.tail()}`));
      });
    });
  } catch (error) {
    child.kill();
    throw error;
  }
  return child;
}
