import { parseArgs } from 'node:util';

/** Parses `--name value` flags; prints usage and exits 2 on anything unknown. */
export function cliArgs<const T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>['values'] {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\nusage: ${usage}`);
    process.exit(2);
  }
}
