// Disk full: the file system refuses writes (ENOSPC) while a run exports its model or appends
// its metrics. The run fails with a message that says so and what to do, the run folder stays
// valid (run.json readable, metrics so far kept), no model/ or half-written export is left,
// and an earlier completed run is untouched. ENOSPC is injected into node:fs for paths under
// one run folder; everything else writes normally.
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runExperiment';
import { listRuns, readMetrics, readRun } from '../../src/core/runStore';
import type { RunEvent } from '../../src/core/runEvents';
import { createRequire } from 'node:module';

// The module object every bundled module shares (an `import * as` namespace is read-only).
const nodeFs = createRequire(__filename)('node:fs') as Record<string, (...args: unknown[]) => unknown>;

const installRoot = path.resolve(__dirname, '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-diskfull-'));
const runsDir = path.join(work, 'runs');
const cacheDir = path.join(work, 'cache');
const file = path.join(work, 'full.tlexp.json');

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'full',
      data: { dir: path.join(installRoot, 'media/datasets/fashion-target') },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 2, batchSize: 16 },
    }),
  );
});

type Writer = 'writeFileSync' | 'writeSync' | 'openSync' | 'closeSync';
const originals: Partial<Record<Writer, (...args: unknown[]) => unknown>> = {};

const enospc = (p: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${p}'`), { code: 'ENOSPC' });

/** From now on, writes to paths matching `where` fail as on a full disk: whole-file writes,
 *  and writes through file descriptors opened on such paths (appends). */
function fillDisk(where: (p: string) => boolean): void {
  const writeFileSync = (originals.writeFileSync ??= nodeFs.writeFileSync);
  const openSync = (originals.openSync ??= nodeFs.openSync);
  const writeSync = (originals.writeSync ??= nodeFs.writeSync);
  const closeSync = (originals.closeSync ??= nodeFs.closeSync);
  const full = new Map<unknown, string>();
  nodeFs.writeFileSync = (p: unknown, ...rest: unknown[]) => {
    if (typeof p === 'string' && where(p)) throw enospc(p);
    return writeFileSync(p, ...rest);
  };
  nodeFs.openSync = (p: unknown, ...rest: unknown[]) => {
    const fd = openSync(p, ...rest);
    if (typeof p === 'string' && where(p)) full.set(fd, p);
    return fd;
  };
  nodeFs.writeSync = (fd: unknown, ...rest: unknown[]) => {
    if (full.has(fd)) throw enospc(full.get(fd)!);
    return writeSync(fd, ...rest);
  };
  nodeFs.closeSync = (fd: unknown) => {
    full.delete(fd); // the number is reused by the next open
    return closeSync(fd);
  };
}

afterEach(() => {
  for (const [fn, original] of Object.entries(originals)) nodeFs[fn] = original;
});

async function run(onEvent: (e: RunEvent) => void = () => {}) {
  return runExperiment({ experimentFile: file, runsDir, cacheDir, installRoot, backend: 'test', onEvent, shouldStop: () => false });
}

function assertFailedCleanly(dir: string): void {
  const record = readRun(dir);
  assert.ok(record.ok, 'run.json stays readable');
  assert.equal(record.value.status, 'failed');
  assert.match(record.value.failure!.message, /^the disk is full: ENOSPC: no space left on device/);
  assert.match(record.value.failure!.hint ?? '', /free disk space/i);
  assert.ok(!fs.existsSync(path.join(dir, 'model')), 'no model/ from a failed export');
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.startsWith('.')),
    [],
    'no half-written files',
  );
}

test('disk full while exporting the model: the run fails saying so, metrics kept, no model/', async () => {
  const done = await run();
  assert.equal(done.status, 'succeeded');
  const before = fs.readFileSync(path.join(done.runDir!, 'run.json'), 'utf8');
  fillDisk((p) => /\.model\.partial-/.test(p));
  const full = await run();
  assert.equal(full.status, 'failed');
  assertFailedCleanly(full.runDir!);
  assert.ok(
    readMetrics(full.runDir!).records.some((m) => m.kind === 'epoch'),
    'the epochs trained are kept',
  );
  // The completed run is untouched.
  assert.equal(fs.readFileSync(path.join(done.runDir!, 'run.json'), 'utf8'), before);
  assert.ok(fs.existsSync(path.join(done.runDir!, 'model', 'model.json')));
});

test('disk full while appending metrics: the run fails saying so and its folder stays valid', async () => {
  // The disk fills up once training has started.
  const full = await run((e) => e.type === 'phase' && e.phase === 'training' && fillDisk((p) => p.endsWith('metrics.jsonl') && p.startsWith(runsDir)));
  assert.equal(full.status, 'failed');
  assertFailedCleanly(full.runDir!);
  assert.deepEqual(listRuns(runsDir).problems, [], 'every run folder still lists');
});
