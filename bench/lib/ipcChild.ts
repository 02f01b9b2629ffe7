/**
 * The child side of `spawnChild`: answers `{ id, op, … }` requests with the handler of that
 * op, reports `ready`, and exits when the parent goes away or the lifetime bound passes, so
 * no benchmark process outlives its runner.
 */
export type Handlers = Record<string, (message: Record<string, any>) => unknown>;

export function send(event: string, payload: Record<string, unknown> = {}): void {
  process.send?.({ event, ...payload });
}

export function serveIpc(handlers: Handlers, onExit: () => Promise<void> | void = () => undefined): void {
  if (!process.send) throw new Error('this script is a benchmark child; run it through bench/run.ts');
  const maxLifetime = Number(process.env['BENCH_CHILD_MAX_MS'] ?? 30 * 60_000);
  setTimeout(() => {
    process.stderr.write(`${process.env['BENCH_CHILD_NAME']}: lifetime bound reached; exiting\n`);
    process.exit(3);
  }, maxLifetime).unref();

  let exiting = false;
  const exit = async (code: number) => {
    if (exiting) return;
    exiting = true;
    const hardStop = setTimeout(() => process.exit(code), 10_000);
    hardStop.unref();
    try {
      await onExit();
    } catch (error) {
      process.stderr.write(`exit cleanup failed: ${String(error)}\n`);
    }
    process.exit(code);
  };
  process.on('disconnect', () => void exit(0));

  process.on('message', async (message: any) => {
    if (!message || typeof message.id !== 'number') return;
    const { id, op } = message;
    if (op === 'exit') {
      process.send?.({ id, ok: true, result: null });
      await exit(0);
      return;
    }
    const handler = handlers[op];
    try {
      if (!handler) throw new Error(`unknown op ${op}`);
      const result = await handler(message);
      process.send?.({ id, ok: true, result: result ?? null });
    } catch (error) {
      process.send?.({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}
