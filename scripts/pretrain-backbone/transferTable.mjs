// Turns transfer-grid.mjs results (one row per run) into the model card's transfer table:
// per data size and strategy, mean and spread of test accuracy over seeds, for this backbone
// and the one it replaces, plus a one-line reading per data size computed from the numbers.

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n - 1), 0 for one seed. */
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

function cell(results, perClass, strategy) {
  const runs = results.filter((r) => r.perClass === perClass && r.strategy === strategy);
  if (runs.length === 0) return undefined;
  const acc = runs.map((r) => r.testAccuracy);
  return { mean: mean(acc), sd: sd(acc), seeds: runs.length, values: acc, trainSeconds: mean(runs.map((r) => r.trainSeconds)) };
}

const points = (a, b) => `${(a - b) * 100 >= 0 ? '+' : ''}${((a - b) * 100).toFixed(1)}`;

/**
 * The card's `transfer` object; `baseline` (the previous backbone's results) and `ablation`
 * ({ label, results }: a variant of this recipe measured on the same grid) are optional.
 */
export function transferTable(results, baseline, setup, ablation) {
  const sizes = [...new Set(results.map((r) => r.perClass))].sort((a, b) => a - b);
  const strategies = [...new Set(results.map((r) => r.strategy))];
  const rows = sizes.flatMap((perClass) =>
    strategies.map((strategy) => ({
      perClass,
      strategy,
      new: cell(results, perClass, strategy),
      old: baseline && cell(baseline, perClass, strategy),
      ablation: ablation && cell(ablation.results, perClass, strategy),
    })),
  );
  const lines = sizes.map((perClass) => {
    const at = (s) => rows.find((r) => r.perClass === perClass && r.strategy === s)?.new;
    const scratch = at('scratch');
    const vs = strategies.filter((s) => s !== 'scratch' && at(s) && scratch).map((s) => `${s} ${points(at(s).mean, scratch.mean)} points`);
    const speed = strategies
      .filter((s) => s !== 'scratch' && at(s) && scratch)
      .map((s) => `${s} trains ${(scratch.trainSeconds / at(s).trainSeconds).toFixed(0)}x faster`);
    return `- ${perClass} per class, against scratch: ${vs.join(', ')}; ${speed.join(', ')}.`;
  });
  return { setup, ablationLabel: ablation?.label, rows, summary: `Mean test accuracy differences (this backbone):\n${lines.join('\n')}` };
}
