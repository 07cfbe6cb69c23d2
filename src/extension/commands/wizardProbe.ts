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
import { probeSecondsEstimate } from '../../core/probeAdvice';
import type { ProbeFile } from '../../core/probeFile';
import type { Services } from '../services';
import { runProbeInTrainer } from '../layerProbe';
import { buildExperiment } from './newExperimentFile';
import type { TrainImageStats } from './datasetDiscovery';

/** The wizard probes at most this many training images per class: enough for a ranking of depths, quick on a laptop. */
export const WIZARD_PROBE_PER_CLASS = 60;

/** Whether the probe can run from the wizard (a trainer needs a trusted workspace). */
export const canMeasure = (): boolean => vscode.workspace.isTrusted;

/** The label's rough time for this dataset and backbone. */
export const probeSeconds = (stats: TrainImageStats | undefined, backbone: BackboneSpec): number =>
  probeSecondsEstimate(stats?.perClass, stats?.classes, WIZARD_PROBE_PER_CLASS, 'catalog' in backbone && backbone.catalog === 'fmnist-mini' ? 0.02 : 0.2);

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
