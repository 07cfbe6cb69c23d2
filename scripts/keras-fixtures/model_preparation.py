"""How make_fixtures.py makes a model with random weights (weights=None) look trained, and
trains the two user-style models the way a user would: constant initial weights perturbed,
BatchNorm statistics calibrated on the inputs, so outputs are O(1) and differ from image to
image; plus which preprocess_input formula a module uses and the parameter counts."""

import numpy as np
import tensorflow as tf
import keras

from keras_layers import leaf_layers


def perturb_constant_weights(model, rng):
    """Trainable weights that the initialisers leave constant (BN/LN gamma and beta, biases,
    ConvNeXt's 1e-6 layer scales) get trained-looking values, so a reader that drops or
    swaps one of them gives different outputs."""
    for v in model.trainable_weights:
        x = np.asarray(v.numpy())
        if x.size < 2 or not np.all(x == x.flat[0]):
            continue
        c = float(x.flat[0])
        if c == 0.0:
            new = rng.normal(0.0, 0.05, x.shape)
        elif abs(c) < 1e-3:
            new = rng.uniform(0.05, 0.3, x.shape)
        else:
            new = c * rng.uniform(0.75, 1.25, x.shape)
        v.assign(new.astype(x.dtype))


def calibrate_batchnorm(model, x):
    """BN moving statistics from one training-mode pass with momentum 0 (moving := batch
    statistics), so inference outputs are neither ~0 nor exploding."""
    bns = [l for l in leaf_layers(model) if isinstance(l, keras.layers.BatchNormalization)]
    saved = [l.momentum for l in bns]
    for l in bns:
        l.momentum = 0.0
    model(x, training=True)
    for l, m in zip(bns, saved):
        l.momentum = m
    return len(bns)


def preprocess_mode(preprocess):
    """Which Keras preprocess_input formula a module uses, found by applying it."""
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    y = np.asarray(preprocess(x.copy()))
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    candidates = {
        "none": x,
        "tf": x / 127.5 - 1.0,
        "torch": (x / 255.0 - mean) / std,
        "caffe": x[..., ::-1] - np.array([103.939, 116.779, 123.68]),
    }
    for mode, ref in candidates.items():
        if np.allclose(y, ref, atol=1e-4):
            return mode
    raise RuntimeError("unrecognised preprocess_input")


def param_counts(model):
    count = lambda ws: int(sum(int(np.prod(w.shape)) for w in ws))
    return {"total": int(model.count_params()), "trainable": count(model.trainable_weights), "nonTrainable": count(model.non_trainable_weights)}


def train_like_a_user(fid, model, x, rng):
    """The two user-style models are compiled and trained for two steps of 8 images, so their
    files carry what trained models carry (training_config / compile_config, optimizer
    variables, a frozen base). The steps run eagerly, as model.fit's would (same loss,
    optimizer.apply), without tracing a training graph of a few hundred layers."""
    if fid == "inception_v3_head":
        optimizer, n_classes, info = keras.optimizers.SGD(learning_rate=1e-3), 4, {"optimizer": "SGD(1e-3)"}
    elif fid == "mobilenet_v2_nested":
        model.layers[0].trainable = False
        optimizer, n_classes, info = keras.optimizers.Adam(learning_rate=1e-3), 3, {"optimizer": "Adam(1e-3)", "frozen": model.layers[0].name}
    else:
        return None
    loss = keras.losses.SparseCategoricalCrossentropy()
    y = rng.integers(0, n_classes, len(x))
    steps = 2
    for i in range(steps):
        xb, yb = x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]
        with tf.GradientTape() as tape:
            value = loss(yb, model(xb, training=True))
        grads = tape.gradient(value, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return {**info, "trainSteps": steps, "batchSize": 8}
