// Keras's preprocess_input modes as affine maps (against values worked out by hand from
// keras/src/applications/imagenet_utils.py, and printed by Keras 3.15 for the same pixels),
// and preprocessing.json: version 2 as written, version 1 of older exports as read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describePixelTransform,
  modeForValueRange,
  pixelTransform,
  preprocessPixels,
  transformForValueRange,
  PREPROCESSING_MODES,
} from '../../src/core/preprocessing';
import { preprocessingFile, pythonSnippet, readPreprocessingFile, tfjsSnippet, transformOf, valueRangeOf } from '../../src/core/preprocessingFile';

const near = (actual: ArrayLike<number>, expected: number[], tol = 1e-5) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tol, `[${i}] ${actual[i]} vs ${e}`));
};

// Three RGB pixels: (255, 0, 127.5), (10, 20, 30), (0, 255, 51).
const pixels = Float32Array.from([255, 0, 127.5, 10, 20, 30, 0, 255, 51]);

test('tf: x / 127.5 - 1 (0 -> -1, 255 -> 1)', () => {
  near(preprocessPixels(pixels, pixelTransform('tf')), [1, -1, 0, -0.9215686, -0.8431373, -0.7647059, -1, 1, -0.6]);
});

test('torch: x / 255, then ImageNet mean/std per channel', () => {
  // R: (1 - 0.485) / 0.229, G: (0 - 0.456) / 0.224, B: (0.5 - 0.406) / 0.225, ...
  near(
    preprocessPixels(pixels, pixelTransform('torch')),
    [2.2489083, -2.0357143, 0.4177778, -1.9466565, -1.6855742, -1.2815686, -2.1179039, 2.4285714, -0.9155555],
  );
});

test('caffe: RGB -> BGR, minus the BGR means 103.939, 116.779, 123.68, no scaling', () => {
  const t = pixelTransform('caffe');
  assert.equal(t.channelOrder, 'bgr');
  // (10, 20, 30) -> B 30 - 103.939, G 20 - 116.779, R 10 - 123.68
  near(preprocessPixels(pixels, t), [23.561, -116.779, 131.32, -73.939, -96.779, -113.68, -52.939, 138.221, -123.68], 1e-4);
});

test('none and zero-one', () => {
  near(preprocessPixels(pixels, pixelTransform('none')), Array.from(pixels), 0);
  near(preprocessPixels(pixels, pixelTransform('zero-one')), [1, 0, 0.5, 10 / 255, 20 / 255, 30 / 255, 0, 1, 0.2]);
});

test('bytes and floats give the same inputs; `out` is filled in place', () => {
  const bytes = Uint8Array.from([0, 128, 255]);
  const out = new Float32Array(3);
  assert.equal(preprocessPixels(bytes, pixelTransform('tf'), out), out);
  near(out, preprocessPixels(Float32Array.from(bytes), pixelTransform('tf')) as unknown as number[]);
});

test('value ranges read as modes; other ranges keep their exact map', () => {
  assert.equal(modeForValueRange([-1, 1]), 'tf');
  assert.equal(modeForValueRange([0, 1]), 'zero-one');
  assert.equal(modeForValueRange([0, 255]), 'none');
  assert.equal(modeForValueRange([0, 2]), undefined);
  assert.deepEqual(transformForValueRange([-1, 1]), pixelTransform('tf'));
  near(preprocessPixels(Uint8Array.from([0, 255, 51]), transformForValueRange([0, 2])), [0, 2, 0.4]);
  for (const mode of ['tf', 'zero-one', 'none'] as const) assert.equal(modeForValueRange(valueRangeOf(pixelTransform(mode))!), mode);
  assert.equal(valueRangeOf(pixelTransform('torch')), undefined);
  assert.equal(valueRangeOf(pixelTransform('caffe')), undefined);
});

test('a transform reads as one line', () => {
  assert.equal(describePixelTransform(pixelTransform('tf')), 'tf (x * 0.007843 - 1, RGB)');
  assert.equal(describePixelTransform(pixelTransform('none')), 'none (x, RGB)');
  assert.match(describePixelTransform(pixelTransform('caffe')), /^caffe \(x \* \[1, 1, 1\] \+ \[-103\.939, -116\.779, -123\.68\], BGR\)$/);
});

test('preprocessing.json version 2 records mode, order, scale, offset, resize, interpolation, size', () => {
  const file = preprocessingFile(pixelTransform('caffe'), 'crop-to-aspect-ratio', [224, 224], { preprocessingFrom: 'catalog' });
  assert.deepEqual(file, {
    format: 'transfer-lab-preprocessing',
    version: 2,
    inputSize: [224, 224],
    channels: 3,
    colorSpace: 'srgb',
    mode: 'caffe',
    channelOrder: 'bgr',
    scale: [1, 1, 1],
    offset: [-103.939, -116.779, -123.68],
    preprocessingFrom: 'catalog',
    resize: 'crop-to-aspect-ratio',
    interpolation: 'bilinear',
  });
  // A linear mode also says its range, for readers of version 1.
  assert.deepEqual(preprocessingFile(pixelTransform('tf'), 'squash', [96, 96]).valueRange, [-1, 1]);
  assert.equal(preprocessingFile(pixelTransform('tf'), 'center-crop', [96, 96]).interpolation, 'libvips-linear');
  // Written and read back: the same.
  for (const mode of PREPROCESSING_MODES) {
    const written = preprocessingFile(pixelTransform(mode), 'pad-to-aspect-ratio', [128, 160], {
      graphBase: { path: 'base/model.json', outputNode: 'x' },
      jpegDecoder: 'tensorflow',
    });
    const read = readPreprocessingFile(JSON.parse(JSON.stringify(written)));
    assert.ok(read.ok);
    assert.deepEqual(read.value, written);
    assert.deepEqual(transformOf(read.value), pixelTransform(mode));
  }
});

test('preprocessing.json version 1 (older exports) reads as center-crop with its range', () => {
  const v1 = {
    format: 'transfer-lab-preprocessing',
    version: 1,
    inputSize: [224, 224],
    channels: 3,
    valueRange: [-1, 1],
    resize: 'center-crop',
    colorSpace: 'srgb',
  };
  const read = readPreprocessingFile(v1);
  assert.ok(read.ok);
  assert.equal(read.upgradedFrom, 1);
  assert.equal(read.value.mode, 'tf');
  assert.equal(read.value.resize, 'center-crop');
  assert.equal(read.value.interpolation, 'libvips-linear');
  assert.deepEqual(transformOf(read.value), pixelTransform('tf'));
  const odd = readPreprocessingFile({ ...v1, valueRange: [0, 2], graphBase: { path: 'base/model.json', outputNode: 'feat' } });
  assert.ok(odd.ok);
  near(preprocessPixels(Uint8Array.from([0, 255, 51]), transformOf(odd.value)), [0, 2, 0.4]);
  assert.deepEqual(odd.value.graphBase, { path: 'base/model.json', outputNode: 'feat' });
});

test('broken preprocessing.json files say what is wrong', () => {
  const v2 = preprocessingFile(pixelTransform('tf'), 'squash', [224, 224]);
  const cases: [unknown, RegExp][] = [
    [{ format: 'other' }, /not a Transfer Lab preprocessing file/],
    [{ ...v2, inputSize: [224] }, /inputSize/],
    [{ ...v2, version: 3 }, /version 3 is newer/],
    [{ ...v2, mode: 'inception' }, /mode must be one of tf, torch, caffe, none, zero-one/],
    [{ ...v2, resize: 'stretch' }, /resize must be one of/],
    [{ ...v2, scale: [1, 1] }, /scale and offset/],
    [{ ...v2, version: 1, valueRange: [1, -1] }, /valueRange/],
  ];
  for (const [json, error] of cases) {
    const read = readPreprocessingFile(json);
    assert.ok(!read.ok && error.test(read.error), `${JSON.stringify(json).slice(0, 60)}: ${read.ok ? 'accepted' : read.error}`);
  }
});

test('the Python and TF.js snippets name the resize and the affine map', () => {
  const caffe = preprocessingFile(pixelTransform('caffe'), 'pad-to-aspect-ratio', [224, 224]);
  const py = pythonSnippet(caffe);
  assert.match(
    py,
    /^img = tf\.io\.decode_image\(b, channels=3, expand_animations=False\) {2}# as training/m,
    "TensorFlow's decoder, as training with the native backend",
  );
  const viaLibvips = pythonSnippet(preprocessingFile(pixelTransform('caffe'), 'squash', [224, 224], { jpegDecoder: 'libvips' }));
  assert.match(
    viaLibvips,
    /tf\.io\.decode_jpeg\(b, channels=3, dct_method="INTEGER_ACCURATE"\) if tf\.io\.is_jpeg\(b\) else tf\.io\.decode_image\(b, channels=3, expand_animations=False\)/,
  );
  assert.match(py, /tf\.image\.resize_with_pad\(img, 224, 224\)/);
  assert.match(py, /img\[\.\.\., ::-1\] \* np\.array\(\[1,1,1\], "float32"\) \+ np\.array\(\[-103\.939,-116\.779,-123\.68\], "float32"\)/);
  assert.match(
    pythonSnippet(preprocessingFile(pixelTransform('tf'), 'crop-to-aspect-ratio', [96, 96])),
    /keras\.preprocessing\.image\.smart_resize\(img, \(96, 96\)\)/,
  );
  const js = tfjsSnippet(caffe);
  assert.match(js, /tf\.image\.resizeBilinear\(img, \[rh, rw\], false, true\)\.pad/);
  assert.match(js, /x = x\.reverse\(-1\)/);
  assert.match(
    tfjsSnippet(preprocessingFile(pixelTransform('tf'), 'squash', [224, 224])),
    /let x = tf\.image\.resizeBilinear\(img, \[224, 224\], false, true\);/,
  );
});
