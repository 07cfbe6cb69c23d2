// Checks of "backbone": exactly one source (catalog, path or url), a weights file, the cut
// and the preprocessing mode.
import { Checker, type Json } from './experimentChecker';
import { BACKBONE_SOURCES } from './experimentFields';
import { describe, PREPROCESSING_FAMILIES, suggestedPreprocessing } from './experimentHints';
import { PREPROCESSING_MODES } from './preprocessing';

export function checkBackbone(c: Checker, value: unknown): void {
  const b = c.object(value, 'backbone', 'the pretrained network', '{ "catalog": "mobilenet_v2_1.00_224" }');
  if (!b) return;
  const given = BACKBONE_SOURCES.filter((k) => b[k] !== undefined);
  if (given.length === 0) {
    c.error(
      'backbone',
      'needs one of "catalog", "path" or "url"',
      'For example { "catalog": "mobilenet_v2_1.00_224" }, { "path": "models/base/model.json" } or { "url": "https://.../model.json" }.',
    );
  } else if (given.length > 1) {
    c.error(
      'backbone',
      `must have exactly one of "catalog", "path" or "url", got ${given.map((g) => `"${g}"`).join(' and ')}`,
      `Keep one of ${given.join(', ')} and remove the other${given.length > 2 ? 's' : ''}.`,
    );
  }
  c.string(b, 'catalog', 'backbone', 'Set it to a catalog id such as "mobilenet_v2_1.00_224" (the New Experiment wizard lists them).');
  const p = c.string(b, 'path', 'backbone', 'Set it to a Keras .keras or .h5 file or a TF.js model.json, relative to this file.');
  if (p !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    c.error(
      'backbone.path',
      `is a URL ('${p}'), not a file path`,
      /^https?:/i.test(p) ? `Use { "url": "${p}" } instead.` : 'Use a local path to a model file.',
    );
  }
  const w = c.string(b, 'weights', 'backbone', 'Set it to a weights-only Keras file (.weights.h5 or .h5), relative to this file, or remove it.');
  if (w !== undefined && !/\.(h5|hdf5)$/i.test(w)) {
    c.error(
      'backbone.weights',
      `'${w}' is not a Keras weights file`,
      'Give the .weights.h5 file model.save_weights() wrote, or a Keras Applications .h5 weights file.',
    );
  }
  const u = c.string(b, 'url', 'backbone', 'Set it to an https:// address of a model.json file.');
  if (u !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(u);
    } catch {
      c.error('backbone.url', `is not a valid URL: '${u}'`, 'Write a full address such as "https://example.com/model/model.json".');
    }
    if (parsed && parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      c.error(
        'backbone.url',
        `must be an http(s) address, got '${parsed.protocol}'`,
        parsed.protocol === 'file:' ? 'For a local file use { "path": "..." } instead.' : 'Use an https:// address.',
      );
    }
  }
  c.string(
    b,
    'cutAt',
    'backbone',
    'Set it to the name of the layer where the new head attaches (see the layer tree or `transfer-lab inspect`), or remove it to use the usual cut.',
  );
  checkPreprocessing(c, b);
}

function checkPreprocessing(c: Checker, b: Json): void {
  const v = b.preprocessing;
  if (v === undefined) return;
  if (typeof v === 'string' && (PREPROCESSING_MODES as readonly string[]).includes(v)) return;
  const mode = suggestedPreprocessing(v);
  const list = PREPROCESSING_MODES.map((m) => `"${m}"`).join(', ');
  const hint = mode
    ? `Did you mean "${mode}"? ${Array.isArray(v) ? `[${v.join(', ')}] is "${mode}"` : `"${mode}" is Keras's mode for ${PREPROCESSING_FAMILIES[mode].split(':')[0]}`}.`
    : `Pick the mode Keras's preprocess_input uses for the backbone: ${PREPROCESSING_MODES.map((m) => `"${m}" (${PREPROCESSING_FAMILIES[m].split(':')[0]})`).join('; ')}; or remove it to use what the backbone says.`;
  c.error('backbone.preprocessing', `must be one of ${list}, got ${describe(v)}`, hint);
}
