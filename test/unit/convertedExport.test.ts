// export.json of the TFLite / SavedModel exports: the flag for a conversion that lost accuracy,
// the line the CLI prints and the command shows, and the converter's result line refused when malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { accuracyDropped, ConverterResultSchema, describeAccuracy, type ConvertedExport } from '../../src/core/convertedExport';

const record = (accuracy: ConvertedExport['accuracy'], format: ConvertedExport['exportFormat'] = 'tflite-int8'): ConvertedExport => ({
  format: 'transfer-lab-export',
  version: 1,
  exportFormat: format,
  modelFile: 'model_int8.tflite',
  run: '/runs/r1',
  python: 'python3',
  tensorflow: '2.21.0',
  keras: '3.15.1',
  accuracy,
  flagged: accuracyDropped(accuracy),
});

test('a drop of more than 3 points from the original is flagged; 3 or less, or a gain, is not', () => {
  assert.equal(accuracyDropped({ testCount: 100, original: 0.9, keras: 0.9, converted: 0.86 }), true);
  assert.equal(accuracyDropped({ testCount: 100, original: 0.9, keras: 0.9, converted: 0.87 }), false);
  assert.equal(accuracyDropped({ testCount: 100, original: 0.8, keras: 0.8, converted: 0.85 }), false);
  // No run accuracy: the Keras model's, as the converter measured it, is the reference.
  assert.equal(accuracyDropped({ testCount: 100, original: null, keras: 0.9, converted: 0.5 }), true);
  assert.equal(accuracyDropped({ testCount: 0, original: 0.9, keras: null, converted: null }), false);
});

test('describeAccuracy: both numbers and the count; a warning when flagged; no test images said so', () => {
  assert.equal(
    describeAccuracy(record({ testCount: 250, original: 0.668, keras: 0.668, converted: 0.664 })),
    'test accuracy 66.8% original, 66.4% tflite-int8 (250 images)',
  );
  assert.match(
    describeAccuracy(record({ testCount: 250, original: 0.9, keras: 0.9, converted: 0.2 })),
    /20\.0% tflite-int8 \(250 images\): WARNING, the conversion lost more than 3 points/,
  );
  assert.equal(
    describeAccuracy(record({ testCount: 0, original: null, keras: null, converted: null })),
    'no test images in the run, so the conversion was not checked',
  );
});

test("the converter's result line: an accuracy outside [0, 1] or a missing field is refused", () => {
  const ok = { tensorflow: '2.21.0', keras: '3.15.1', testCount: 10, kerasAccuracy: 0.5, convertedAccuracy: 0.4 };
  assert.ok(v.safeParse(ConverterResultSchema, ok).success);
  assert.equal(v.safeParse(ConverterResultSchema, { ...ok, convertedAccuracy: 40 }).success, false);
  const { keras: _dropped, ...noKeras } = ok;
  assert.equal(v.safeParse(ConverterResultSchema, noKeras).success, false);
});
