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
import { findDatasets, trainImagesPerClass, type TrainImageStats } from './datasetDiscovery';
import { advisorInputOf, backboneEntryOf, buildExperiment, experimentFolderFor, validExperimentName, writeExperiment } from './newExperimentFile';
import { pickFolder } from './pickers';

const TOTAL_STEPS = 4;
const TITLE = 'Transfer Lab: New Experiment';

interface WizardState {
  datasetDir?: string;
  stats?: TrainImageStats;
  backbone?: BackboneSpec;
  advice?: StrategyAdvice;
  name?: string;
  /** The user cancelled from a dialog in the middle of a step. */
  cancelled?: boolean;
}

type DatasetItem = vscode.QuickPickItem & { dir?: string; browse?: boolean };
type StrategyItem = vscode.QuickPickItem & { advice?: StrategyAdvice };

/** The steps, each a MultiStepInput step that fills in `state` and returns the next one. */
class NewExperimentWizard {
  readonly state: WizardState = {};
  private readonly roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  private readonly probes = new ReachabilityProbes();

  constructor(private readonly s: Services) {}

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
    const items = backboneItems(availability);
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
    const items = this.strategyItems(allSituations({ imagesPerClass: state.stats?.perClass, ...advisor }), format);
    const similarTo = entry ? entry.trainedOn.split(' (')[0] : 'what the backbone was trained on';
    const pick = await input.pick({
      title: TITLE,
      step: 3,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: items.find((i) => i.advice && i.advice.title === state.advice?.title) ?? items.find((i) => i.advice),
      matchOnDetail: true,
      placeholder:
        format === 'graph'
          ? 'Strategy: this backbone is a graph model, so feature extraction only'
          : `Strategy: is your data similar to ${similarTo}? Pick the matching situation`,
    });
    state.advice = pick.advice!;
    return this.pickName;
  };

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
    shown.forEach(({ advice, recommended }, i) => {
      if (i === 2) items.push({ label: 'Other situations', kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: `${recommended ? '$(star-full) ' : ''}${advice.title}`,
        description: `${recommended ? 'recommended if your data is ' : 'if your data is '}${advice.situation.endsWith('similar') ? 'similar' : 'different'} · ${describeSituation(advice.situation)}`,
        detail: advice.reason,
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
  if (state.advice.cutAt) backbone.cutAt = state.advice.cutAt;
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
