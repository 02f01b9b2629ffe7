/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Profiled wall time (ms). */
  readonly wallMs: number;
  /** Self time by category, largest first; `idle` is the loop waiting for I/O. */
  readonly categories: readonly { readonly name: string; readonly ms: number; readonly percent: number }[];
  /** Functions with the most self time (excluding idle). */
  readonly topFunctions: readonly { readonly name: string; readonly where: string; readonly ms: number; readonly percent: number }[];
}

/**
 * Self time per function and per category (our code by folder, each library, Node's
 * networking, JSON, GC, idle), from the samples and their time deltas.
 */
export function summarizeProfile(profile: CpuProfile, root = process.cwd()): ProfileSummary {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const category = categoryOf(functionName, url, root);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    if (category === 'idle') continue;
    const where = url ? `${shorten(url, root)}:${lineNumber + 1}` : '(native)';
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
  }
  const wallUs = profile.endTime - profile.startTime;
  const pct = (us: number) => Math.round((us / wallUs) * 1000) / 10;
  return {
    wallMs: Math.round(wallUs / 1000),
    categories: [...byCategory]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: pct(us) })),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 15)
      .map((f) => ({ name: f.name, where: f.where, ms: Math.round(f.us / 1000), percent: pct(f.us) })),
  };
}

const LIBRARIES: readonly [RegExp, string][] = [
  [/\/node_modules\/ws\//, 'ws (WebSocket frames)'],
  [/\/node_modules\/better-sse\//, 'better-sse'],
  [/\/node_modules\/better-sqlite3\//, 'better-sqlite3'],
  [/\/node_modules\/(socket\.io|engine\.io|socket\.io-adapter|socket\.io-parser|engine\.io-parser)\//, 'socket.io / engine.io'],
  [/\/node_modules\/(express|router|body-parser|raw-body|finalhandler|send|qs|type-is|content-type|on-finished|accepts|negotiator)\//, 'express (routing, body parsing)'],
  [/\/node_modules\/prom-client\//, 'prom-client (metrics)'],
  [/\/node_modules\/pino/, 'pino (logging)'],
  [/\/node_modules\/jose\//, 'jose (JWT)'],
  [/\/node_modules\/zod\//, 'zod (validation)'],
  [/\/node_modules\/tsx\//, 'tsx loader'],
];

function categoryOf(name: string, url: string, root: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8 / native (program)';
  if (url === '') {
    if (/^(stringify|parse)$/.test(name)) return 'JSON (native)';
    if (/write|Writev|writeUtf8String|writeLatin1String|writeBuffer|shutdown|close/i.test(name)) return 'socket writes (native)';
    return `native: ${name}`;
  }
  for (const [pattern, category] of LIBRARIES) if (pattern.test(url)) return category;
  if (url.startsWith('node:')) {
    if (/node:(_http|http)/.test(url)) return 'Node http';
    if (/node:(net|internal\/stream_base|internal\/net)/.test(url)) return 'Node net / sockets';
    if (/streams/.test(url)) return 'Node streams';
    if (/crypto/.test(url)) return 'Node crypto';
    if (/timers|async_hooks|task_queues|process\/task/.test(url)) return 'Node timers / microtasks';
    if (/events/.test(url)) return 'Node events';
    return 'Node (other)';
  }
  const path = shorten(url, root);
  const match = /^src\/((?:transports|store|api)\/[^/]+|[^/]+)/.exec(path);
  if (match) return `statuscast ${match[1]}`;
  if (path.startsWith('bench/')) return 'bench harness';
  if (path.includes('node_modules/')) return `lib ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'other'}`;
  return 'other';
}

function shorten(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}
