// The authority on what an experiment file may contain: hand-written checks (no schema
// engine at run time) so every problem names the JSON path, says what is wrong and what is
// allowed. The JSON Schema in media/schema/experiment.schema.json describes the same fields
// for editor completion; test/unit/experimentSchema.test.ts keeps the two from drifting apart.
import type { ExperimentFile, Validated } from './experiment';
import { checkBackbone } from './experimentBackboneChecks';
import { Checker, type Locate } from './experimentChecker';
import { isRecord } from './json';
import { checkData } from './experimentDataChecks';
import { EXPERIMENT_DEFAULTS } from './experimentFields';
import { describe } from './experimentHints';
import { checkHead, checkStrategy, checkTrain } from './experimentTrainingChecks';

/**
 * Checks a value (parsed JSON, or an object built by the wizard) against the experiment
 * shape. The authority on what an experiment file may contain.
 */
export function validateExperiment(value: unknown, locate: Locate = () => undefined): Validated<ExperimentFile> {
  const c = new Checker(locate);
  checkExperiment(c, value);
  if (c.errors.length > 0) return { ok: false, errors: c.errors, warnings: c.warnings };
  return { ok: true, value: value as ExperimentFile, warnings: c.warnings };
}

function checkExperiment(c: Checker, value: unknown): void {
  if (!isRecord(value)) {
    c.error('', `the file must contain a JSON object, got ${describe(value)}`, 'Start from { "name": ..., "data": ..., "backbone": ..., "strategy": ... }.');
    return;
  }
  c.unknownFields(value, '');
  c.string(value, '$schema', '', 'Point it at the Transfer Lab experiment schema, or remove it.');
  if (c.required(value, 'name', '', 'a short name for the experiment, used in run folder names', '"flowers-mobilenet"')) {
    c.string(value, 'name', '', 'Give the experiment a short name, e.g. "flowers-mobilenet".');
  }
  if (value.description !== undefined && typeof value.description !== 'string') {
    c.error('description', `must be a string, got ${describe(value.description)}`, 'Write a sentence in double quotes.');
  }
  if (c.required(value, 'data', '', 'where the images are', '{ "dir": "datasets/flowers" }')) checkData(c, value.data);
  if (c.required(value, 'backbone', '', 'the pretrained network to start from', '{ "catalog": "mobilenet_v2_1.00_224" }')) checkBackbone(c, value.backbone);
  const train = value.train === undefined ? undefined : c.object(value.train, 'train', 'training settings', '{ "epochs": 10, "batchSize": 32 }');
  const trainFacts = train ? checkTrain(c, train) : { epochs: EXPERIMENT_DEFAULTS.train.epochs, learningRate: EXPERIMENT_DEFAULTS.train.learningRate.adam };
  if (c.required(value, 'strategy', '', 'how much of the backbone trains', '{ "kind": "feature-extraction" }')) checkStrategy(c, value.strategy, trainFacts);
  if (value.head !== undefined) {
    const head = c.object(value.head, 'head', 'the new classifier on top of the backbone', '{ "pooling": "avg", "dense": [128], "dropout": 0.2 }');
    if (head) checkHead(c, head);
  }
}
