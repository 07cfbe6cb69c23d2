// The MobileNetV2 rows of `npm run bench` (1-3): frozen forward img/s of each backend against
// Keras, the full fine-tune step and its peak memory, and decode + resize against the forward.
import * as path from 'node:path';
import { log, median, medianOrNone, root, runJob, type Bench } from './harness';
import type { JobResult } from './zoo';

/** 1. Frozen forward img/s, interleaved: for each repetition, every contender once. */
export function forwardRows(bench: Bench): void {
  const { tfjs, py, rows, results } = bench;
  const shapes: [number, number][] = bench.quick
    ? [
        [224, 32],
        [96, 1],
      ]
    : [
        [224, 32],
        [224, 1],
        [96, 32],
        [96, 1],
      ];
  type Contender = { name: string; run: (size: number, batch: number) => JobResult };
  const iters = (batch: number) => (batch === 1 ? 30 : 6);
  const contenders: Contender[] = [
    {
      name: 'tfjs tensorflow, fast frozen path',
      run: (size, batch) => tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'plan', size, batch, iters: iters(batch), budgetMs: 60_000 }),
    },
    {
      name: 'tfjs tensorflow, model.predict',
      run: (size, batch) => tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 60_000 }),
    },
    {
      name: 'tfjs wasm, model.predict',
      run: (size, batch) => tfjs({ kind: 'forward', backend: 'wasm', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 15_000 }),
    },
    {
      name: 'tfjs cpu, model.predict',
      run: (size, batch) => tfjs({ kind: 'forward', backend: 'cpu', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 15_000 }),
    },
    { name: 'Keras (tf.function, graph)', run: (size, batch) => py({ kind: 'forward', size, batch, iters: iters(batch) }) },
  ];
  for (const [size, batch] of shapes) {
    const samples: Record<string, number[]> = {};
    const errors: Record<string, string> = {};
    // The slow pure-JS and wasm backends once per configuration (they take a budget, not reps).
    for (let rep = 0; rep < bench.reps; rep++) {
      for (const c of contenders) {
        if (rep > 0 && /wasm|cpu/.test(c.name)) continue;
        log(`forward ${size}/${batch}: ${c.name} (rep ${rep + 1})`);
        const r = c.run(size, batch);
        if (r.ok) (samples[c.name] ??= []).push(r.value.imgPerSec as number);
        else errors[c.name] = r.error;
      }
    }
    const kerasIps = samples['Keras (tf.function, graph)'] && median(samples['Keras (tf.function, graph)']);
    for (const c of contenders.filter((c) => !c.name.startsWith('Keras'))) {
      rows.push({
        workload: `frozen forward ${size}px batch ${batch}`,
        config: c.name,
        ours: samples[c.name] && median(samples[c.name]),
        keras: kerasIps,
        unit: 'img/s',
        higherIsBetter: true,
        target: size === 224 && batch === 32 && c.name.includes('fast') ? { ratio: 1, text: '>= 1.0x Keras' } : undefined,
        note: errors[c.name],
      });
    }
    results.push({ workload: 'forward', size, batch, samples, errors });
  }
}

/**
 * 2. Full fine-tune step and peak memory: BatchNorm in inference mode (the Keras recipe, and
 *    what a Transfer Lab fine-tune does), and in training mode (tfjs-layers' trainOnBatch).
 */
export function finetuneRows(bench: Bench): void {
  const { tfjs, py, rows, results } = bench;
  for (const bn of ['inference', 'training'] as const) {
    const size = 224,
      batch = bench.quick ? 8 : 32;
    const samples: Record<string, { ips: number[]; rss: number[] }> = { ours: { ips: [], rss: [] }, keras: { ips: [], rss: [] } };
    for (let rep = 0; rep < Math.max(1, Math.ceil(bench.reps / 2)); rep++) {
      log(`fine-tune step ${size}/${batch}, BatchNorm in ${bn} mode (rep ${rep + 1})`);
      const a = tfjs({ kind: 'finetune', size, batch, iters: 4, bn });
      if (a.ok) {
        samples.ours.ips.push(a.value.imgPerSec as number);
        samples.ours.rss.push(a.value.peakRssBytes as number);
      } else log(a.error);
      const b = py({ kind: 'finetune', size, batch, iters: 4, bn });
      if (b.ok) {
        samples.keras.ips.push(b.value.imgPerSec as number);
        samples.keras.rss.push(b.value.peakRssBytes as number);
      }
    }
    const how =
      bn === 'inference' ? 'BN inference (Keras recipe): lean blocks vs base(x, training=False)' : 'BN training: tfjs trainOnBatch vs Keras train_on_batch';
    const target = bn === 'inference';
    rows.push({
      workload: `full fine-tune step ${size}px batch ${batch}`,
      config: how,
      ours: medianOrNone(samples.ours.ips),
      keras: medianOrNone(samples.keras.ips),
      unit: 'img/s',
      higherIsBetter: true,
      target: target ? { ratio: 0.5, text: '>= 0.5x Keras' } : undefined,
    });
    rows.push({
      workload: `full fine-tune peak memory`,
      config: how,
      ours: medianOrNone(samples.ours.rss),
      keras: medianOrNone(samples.keras.rss),
      unit: 'bytes',
      higherIsBetter: false,
      target: target ? { ratio: 1 / 1.5, text: '<= 1.5x Keras' } : undefined,
    });
    results.push({ workload: 'finetune', bn, size, batch, samples });
  }
}

/** 3. Decode + resize of camera-size JPEGs (bench/decode.ts), against the fast frozen path's img/s. */
export function decodeRow({ rows, results }: Bench): void {
  log('decode + resize of camera-size JPEGs');
  const r = runJob(process.execPath, [path.join(root, 'out', 'bench', 'decode.js')]);
  if (!r.ok) {
    log(r.error);
    return;
  }
  const decodeRows = r.value.rows as { name: string; imagesPerSec: number }[];
  const sharpIps = decodeRows[0].imagesPerSec;
  const forward = rows.find((x) => x.workload === 'frozen forward 224px batch 32' && x.config.includes('fast'))?.ours;
  rows.push({
    workload: 'decode+resize 4000x3000 JPEG -> 224',
    config: `${decodeRows[0].name} vs the fast frozen forward (224/32)`,
    ours: sharpIps,
    keras: forward,
    unit: 'img/s',
    higherIsBetter: true,
    target: { ratio: 3, text: '>= 3x frozen forward' },
    note: 'ratio column: decode img/s / frozen forward img/s',
  });
  results.push({ workload: 'decode', rows: decodeRows });
}
