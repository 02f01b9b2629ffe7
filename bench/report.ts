/**
 * Rebuilds `docs/benchmarks.md` and its chart from a results file, without measuring:
 *   npx tsx bench/report.ts [bench/results/v2.json]   (default: the committed file of the newest bench version)
 * The targets' spread comes from the file's `history` (the other full runs of its version).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from './report/results.ts';
import { writeDoc } from './report/writeDoc.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The committed results file of the newest bench version (`bench/results/v<N>.json`). */
export function newestCommitted(dir = join(ROOT, 'bench', 'results')): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .map((f) => /^v(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  return files.length ? join(dir, files[files.length - 1]![0]) : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ? resolve(process.argv[2]) : newestCommitted();
  if (!file) {
    process.stderr.write('no committed results in bench/results; run `npm run bench` first\n');
    process.exit(1);
  }
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const written = writeDoc(results, file, ROOT);
  process.stdout.write(`wrote ${written.doc} and ${written.chart} from ${file}\n`);
}
