// Checks of "data": the dataset folder, the split, the seed, augmentation and how images
// are resized to the backbone's input.
import type { AugmentSpec } from './experiment';
import { closest } from './didYouMean';
import { Checker, round, type Json } from './experimentChecker';
import { EXPERIMENT_DEFAULTS } from './experimentFields';
import { describe } from './experimentHints';
import { RESIZE_MODES } from './preprocessing';

export function checkData(c: Checker, value: unknown): void {
  const data = c.object(value, 'data', 'where the images are and how to split them', '{ "dir": "datasets/flowers" }');
  if (!data) return;
  if (c.required(data, 'dir', 'data', 'the dataset folder (one subfolder per class, or train/ val/ test/)', '"datasets/flowers"')) {
    c.string(data, 'dir', 'data', 'Set it to the dataset folder, relative to this file, e.g. "datasets/flowers".');
  }
  if (data.split !== undefined) {
    const split = c.object(data.split, 'data.split', 'fractions of each class held out', '{ "val": 0.2, "test": 0.1 }');
    if (split) {
      const fraction = (key: 'val' | 'test', example: number) => {
        const v = c.number(split, key, 'data.split', 'number', `a fraction such as ${example}`);
        if (v !== undefined && (v < 0 || v >= 1)) {
          c.error(
            `data.split.${key}`,
            `must be a fraction from 0 up to (not including) 1, got ${v}`,
            `Set it to the share of each class held out for ${key === 'val' ? 'validation' : 'testing'}, e.g. ${example}.`,
          );
          return undefined;
        }
        return v;
      };
      const val = fraction('val', 0.2) ?? (split.val === undefined ? EXPERIMENT_DEFAULTS.data.split.val : undefined);
      const test = fraction('test', 0.1) ?? (split.test === undefined ? EXPERIMENT_DEFAULTS.data.split.test : undefined);
      if (val !== undefined && test !== undefined && val + test >= 1) {
        c.error(
          'data.split',
          `val + test must leave images for training, got ${val} + ${test} = ${round(val + test)}`,
          'Keep val + test below 1, e.g. { "val": 0.2, "test": 0.1 }.',
        );
      }
    }
  }
  checkResize(c, data);
  const seed = c.number(data, 'seed', 'data', 'integer', 'a whole number such as 42');
  if (seed !== undefined && (seed < 0 || seed > 0xffffffff)) {
    c.error(
      'data.seed',
      `must be a whole number from 0 to 4294967295, got ${seed}`,
      'Any value works; the same seed gives the same split every time, e.g. 42.',
    );
  }
  if (data.augment !== undefined && data.augment !== null) {
    const augment = c.object(data.augment, 'data.augment', 'random changes to training images', '{ "flip": true, "rotate": 10, "zoom": 0.1 }');
    if (augment) {
      c.boolean(augment, 'flip', 'data.augment');
      const range = (key: keyof AugmentSpec, max: number, inclusive: boolean, meaning: string, example: number) => {
        const v = c.number(augment, key, 'data.augment', 'number', meaning);
        if (v !== undefined && (v < 0 || v > max || (!inclusive && v === max))) {
          c.error(
            `data.augment.${key}`,
            `must be from 0 to ${inclusive ? '' : 'below '}${max}, got ${v}`,
            `Set it to ${meaning}, e.g. ${example}; 0 turns it off.`,
          );
        }
      };
      range('rotate', 180, true, 'the largest rotation in degrees', 10);
      range('zoom', 1, false, 'the largest zoom-in fraction', 0.1);
      range('brightness', 1, true, 'the largest brightness change as a fraction of full range', 0.2);
      range('contrast', 1, true, 'the largest contrast change as a fraction', 0.2);
    }
  }
}

function checkResize(c: Checker, data: Json): void {
  const v = data.resize;
  if (v === undefined) return;
  if (typeof v === 'string' && (RESIZE_MODES as readonly string[]).includes(v)) return;
  const list = RESIZE_MODES.map((m) => `"${m}"`).join(', ');
  let near = typeof v === 'string' ? closest(v, RESIZE_MODES) : undefined;
  // Keras's words for the same things.
  if (!near && typeof v === 'string') {
    if (/^(stretch|fill|bilinear|resize|default|none)$/i.test(v)) near = 'squash';
    else if (/crop/i.test(v)) near = /cent(er|re)|cover/i.test(v) ? 'center-crop' : 'crop-to-aspect-ratio';
    else if (/pad|letterbox|contain|fit/i.test(v)) near = 'pad-to-aspect-ratio';
    else if (/^cover$/i.test(v)) near = 'center-crop';
  }
  const hint = near
    ? `Did you mean "${near}"?`
    : 'Pick one: "squash" (Keras\'s default: bilinear to the input size, aspect ratio not kept), "crop-to-aspect-ratio" (Keras crop_to_aspect_ratio=True), "pad-to-aspect-ratio" (Keras pad_to_aspect_ratio=True) or "center-crop" (libvips, fast for big JPEGs, not bit-equal to Keras).';
  c.error('data.resize', `must be one of ${list}, got ${describe(v)}`, hint);
}
