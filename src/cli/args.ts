// The CLI's arguments, per command, on Node's util.parseArgs (strict): an option another
// command takes (`run --top 3`) or a misspelt one is a usage error, never ignored.
import { parseArgs as nodeParseArgs } from 'node:util';

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string>;
  flags: Set<string>;
}

export class UsageError extends Error {}

/** Valued options and boolean flags of each command (every command also takes --cache-dir: error logs go there). */
export const COMMAND_OPTIONS: Record<string, { valued: string[]; booleans: string[] }> = {
  run: { valued: ['runs-dir', 'backend', 'cache-dir'], booleans: ['json'] },
  catalog: { valued: ['cache-dir'], booleans: ['json'] },
  inspect: { valued: ['cut-at', 'backend', 'cache-dir'], booleans: ['json'] },
  predict: { valued: ['top', 'backend', 'cache-dir'], booleans: ['json'] },
  scaffold: { valued: ['classes', 'split-from', 'val', 'test', 'seed'], booleans: ['json', 'move'] },
  // Catalog, scaffold: nothing loads TensorFlow, so no --backend.
  demo: { valued: ['backend', 'cache-dir', 'runs-dir'], booleans: ['json'] },
  env: { valued: ['backend'], booleans: ['json'] },
  study: { valued: ['per-class', 'seeds', 'strategies', 'target', 'resume', 'runs-dir', 'backend', 'cache-dir'], booleans: ['json'] },
  probe: { valued: ['backbones', 'max-per-class', 'runs-dir', 'backend', 'cache-dir'], booleans: ['json'] },
  export: { valued: ['out', 'format', 'backend', 'cache-dir', 'python'], booleans: ['json', 'force'] },
  'export-script': { valued: ['out', 'runs-dir'], booleans: ['json'] },
};

export function parseArgs(argv: string[], command: string): ParsedArgs {
  const spec = COMMAND_OPTIONS[command];
  if (!spec) throw new UsageError(`unknown command '${command}'`);
  // Every command that loads TensorFlow (takes --backend) also takes --device (nativeDeviceOption.ts).
  const valued = [...new Set([...spec.valued, 'cache-dir', ...(spec.valued.includes('backend') ? ['device'] : [])])];
  const options = Object.fromEntries([
    ...valued.map((name) => [name, { type: 'string' as const }]),
    ...spec.booleans.map((name) => [name, { type: 'boolean' as const }]),
  ]);
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    // Node says e.g. "Unknown option '--top'" or "Option '--runs-dir <value>' argument missing".
    const message = (e as Error).message.split('.')[0].replace(/^Unknown option/, 'unknown option');
    const takes = [...valued.map((n) => `--${n}`), ...spec.booleans.map((n) => `--${n}`)].join(', ');
    throw new UsageError(`${command}: ${message} (${command} takes ${takes || 'no options'})`);
  }
  const out: ParsedArgs = { positionals: parsed.positionals, options: new Map(), flags: new Set() };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') out.options.set(name, value);
    else if (value === true) out.flags.add(name);
  }
  return out;
}

/** An integer option, or its default; anything else is a usage error naming the option. */
export function integerOption(args: ParsedArgs, name: string, fallback: number, min = Number.MIN_SAFE_INTEGER): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name}: must be ${min > 0 ? 'a positive integer' : 'an integer'}, got '${raw}'`);
  }
  return n;
}
