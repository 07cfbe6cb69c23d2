#!/usr/bin/env node
// `transfer-lab`: the same engine and run-folder format as the extension, so everything
// the UI does can be scripted. Exit codes: 0 success, 1 run failed, 2 bad input.
// Every command returns its exit code; the process ends once stdout and stderr have been
// written out (process.exit right after a write to a pipe drops what the pipe has not taken).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeBackend, type BackendPreference } from '../core/protocol';
import { BackendUnavailableError, describeEnvironment, installRootOf, loadBackend } from '../engine/backend';
import { EXIT, cliBackendOptions, defaultCacheDir, type CliContext } from './context';
import { nativeDeviceOption } from './nativeDeviceOption';
import { parseArgs, UsageError, type ParsedArgs } from './args';
import { runCommand } from './runCommand';
import { inspectCommand } from './inspectCommand';
import { catalogCommand } from './catalogCommand';
import { predictCommand } from './predictCommand';
import { scaffoldCommand } from './scaffoldCommand';
import { demoCommand } from './demoCommand';
import { studyCommand } from './studyCommand';
import { probeCommand } from './probeCommand';
import { exportCommand } from './exportCommand';
import { exportScriptCommand } from './exportScriptCommand';
import { explainFailure, InputError } from '../engine/runExperiment';
import { BackboneError } from '../engine/backboneLoader';
import { LayerError } from '../engine/modelSurgery';
import { ImageDecodeError } from '../engine/imageDecode';
import { internalDetail, type Stage } from '../engine/stageError';

const USAGE = `Usage: transfer-lab <command> [options]

Commands:
  run <experiment.tlexp.json> [--runs-dir DIR] [--backend B] [--cache-dir DIR] [--json]
                          Train an experiment; one run folder per run
  catalog [--json]        The backbones a catalog id names: input, params, pixels, offline or not
  inspect <model|catalog-id> [--cut-at LAYER] [--json]
                          Layer table: name, type, output shape, params, trainable
                          (model: a .keras, .h5 or TF.js model.json file, or a URL)
  predict <run-or-model> <images...> [--top K] [--json]
                          Classify images with an exported model
  scaffold <dir> --classes a,b,c | scaffold <dir> --split-from SRC [--val F --test F --move]
                          Create a dataset folder, or split a folder-per-class dataset
  study <experiment> [--per-class 5,10,20,50,all] [--seeds 3] [--strategies S,S] [--target 0.7]
        [--runs-dir DIR] [--json] | study --resume <study dir>
                          Data-efficiency study: every strategy x images per class x seed,
                          a run each, then accuracy mean +- spread and where transfer stops
                          paying off (strategies: scratch, feature-extraction, fine-tune, earlier-cut)
  probe <experiment.tlexp.json> [--backbones a,b,c] [--max-per-class N] [--json]
                          Layer probe: how well each block separates the classes
                          (ridge probe accuracy, LogME), the cut it recommends
  export <run-or-model> --out DIR [--format keras|h5|tfjs|tflite|tflite-int8|savedmodel] [--python PATH] [--force] [--json]
                          The model for use elsewhere: Keras 3 model.keras (default),
                          Keras .h5, or TF.js layers; with labels.json and preprocessing
                          tflite, tflite-int8, savedmodel: by TensorFlow in a Python that has it
  export-script <experiment.tlexp.json> [--out DIR] [--runs-dir DIR]
                          The experiment as a Keras 3 job (train.py, the same splits,
                          tf.distribute) for a GPU box or a cluster; it writes a run folder
  demo [--backend B]      A study on the shipped data: scratch vs feature extraction vs fine-tuning
  env [--backend B] [--json]
                          Which TensorFlow.js backend loads here

Backends: tensorflow (native), wasm, cpu; default: the first that loads, always reported.
--device auto|cpu|gpu (or TRANSFER_LAB_NATIVE_DEVICE): native TensorFlow's CPU or GPU build
  (npm run setup:native -- --gpu); auto: the GPU build when a CUDA device is visible.
Exit codes: 0 success, 1 the run failed, 2 bad input.`;

function parseBackend(value: string | undefined): BackendPreference {
  if (value === undefined || value === 'auto' || value === 'tensorflow' || value === 'wasm' || value === 'cpu') return value ?? 'auto';
  throw new UsageError(`--backend: '${value}' is not one of tensorflow, wasm, cpu, auto`);
}

/** The stage a command's unexpected failure is reported as. */
const STAGE: Record<string, Stage> = {
  inspect: 'inspecting',
  predict: 'predicting',
  run: 'running',
  demo: 'running',
  study: 'running',
  env: 'loading',
  probe: 'running',
  export: 'exporting',
  'export-script': 'exporting',
};
let cacheDirInUse: string | undefined;
/** The commands that are one function of the context and the parsed arguments. */
const COMMANDS = new Map<string, (ctx: CliContext, args: ParsedArgs) => Promise<number>>([
  ['run', runCommand],
  ['catalog', catalogCommand],
  ['inspect', inspectCommand],
  ['predict', predictCommand],
  ['scaffold', scaffoldCommand],
  ['demo', demoCommand],
  ['study', studyCommand],
  ['probe', probeCommand],
  ['export', exportCommand],
  ['export-script', exportScriptCommand],
]);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.badInput : EXIT.ok;
  }
  const args = parseArgs(rest, command);
  const ctx: CliContext = {
    installRoot: installRootOf(__dirname),
    cacheDir: (cacheDirInUse = path.resolve(args.options.get('cache-dir') ?? defaultCacheDir())),
    backend: parseBackend(args.options.get('backend')),
    nativeDevice: nativeDeviceOption(args.options.get('device'), process.env),
    json: args.flags.has('json'),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  switch (command) {
    case 'env': {
      const loaded = await loadBackend(cliBackendOptions(ctx));
      const report = describeEnvironment(loaded, ctx.backend, { selfCheck: true });
      ctx.out(ctx.json ? JSON.stringify(report) : describeBackend(report));
      return EXIT.ok;
    }
    default: {
      const handler = COMMANDS.get(command);
      if (!handler) throw new UsageError(`unknown command '${command}'`);
      return handler(ctx, args);
    }
  }
}

/**
 * What the user reads about a failure that escaped the command: a usage error with the usage;
 * an error of ours as it is (bad input: exit 2); anything else (an error inside TensorFlow.js)
 * as what we were doing and what to try, its internal message and stack in a log file.
 */
function reportFailure(e: unknown, command: string | undefined): number {
  if (e instanceof UsageError) {
    process.stderr.write(`transfer-lab: ${e.message}\n\n${USAGE}\n`);
    return EXIT.badInput;
  }
  if (e instanceof BackendUnavailableError) {
    // Not an internal error: each backend's reason says what to install or change.
    process.stderr.write(`transfer-lab: ${e.message}\n  Try --backend auto, --device auto, or set up the one asked for (README: "The native backend").\n`);
    return EXIT.failed;
  }
  const badInput = e instanceof InputError || e instanceof BackboneError || e instanceof LayerError || e instanceof ImageDecodeError;
  const { message, hint } = explainFailure(e, (command && STAGE[command]) || 'running');
  process.stderr.write(`transfer-lab: ${message}\n${hint ? `  ${hint}\n` : ''}`);
  if (!badInput) process.stderr.write(`  ${writeErrorLog(command ?? 'transfer-lab', internalDetail(e))}\n`);
  return badInput ? EXIT.badInput : EXIT.failed;
}

/** The internal detail of a failure, into <cache>/logs/ (the CLI's log.txt when there is no run folder). */
function writeErrorLog(command: string, detail: string): string {
  const dir = path.join(cacheDirInUse ?? defaultCacheDir(), 'logs');
  const file = path.join(dir, `${command}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, `transfer-lab ${process.argv.slice(2).join(' ')}\n${detail}\n`);
    return `The internal error is in ${file}`;
  } catch (err) {
    return `(the internal error could not be written to ${file}: ${(err as NodeJS.ErrnoException).code ?? err})`;
  }
}

/** Resolves once everything written so far to `stream` has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/**
 * Ends the process with `code` once stdout and stderr are written out: the event loop runs
 * dry and Node exits with process.exitCode. Nothing the command started is meant to outlive
 * it (checked: after inspect and run only stdio is open); should a handle linger anyway (a
 * keep-alive socket of a download), the unref'd timer ends the process a second later.
 */
async function exitWhenFlushed(code: number): Promise<void> {
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  setTimeout(() => process.exit(code), 1000).unref();
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => exitWhenFlushed(code),
  (e: unknown) => exitWhenFlushed(reportFailure(e, argv[0])),
);
