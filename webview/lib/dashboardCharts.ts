// The Dashboard panel's three charts (loss, accuracy, learning rate) on the chart component:
// which curve goes on which chart, the best-epoch marker on each (the epoch whose weights were
// kept, by the run's checkpoint metric), and what the charts hold for the test hook.
import type { DashboardCurves } from '../../src/core/dashboardMessages';
import type { ChartReport } from '../../src/core/chartReport';
import { Chart, type ChartOptions } from './chart';
import { bestEpoch, formatPercent } from './chartData';

export type CheckpointMetric = 'val_accuracy' | 'val_loss';

export class DashboardCharts {
  private readonly loss: Chart;
  private readonly accuracy: Chart;
  private readonly lr: Chart;
  private readonly chartFor: Record<keyof DashboardCurves, Chart>;
  private metric: CheckpointMetric = 'val_accuracy';

  constructor(host: HTMLElement, compact = false) {
    const options = (o: ChartOptions): ChartOptions => ({ ...o, compact });
    this.loss = new Chart(host, options({ title: 'Loss', yLabel: 'loss' }));
    this.accuracy = new Chart(host, options({ title: 'Accuracy', yLabel: 'accuracy', yRange: [0, 1], format: formatPercent }));
    // Log y: warmup and decay span decades, and a base rate 100x below the head's must stay visible.
    this.lr = new Chart(host, options({ title: 'Learning rate', yLabel: 'learning rate', logY: true, format: (y) => y.toExponential(2) }));
    const perBatch = { smoothing: 0.8 };
    const perEpoch = { points: true, dash: [4, 3] };
    this.loss.define('batchLoss', { label: 'train (per batch, smoothed)', short: 'loss', color: '--vscode-charts-blue', ...perBatch });
    this.loss.define('epochLoss', { label: 'train (per epoch)', short: 'epoch loss', color: '--vscode-charts-blue', ...perEpoch });
    this.loss.define('valLoss', { label: 'validation', short: 'val', color: '--vscode-charts-orange', points: true });
    this.accuracy.define('batchAccuracy', { label: 'train (per batch, smoothed)', short: 'acc', color: '--vscode-charts-green', ...perBatch });
    this.accuracy.define('epochAccuracy', { label: 'train (per epoch)', short: 'epoch acc', color: '--vscode-charts-green', ...perEpoch });
    this.accuracy.define('valAccuracy', { label: 'validation', short: 'val', color: '--vscode-charts-orange', points: true });
    this.lr.define('learningRate', { label: 'head', short: 'head', color: '--vscode-charts-purple' });
    this.lr.define('baseLearningRate', { label: 'base (fine-tuned layers)', short: 'base', color: '--vscode-charts-yellow', dash: [6, 3] });
    const { loss, accuracy, lr } = this;
    this.chartFor = {
      batchLoss: loss,
      epochLoss: loss,
      valLoss: loss,
      batchAccuracy: accuracy,
      epochAccuracy: accuracy,
      valAccuracy: accuracy,
      learningRate: lr,
      baseLearningRate: lr,
    };
  }

  /** What picks the kept weights (run.json's train.checkpointMetric); the marker follows it. */
  setCheckpointMetric(metric: CheckpointMetric | undefined): void {
    this.metric = metric ?? 'val_accuracy';
    this.mark();
  }

  append(curves: Partial<DashboardCurves>): void {
    for (const [key, points] of Object.entries(curves) as [keyof DashboardCurves, DashboardCurves[keyof DashboardCurves] | undefined][]) {
      if (points?.length) this.chartFor[key].append(key, points);
    }
    if (curves.valAccuracy?.length || curves.valLoss?.length) this.mark();
  }

  get pointCount(): number {
    return this.loss.pointCount + this.accuracy.pointCount + this.lr.pointCount;
  }

  get outOfOrder(): number {
    return this.loss.outOfOrder + this.accuracy.outOfOrder + this.lr.outOfOrder;
  }

  reports(): ChartReport[] {
    return [this.loss, this.accuracy, this.lr].map((c) => c.state());
  }

  /** The best epoch on every chart, so loss and learning rate show where the kept weights came from. */
  private mark(): void {
    const best = this.metric === 'val_loss' ? bestEpoch(this.loss.points('valLoss'), 'min') : bestEpoch(this.accuracy.points('valAccuracy'), 'max');
    for (const c of [this.loss, this.accuracy, this.lr]) c.setMarker(best?.x);
  }
}
