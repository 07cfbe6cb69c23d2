// The one message rule (core/messageProtocol.ts) at every boundary: deep validation of what the
// trainer sends, refusal of unknown types and other versions from webviews and the host, and
// every message the code builds passing its own schema, also after the JSON trip it takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerMessage, PROTOCOL_VERSION } from '../../src/core/protocol';
import { wasmEnvironment } from '../fixtures/environmentReport';
import type { RunEvent } from '../../src/core/runEvents';
import { evaluatePredictions } from '../../src/core/metrics';
import { CurveFeed, DASHBOARD_PROTOCOL, emptyCurves, parseDashboardMessage, parseDashboardRequest } from '../../src/core/dashboardMessages';
import { DASHBOARD_VIEW_PROTOCOL, parseDashboardViewRequest, parseDashboardViewState } from '../../src/core/dashboardViewMessages';
import { buildCompareState, COMPARE_PROTOCOL, parseCompareState, parseCompareViewMessage } from '../../src/core/compareMessages';
import { buildLayerTree, LAYER_TREE_PROTOCOL, parseLayerTreeMessage, parseLayerTreeRequest } from '../../src/core/layerTreeMessages';
import type { LayerSummary } from '../../src/core/layerSummary';
import type { MetricRecord, RunRecord } from '../../src/core/runRecord';
import type { Parsed } from '../../src/core/messageProtocol';
import { shortDate } from '../../src/core/runLabel';

const protocol = PROTOCOL_VERSION;
/** What the other side receives: messages travel as JSON (IPC and webviews alike). */
const overTheWire = (m: unknown): unknown => JSON.parse(JSON.stringify(m));

function refused<T>(parsed: Parsed<T>, ...mentions: RegExp[]): string {
  assert.equal(parsed.ok, false, `refused: ${JSON.stringify(parsed)}`);
  const error = (parsed as { error: string }).error;
  for (const m of mentions) assert.match(error, m);
  return error;
}

const environment = wasmEnvironment;

const epoch: RunEvent = {
  type: 'epoch',
  epoch: 2,
  epochs: 5,
  loss: 0.5,
  accuracy: 0.8,
  valLoss: 0.6,
  valAccuracy: 0.75,
  learningRate: 0.001,
  seconds: 3.2,
  imagesPerSec: 120,
  baseTrainable: false,
  etaSeconds: 9.6,
};

test('a trainer event with a nested field of the wrong type is refused, naming the message, the event and the field', () => {
  assert.ok(parseTrainerMessage(overTheWire({ type: 'run-event', protocol, event: epoch })).ok);
  refused(parseTrainerMessage({ type: 'run-event', protocol, event: { ...epoch, valLoss: '0.6' } }), /'run-event' \/ 'epoch'/, /event\.valLoss/);
  refused(parseTrainerMessage({ type: 'run-event', protocol, event: { ...epoch, epochs: undefined } }), /event\.epochs/);
  refused(
    parseTrainerMessage({ type: 'run-event', protocol, event: { type: 'finished', status: 'succeeded', durationMs: 5, metrics: { accuracy: 'high' } } }),
    /'finished'/,
    /event\.metrics\.accuracy/,
  );
  refused(
    parseTrainerMessage({
      type: 'run-event',
      protocol,
      event: {
        type: 'run-started',
        runDir: '/r',
        runId: 'r',
        experiment: 'e',
        backend: 'cpu',
        classes: ['a', 2],
        counts: { train: 1, val: 1, test: 1 },
        epochs: 1,
      },
    }),
    /event\.classes\.1/,
  );
  refused(parseTrainerMessage({ type: 'run-event', protocol, event: { type: 'teleport' } }), /event\.type/);
});

test('evaluations, layer tables, environments and predictions are checked all the way down', () => {
  const report = evaluatePredictions([0.9, 0.1, 0.2, 0.8, 0.6, 0.4], [0, 1, 1], ['cat', 'dog'], ['a.png', 'b.png', 'c.png'], 'test');
  assert.ok(parseTrainerMessage(overTheWire({ type: 'run-event', protocol, event: { type: 'evaluation', report } })).ok);
  const confusion = [
    [1, 0],
    [1, 'one'],
  ];
  refused(
    parseTrainerMessage({ type: 'run-event', protocol, event: { type: 'evaluation', report: { ...report, confusion } } }),
    /event\.report\.confusion\.1\.1/,
  );
  const row = {
    index: 0,
    name: 'input',
    className: 'InputLayer',
    outputShape: [null, 8, 8, 3],
    params: 0,
    trainable: true,
    inbound: [],
    isCut: false,
    afterCut: false,
  };
  const summary = { kind: 'layers', cutAt: 'input', inputShape: [8, 8, 3], rows: [row], source: 's', fineTunable: true };
  assert.ok(parseTrainerMessage({ type: 'layers', protocol, summary }).ok);
  refused(parseTrainerMessage({ type: 'layers', protocol, summary: { ...summary, rows: [{ ...row, params: '0' }] } }), /'layers'/, /summary\.rows\.0\.params/);
  refused(parseTrainerMessage({ type: 'predictions', protocol, predictions: [{ file: 'a', top: [{ label: 'cat' }] }] }), /predictions\.0\.top\.0\.probability/);
  refused(parseTrainerMessage({ type: 'environment', protocol, report: { ...environment, memory: { rssMB: 1 } } }), /report\.memory\.heapUsedMB/);
});

test('a NaN loss, which JSON carries as null, arrives as NaN rather than refusing the run', () => {
  const parsed = parseTrainerMessage(overTheWire({ type: 'run-event', protocol, event: { ...epoch, loss: NaN, valLoss: Infinity } }));
  assert.ok(parsed.ok && parsed.value.type === 'run-event' && parsed.value.event.type === 'epoch');
  assert.ok(Number.isNaN(parsed.value.event.loss) && Number.isNaN(parsed.value.event.valLoss));
});

test('a message of another protocol version is refused as a version mismatch, at every boundary and in both directions', () => {
  const other = 99;
  const cases: [string, Parsed<unknown>][] = [
    ['trainer', parseTrainerMessage({ type: 'done', protocol: other })],
    ['dashboard request', parseDashboardRequest({ type: 'ready', protocol: other })],
    ['dashboard message', parseDashboardMessage({ type: 'header', protocol: other, header: {} })],
    ['dashboard view request', parseDashboardViewRequest({ type: 'ready', protocol: other })],
    ['dashboard view state', parseDashboardViewState({ type: 'environment', protocol: other, experiments: 0 })],
    ['compare view message', parseCompareViewMessage({ type: 'ready', protocol: other }, 2)],
    ['compare state', parseCompareState({ type: 'state', protocol: other })],
    ['layer tree request', parseLayerTreeRequest({ type: 'ready', protocol: other }, new Set())],
    ['layer tree message', parseLayerTreeMessage({ type: 'notice', protocol: other, message: 'm', level: 'info' })],
  ];
  for (const [what, parsed] of cases) {
    assert.equal(parsed.ok, false, what);
    assert.equal((parsed as { mismatch?: true }).mismatch, true, what);
    assert.match((parsed as { error: string }).error, /protocol 99, expected \d+.*another version/, what);
  }
});

test('webview messages of an unknown type, without their protocol or with a bad field are refused', () => {
  refused(parseDashboardRequest({ type: 'run-command', protocol: DASHBOARD_PROTOCOL, command: 'rm -rf' }), /unknown message type "run-command"/);
  refused(parseDashboardRequest({ type: 'ready' }), /'ready' message: protocol/);
  refused(parseDashboardRequest({ type: 'reveal', protocol: DASHBOARD_PROTOCOL, path: 42 }), /'reveal' message: path/);
  refused(
    parseDashboardViewRequest({ type: 'command', protocol: DASHBOARD_VIEW_PROTOCOL, command: 'workbench.action.terminal.new' }),
    /'command' message: command/,
  );
  refused(parseCompareViewMessage({ type: 'openDashboard', protocol: COMPARE_PROTOCOL, run: 0 }, 2), /unknown message type "openDashboard"/);
  refused(parseCompareViewMessage({ type: 'open-dashboard', protocol: COMPARE_PROTOCOL, run: 2 }, 2), /run: 2 is not one of the 2 runs/);
  refused(parseCompareViewMessage({ type: 'rendered', protocol: COMPARE_PROTOCOL, runs: 2, charts: 1.5, differenceRows: 0, metricRows: 0 }, 2), /charts/);
  refused(parseLayerTreeRequest({ type: 'trainFrom', protocol: LAYER_TREE_PROTOCOL, layer: 'a' }, new Set(['a'])), /unknown message type "trainFrom"/);
  refused(parseLayerTreeRequest({ type: 'cut-at', protocol: LAYER_TREE_PROTOCOL, layer: 'b' }, new Set(['a'])), /layer: "b" is not a layer/);
  // What the host posts is checked by the webviews just as deeply.
  refused(parseDashboardMessage({ type: 'append', protocol: DASHBOARD_PROTOCOL, curves: { batchLoss: [{ x: '1', y: 2 }] } }), /curves\.batchLoss\.0\.x/);
  refused(parseLayerTreeMessage({ type: 'error', protocol: LAYER_TREE_PROTOCOL, file: 'f', message: 'm' }), /'error' message: retry/);
});

function runRecord(id: string, strategy: RunRecord['config']['strategy'], accuracy: number): RunRecord {
  return {
    format: 'transfer-lab-run',
    version: 1,
    id,
    experiment: { name: 'flowers', file: '/w/flowers.tlexp.json' },
    status: 'succeeded',
    backend: 'cpu',
    skipped: [],
    timings: { startedAt: '2026-01-01T00:00:00Z', durationMs: 61_000, trainMs: 50_000 },
    metrics: { accuracy, bestValAccuracy: accuracy - 0.05 },
    config: {
      name: 'flowers',
      file: '/w/flowers.tlexp.json',
      data: { dir: '/w/data/flowers', split: { val: 0.1, test: 0.1 }, seed: 1, augment: null, resize: 'squash' },
      backbone: { catalog: 'mobilenet_v2' },
      strategy,
      head: { pooling: 'avg', dense: [], dropout: 0.2 },
      train: { epochs: 2, batchSize: 16, learningRate: 0.001, optimizer: 'adam', schedule: { kind: 'constant' } },
    } as unknown as RunRecord['config'],
  };
}

const metric = (epoch: number, valAccuracy: number): MetricRecord => ({
  kind: 'epoch',
  epoch,
  step: epoch * 10,
  loss: 1 / epoch,
  val_loss: 1.2 / epoch,
  val_accuracy: valAccuracy,
  time: 0,
});

test('every message the code builds passes its own schema after the JSON trip', () => {
  const report = evaluatePredictions([0.9, 0.1, 0.2, 0.8, 0.6, 0.4], [0, 1, 1], ['cat', 'dog'], ['a.png', 'b.png', 'c.png'], 'test');
  const wrong = report.mostConfidentlyWrong.map((w) => ({ ...w, uri: `vscode-resource:${w.path}` }));
  const header = { runId: 'r1', experiment: 'flowers', status: 'running' as const, backend: 'cpu', epoch: 1, epochs: 2, valAccuracy: NaN };
  const feed = new CurveFeed();
  feed.history(emptyCurves());
  feed.push('batchLoss', { x: 1, y: 0.7 });
  feed.push('valLoss', { x: 1, y: NaN });
  const d = DASHBOARD_PROTOCOL;
  for (const m of [
    { type: 'init', protocol: d, header, curves: emptyCurves(), evaluation: report, wrong, runDir: '/r1' },
    { type: 'append', protocol: d, curves: feed.take() },
    { type: 'header', protocol: d, header },
    { type: 'evaluation', protocol: d, evaluation: report, wrong },
  ]) {
    const parsed = parseDashboardMessage(overTheWire(m));
    assert.ok(parsed.ok, `${m.type}: ${JSON.stringify(parsed)}`);
  }
  const view = { type: 'environment', protocol: DASHBOARD_VIEW_PROTOCOL, report: environment, experiments: 2 };
  assert.ok(parseDashboardViewState(overTheWire({ ...view, run: { runDir: '/r1', id: 'r1', experiment: 'e', status: 'running', backend: 'cpu' } })).ok);

  const compare = buildCompareState([
    { record: runRecord('a', { kind: 'feature-extraction' }, 0.9), metrics: [metric(1, 0.8), metric(2, 0.85)] },
    { record: runRecord('b', { kind: 'fine-tune', unfreezeLast: 20, baseLearningRate: 1e-5, warmupEpochs: 1 }, 0.93), metrics: [metric(1, 0.82)] },
  ]);
  assert.ok(compare.differences.length > 0 && compare.metrics.length > 0, 'a real comparison');
  const parsedCompare = parseCompareState(overTheWire({ ...compare, runDirs: ['/a', '/b'] }));
  assert.ok(parsedCompare.ok, JSON.stringify(parsedCompare));

  const rows = ['input_1', 'block_1_dw', 'block_1_pw', 'block_2_dw', 'out_relu'].map((name, index) => ({
    index,
    name,
    className: index === 0 ? 'InputLayer' : 'Conv2D',
    outputShape: [null, 8, 8, 4],
    params: index === 0 ? 0 : 10,
    trainable: true,
    inbound: index === 0 ? [] : ['input_1'],
    isCut: name === 'out_relu',
    afterCut: false,
  }));
  const summary: LayerSummary = { kind: 'layers', cutAt: 'out_relu', inputShape: [32, 32, 1], rows, source: 'catalog fmnist-mini', fineTunable: true };
  const tree = buildLayerTree({ file: '/w/a.tlexp.json', experiment: 'a', summary, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_2_dw' } });
  const parsedTree = parseLayerTreeMessage(overTheWire(tree));
  assert.ok(parsedTree.ok, JSON.stringify(parsedTree));
  assert.deepEqual(parsedTree.value, overTheWire(tree), 'nothing of the tree is lost on the way');
});

test('Compare names every run apart: two runs of one experiment get their start time, then their id, in the column and legend', () => {
  const fe = { kind: 'feature-extraction' } as const;
  const at = (r: RunRecord, startedAt: string) => ({ ...r, timings: { ...r.timings, startedAt } });
  const state = (records: RunRecord[]) => buildCompareState(records.map((record) => ({ record, metrics: [metric(1, 0.8)] }))).runs.map((r) => r.label);
  const a = runRecord('20260101-flowers-1a2b', fe, 0.9);
  const b = runRecord('20260101-flowers-3c4d', fe, 0.91);
  const ft = runRecord('20260101-flowers-5e6f', { kind: 'fine-tune', unfreezeLast: 20, baseLearningRate: 1e-5, warmupEpochs: 1 }, 0.93);
  assert.deepEqual(state([a, ft]), ['flowers · feature-extraction', 'flowers · fine-tune'], 'distinct labels are left as they are');
  const dated = state([at(a, '2026-01-01T09:05:00'), at(b, '2026-01-02T10:30:00'), ft]);
  assert.deepEqual(dated, ['flowers · feature-extraction · 2026-01-01 09:05', 'flowers · feature-extraction · 2026-01-02 10:30', 'flowers · fine-tune']);
  assert.deepEqual(
    state([a, b]),
    ['flowers · feature-extraction · 2026-01-01 00:00 · 1a2b', 'flowers · feature-extraction · 2026-01-01 00:00 · 3c4d'].map((l) =>
      l.replace('2026-01-01 00:00', shortDate('2026-01-01T00:00:00Z')),
    ),
    'same minute: the id tells them apart',
  );
});
