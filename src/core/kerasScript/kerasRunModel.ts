// A run trained by the exported Keras job keeps model/model.keras, not a TF.js model: what
// Predict and Export Model say of it instead of "run the experiment again".
import * as path from 'node:path';
import { RUN_FILES } from '../runFiles';

export const KERAS_RUN_MODEL = 'model.keras';

export function kerasRunModelMessage(runDir: string, what: 'Predict' | 'Export Model'): string {
  const file = path.join(runDir, RUN_FILES.model, KERAS_RUN_MODEL);
  return `${runDir}: this run was trained by the Keras job (train.py) and keeps a Keras model, ${file}; ${what} works on TF.js models. Use it in Python with keras.models.load_model(${JSON.stringify(file)}), or run the experiment here for a TF.js model.`;
}
