"""The Keras side of `npm run bench`: the same workloads as bench/worker.ts, the way a Keras
user runs them, in one process per measurement. Reads a JSON job from argv[1], prints one
JSON line of results. MobileNetV2 (alpha 1.0, include_top=False) with random weights; the zoo
rows (zoo-*) other Keras Applications families, from a .keras file Keras saved."""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

job = json.loads(sys.argv[1])


def peak_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def base_model(size):
    return tf.keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(size, size, 3), alpha=1.0)


def timed(step, warmup, iters):
    """Seconds per call of step(), after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def forward(size, batch, iters):
    """Frozen forward pass: model(x, training=False) inside a tf.function (graph mode, Grappler
    fuses Conv+BN+ReLU6: the fastest way Keras offers for inference on a batch)."""
    model = base_model(size)
    fn = tf.function(lambda x: model(x, training=False))
    x = tf.random.uniform((batch, size, size, 3), -1, 1)
    times = timed(lambda: fn(x).numpy(), 2, iters)
    return {"imgPerSec": batch / median(times)}


def finetune(size, batch, iters, bn):
    """A full fine-tune step: every layer trainable, softmax head of 5 classes, Adam, train_on_batch.
    bn='inference' is the Keras transfer-learning guide's recipe (base(x, training=False) keeps
    BatchNorm in inference mode while fine-tuning); bn='training' lets BatchNorm learn."""
    base = base_model(size)
    base.trainable = True
    inputs = tf.keras.Input((size, size, 3))
    x = base(inputs, training=(bn == "training"))
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(5, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    y = np.random.randint(0, 5, (batch,))
    times = timed(lambda: model.train_on_batch(x, y), 2, iters)
    return {"imgPerSec": batch / median(times), "peakRssBytes": peak_rss_bytes()}


def load_folder(data_dir, size):
    """Every image of a folder-per-class dataset, decoded and resized once, in [-1, 1]."""
    classes = sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d)))
    xs, ys = [], []
    for i, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(data_dir, c))):
            img = tf.io.decode_image(tf.io.read_file(os.path.join(data_dir, c, f)), channels=3, expand_animations=False)
            xs.append(tf.image.resize(img, (size, size)).numpy())
            ys.append(i)
    x = np.stack(xs).astype("float32") / 127.5 - 1
    return x, np.array(ys), len(classes)


def head(n_in_shape, classes):
    inputs = tf.keras.Input(n_in_shape)
    x = tf.keras.layers.GlobalAveragePooling2D()(inputs)
    x = tf.keras.layers.Dropout(0.2)(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(classes, activation="softmax")(x))


def experiment_cached(data_dir, size, epochs):
    """Feature extraction with a feature cache: decode once, run the frozen base once, fit the
    head on the cached features (what Transfer Lab does)."""
    t0 = time.perf_counter()
    x, y, classes = load_folder(data_dir, size)
    base = base_model(size)
    base.trainable = False
    feats = base.predict(x, batch_size=32, verbose=0)
    rng = np.random.default_rng(42)
    order = rng.permutation(len(y))
    n_val = len(y) // 5
    val, train = order[:n_val], order[n_val:]
    model = head(feats.shape[1:], classes)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(feats[train], y[train], validation_data=(feats[val], y[val]), epochs=epochs, batch_size=32, verbose=0)
    return {"seconds": time.perf_counter() - t0, "images": int(len(y))}


def experiment_notebook(data_dir, size, epochs, save_to=None):
    """The usual Keras notebook recipe: image_dataset_from_directory, base.trainable = False,
    fit 10 epochs (the frozen base runs on every image in every epoch)."""
    t0 = time.perf_counter()
    common = dict(validation_split=0.2, seed=42, image_size=(size, size), batch_size=32, label_mode="int")
    train_ds = tf.keras.utils.image_dataset_from_directory(data_dir, subset="training", **common).prefetch(tf.data.AUTOTUNE)
    val_ds = tf.keras.utils.image_dataset_from_directory(data_dir, subset="validation", **common).prefetch(tf.data.AUTOTUNE)
    classes = len(os.listdir(data_dir))
    base = base_model(size)
    base.trainable = False
    inputs = tf.keras.Input((size, size, 3))
    x = tf.keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = base(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(classes, activation="softmax")(x))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - t0
    if save_to:
        model.save(save_to)
    return {"seconds": seconds}


def first_prediction(model_file, image, size):
    """Start-up to first prediction: this process's imports, loading a saved model, one image."""
    model = tf.keras.models.load_model(model_file)
    img = tf.image.resize(tf.io.decode_image(tf.io.read_file(image), channels=3, expand_animations=False), (size, size))
    probs = model.predict(img[None, ...], verbose=0)
    return {"top": int(np.argmax(probs[0]))}


# ---------------------------------------------------------------------------------------
# The zoo rows (bench/zoo.ts): Keras Applications families at their native input size, saved
# once by Keras into the bench cache and timed from that same file on both sides.


def zoo_save(application, size, out_file):
    """Keras builds the family (include_top=False, weights=None: random weights time the same)
    and saves it as a .keras file, which Transfer Lab's own loader then reads."""
    if os.path.exists(out_file):
        return {"saved": out_file, "cached": True}
    model = getattr(tf.keras.applications, application)(weights=None, include_top=False, input_shape=(size, size, 3))
    os.makedirs(os.path.dirname(out_file), exist_ok=True)
    tmp = f"{out_file}.tmp-{os.getpid()}.keras"
    model.save(tmp)
    os.replace(tmp, out_file)
    return {"saved": out_file, "cached": False, "layers": len(model.layers)}


def zoo_first_trainable(base, unfreeze):
    """Index of the first trainable layer of base.layers: {"from": name} or {"after": name}."""
    names = [layer.name for layer in base.layers]
    if "from" in unfreeze:
        return names.index(unfreeze["from"])
    return names.index(unfreeze["after"]) + 1


def zoo_forward(model_file, size, batch, warmup, iters):
    """Frozen forward: model(x, training=False) in a tf.function, as for the MobileNetV2 rows."""
    model = tf.keras.models.load_model(model_file, compile=False)
    model.trainable = False
    fn = tf.function(lambda x: model(x, training=False))
    x = tf.random.uniform((batch, size, size, 3), -1, 1)
    times = timed(lambda: fn(x).numpy(), warmup, iters)
    return {"imgPerSec": batch / median(times), "times": times, "peakRssBytes": peak_rss_bytes()}


def zoo_finetune(model_file, size, batch, warmup, iters, unfreeze):
    """A partial fine-tune step, the Keras transfer-learning guide's recipe: base.trainable = True,
    then every layer before the unfreeze point trainable = False; the base called with
    training=False (BatchNorm in inference mode, its gamma and beta train in the unfrozen part);
    GlobalAveragePooling2D -> Dropout(0.2) -> Dense(5, softmax); Adam; compiled train_on_batch."""
    base = tf.keras.models.load_model(model_file, compile=False)
    base.trainable = True
    first = zoo_first_trainable(base, unfreeze)
    for layer in base.layers[:first]:
        layer.trainable = False
    inputs = tf.keras.Input((size, size, 3))
    x = base(inputs, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    outputs = tf.keras.layers.Dense(5, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    y = np.random.randint(0, 5, (batch,))
    times = timed(lambda: model.train_on_batch(x, y), warmup, iters)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return {"imgPerSec": batch / median(times), "times": times, "peakRssBytes": peak_rss_bytes(), "firstTrainable": base.layers[first].name, "trainableParams": trainable}


kind = job["kind"]
threads = {"intraOp": tf.config.threading.get_intra_op_parallelism_threads(), "interOp": tf.config.threading.get_inter_op_parallelism_threads()}
if kind == "forward":
    out = forward(job["size"], job["batch"], job["iters"])
elif kind == "finetune":
    out = finetune(job["size"], job["batch"], job["iters"], job.get("bn", "inference"))
elif kind == "experiment-cached":
    out = experiment_cached(job["dataDir"], job["size"], job["epochs"])
elif kind == "experiment-notebook":
    out = experiment_notebook(job["dataDir"], job["size"], job["epochs"], job.get("saveTo"))
elif kind == "first-prediction":
    out = first_prediction(job["modelFile"], job["image"], job["size"])
elif kind == "zoo-save":
    out = zoo_save(job["application"], job["size"], job["file"])
elif kind == "zoo-forward":
    out = zoo_forward(job["file"], job["size"], job["batch"], job["warmup"], job["iters"])
elif kind == "zoo-finetune":
    out = zoo_finetune(job["file"], job["size"], job["batch"], job["warmup"], job["iters"], job["unfreeze"])
elif kind == "version":
    out = {"tensorflow": tf.__version__, "keras": tf.keras.__version__ if hasattr(tf.keras, "__version__") else None}
else:
    raise SystemExit(f"unknown job kind {kind}")
out.update({"threads": threads})
print(json.dumps(out))
