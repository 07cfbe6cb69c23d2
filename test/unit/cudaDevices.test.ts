// Which CUDA devices a trainer sees: from a fake /proc tree and fake nvidia-smi output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { detectCudaDevices, parseCudaVisibleDevices, parseNvidiaSmi, readProcGpus, PROC_GPUS, type CudaProbe } from '../../src/engine/cudaDevices';

const SMI = '0, NVIDIA H200, 143771, GPU-1c2d3e4f-0000-1111-2222-333344445555\n1, NVIDIA A100-SXM4-80GB, 81920, GPU-aa00bb11-0000-1111-2222-333344445555\n';

/** A probe over an in-memory tree: `files` by absolute path; nvidia-smi prints `smi` (undefined: not installed). */
function fakeProbe(files: Record<string, string>, smi?: string): CudaProbe & { smiCalls: number } {
  const probe = {
    smiCalls: 0,
    nvidiaSmi() {
      probe.smiCalls++;
      return smi;
    },
    listDir(dir: string) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      return [
        ...new Set(
          Object.keys(files)
            .filter((f) => f.startsWith(prefix))
            .map((f) => f.slice(prefix.length).split('/')[0]),
        ),
      ];
    },
    readFile: (file: string) => files[file],
  };
  return probe;
}

const procTree = {
  [path.join(PROC_GPUS, '0000:41:00.0', 'information')]: 'Model: \t\t NVIDIA H200\nIRQ:   120\nGPU UUID: \t GPU-1c2d3e4f-0000-1111-2222-333344445555\n',
  [path.join(PROC_GPUS, '0000:01:00.0', 'information')]: 'Model: \t\t Tesla T4\nGPU UUID: \t GPU-77\n',
};

test('CUDA_VISIBLE_DEVICES as CUDA reads it: unset all, -1 and empty none, a list up to the first invalid entry', () => {
  assert.deepEqual(parseCudaVisibleDevices(undefined), { all: true });
  assert.deepEqual(parseCudaVisibleDevices(''), { all: false, ids: [] });
  assert.deepEqual(parseCudaVisibleDevices('-1'), { all: false, ids: [] });
  assert.deepEqual(parseCudaVisibleDevices('1'), { all: false, ids: ['1'] });
  assert.deepEqual(parseCudaVisibleDevices(' 0 , 02 '), { all: false, ids: ['0', '2'] });
  assert.deepEqual(parseCudaVisibleDevices('0,-1,1'), { all: false, ids: ['0'] });
  assert.deepEqual(parseCudaVisibleDevices('1,1,0'), { all: false, ids: ['1'] });
  assert.deepEqual(parseCudaVisibleDevices('GPU-1c2d,MIG-abc-12'), { all: false, ids: ['GPU-1c2d', 'MIG-abc-12'] });
  assert.deepEqual(parseCudaVisibleDevices('none'), { all: false, ids: [] });
});

test("nvidia-smi's CSV gives index, name, memory and UUID; junk lines are skipped", () => {
  const devices = parseNvidiaSmi(`${SMI}No devices were found\n\n`);
  assert.deepEqual(devices[0], { index: 0, name: 'NVIDIA H200', memoryMB: 143771, uuid: 'GPU-1c2d3e4f-0000-1111-2222-333344445555' });
  assert.equal(devices[1].name, 'NVIDIA A100-SXM4-80GB');
  assert.equal(devices.length, 2);
  assert.equal(parseNvidiaSmi('0, Weird, Name, 1024, GPU-1')[0].name, 'Weird, Name');
  assert.equal(parseNvidiaSmi('0, NVIDIA T4, [N/A], GPU-1')[0].memoryMB, undefined);
});

test('/proc/driver/nvidia/gpus: one device per PCI address, in bus order, with model and UUID', () => {
  const devices = readProcGpus(fakeProbe(procTree));
  assert.deepEqual(
    devices.map((d) => [d.index, d.name, d.uuid]),
    [
      [0, 'Tesla T4', 'GPU-77'],
      [1, 'NVIDIA H200', 'GPU-1c2d3e4f-0000-1111-2222-333344445555'],
    ],
  );
  assert.deepEqual(readProcGpus(fakeProbe({})), []);
});

test('detection prefers nvidia-smi, falls back to /proc, and applies CUDA_VISIBLE_DEVICES', () => {
  const both = fakeProbe(procTree, SMI);
  const all = detectCudaDevices({}, both);
  assert.equal(all.source, 'nvidia-smi');
  assert.deepEqual(
    all.visible.map((d) => d.name),
    ['NVIDIA H200', 'NVIDIA A100-SXM4-80GB'],
  );
  assert.deepEqual(
    detectCudaDevices({ CUDA_VISIBLE_DEVICES: '1' }, both).visible.map((d) => d.name),
    ['NVIDIA A100-SXM4-80GB'],
  );
  assert.deepEqual(
    detectCudaDevices({ CUDA_VISIBLE_DEVICES: 'GPU-aa00' }, both).visible.map((d) => d.index),
    [1],
  );
  assert.equal(detectCudaDevices({ CUDA_VISIBLE_DEVICES: '7' }, both).visible.length, 0);
  const hidden = detectCudaDevices({ CUDA_VISIBLE_DEVICES: '-1' }, both);
  assert.deepEqual(hidden.visible, []);
  assert.equal(hidden.present.length, 2);
  assert.equal(hidden.noneBecause, 'CUDA_VISIBLE_DEVICES=-1, hiding all 2 GPUs');
  assert.equal(detectCudaDevices({ CUDA_VISIBLE_DEVICES: '' }, fakeProbe(procTree)).noneBecause, 'CUDA_VISIBLE_DEVICES=(empty), hiding all 2 GPUs');

  const procOnly = detectCudaDevices({}, fakeProbe(procTree));
  assert.equal(procOnly.source, 'proc');
  assert.equal(procOnly.visible[1].memoryMB, undefined);

  const none = detectCudaDevices({}, fakeProbe({}));
  assert.equal(none.source, 'none');
  assert.match(none.noneBecause ?? '', /^no NVIDIA GPU found: no nvidia-smi output, nothing under \/proc\/driver\/nvidia\/gpus$/);
});

test('spawn: false reads /proc only and never runs nvidia-smi', () => {
  const probe = fakeProbe(procTree, SMI);
  const d = detectCudaDevices({}, probe, { spawn: false });
  assert.equal(probe.smiCalls, 0);
  assert.equal(d.source, 'proc');
  assert.equal(d.visible.length, 2);
});
