// The `description` New Experiment writes ("<strategy title>: <situation>. Training: <epochs>
// of batch <n>: ..."), and whether it still says what the file does. Only a description in
// the wizard's own form is checked, and a fix rewrites only the parts that went stale: a
// description the user wrote in their own words is theirs and never touched.
import type { ExperimentFile, InputProblem } from './experiment';
import { EXPERIMENT_DEFAULTS } from './experimentFields';

/** The wizard's form: the strategy's title, the dataset's situation, the training's reason. */
const WIZARD_FORM = /^(?:(?<title>(?:Feature extraction|Fine-tune|Train from scratch)[^:.]*)(?<situation>: [^.]*\.)? )?Training: (?<reason>.*)\.$/;
const STEPS = /^(?<epochs>\d+) epochs of batch (?<batch>\d+): about \d+ steps for (?<images>\d+) training images$/;
const DEFAULTS = /^the usual Keras defaults suit (?<images>\d+) training images$/;

/** What a title says of the strategy: its kind and the layer (or layer count) it names, if any. */
function strategyOfTitle(title: string): { kind: string; layer?: string; last?: number } {
  const kind = title.startsWith('Feature extraction') ? 'feature-extraction' : title.startsWith('Fine-tune') ? 'fine-tune' : 'scratch';
  const last = /last (\d+) layers/.exec(title)?.[1];
  const layer = (/\((?:from )?([A-Za-z0-9_./:-]+)(?:,|\))/.exec(title) ?? / from ([A-Za-z0-9_./:-]+)$/.exec(title))?.[1];
  return { kind, ...(last ? { last: Number(last) } : layer && layer !== 'frozen' ? { layer } : {}) };
}

/** The title the wizard would write for the file's strategy now. */
export function strategyTitle(exp: Pick<ExperimentFile, 'strategy' | 'backbone'>): string {
  const s = exp.strategy;
  if (s.kind === 'scratch') return 'Train from scratch';
  if (s.kind === 'feature-extraction')
    return exp.backbone.cutAt ? `Feature extraction from an earlier layer (${exp.backbone.cutAt})` : 'Feature extraction (frozen backbone, new head)';
  if (s.unfreezeFrom) return `Fine-tune from ${s.unfreezeFrom}`;
  return `Fine-tune the last ${s.unfreezeLast ?? EXPERIMENT_DEFAULTS.strategy.unfreezeLast} layers`;
}

function titleIsStale(title: string, exp: Pick<ExperimentFile, 'strategy' | 'backbone'>): boolean {
  const said = strategyOfTitle(title);
  const s = exp.strategy;
  if (said.kind !== s.kind) return true;
  if (s.kind === 'feature-extraction')
    return said.layer !== undefined ? said.layer !== exp.backbone.cutAt : exp.backbone.cutAt !== undefined && !/earlier layer/.test(title);
  if (s.kind === 'fine-tune') {
    if (said.layer !== undefined) return said.layer !== s.unfreezeFrom;
    if (said.last !== undefined) return s.unfreezeFrom !== undefined || said.last !== (s.unfreezeLast ?? EXPERIMENT_DEFAULTS.strategy.unfreezeLast);
  }
  return false;
}

/** The training sentence for the file's epochs and batch size, when the old one no longer matches them. */
function freshTraining(reason: string, exp: Pick<ExperimentFile, 'train'>): string | undefined {
  const epochs = exp.train?.epochs ?? EXPERIMENT_DEFAULTS.train.epochs;
  const batch = exp.train?.batchSize ?? EXPERIMENT_DEFAULTS.train.batchSize;
  const steps = STEPS.exec(reason)?.groups;
  const defaults = DEFAULTS.exec(reason)?.groups;
  const images = Number((steps ?? defaults)?.images);
  if (!steps && !defaults) return undefined;
  const matches = steps
    ? Number(steps.epochs) === epochs && Number(steps.batch) === batch
    : epochs === EXPERIMENT_DEFAULTS.train.epochs && batch === EXPERIMENT_DEFAULTS.train.batchSize;
  if (matches) return undefined;
  return `${epochs} epochs of batch ${batch}: about ${epochs * Math.ceil(images / batch)} steps for ${images} training images`;
}

/**
 * The description rewritten for the file as it is now, when it is in the wizard's form and
 * its strategy title or training sentence went stale; undefined otherwise.
 */
export function refreshedDescription(exp: Pick<ExperimentFile, 'description' | 'strategy' | 'backbone' | 'train'>): string | undefined {
  const m = exp.description === undefined ? undefined : WIZARD_FORM.exec(exp.description)?.groups;
  if (!m) return undefined;
  // Without a title (a scratch baseline) only the training sentence is the wizard's.
  const title = m.title && titleIsStale(m.title, exp) ? strategyTitle(exp) : m.title;
  const training = freshTraining(m.reason, exp);
  if (title === m.title && !training) return undefined;
  return `${title ? `${title}${m.situation ?? '.'} ` : ''}Training: ${training ?? m.reason}.`;
}

/** A stale wizard description as a problem the editor shows, with the rewrite as its fix. */
export function staleDescriptionProblem(exp: Pick<ExperimentFile, 'description' | 'strategy' | 'backbone' | 'train'>): InputProblem | undefined {
  const to = refreshedDescription(exp);
  if (!to) return undefined;
  return {
    path: 'description',
    message: 'no longer matches the file: New Experiment wrote it for another strategy or training length',
    hint: `Update it to: ${to}`,
    fix: { kind: 'replace-value', to, title: 'Update the description to match the file' },
  };
}
