// The README.md written beside an exported model: how to load it and feed it as training did.
// Everything it says about the input (size, resize, pixel map) comes from the model's own
// preprocessing.json, the one source; without one it says so rather than guess a resize.
import { describePixelTransform } from './preprocessing';
import { pythonSnippet, tfjsSnippet, transformOf, type PreprocessingFile } from './preprocessingFile';

/** The README's line about preprocessing.json: input size, resize and pixel map, as the file records them. */
export function preprocessingLine(pre: PreprocessingFile | undefined): string {
  if (!pre) return '- `preprocessing.json`: missing or unreadable, so the resize and pixel map training used are unknown: check what the model expects.';
  const [h, w] = pre.inputSize;
  return `- \`preprocessing.json\`: input ${h}x${w} RGB, resize \`${pre.resize}\` (${pre.interpolation}), pixels 0..255 preprocessed as Keras's \`${pre.mode}\` mode: ${describePixelTransform(transformOf(pre))}.`;
}

/** The JS that loads the model and predicts one image; its feeding lines are tfjsSnippet's for this preprocessing. */
function jsExample(pre: PreprocessingFile | undefined): string[] {
  const feed = pre
    ? tfjsSnippet(pre).split('\n')
    : ['// preprocessing.json is missing: resize `img` to the model input and scale it as training did', 'let x = img;'];
  return [
    '```js',
    "import * as tf from '@tensorflow/tfjs';",
    '',
    "const model = await tf.loadLayersModel('model.json'); // a URL, or tf.io.fileSystem(...) in Node",
    "const labels = await (await fetch('labels.json')).json();",
    'const probs = tf.tidy(() => {',
    '  const img = tf.browser.fromPixels(imageElement).toFloat();',
    ...feed.map((l) => `  ${l}`),
    '  return model.predict(x.expandDims(0)).squeeze();',
    '});',
    'const p = await probs.data();',
    'const best = p.indexOf(Math.max(...p));',
    'console.log(labels[best], p[best]);',
    'probs.dispose();',
    '```',
  ];
}

/** The whole README for a model with this preprocessing.json (undefined: none, or unreadable). */
export function exportReadme(pre: PreprocessingFile | undefined): string {
  return [
    '# Exported Transfer Lab model',
    '',
    'A TensorFlow.js layers model with its labels and the preprocessing it was trained with.',
    '',
    '- `model.json`, `weights.bin`: load with `tf.loadLayersModel`.',
    '- `labels.json`: class names, in output order.',
    preprocessingLine(pre),
    ...(pre?.graphBase
      ? [`- The base is a graph model (\`${pre.graphBase.path}\`): load it with \`tf.loadGraphModel\` and feed its output to model.json.`]
      : []),
    '',
    ...jsExample(pre),
    ...(pre
      ? ['', 'The same inputs in Python (TensorFlow and Keras 3), e.g. to check the model against Keras:', '', '```python', pythonSnippet(pre), '```']
      : []),
    '',
  ].join('\n');
}
