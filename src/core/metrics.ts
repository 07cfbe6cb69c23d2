// Classification metrics from predicted probabilities: pure functions, so the numbers in
// eval.json can be checked against a confusion matrix computed by hand.

export interface PerClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface MisclassifiedExample {
  path: string;
  trueLabel: string;
  predictedLabel: string;
  confidence: number;
}

export interface EvaluationReport {
  split: 'test' | 'val';
  count: number;
  accuracy: number;
  /** top-k accuracy for k = 1..min(5, classes). */
  topK: Record<string, number>;
  loss: number;
  labels: string[];
  /** confusion[true][predicted] = count. */
  confusion: number[][];
  perClass: PerClassMetrics[];
  macroF1: number;
  /** Wrong predictions, most confident first. */
  mostConfidentlyWrong: MisclassifiedExample[];
}

/**
 * @param probs row-major [n, k] class probabilities
 * @param truth true class index per example
 */
export function evaluatePredictions(
  probs: Float32Array | number[],
  truth: number[],
  labels: string[],
  paths: string[],
  split: 'test' | 'val',
  worstCount = 12,
): EvaluationReport {
  const k = labels.length;
  const n = truth.length;
  if (probs.length !== n * k) throw new Error(`evaluatePredictions: ${probs.length} probabilities for ${n} examples x ${k} classes`);
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  const maxK = Math.min(5, k);
  const topHits = new Array<number>(maxK + 1).fill(0);
  let lossSum = 0;
  const wrong: MisclassifiedExample[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: k }, (_, j) => Number(probs[i * k + j]));
    let predicted = 0;
    for (let j = 1; j < k; j++) if (row[j] > row[predicted]) predicted = j;
    confusion[truth[i]][predicted]++;
    // Rank of the true class: how many classes score strictly higher.
    const rank = row.filter((p) => p > row[truth[i]]).length;
    for (let t = rank + 1; t <= maxK; t++) topHits[t]++;
    lossSum += -Math.log(Math.max(row[truth[i]], 1e-7));
    if (predicted !== truth[i]) {
      wrong.push({ path: paths[i], trueLabel: labels[truth[i]], predictedLabel: labels[predicted], confidence: row[predicted] });
    }
  }
  const perClass = labels.map((label, c) => {
    const tp = confusion[c][c];
    const predictedC = confusion.reduce((s, r) => s + r[c], 0);
    const support = confusion[c].reduce((s, v) => s + v, 0);
    const precision = predictedC === 0 ? 0 : tp / predictedC;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  const correct = labels.reduce((s, _, c) => s + confusion[c][c], 0);
  const topK: Record<string, number> = {};
  for (let t = 1; t <= maxK; t++) topK[`top${t}`] = n === 0 ? 0 : topHits[t] / n;
  wrong.sort((a, b) => b.confidence - a.confidence);
  return {
    split,
    count: n,
    accuracy: n === 0 ? 0 : correct / n,
    topK,
    loss: n === 0 ? 0 : lossSum / n,
    labels,
    confusion,
    perClass,
    macroF1: perClass.reduce((s, p) => s + p.f1, 0) / Math.max(1, k),
    mostConfidentlyWrong: wrong.slice(0, worstCount),
  };
}
