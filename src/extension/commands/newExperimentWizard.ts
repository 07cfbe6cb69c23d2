// The New Experiment wizard: four steps (dataset, backbone, strategy, name) with Back. The
// backbone step lists the catalog by family (../backbonePicker.ts) and says "offline" for a
// backbone that is not downloaded when its host cannot be reached, before anything is
// written. The strategy step explains the four classic situations and recommends one from
// the dataset's images per class, with the backbone's own cut and unfreeze layers
// (core/strategyAdvisor.ts, from the shipped topology's stages).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { BackboneSpec } from '../../core/experiment';
import { allSituations, describeSituation, type StrategyAdvice } from '../../core/strategyAdvisor';
import { MultiStepInput, type InputStep } from '../multiStepInput';
import type { Services } from '../services';
import { cacheDirOf } from '../config';
import { backboneItems, catalogAvailability, checkOffline, ReachabilityProbes } from '../backbonePicker';
import { pathExists } from '../pathChecks';
import { flagUnreachable, unreachableEntries } from '../offlineFlags';
import { BACKBONE_CATALOG } from '../../core/backboneCatalog';
import { findDatasets, trainImagesPerClass, type TrainImageStats } from './datasetDiscovery';
import { advisorInputOf, backboneEntryOf, buildExperiment, experimentFolderFor, validExperimentName, writeExperiment } from './newExperimentFile';
import { pickFolder } from './pickers';
import { canMeasure, measureForWizard, probeSeconds } from './wizardProbe';
import { asStrategyAdvice } from '../../core/probeAdvice';
import { cutToWrite, droppedHeadNote, pickAdviceLayer } from './strategyChoices';
import type { LayerRef } from '../../core/layerBlocks';

const TOTAL_STEPS = 4;
const TITLE = 'Transfer Lab: New Experiment';

interface WizardState {
  datasetDir?: string;
  stats?: TrainImageStats;
  backbone?: BackboneSpec;
  advice?: StrategyAdvice;
  /** What "Measure it" recommended (the layer probe), for this dataset and backbone. */
  measured?: { advice: StrategyAdvice; key: string };
  /** A local model.json's layers (for its layer choices and the cut before its old head). */
  localLayers?: LayerRef[];
  name?: string;
  /** The user cancelled from a dialog in the middle of a step. */
  cancelled?: boolean;
}

type DatasetItem = vscode.QuickPickItem & { dir?: string; browse?: boolean };
type StrategyItem = vscode.QuickPickItem & { advice?: StrategyAdvice; measure?: boolean };

/** The steps, each a MultiStepInput step that fills in `state` and returns the next one. */
class NewExperimentWizard {
  readonly state: WizardState = {};
  private readonly roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  private readonly probes = new ReachabilityProbes();

  constructor(private readonly s: Services) {
    // The backbone step marks unreachable hosts: start asking them while the user picks a dataset.
    void catalogAvailability(s.disk, cacheDirOf(s.context), this.probes).then((a) => this.probes.warm(a));
  }

  readonly pickDataset: InputStep = async (input) => {
    const { state } = this;
    const found = await findDatasets(this.roots);
    const items: DatasetItem[] = found.map((c) => ({
      label: `$(folder) ${vscode.workspace.asRelativePath(c.dir)}`,
      description: `${c.classes} classes · ${c.layout === 'presplit' ? 'train/val/test' : 'folder per class'}`,
      dir: c.dir,
    }));
    items.push({ label: '$(folder-opened) Browse…', description: 'a dataset folder anywhere on disk', browse: true });
    const active = state.datasetDir ? items.find((i) => i.dir === state.datasetDir) : undefined;
    const pick = await input.pick({
      title: TITLE,
      step: 1,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: active,
      placeholder:
        found.length > 0
          ? 'Dataset: a folder with a folder per class, or train/ val/ test/'
          : 'No datasets found in the workspace: browse for one (or run Scaffold Dataset first)',
    });
    const dir = pick.browse ? await input.outside(() => pickFolder('Dataset folder', 'Use This Dataset')) : pick.dir;
    if (!dir) return this.pickDataset;
    const stats = await trainImagesPerClass(dir, this.s.disk);
    if (!stats) {
      const go = await input.outside(() =>
        vscode.window.showWarningMessage(
          `Transfer Lab: ${dir} does not look like a dataset yet (no class folders with images). Use it anyway?`,
          { modal: true },
          'Use Anyway',
        ),
      );
      if (go !== 'Use Anyway') return this.pickDataset;
    }
    state.datasetDir = dir;
    state.stats = stats;
    return this.pickBackbone;
  };

  readonly pickBackbone: InputStep = async (input) => {
    const { state } = this;
    const availability = await catalogAvailability(this.s.disk, cacheDirOf(this.s.context), this.probes);
    this.probes.warm(availability);
    const items = flagUnreachable(backboneItems(availability), await unreachableEntries(BACKBONE_CATALOG, availability, this.probes));
    const current = state.backbone && 'catalog' in state.backbone ? items.find((i) => i.label === (state.backbone as { catalog: string }).catalog) : undefined;
    const pick = await input.pick({
      title: TITLE,
      step: 2,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: current,
      matchOnDetail: true,
      placeholder: 'Backbone: the pretrained network to start from',
    });
    if (pick.entry) {
      // Offline and not downloaded: say so now, before anything is written.
      const choice = await checkOffline(pick.entry, availability, this.probes, (show) => input.outside(() => show().then((a) => a ?? 'cancel')));
      if (choice === 'pick') return this.pickBackbone;
      if (choice === 'cancel') {
        state.cancelled = true;
        return;
      }
    }
    if (pick.spec) state.backbone = pick.spec;
    else if (pick.ask === 'file') {
      const file = await this.askModelFile(input);
      if (!file) return this.pickBackbone;
      state.backbone = { path: file };
    } else {
      state.backbone = { url: await this.askModelUrl(input) };
    }
    return this.pickStrategy;
  };

  private async askModelFile(input: MultiStepInput): Promise<string | undefined> {
    const chosen = await input.outside(() =>
      vscode.window.showOpenDialog({
        title: 'Backbone model file',
        openLabel: 'Use This Model',
        canSelectMany: false,
        filters: {
          'Keras or TF.js model': ['keras', 'h5', 'hdf5', 'json'],
          'Keras 3 (.keras)': ['keras'],
          'Keras HDF5 (.h5)': ['h5', 'hdf5'],
          'TF.js model.json': ['json'],
        },
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      }),
    );
    return chosen[0]?.fsPath;
  }

  private async askModelUrl(input: MultiStepInput): Promise<string> {
    const backbone = this.state.backbone;
    const url = await input.text({
      title: TITLE,
      step: 2,
      totalSteps: TOTAL_STEPS,
      value: backbone && 'url' in backbone ? backbone.url : '',
      prompt: 'URL of a TF.js model.json (layers or graph model)',
      placeholder: 'https://example.com/my-model/model.json',
      validate: (v) => {
        try {
          const u = new URL(v.trim());
          return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'Use an http(s) URL.';
        } catch {
          return 'Not a URL: give the full address of a model.json, starting with https://.';
        }
      },
    });
    return url.trim();
  }

  readonly pickStrategy: InputStep = async (input) => {
    const { state } = this;
    const entry = backboneEntryOf(state.backbone!);
    const advisor = await advisorInputOf(this.s, state.backbone!);
    const format = advisor.format;
    state.localLayers = 'path' in state.backbone! ? advisor.layers : undefined;
    const items = this.strategyItems(allSituations({ imagesPerClass: state.stats?.perClass, ...advisor }), format);
    const similarTo = entry ? entry.trainedOn.split(' (')[0] : "the model's own data";
    const pick = await input.pick({
      title: TITLE,
      step: 3,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem:
        items.find((i) => i.advice && i.advice === this.measured()) ??
        items.find((i) => i.advice && i.advice.title === state.advice?.title) ??
        items.find((i) => i.advice),
      matchOnDetail: true,
      // Short enough not to be cut off; each item's detail says the rest.
      placeholder: format === 'graph' ? 'Strategy: a graph model, so feature extraction only' : `Strategy: is your data like ${similarTo}?`,
    });
    if (pick.measure) return this.measure(input);
    state.advice = pick.advice!;
    return state.localLayers ? this.pickLayer : this.pickName;
  };

  /** For a local model: which of its layers the earlier cut (or fine-tuning) starts at. */
  readonly pickLayer: InputStep = async (input) => {
    const { state } = this;
    state.advice = await pickAdviceLayer(input, { title: TITLE, step: 3, totalSteps: TOTAL_STEPS, advice: state.advice!, layers: state.localLayers! });
    return this.pickName;
  };

  private readonly measureKey = () => JSON.stringify([this.state.datasetDir, this.state.backbone]);
  private readonly measured = () => (this.state.measured?.key === this.measureKey() ? this.state.measured.advice : undefined);

  /** "Measure it": the layer probe, then the strategy step again with its recommendation first and selected. */
  private async measure(input: MultiStepInput): Promise<InputStep> {
    const { state } = this;
    const r = await input.outside(() => measureForWizard(this.s, state.datasetDir!, state.backbone!));
    if (r.ok) state.measured = { advice: asStrategyAdvice(r.probe.advice), key: this.measureKey() };
    else void vscode.window.showWarningMessage(`${r.message} Pick the situation that matches your data instead.`);
    return this.pickStrategy;
  }

  /** The situations (the recommended two first), and training from scratch as a baseline where the format allows. */
  private strategyItems(situations: ReturnType<typeof allSituations>, format: 'layers' | 'graph'): StrategyItem[] {
    const stats = this.state.stats;
    const perClass = stats?.perClass;
    const shown = format === 'graph' ? situations.filter((x) => x.recommended && x.advice.situation.endsWith('similar')) : situations;
    const items: StrategyItem[] = [];
    const countText =
      perClass === undefined
        ? 'images per class unknown'
        : `${Math.round(perClass)} training images per class${stats && stats.smallest.count < perClass * 0.5 ? ` (smallest: ${stats.smallest.name}, ${stats.smallest.count})` : ''}`;
    items.push({ label: `Your dataset: ${countText}`, kind: vscode.QuickPickItemKind.Separator });
    const measured = this.measured();
    if (measured)
      items.push({ label: `$(pass-filled) Measured: ${measured.title}`, description: 'the layer probe recommends', detail: measured.reason, advice: measured });
    else if (canMeasure())
      items.push({
        label: `$(beaker) Measure it (probe, ~${probeSeconds(stats, this.state.backbone!)} s)`,
        description: 'instead of guessing whether your data is similar',
        detail: 'Runs the frozen backbone once over your images and measures how well each block separates your classes, then recommends a strategy and cut.',
        measure: true,
      });
    shown.forEach(({ advice, recommended }, i) => {
      if (i === 2) items.push({ label: 'Other situations', kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: `${recommended ? '$(star-full) ' : ''}${advice.title}`,
        description: `${recommended ? 'recommended if your data is ' : 'if your data is '}${advice.situation.endsWith('similar') ? 'similar' : 'different'} · ${describeSituation(advice.situation)}`,
        detail: [advice.reason, droppedHeadNote(advice, this.state.localLayers)].filter(Boolean).join(' '),
        advice,
      });
    });
    if (format !== 'graph') {
      items.push({ label: 'Baseline', kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: 'Train from scratch',
        description: 'random weights, same architecture',
        detail: 'No transfer: a baseline to compare against (needs much more data to do well).',
        advice: { situation: 'large-different', strategy: { kind: 'scratch' }, title: 'Train from scratch', reason: '' },
      });
    }
    return items;
  }

  readonly pickName: InputStep = async (input) => {
    const { state } = this;
    const folder = experimentFolderFor(state.datasetDir!);
    const b = state.backbone!;
    const backboneName = 'catalog' in b ? b.catalog.replace(/_/g, '-') : 'path' in b ? path.basename(path.dirname(b.path)) : 'url-model';
    const strategyName = { 'feature-extraction': 'features', 'fine-tune': 'finetune', scratch: 'scratch' }[state.advice!.strategy.kind];
    let suggestion = `${path.basename(state.datasetDir!)}-${backboneName}-${strategyName}`.replace(/[^A-Za-z0-9._-]/g, '-');
    for (let i = 2; await pathExists(path.join(folder, `${suggestion}.tlexp.json`)); i++) suggestion = suggestion.replace(/-\d+$/, '') + `-${i}`;
    state.name = await input.text({
      title: TITLE,
      step: 4,
      totalSteps: TOTAL_STEPS,
      value: state.name ?? suggestion,
      prompt: `Experiment name: the file ${vscode.workspace.asRelativePath(folder)}/<name>.tlexp.json. Epochs, batch size and the rest get defaults you can edit in the file.`,
      validate: (v) => validExperimentName(v.trim(), folder),
    });
  };
}

/** Runs the wizard and writes the experiment it describes; undefined when cancelled. */
export async function newExperimentWizard(s: Services): Promise<vscode.Uri | undefined> {
  const wizard = new NewExperimentWizard(s);
  const finished = await MultiStepInput.run(wizard.pickDataset);
  const state = wizard.state;
  if (!finished || state.cancelled || !state.datasetDir || !state.backbone || !state.advice || !state.name) return undefined;
  const folder = experimentFolderFor(state.datasetDir);
  const backbone: BackboneSpec = { ...state.backbone };
  const cutAt = cutToWrite(state.advice, state.localLayers);
  if (cutAt) backbone.cutAt = cutAt;
  const exp = buildExperiment({
    name: state.name.trim(),
    datasetDir: state.datasetDir,
    folder,
    backbone,
    strategy: state.advice.strategy,
    description: state.advice.reason ? `${state.advice.title}: ${describeSituation(state.advice.situation).toLowerCase()}.` : undefined,
    trainImages: state.stats && Math.round(state.stats.perClass * state.stats.classes),
  });
  return writeExperiment(s, exp, folder);
}
