// Shared by the backboneLoader.*.test.ts files: a MobileNet-like layers model built in code,
// saving it as model.json + weights.bin, a folder served over HTTP on 127.0.0.1, and temp folders.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import type { LoadedBackbone } from '../../src/engine/backboneLoader';

export const installRoot = path.resolve(__dirname, '../../..');

/** Each test file calls this once: the tfjs backend before its tests, its temp folders removed after. */
export function useBackboneTestEnv(): void {
  before(async () => {
    await loadBackend({ preference: (process.env.TL_TEST_BACKEND as 'cpu') ?? 'auto', installRoot });
  });
  after(() => {
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

export type ST = tfTypes.SymbolicTensor;

/** MobileNet-like: conv/BN/ReLU6 stem, a depthwise-separable block, then GAP + Dropout + Dense softmax. */
export function mobileNetLike(filters = 8): tfTypes.LayersModel {
  const t = tf();
  const input = t.input({ shape: [16, 16, 3], name: 'input_1' });
  let x = t.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' }).apply(input) as ST;
  x = t.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'conv1_relu' }).apply(x) as ST;
  x = t.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'conv_dw_1' }).apply(x) as ST;
  x = t.layers.batchNormalization({ name: 'conv_dw_1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'conv_dw_1_relu' }).apply(x) as ST;
  x = t.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'conv_pw_1' }).apply(x) as ST;
  x = t.layers.batchNormalization({ name: 'conv_pw_1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'features' }).apply(x) as ST;
  x = t.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as ST;
  x = t.layers.dropout({ rate: 0.2, name: 'dropout' }).apply(x) as ST;
  x = t.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }).apply(x) as ST;
  const model = t.model({ inputs: input, outputs: x, name: 'mobilenet_like' });
  // Non-trivial BatchNorm statistics, so a model that skipped loading them would differ.
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => t.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', 7 + i)));
  }
  return model;
}

export interface Saved {
  dir: string;
  modelJson: Record<string, unknown> & {
    modelTopology: Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[];
  };
  weights: Buffer;
}

const tmpDirs: string[] = [];
export function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-bb-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}

/** Saves a layers model as model.json + weights.bin; `edit` may change model.json before it is written. */
export async function saveModel(model: tfTypes.LayersModel, dir: string, edit?: (json: Saved['modelJson']) => void): Promise<Saved> {
  const t = tf();
  let saved: Saved | undefined;
  await model.save(
    t.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'test',
        convertedBy: null,
        modelTopology: artifacts.modelTopology as Record<string, unknown>,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      edit?.(modelJson);
      const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
      saved = { dir, modelJson, weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

export function predictOn(model: tfTypes.LayersModel | tfTypes.GraphModel, shape: number[]): Float32Array {
  const t = tf();
  return t.tidy(() => {
    const x = t.randomUniform([2, ...shape], -1, 1, 'float32', 42);
    const y = model.predict(x) as tfTypes.Tensor;
    return y.dataSync() as Float32Array;
  });
}

export function assertClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
}

export const opts = (cacheDir = tmpDir('cache')) => ({ installRoot, cacheDir });

export interface Server {
  base: string;
  requests: string[];
  close(): Promise<void>;
}

/** Serves a folder over HTTP on 127.0.0.1 (optionally requiring a query on every request). */
export async function serveDir(dir: string, requireQuery?: string): Promise<Server> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const [p, q] = (req.url ?? '').split('?');
    const file = path.join(dir, decodeURIComponent(p).replace(/^\/+/, ''));
    if ((requireQuery && q !== requireQuery) || !file.startsWith(dir) || !fs.existsSync(file)) return void res.writeHead(404).end();
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length });
    // In pieces, so progress has something to report.
    let i = 0;
    const next = () => {
      if (i >= body.length) return void res.end();
      res.write(body.subarray(i, (i += 8192)));
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const layersOf = (b: LoadedBackbone) => {
  assert.equal(b.kind, 'layers');
  return b.model as tfTypes.LayersModel;
};
