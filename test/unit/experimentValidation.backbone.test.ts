// Experiment file checks of backbone.preprocessing, backbone.valueRange, data.resize and
// backbone.weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadExperimentText } from '../../src/core/experimentValidation';
import { FILE, minimal, withPatch, text, valueOf, errorAt } from './experimentValidationHelpers';

test('backbone.preprocessing: one of the Keras modes; set only when given', () => {
  for (const mode of ['tf', 'torch', 'caffe', 'none', 'zero-one']) {
    const { value } = valueOf(loadExperimentText(text(withPatch((x) => (x.backbone.preprocessing = mode))), FILE));
    assert.equal(value.backbone.preprocessing, mode);
  }
  assert.equal('preprocessing' in valueOf(loadExperimentText(text(minimal()), FILE)).value.backbone, false, 'absent: the backbone decides');
  let e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'TF')),
    'backbone.preprocessing',
  );
  assert.equal(e.message, 'must be one of "tf", "torch", "caffe", "none", "zero-one", got the string "TF"');
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'torh')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "torch"\? "torch" is Keras's mode for DenseNet\.$/);
  // A family name: the mode Keras uses for it.
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'resnet50')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "caffe"\?/);
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'mobilenet_v2')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "tf"\?/);
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'efficientnet')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "none"\?/);
  // A range: its mode.
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = [-1, 1])),
    'backbone.preprocessing',
  );
  assert.equal(e.hint, 'Did you mean "tf"? [-1, 1] is "tf".');
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'imagenet')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Pick the mode Keras's preprocess_input uses for the backbone: "tf" \(MobileNet v1\/v2.*"caffe" \(ResNet v1/);
});

test('backbone.valueRange (older files) points at backbone.preprocessing with the mode of the range', () => {
  let e = errorAt(
    withPatch((x) => (x.backbone.valueRange = [-1, 1])),
    'backbone.valueRange',
  );
  assert.equal(e.message, "unknown field 'valueRange'");
  assert.match(
    e.hint!,
    /^\[-1, 1\] is "tf" \(MobileNet v1\/v2, .*\)\. Transfer Lab takes Keras's preprocess_input mode instead of a range: .* Write it as "backbone": \{ \.\.\., "preprocessing": "tf" \}\.$/,
  );
  e = errorAt(
    withPatch((x) => (x.backbone.valueRange = [0, 1])),
    'backbone.valueRange',
  );
  assert.match(e.hint!, /^\[0, 1\] is "zero-one" .*"preprocessing": "zero-one" \}\.$/);
  e = errorAt(
    withPatch((x) => (x.backbone.value_range = [0, 255])),
    'backbone.value_range',
  );
  assert.match(e.hint!, /^\[0, 255\] is "none" .*"preprocessing": "none" \}\.$/);
  // Elsewhere in the file too.
  e = errorAt(
    withPatch((x) => (x.data.valueRange = [-1, 1])),
    'data.valueRange',
  );
  assert.match(e.hint!, /"preprocessing": "tf"/);
  // A known field in the wrong object still says where it belongs.
  e = errorAt(
    withPatch((x) => (x.preprocessing = 'tf')),
    'preprocessing',
  );
  assert.equal(e.hint, '"preprocessing" belongs in backbone; move it there.');
});

test('data.resize: one of the resize modes, default squash; Keras argument names point at it', () => {
  for (const mode of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio', 'center-crop']) {
    assert.equal(valueOf(loadExperimentText(text(withPatch((x) => (x.data.resize = mode))), FILE)).value.data.resize, mode);
  }
  assert.equal(valueOf(loadExperimentText(text(minimal()), FILE)).value.data.resize, 'squash');
  let e = errorAt(
    withPatch((x) => (x.data.resize = 'crop_to_aspect_ratio')),
    'data.resize',
  );
  assert.equal(e.message, 'must be one of "squash", "crop-to-aspect-ratio", "pad-to-aspect-ratio", "center-crop", got the string "crop_to_aspect_ratio"');
  assert.equal(e.hint, 'Did you mean "crop-to-aspect-ratio"?');
  for (const [wrote, meant] of [
    ['stretch', 'squash'],
    ['bilinear', 'squash'],
    ['letterbox', 'pad-to-aspect-ratio'],
    ['centre-crop', 'center-crop'],
    ['crop', 'crop-to-aspect-ratio'],
  ]) {
    assert.equal(
      errorAt(
        withPatch((x) => (x.data.resize = wrote)),
        'data.resize',
      ).hint,
      `Did you mean "${meant}"?`,
      wrote,
    );
  }
  e = errorAt(
    withPatch((x) => (x.data.resize = 224)),
    'data.resize',
  );
  assert.match(e.hint!, /^Pick one: "squash" \(Keras's default/);
  e = errorAt(
    withPatch((x) => (x.data.crop_to_aspect_ratio = true)),
    'data.crop_to_aspect_ratio',
  );
  assert.match(e.hint!, /write "data": \{ \.\.\., "resize": "crop-to-aspect-ratio" \}/);
  e = errorAt(
    withPatch((x) => (x.resize = 'squash')),
    'resize',
  );
  assert.equal(e.hint, '"resize" belongs in data; move it there.');
});

test('backbone.weights: a weights-only Keras file, resolved against the experiment file', () => {
  const { value } = valueOf(loadExperimentText(text(withPatch((x) => (x.backbone.weights = 'weights/resnet50_notop.h5'))), FILE));
  assert.equal(value.backbone.weights, path.join(path.dirname(FILE), 'weights', 'resnet50_notop.h5'));
  assert.equal('weights' in valueOf(loadExperimentText(text(minimal()), FILE)).value.backbone, false);
  const e = errorAt(
    withPatch((x) => (x.backbone.weights = 'model.json')),
    'backbone.weights',
  );
  assert.equal(e.message, "'model.json' is not a Keras weights file");
  assert.match(e.hint!, /save_weights\(\)/);
});
