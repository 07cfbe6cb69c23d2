// The oneDNN policy rows of `npm run bench` (5b, issue 12): MobileNetV2's frozen forward at
// 224/32 with oneDNN on, with the trainer's policy as on a CPU that hides its caches, and
// with oneDNN off (what such a CPU got before: off for every model), interleaved; the policy
// within 10% of on. Then a tiny run through a simulated oneDNN crash.
import { medianOrNone, log, type Bench } from './harness';
import { trainThroughOneDnnCrash } from './oneDnnCrashRun';

function policyRows(bench: Bench): void {
  const { policyOneDnn, rows } = bench;
  const contenders = [
    { name: 'on', env: { TF_ENABLE_ONEDNN_OPTS: '1' } },
    { name: 'policy', env: { TF_ENABLE_ONEDNN_OPTS: policyOneDnn.enabled ? '1' : '0' } },
    { name: 'off', env: { TF_ENABLE_ONEDNN_OPTS: '0' } },
  ];
  const samples: Record<string, number[]> = { on: [], policy: [], off: [] };
  const errors: Record<string, string> = {};
  for (let rep = 0; rep < bench.reps; rep++) {
    for (const c of contenders) {
      log(`forward 224/32, oneDNN ${c.name} (TF_ENABLE_ONEDNN_OPTS=${c.env.TF_ENABLE_ONEDNN_OPTS}) (rep ${rep + 1})`);
      const r = bench.tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'plan', size: 224, batch: 32, iters: 4, budgetMs: 60_000 }, c.env);
      if (r.ok) samples[c.name].push(r.value.imgPerSec as number);
      else errors[c.name] = r.error;
    }
  }
  const on = medianOrNone(samples.on);
  const workload = 'frozen forward 224px batch 32, oneDNN';
  rows.push({ workload, config: 'oneDNN on', ours: on, unit: 'img/s', higherIsBetter: true, note: errors.on });
  rows.push({
    workload,
    config: `the trainer's policy on a CPU hiding its caches (simulated): oneDNN ${policyOneDnn.enabled ? 'on' : 'off'}`,
    ours: medianOrNone(samples.policy),
    keras: on,
    unit: 'img/s',
    higherIsBetter: true,
    target: { ratio: 0.9, text: 'within 10% of oneDNN on' },
    note: `ratio column: policy / oneDNN on; the policy's reason: ${policyOneDnn.reason}${errors.policy ? `; ${errors.policy}` : ''}`,
  });
  rows.push({
    workload,
    config: 'oneDNN off (such a CPU before the policy)',
    ours: medianOrNone(samples.off),
    keras: on,
    unit: 'img/s',
    higherIsBetter: true,
    note: `ratio column: off / oneDNN on${errors.off ? `; ${errors.off}` : ''}`,
  });
  bench.results.push({ workload: 'forward-onednn-policy', policy: policyOneDnn, samples, errors });
}

export async function oneDnnRows(bench: Bench): Promise<void> {
  policyRows(bench);
  // A model whose shape crashes oneDNN still trains: a tiny run whose trainer dies of a real
  // SIGFPE with oneDNN on (TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1, the test-only simulation)
  // through the extension's retry (extension/oneDnnRetry.ts), against the same run uncrashed.
  const crash = await trainThroughOneDnnCrash();
  bench.rows.push({
    workload: 'tiny run (fmnist-mini, 40 images) through a oneDNN crash',
    config: `simulated SIGFPE, retried with oneDNN off: ${crash.trained ? 'trained' : 'DID NOT TRAIN'} (${crash.attempts} attempts)`,
    ours: crash.crashedSeconds,
    keras: crash.cleanSeconds,
    unit: 's',
    higherIsBetter: false,
    note: `ratio column: the run without a crash / the run through the crash; ${crash.detail}`,
  });
  bench.results.push({ workload: 'run-through-onednn-crash', ...crash });
}
