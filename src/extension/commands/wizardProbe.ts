// The New Experiment wizard's "Measure it": instead of asking whether the data is similar to
// the backbone's, run the layer probe (engine/probe/, in a trainer) on the chosen dataset and
// backbone and turn its recommendation into the strategy step's answer. The experiment does
// not exist yet, so the probe reads a throwaway experiment file in a temp folder and writes no
// probe.json. Untrusted workspaces cannot start a trainer: the wizard then only asks.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackboneSpec } from '../../core/experiment';
import type { StrategyAdvice } from '../../core/strategyAdvisor';
import type { ProbeFile } from '../../core/probeFile';
import type { Services } from '../services';
import { runProbeInTrainer } from '../layerProbe';
import { buildExperiment } from './newExperimentFile';
import type { TrainImageStats } from './datasetDiscovery';

/** The wizard probes at most this many training images per class: enough for a ranking of depths, quick on a laptop. */
export const WIZARD_PROBE_PER_CLASS = 60;

/** Whether the probe can run from the wizard (a trainer needs a trusted workspace). */
export const canMeasure = (): boolean => vscode.workspace.isTrusted;

/**
 * A rough time for the label, from the images the probe will see (train capped, plus about half
 * as many val): the shipped fmnist-mini takes ~4 s for 150 images with the native backend, a
 * downloaded MobileNet ~10x longer per image; loading and starting the trainer take ~5 s.
 */
export function probeSecondsEstimate(stats: TrainImageStats | undefined, backbone: BackboneSpec): number {
  const perClass = Math.min(stats?.perClass ?? WIZARD_PROBE_PER_CLASS, WIZARD_PROBE_PER_CLASS);
  const images = perClass * (stats?.classes ?? 5) * 1.5;
  const perImage = 'catalog' in backbone && backbone.catalog === 'fmnist-mini' ? 0.02 : 0.2;
  return Math.max(5, Math.round((5 + images * perImage) / 5) * 5);
}

/** The probe's recommendation as the strategy step's answer; its reason starts with what was measured. */
export function adviceOfProbe(probe: ProbeFile): StrategyAdvice {
  const a = probe.advice;
  return {
    situation: a.situation,
    strategy: a.strategy,
    ...(a.cutAt ? { cutAt: a.cutAt } : {}),
    title: a.title,
    reason: `Measured: ${a.measured}. ${a.reason}`,
  };
}

/** Runs the probe of `backbone` on the dataset; the error message says what failed (the wizard then asks instead). */
export async function measureForWizard(
  s: Services,
  datasetDir: string,
  backbone: BackboneSpec,
): Promise<{ ok: true; probe: ProbeFile } | { ok: false; message: string }> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'transfer-lab-wizard-probe-'));
  try {
    const exp = buildExperiment({ name: 'wizard-probe', datasetDir, folder, backbone, strategy: { kind: 'feature-extraction' } });
    const experimentFile = path.join(folder, 'wizard-probe.tlexp.json');
    await fs.writeFile(experimentFile, JSON.stringify(exp, null, 2));
    const r = await runProbeInTrainer(
      s,
      { experimentFile, probesDir: null, maxPerClass: WIZARD_PROBE_PER_CLASS },
      `Transfer Lab: measuring ${path.basename(datasetDir)} with the backbone's layers`,
    );
    return r.ok ? { ok: true, probe: r.probe } : r;
  } finally {
    await fs.rm(folder, { recursive: true, force: true });
  }
}
