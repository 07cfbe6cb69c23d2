// The CUDA devices this process may use: NVIDIA's driver lists them (nvidia-smi, else
// /proc/driver/nvidia/gpus), CUDA_VISIBLE_DEVICES narrows them as CUDA itself does. What is
// read comes through a CudaProbe, so tests give a fake /proc tree and fake nvidia-smi output.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CudaDevice } from '../core/nativeDevice';

export const PROC_GPUS = '/proc/driver/nvidia/gpus';
export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total,uuid', '--format=csv,noheader,nounits'];

export interface CudaProbe {
  /** nvidia-smi's stdout for NVIDIA_SMI_ARGS; undefined when it is not installed or fails. */
  nvidiaSmi(): string | undefined;
  /** A folder's entries; [] when it does not exist. */
  listDir(dir: string): string[];
  readFile(file: string): string | undefined;
}

export const systemCudaProbe: CudaProbe = {
  nvidiaSmi() {
    // A hung driver can make nvidia-smi block: a few seconds, then treat it as absent.
    const r = spawnSync('nvidia-smi', NVIDIA_SMI_ARGS, { encoding: 'utf8', timeout: 8000 });
    return r.status === 0 && !r.error ? r.stdout : undefined;
  },
  listDir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  },
  readFile(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
};

/** CUDA_VISIBLE_DEVICES as CUDA reads it: unset = all; empty or -1 = none; else ids up to the first invalid one. */
export type VisibleDevices = { all: true } | { all: false; ids: string[] };

export function parseCudaVisibleDevices(value: string | undefined): VisibleDevices {
  if (value === undefined) return { all: true };
  const ids: string[] = [];
  for (const raw of value.split(',')) {
    const id = raw.trim();
    // CUDA stops at the first entry that is not a device (e.g. -1), ignoring the rest, and at a repeated one.
    const valid = /^\d+$/.test(id) || /^(GPU|MIG)-[0-9a-fA-F-]+/.test(id);
    if (!valid || ids.includes(id)) break;
    ids.push(/^\d+$/.test(id) ? String(Number(id)) : id);
  }
  return { all: false, ids };
}

/** nvidia-smi's CSV lines: "0, NVIDIA H200, 143771, GPU-1c2d...". */
export function parseNvidiaSmi(text: string): CudaDevice[] {
  const devices: CudaDevice[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length < 4 || !/^\d+$/.test(cells[0])) continue;
    const memory = Number(cells[cells.length - 2]);
    devices.push({
      index: Number(cells[0]),
      // A name with a comma in it keeps it: only the first and the last two cells are fixed.
      name: cells.slice(1, -2).join(', '),
      memoryMB: Number.isFinite(memory) ? memory : undefined,
      uuid: cells[cells.length - 1] || undefined,
    });
  }
  return devices;
}

/** /proc/driver/nvidia/gpus/<PCI address>/information ("Model: ...", "GPU UUID: ..."), in PCI order. */
export function readProcGpus(probe: CudaProbe, root = PROC_GPUS): CudaDevice[] {
  const devices: CudaDevice[] = [];
  for (const bus of [...probe.listDir(root)].sort()) {
    const info = probe.readFile(path.join(root, bus, 'information'));
    if (info === undefined) continue;
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(info)?.[1].trim();
    devices.push({ index: devices.length, name: field('Model') ?? `NVIDIA GPU at ${bus}`, uuid: field('GPU UUID') });
  }
  return devices;
}

export interface CudaDetection {
  /** The devices this process may use. */
  visible: CudaDevice[];
  /** Every device the driver lists. */
  present: CudaDevice[];
  /** Where the list came from. */
  source: 'nvidia-smi' | 'proc' | 'none';
  /** Why `visible` is empty, when it is. */
  noneBecause?: string;
}

function applyVisibility(present: CudaDevice[], visibility: VisibleDevices): CudaDevice[] {
  if (visibility.all) return present;
  const out: CudaDevice[] = [];
  for (const id of visibility.ids) {
    // Indices count CUDA's devices; GPU-<uuid> may be a prefix (CUDA accepts that); a MIG
    // instance is not listed by the driver's GPU list, so it stands for itself.
    const match = /^\d+$/.test(id) ? present[Number(id)] : present.find((d) => d.uuid?.startsWith(id));
    if (match) out.push(match);
    else if (id.startsWith('MIG-')) out.push({ index: out.length, name: `MIG instance ${id}` });
    else break; // CUDA stops at an id it cannot find
  }
  return out;
}

/**
 * The CUDA devices visible here. `spawn: false` reads only /proc (no child process): enough
 * to notice a GPU when no GPU build is installed; nvidia-smi adds each device's memory.
 */
export function detectCudaDevices(env: NodeJS.ProcessEnv, probe: CudaProbe = systemCudaProbe, opts: { spawn?: boolean } = {}): CudaDetection {
  const smi = opts.spawn === false ? undefined : probe.nvidiaSmi();
  const fromSmi = smi === undefined ? [] : parseNvidiaSmi(smi);
  const present = fromSmi.length ? fromSmi : readProcGpus(probe);
  const source = fromSmi.length ? 'nvidia-smi' : present.length ? 'proc' : 'none';
  if (!present.length) {
    return { visible: [], present, source, noneBecause: `no NVIDIA GPU found: no nvidia-smi output, nothing under ${PROC_GPUS}` };
  }
  const setting = env.CUDA_VISIBLE_DEVICES;
  const visible = applyVisibility(present, parseCudaVisibleDevices(setting));
  if (visible.length) return { visible, present, source };
  return {
    visible,
    present,
    source,
    noneBecause: `CUDA_VISIBLE_DEVICES=${setting === '' ? '(empty)' : setting}, hiding ${present.length === 1 ? 'the one GPU' : `all ${present.length} GPUs`}`,
  };
}
