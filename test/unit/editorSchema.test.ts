// The schema VS Code's JSON support gets (package.json jsonValidation) is the experiment schema
// without `additionalProperties: false`: an unknown field is reported once, by the experiment
// editor (with "did you mean" and the rename fix), not a second time as "Property x is not allowed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateExperiment } from '../../src/core/experimentValidation';

// In the bundle __dirname is out/test/unit.
const root = path.resolve(__dirname, '../../..');
const read = (p: string) => JSON.parse(fs.readFileSync(path.join(root, p), 'utf8'));

/** Every `additionalProperties: false` in a schema, as JSON paths. */
function closedObjects(node: unknown, at = '#', out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((v, i) => closedObjects(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'additionalProperties' && v === false) out.push(at);
      else closedObjects(v, `${at}/${k}`, out);
    }
  }
  return out;
}

test('package.json points VS Code at the editor schema, which leaves unknown fields to the validator', () => {
  const contributed = read('package.json').contributes.jsonValidation as { fileMatch: string; url: string }[];
  const entry = contributed.find((c) => c.fileMatch === '*.tlexp.json');
  assert.equal(entry?.url, './dist/experiment.schema.json');
  const editor = read('dist/experiment.schema.json');
  const strict = read('media/schema/experiment.schema.json');
  assert.deepEqual(closedObjects(editor), []);
  assert.ok(closedObjects(strict).length > 5, 'the strict schema still refuses unknown fields');
  // Otherwise the same schema: put the closed objects back and they are equal.
  const reclose = (node: any, paths: string[]) => {
    const copy = structuredClone(node);
    for (const p of paths) {
      const target = p
        .split('/')
        .slice(1)
        .reduce((n: any, k) => n[k], copy);
      target.additionalProperties = false;
    }
    return copy;
  };
  assert.deepEqual(reclose(editor, closedObjects(strict)), strict);
});

test('an unknown field is still an error with its fix: the validator owns it', () => {
  const result = validateExperiment({ name: 'x', data: { dir: 'd' }, backbone: { catalog: 'c' }, strategy: { kind: 'scratch' }, train: { epoch: 3 } });
  assert.equal(result.ok, false);
  const problem = !result.ok && result.errors.find((e) => e.path === 'train.epoch');
  assert.ok(problem);
  assert.deepEqual(problem.fix, { kind: 'rename-key', to: 'epochs' });
});
