/**
 * Rebuilds `docs/benchmarks.md` and its chart from a results file, without measuring:
 *   npx tsx bench/report.ts [bench/results/<timestamp>.json]   (default: the newest full run)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from './report/results.ts';
import { writeDoc } from './report/writeDoc.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function newestFullRun(dir = join(ROOT, 'bench', 'results')): string | undefined {
  const files = readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}T[\d-]+Z\.json$/.test(f)).sort();
  return files.length ? join(dir, files[files.length - 1]!) : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ? resolve(process.argv[2]) : newestFullRun();
  if (!file) {
    process.stderr.write('no full-run results in bench/results; run `npm run bench` first\n');
    process.exit(1);
  }
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const written = writeDoc(results, file, ROOT);
  process.stdout.write(`wrote ${written.doc} and ${written.chart} from ${file}\n`);
}
