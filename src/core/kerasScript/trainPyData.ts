// train.py's header, the strategy choice and the data pipeline (splits.json files, resize, preprocess_input, augmentation).
// Python, kept as Python text (String.raw: backslashes stay as written); trainPy.ts joins the parts.
export const TRAIN_PY_DATA = String.raw`"""Transfer Lab experiment as a Keras 3 job (written by "transfer-lab export-script").

  python train.py [--data DIR] [--runs-dir DIR] [--epochs N]

job.json holds the experiment (backbone, cut, freeze policy, head, optimizer, schedule, early
stopping, seed, preprocessing) and splits.json the exact files of each split that Transfer
Lab's own split gave, so this job trains, validates and tests on the same images. One machine:
MirroredStrategy over its GPUs (or the CPU). A cluster: set TF_CONFIG on every worker
(MultiWorkerMirroredStrategy); the chief (worker 0 when no task is named chief) writes the run folder. The result is a
Transfer Lab run folder (run.json, metrics.jsonl, eval.json, log.txt, model/model.keras), so it
shows in the Experiments view and in Compare like a run trained in VS Code.
"""

import argparse
import json
import math
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_strategy():
    """MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, else MirroredStrategy (all local GPUs, or the CPU)."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    cluster = tf_config.get("cluster", {})
    tasks = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    if tasks > 1:
        task = tf_config.get("task", {})
        # The chief writes the run folder: the "chief" task if the cluster names one, else worker 0.
        kind, index = task.get("type", "worker"), int(task.get("index", 0))
        chief = kind == "chief" or (kind == "worker" and index == 0 and not cluster.get("chief"))
        return tf.distribute.MultiWorkerMirroredStrategy(), chief, f"MultiWorkerMirroredStrategy, {tasks} workers"
    strategy = tf.distribute.MirroredStrategy()
    return strategy, True, f"MirroredStrategy, {strategy.num_replicas_in_sync} replica(s)"


# --- Data: the same files per split, decoded and resized as Transfer Lab does ----------------


def decode(path, job):
    """An image file -> float32 pixels at the input size (0..255), by the experiment's resize mode."""
    h, w, c = job["inputSize"]
    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img = tf.cast(tf.ensure_shape(img, [None, None, 3]), tf.float32)
    mode = job["resize"]
    if mode == "squash":
        img = tf.image.resize(img, (h, w), method="bilinear")
    elif mode == "crop-to-aspect-ratio":
        img = keras.preprocessing.image.smart_resize(img, (h, w), interpolation="bilinear")
    elif mode == "pad-to-aspect-ratio":
        img = tf.image.resize_with_pad(img, h, w, method="bilinear")
    else:
        # center-crop is libvips's cover + linear kernel in Transfer Lab (8-bit, antialiased):
        # the nearest TensorFlow has is a centred crop, an antialiased bilinear resize, rounding.
        img = tf.round(keras.preprocessing.image.smart_resize(img, (h, w), interpolation="bilinear"))
    if c == 1:
        img = tf.image.rgb_to_grayscale(img)
    return img


def pixel_transform(job):
    """preprocess_input as Transfer Lab records it: channel order, then x * scale + offset per channel."""
    t = job["pixels"]
    scale = tf.constant(t["scale"][: job["inputSize"][2]], tf.float32)
    offset = tf.constant(t["offset"][: job["inputSize"][2]], tf.float32)
    bgr = t["channelOrder"] == "bgr"

    def apply(x):
        if bgr:
            x = x[..., ::-1]
        return x * scale + offset

    return apply


def split_dataset(job, splits, root, name, batch, shuffle_seed=None, augment=None):
    """tf.data over one split's files: decoded once (cached), augmented (training), preprocessed, batched by the global batch size."""
    items = splits["splits"][name]
    paths = [os.path.join(root, *i["path"].split("/")) for i in items]
    labels = np.array([i["label"] for i in items], dtype=np.int32)
    transform = pixel_transform(job)
    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    ds = ds.map(lambda p, y: (decode(p, job), y), num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle_seed is not None:
        ds = ds.shuffle(max(1, len(items)), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch)
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x, y: (transform(x), y)).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options), paths, labels


def augmentation(job, seed):
    """data.augment as Keras preprocessing layers on 0..255 pixels, before preprocess_input; None when off."""
    a = job["config"]["data"]["augment"]
    if not a:
        return None
    out = []
    if a.get("flip"):
        out.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if a.get("rotate"):
        out.append(keras.layers.RandomRotation(a["rotate"] / 360.0, fill_mode="nearest", seed=seed))
    if a.get("zoom"):
        out.append(keras.layers.RandomZoom((-a["zoom"], a["zoom"]), seed=seed))
    if a.get("contrast"):
        out.append(keras.layers.RandomContrast(a["contrast"], value_range=(0, 255), seed=seed))
    if a.get("brightness"):
        out.append(keras.layers.RandomBrightness(a["brightness"], value_range=(0, 255), seed=seed))
    return keras.Sequential(out, name="augment") if out else None
`;
