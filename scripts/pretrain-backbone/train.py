"""Trains the fmnist-mini backbone with Keras (TensorFlow CPU), for scripts/pretrain-backbone.mjs.

Why Python: on this 2-core machine Keras's compiled training step runs the depthwise-separable
net about 5x faster than tfjs-node's eager one, which is what makes a wider net and longer,
augmented training fit in the time budget. The architecture comes from the caller (one spec,
scripts/pretrain-backbone/architecture.mjs) and only the weights come back, as raw float32 in
layer order, so TF.js builds the shipped model itself with the same layer names.

  python train.py --data DIR --spec spec.json --out DIR
DIR holds {train,test}-images.u8 (N x 32 x 32 grayscale, already resized by sharp the way the
engine resizes PNGs) and {train,test}-labels.u8.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers as L  # noqa: E402


def load(data, split, size):
    x = np.fromfile(os.path.join(data, f"{split}-images.u8"), dtype=np.uint8).reshape(-1, size, size, 1)
    y = np.fromfile(os.path.join(data, f"{split}-labels.u8"), dtype=np.uint8).astype(np.int32)
    return x, y


def build(spec, classes):
    """The spec's network: stem, depthwise-separable blocks, top_conv/out_relu, then a classifier."""
    size = spec["inputSize"]
    he = lambda k: keras.initializers.HeNormal(seed=spec["seed"] + k)  # noqa: E731
    inp = keras.Input((size, size, 3), name="input_image")
    x = L.Conv2D(spec["stem"], 3, padding="same", use_bias=False, name="stem_conv", kernel_initializer=he(0))(inp)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(6.0, name="stem_relu")(x)
    for i, b in enumerate(spec["blocks"], start=1):
        x = L.DepthwiseConv2D(3, strides=b["stride"], padding="same", use_bias=False, name=f"block_{i}_dw", depthwise_initializer=he(i))(x)
        x = L.BatchNormalization(name=f"block_{i}_dw_bn")(x)
        x = L.ReLU(6.0, name=f"block_{i}_dw_relu")(x)
        x = L.Conv2D(b["filters"], 1, use_bias=False, name=f"block_{i}_pw", kernel_initializer=he(100 + i))(x)
        x = L.BatchNormalization(name=f"block_{i}_pw_bn")(x)
        x = L.ReLU(6.0, name=f"block_{i}_pw_relu")(x)
    x = L.Conv2D(spec["top"], 1, use_bias=False, name="top_conv", kernel_initializer=he(7))(x)
    x = L.BatchNormalization(name="top_bn")(x)
    x = L.ReLU(6.0, name="out_relu")(x)
    x = L.GlobalAveragePooling2D(name="global_pool")(x)
    x = L.Dropout(spec["dropout"], name="dropout", seed=spec["seed"])(x)
    out = L.Dense(classes, activation="softmax", name="predictions", kernel_initializer=keras.initializers.GlorotUniform(seed=spec["seed"] + 9))(x)
    return keras.Model(inp, out, name="fmnist_mini")


def augmenter(spec, rotations):
    """Shift by up to `shift` pixels (zero padding: Fashion-MNIST's background is black), mirror,
    and, with rotations > 1, turn each image by k x 90 degrees and learn (class, k) jointly:
    self-supervised label augmentation (Lee, Hwang, Shin, ICML 2020)."""
    size, shift = spec["inputSize"], spec["augment"]["shift"]
    gen = tf.random.Generator.from_seed(spec["seed"])

    def apply(x, y):
        n = tf.shape(x)[0]
        x = tf.image.convert_image_dtype(x, tf.float32)
        padded = size + 2 * shift
        x = tf.pad(x, [[0, 0], [shift, shift], [shift, shift], [0, 0]])
        # Whole-pixel shifts, all images at once: a box of exactly `size` pixels at a random
        # offset samples the padded image on its own grid (no interpolation).
        offsets = tf.cast(gen.uniform([n, 2], 0, 2 * shift + 1, dtype=tf.int32), tf.float32) / (padded - 1)
        boxes = tf.concat([offsets, offsets + (size - 1) / (padded - 1)], axis=1)
        x = tf.image.crop_and_resize(x, boxes, tf.range(n), [size, size], method="nearest")
        if spec["augment"]["flip"]:
            flip = gen.uniform([n, 1, 1, 1]) < 0.5
            x = tf.where(flip, tf.reverse(x, axis=[2]), x)
        if rotations > 1:
            k = gen.uniform([n], 0, rotations, dtype=tf.int32)
            turned = tf.stack([tf.image.rot90(x, r) for r in range(rotations)])
            x = tf.gather_nd(turned, tf.stack([k, tf.range(n)], axis=1))
            y = y * rotations + k
        return tf.image.grayscale_to_rgb(x), y

    return apply


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (quick checks)")
    a = p.parse_args()
    with open(a.spec) as f:
        spec = json.load(f)
    keras.utils.set_random_seed(spec["seed"])
    tf.config.experimental.enable_op_determinism()
    size, classes, rotations = spec["inputSize"], spec["classes"], spec["augment"]["rotationLabels"]
    (xtr, ytr), (xte, yte) = load(a.data, "train", size), load(a.data, "test", size)
    if a.limit:
        xtr, ytr = xtr[: a.limit], ytr[: a.limit]
    train = (
        tf.data.Dataset.from_tensor_slices((xtr, ytr))
        .shuffle(len(ytr), seed=spec["seed"], reshuffle_each_iteration=True)
        .batch(spec["batchSize"])
        .map(augmenter(spec, rotations))
        .prefetch(2)
    )
    xte_rgb = np.repeat(xte.astype(np.float32) / 255.0, 3, axis=3)
    test = tf.data.Dataset.from_tensor_slices((xte_rgb, yte)).batch(500)
    model = build(spec, classes * rotations)
    steps = spec["epochs"] * int(np.ceil(len(ytr) / spec["batchSize"]))
    schedule = keras.optimizers.schedules.CosineDecay(spec["learningRate"], steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.time()
    history = []
    for epoch in range(spec["epochs"]):
        h = model.fit(train, epochs=1, verbose=0).history
        # Source test accuracy on upright images: the (class, 0 degrees) outputs.
        upright = model.predict(xte_rgb, batch_size=500, verbose=0)[:, ::rotations]
        test_acc = float(np.mean(np.argmax(upright, axis=1) == yte))
        history.append({"epoch": epoch + 1, "loss": float(h["loss"][0]), "accuracy": float(h["accuracy"][0]), "testAccuracy": test_acc, "seconds": round(time.time() - started, 1)})
        print(json.dumps(history[-1]), flush=True)
    train_seconds = time.time() - started
    if rotations > 1:
        # The shipped classifier answers the source task on upright images: the joint head's
        # (class, 0 degrees) outputs (SLA's "single inference").
        dense = model.get_layer("predictions")
        kernel, bias = dense.get_weights()
        upright = build(spec, classes)
        for layer in model.layers[:-1]:
            upright.get_layer(layer.name).set_weights(layer.get_weights())
        upright.get_layer("predictions").set_weights([kernel[:, ::rotations], bias[::rotations]])
        model = upright
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    test_loss, test_acc = model.evaluate(test, verbose=0)
    os.makedirs(a.out, exist_ok=True)
    manifest, chunks = [], []
    for layer in model.layers:
        for i, w in enumerate(layer.get_weights()):
            manifest.append({"layer": layer.name, "index": i, "shape": list(w.shape)})
            chunks.append(np.ascontiguousarray(w, dtype="<f4").tobytes())
    with open(os.path.join(a.out, "weights.f32"), "wb") as f:
        f.write(b"".join(chunks))
    result = {"weights": manifest, "history": history, "trainSeconds": round(train_seconds, 1), "testAccuracy": float(test_acc), "testLoss": float(test_loss)}
    result["versions"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(result, f)
    print(f"[train.py] test accuracy {test_acc:.4f} after {train_seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
