// Nothing outside the workspace's run folder and the extension's storage is written: the real
// trainer runs, inspects and predicts with HOME and TMPDIR pointing at empty folders, and
// afterwards those are still empty, the dataset and the experiment file are byte for byte as
// they were, and every new file in the workspace is under .transferlab/runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { writeTinyExperiment } from '../support/datasets.mjs';
import { TrainerProcess } from '../../src/extension/trainerProcess';
import type { Job, TrainerMessage } from '../../src/core/protocol';

const repo = path.resolve(__dirname, '../../..');

/** Every file under `dir` with a hash of its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String)) {
    const p = path.join(dir, f);
    if (fs.lstatSync(p).isFile()) out.set(f, crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
  }
  return out;
}

async function runJob(job: Job, env: NodeJS.ProcessEnv): Promise<TrainerMessage[]> {
  const messages: TrainerMessage[] = [];
  const trainer = new TrainerProcess({ script: path.join(repo, 'dist', 'trainer.js'), startTimeoutMs: 60_000, env }, job, { backend: 'auto' }, (m) =>
    messages.push(m),
  );
  const outcome = await trainer.outcome;
  assert.deepEqual(outcome, { ok: true }, `${job.kind}: ${JSON.stringify(outcome)}`);
  return messages;
}

test('a run, an inspect and a predict write only to the runs folder and the extension storage', { timeout: 300_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-scope-'));
  const workspace = path.join(root, 'workspace');
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  const storage = path.join(root, 'storage');
  for (const d of [workspace, home, tmp, storage]) fs.mkdirSync(d, { recursive: true });
  fs.cpSync(path.join(repo, 'media/datasets/fashion-target'), path.join(workspace, 'data'), { recursive: true });
  const file = writeTinyExperiment(path.join(workspace, 'scope.tlexp.json'), {
    name: 'scope',
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' },
    train: { epochs: 2, batchSize: 16 },
  });
  const before = snapshot(workspace);
  const env = {
    HOME: home,
    USERPROFILE: home,
    TMPDIR: tmp,
    TMP: tmp,
    TEMP: tmp,
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
  };
  const runsDir = path.join(workspace, '.transferlab', 'runs');

  const run = await runJob({ kind: 'run', experimentFile: file, runsDir, cacheDir: storage }, env);
  const started = run.find((m) => m.type === 'run-event' && m.event.type === 'run-started');
  assert.ok(started && started.type === 'run-event' && started.event.type === 'run-started');
  const runDir = started.event.runDir;
  await runJob({ kind: 'inspect', backbone: { catalog: 'fmnist-mini' }, baseDir: workspace, cacheDir: storage }, env);
  await runJob(
    {
      kind: 'predict',
      target: runDir,
      images: [path.join(workspace, 'data/test/coat', fs.readdirSync(path.join(workspace, 'data/test/coat'))[0])],
      cacheDir: storage,
    },
    env,
  );

  assert.deepEqual([...snapshot(home).keys()], [], 'nothing in HOME');
  assert.deepEqual([...snapshot(tmp).keys()], [], 'nothing in TMPDIR');
  const after = snapshot(workspace);
  for (const [f, hash] of before) assert.equal(after.get(f), hash, `${f} unchanged`);
  const added = [...after.keys()].filter((f) => !before.has(f));
  const outside = added.filter((f) => !f.startsWith(path.join('.transferlab', 'runs') + path.sep));
  assert.deepEqual(outside, [], 'new files only under .transferlab/runs');
  assert.ok(
    added.some((f) => f.endsWith(path.join('model', 'model.json'))),
    'the run wrote its model',
  );
  assert.ok(snapshot(storage).size > 0, 'the activation cache is in the extension storage');
  console.log(`# wrote ${added.length} files under .transferlab/runs and ${snapshot(storage).size} in the storage; HOME and TMPDIR untouched`);
  fs.rmSync(root, { recursive: true, force: true });
});
