// The TensorFlow-converted exports (TFLite float32, TFLite int8, SavedModel): the result line
// media/python/convert_tflite.py prints, and export.json, written beside the converted model so
// the accuracy check travels with it. Defined once here; the CLI writes both, tests read them.
import * as v from 'valibot';

export const CONVERTED_FORMATS = ['tflite', 'tflite-int8', 'savedmodel'] as const;
export type ConvertedFormat = (typeof CONVERTED_FORMATS)[number];

/** The model file (or folder, for SavedModel) each format writes in the target folder. */
export const CONVERTED_MODEL_FILES: Record<ConvertedFormat, string> = {
  tflite: 'model.tflite',
  'tflite-int8': 'model_int8.tflite',
  savedmodel: 'saved_model',
};

export const CONVERTED_EXPORT_RECORD = 'export.json';

/** The one command that gets a Python able to convert (TensorFlow with Keras 3, CPU only: small). */
export const TENSORFLOW_PIP = 'pip install tensorflow-cpu==2.21.0';

/** A drop in test accuracy (percentage points, converted vs original) above which the export is flagged. */
export const ACCURACY_DROP_FLAG_POINTS = 3;

const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

/** The last stdout line of convert_tflite.py. Accuracies are null when the run has no test images. */
export const ConverterResultSchema = v.object({
  tensorflow: v.string(),
  keras: v.string(),
  testCount: v.pipe(v.number(), v.integer(), v.minValue(0)),
  kerasAccuracy: v.nullable(fraction),
  convertedAccuracy: v.nullable(fraction),
});
export type ConverterResult = v.InferOutput<typeof ConverterResultSchema>;

export const ConvertedExportSchema = v.object({
  format: v.literal('transfer-lab-export'),
  version: v.literal(1),
  exportFormat: v.picklist(CONVERTED_FORMATS),
  modelFile: v.string(),
  run: v.string(),
  python: v.string(),
  tensorflow: v.string(),
  keras: v.string(),
  /** On the run's test split: the run's own (run.json), the model.keras the converter read, and the converted model. */
  accuracy: v.object({
    testCount: v.number(),
    original: v.nullable(fraction),
    keras: v.nullable(fraction),
    converted: v.nullable(fraction),
  }),
  /** The converted model lost more than ACCURACY_DROP_FLAG_POINTS points: the conversion is suspect. */
  flagged: v.boolean(),
  /** int8 only: how many training images calibrated the quantization. */
  calibrationImages: v.optional(v.number()),
});
export type ConvertedExport = v.InferOutput<typeof ConvertedExportSchema>;

/** Whether the converted accuracy is more than the flag threshold below the reference (the original, else the Keras one). */
export function accuracyDropped(a: ConvertedExport['accuracy']): boolean {
  const reference = a.original ?? a.keras;
  if (reference === null || a.converted === null) return false;
  // In tenths of a point, as shown: 0.90 - 0.87 is 3.0000000000000027 points in floating point, and not over 3.
  return Math.round((reference - a.converted) * 1000) / 10 > ACCURACY_DROP_FLAG_POINTS;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** "test accuracy 91.0% original, 90.5% tflite-int8 (200 images)", plus the flag when it lost too much. */
export function describeAccuracy(e: ConvertedExport): string {
  const a = e.accuracy;
  if (a.testCount === 0) return 'no test images in the run, so the conversion was not checked';
  const line = `test accuracy ${pct(a.original)} original, ${pct(a.converted)} ${e.exportFormat} (${a.testCount} images)`;
  return e.flagged ? `${line}: WARNING, the conversion lost more than ${ACCURACY_DROP_FLAG_POINTS} points; check the model before using it` : line;
}
