// Builds every bundle by runtime (style.md #9):
//   dist/extension.js  Node CJS, runs in the extension host; `vscode` external, never tfjs.
//   dist/trainer.js    Node CJS child process; tfjs and native packages stay external
//                      because they are loaded from a resolved node_modules at run time.
//   dist/cli.js        the `transfer-lab` command; same engine as the trainer.
//   dist/webview/*.js  one browser bundle per webview entry in webview/.
//   dist/experiment.schema.json  the editor's schema of experiment files (see below).
//   out/test/**, out/bench/**  test and benchmark bundles (never shipped).
import * as esbuild from 'esbuild';
import { readdirSync, existsSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const production = args.has('--production');

// Loaded at run time from node_modules (native addons, wasm files, or tfjs resolved
// from the same root as tfjs-node so one tfjs-core instance exists per process). h5wasm's
// Node build is ESM-only and needs its own import.meta.url: bundled into CJS it breaks, so
// engine/keras/hdf5.ts import()s it at run time.
const nodeExternals = ['vscode', '@tensorflow/*', 'sharp', 'h5wasm', 'playwright-core', 'mocha', '@vscode/test-electron'];

const common = {
  bundle: true,
  // Prefer ES modules: some packages' UMD "main" (jsonc-parser) hides requires from the bundler.
  mainFields: ['module', 'main'],
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  target: 'es2022',
};

const listTs = (dir, suffix) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(suffix))
        .map((f) => join(dir, f))
    : [];

const webviewEntries = listTs('webview', '.ts').filter((f) => !f.endsWith('.d.ts'));

const builds = [
  {
    ...common,
    platform: 'node',
    format: 'cjs',
    entryPoints: {
      extension: 'src/extension/extension.ts',
      // The extension host's blocking disk work (dataset walks and checks, catalog cache checks), off its thread.
      diskWorker: 'src/extension/diskWorker.ts',
      trainer: 'src/trainer/main.ts',
      cli: 'src/cli/main.ts',
    },
    outdir: 'dist',
    external: nodeExternals,
  },
  webviewEntries.length > 0 && {
    ...common,
    platform: 'browser',
    format: 'esm',
    entryPoints: webviewEntries,
    outdir: 'dist/webview',
  },
  !production && {
    ...common,
    platform: 'node',
    format: 'cjs',
    sourcemap: 'inline',
    entryPoints: [...listTs('test/unit', '.test.ts'), ...listTs('test/integration', '.ts'), ...listTs('bench', '.ts')],
    outdir: 'out',
    outbase: '.',
    external: nodeExternals,
  },
].filter(Boolean);

// The schema VS Code's JSON support checks *.tlexp.json with (package.json jsonValidation):
// media/schema's, less `additionalProperties: false`. Unknown fields are the experiment
// editor's: its diagnostic says "did you mean" and carries the rename fix, which the schema's
// own "Property x is not allowed" would only repeat, without them.
const withoutClosedObjects = (node) =>
  Array.isArray(node)
    ? node.map(withoutClosedObjects)
    : node && typeof node === 'object'
      ? Object.fromEntries(Object.entries(node).flatMap(([k, v]) => (k === 'additionalProperties' && v === false ? [] : [[k, withoutClosedObjects(v)]])))
      : node;
mkdirSync('dist', { recursive: true });
writeFileSync(
  'dist/experiment.schema.json',
  JSON.stringify(withoutClosedObjects(JSON.parse(readFileSync('media/schema/experiment.schema.json', 'utf8'))), null, 2),
);

// Test bundles are rebuilt from scratch so a deleted test leaves no stale bundle behind.
if (!watch && !production) rmSync('out/test', { recursive: true, force: true });

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
