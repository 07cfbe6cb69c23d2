#!/usr/bin/env node
// `transfer-lab` command line: the same engine and run-folder format as the extension.
import { describeBackend, type BackendPreference } from '../core/protocol';
import { describeEnvironment, installRootOf, loadBackend } from '../engine/backend';

const USAGE = `Usage: transfer-lab <command> [options]

Commands:
  env [--backend tensorflow|wasm|cpu] [--json]   Load TensorFlow.js and report the backend

Exit codes: 0 success, 1 failure, 2 bad input.`;

const EXIT_BAD_INPUT = 2;

function parseBackend(value: string | undefined): BackendPreference {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'tensorflow' || value === 'wasm' || value === 'cpu') return value;
  process.stderr.write(`--backend: '${value}' is not one of tensorflow, wasm, cpu, auto\n`);
  process.exit(EXIT_BAD_INPUT);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  switch (command) {
    case 'env': {
      const preference = parseBackend(flag('--backend'));
      const loaded = await loadBackend({ preference, installRoot: installRootOf(__dirname) });
      const report = describeEnvironment(loaded, preference);
      process.stdout.write(rest.includes('--json') ? `${JSON.stringify(report)}\n` : `${describeBackend(report)}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? EXIT_BAD_INPUT : 0;
    default:
      process.stderr.write(`Unknown command '${command}'.\n${USAGE}\n`);
      return EXIT_BAD_INPUT;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`transfer-lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
