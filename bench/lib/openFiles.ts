import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openFileLimit } from './machine.ts';

/** What the runner did about the open-file limit before it started any child. */
export interface OpenFilesRaise {
  readonly before: { readonly soft: number; readonly hard: number };
  /** What the run asked for (the most connections one process holds, plus a margin). */
  readonly wanted: number;
  readonly after: { readonly soft: number; readonly hard: number };
  /** `/proc/sys/fs/nr_open`: the most any process may be given. */
  readonly nrOpen: number;
  /** Why the wanted limit was not granted (e.g. no CAP_SYS_RESOURCE to go above the hard limit). */
  readonly refused?: string;
}

function nrOpen(): number {
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1_048_576;
  } catch {
    return 1_048_576;
  }
}

function setLimit(soft: number, hard: number): string | undefined {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error instanceof Error ? error.message : String(error));
  }
}

/**
 * Raises this process's open-file limit (children forked later inherit it) as far as the
 * process may: to `wanted` if it is allowed to raise the hard limit (root with
 * CAP_SYS_RESOURCE, up to nr_open), else the soft limit up to the hard one — what
 * `ulimit -n <hard>` would do. Every connection is a socket, so this bounds the capacity.
 */
export function raiseOpenFileLimit(wanted: number): OpenFilesRaise {
  const before = openFileLimit();
  const max = nrOpen();
  const target = Math.min(Math.max(wanted, before.soft), max);
  let refused: string | undefined;
  if (target > before.soft) {
    refused = target > before.hard ? setLimit(target, target) : setLimit(target, before.hard);
    if (refused && before.soft < before.hard) setLimit(before.hard, before.hard);
  }
  const after = openFileLimit();
  return { before, wanted, after, nrOpen: max, ...(refused ? { refused } : {}) };
}
