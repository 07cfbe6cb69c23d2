// preprocess.py, written beside a Keras export: preprocessing.json as a Python function (the
// same lines the export README shows), and a command line that classifies images with the
// exported model, so the Keras file can be checked against Transfer Lab's predictions.
import { pythonSnippet, type PreprocessingFile } from '../../core/preprocessingFile';

export function preprocessPy(pre: PreprocessingFile, modelFile: string): string {
  const [imports, ...body] = pythonSnippet(pre).split('\n');
  return [
    '"""Feeds images to the exported model as Transfer Lab did in training (from its preprocessing.json).',
    '',
    `Usage: python preprocess.py IMAGE [IMAGE ...]   (prints the top class of each, with ${modelFile} and labels.json)`,
    'Needs: pip install tensorflow keras numpy',
    '"""',
    'import json, os, sys',
    imports,
    '',
    '',
    'def preprocess(path):',
    `    """One image file as the model's input (without the batch axis): ${pre.inputSize[0]}x${pre.inputSize[1]}, resize "${pre.resize}", mode "${pre.mode}"."""`,
    ...body.map((l) => `    ${l}`),
    '    return x',
    '',
    '',
    'if __name__ == "__main__":',
    '    here = os.path.dirname(os.path.abspath(__file__))',
    `    model = keras.models.load_model(os.path.join(here, ${JSON.stringify(modelFile)}), compile=False)`,
    '    labels = json.load(open(os.path.join(here, "labels.json")))',
    '    for path in sys.argv[1:]:',
    '        p = np.asarray(model(tf.expand_dims(preprocess(path), 0), training=False))[0]',
    '        print(f"{path}: {labels[int(p.argmax())]} {100 * p.max():.1f}%")',
    '',
  ].join('\n');
}
