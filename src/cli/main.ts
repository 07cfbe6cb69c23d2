#!/usr/bin/env node
// `transfer-lab`: the same engine and run-folder format as the extension, so everything
// the UI does can be scripted. Exit codes: 0 success, 1 run failed, 2 bad input.
import * as path from 'node:path';
import { describeBackend, type BackendPreference } from '../core/protocol';
import { describeEnvironment, installRootOf, loadBackend } from '../engine/backend';
import { EXIT, defaultCacheDir, type CliContext } from './context';
import { parseArgs, UsageError } from './args';
import { runCommand } from './runCommand';
import { inspectCommand } from './inspectCommand';
import { predictCommand } from './predictCommand';
import { scaffoldCommand } from './scaffoldCommand';
import { demoCommand } from './demoCommand';

const USAGE = `Usage: transfer-lab <command> [options]

Commands:
  run <experiment.tlexp.json> [--runs-dir DIR] [--backend B] [--cache-dir DIR] [--json]
                          Train an experiment; one run folder per run
  inspect <model.json|catalog-id> [--cut-at LAYER] [--json]
                          Layer table: name, type, output shape, params, trainable
  predict <run-or-model> <images...> [--top K] [--json]
                          Classify images with an exported model
  scaffold <dir> --classes a,b,c | scaffold <dir> --split-from SRC [--val F --test F --move]
                          Create a dataset folder, or split a folder-per-class dataset
  demo [--backend B]      Scratch vs feature extraction vs fine-tuning on the shipped data
  env [--backend B] [--json]
                          Which TensorFlow.js backend loads here

Backends: tensorflow (native), wasm, cpu; default: the first that loads, always reported.
Exit codes: 0 success, 1 the run failed, 2 bad input.`;

function parseBackend(value: string | undefined): BackendPreference {
  if (value === undefined || value === 'auto' || value === 'tensorflow' || value === 'wasm' || value === 'cpu') return value ?? 'auto';
  throw new UsageError(`--backend: '${value}' is not one of tensorflow, wasm, cpu, auto`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.badInput : EXIT.ok;
  }
  const args = parseArgs(rest, ['runs-dir', 'backend', 'cache-dir', 'cut-at', 'top', 'classes', 'split-from', 'val', 'test', 'seed'], ['json', 'move']);
  const ctx: CliContext = {
    installRoot: installRootOf(__dirname),
    cacheDir: path.resolve(args.options.get('cache-dir') ?? defaultCacheDir()),
    backend: parseBackend(args.options.get('backend')),
    json: args.flags.has('json'),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  switch (command) {
    case 'env': {
      const loaded = await loadBackend({ preference: ctx.backend, installRoot: ctx.installRoot });
      const report = describeEnvironment(loaded, ctx.backend, { selfCheck: true });
      ctx.out(ctx.json ? JSON.stringify(report) : describeBackend(report));
      return EXIT.ok;
    }
    case 'run':
      return runCommand(ctx, args);
    case 'inspect':
      return inspectCommand(ctx, args);
    case 'predict':
      return predictCommand(ctx, args);
    case 'scaffold':
      return scaffoldCommand(ctx, args);
    case 'demo':
      return demoCommand(ctx, args);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`transfer-lab: ${e.message}\n\n${USAGE}\n`);
      process.exit(EXIT.badInput);
    }
    process.stderr.write(`transfer-lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.failed);
  },
);
