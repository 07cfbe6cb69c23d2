import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { exportReadme, preprocessingLine } from '../../src/core/exportReadme';
import { exportTargetProblem, resolveExportTarget } from '../../src/core/exportTarget';
import { pixelTransform, RESIZE_MODES } from '../../src/core/preprocessing';
import { preprocessingFile, readPreprocessingFile } from '../../src/core/preprocessingFile';

test('the README states the resize, input size and pixel map of its preprocessing.json, for every resize mode', () => {
  for (const resize of RESIZE_MODES) {
    const pre = preprocessingFile(pixelTransform('tf'), resize, [160, 192]);
    // Through JSON, as the README is made from the file copied beside it.
    const read = readPreprocessingFile(JSON.parse(JSON.stringify(pre)));
    assert.ok(read.ok);
    const readme = exportReadme(read.value);
    assert.ok(readme.includes(`input 160x192 RGB, resize \`${resize}\` (${pre.interpolation})`), resize);
    // The loading code resizes the same way the line says.
    const js = readme.slice(readme.indexOf('```js'));
    const python = readme.slice(readme.indexOf('```python'));
    for (const code of [js, python]) assert.ok(code.includes('160') && code.includes('192') && !code.includes('224'), `${resize}: resized to the input size`);
    assert.match(js, resize === 'squash' ? /squash/ : new RegExp(resize));
    const others = RESIZE_MODES.filter((m) => m !== resize && !resize.includes(m) && !m.includes(resize));
    for (const other of others) assert.ok(!readme.includes(`\`${other}\``), `${resize}: the README never names ${other}`);
  }
});

test('without a preprocessing.json the README says so instead of guessing a resize', () => {
  const readme = exportReadme(undefined);
  assert.match(preprocessingLine(undefined), /missing or unreadable/);
  assert.doesNotMatch(readme, /resizeBilinear|224/);
  assert.doesNotMatch(readme, /```python/);
});

test('the export folder: typed paths made absolute, a new folder accepted, a file or the run model refused', () => {
  const base = path.resolve('/w');
  const home = path.resolve('/home/u');
  assert.equal(resolveExportTarget('exported/new-model', base, home), path.join(base, 'exported', 'new-model'));
  assert.equal(resolveExportTarget(' ~/models/x ', base, home), path.join(home, 'models', 'x'));
  assert.equal(resolveExportTarget(path.resolve('/abs/m'), base, home), path.resolve('/abs/m'));
  const modelDir = path.join(base, '.transferlab', 'runs', 'r1', 'model');
  assert.equal(exportTargetProblem(path.join(base, 'new'), undefined, modelDir), undefined, 'a folder that does not exist yet is fine');
  assert.equal(exportTargetProblem(path.join(base, 'full'), 'directory', modelDir), undefined);
  assert.match(exportTargetProblem(path.join(base, 'a.txt'), 'file', modelDir) ?? '', /a\.txt is a file: name a folder/);
  assert.match(exportTargetProblem(path.join(modelDir, 'sub'), undefined, modelDir) ?? '', /outside the run's own model\/ folder/);
  assert.match(exportTargetProblem(base, 'directory', modelDir, '  ') ?? '', /Name a folder/);
});
