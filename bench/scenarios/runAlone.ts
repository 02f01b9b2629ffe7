import { fileURLToPath } from 'node:url';

/** Lets a scenario file run by itself: `npx tsx bench/scenarios/<name>.ts [--quick|--smoke]`. */
export function runAlone(moduleUrl: string, scenario: string): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  void import('../run.ts').then(({ main }) => main([...process.argv.slice(2), '--only', scenario]));
}
