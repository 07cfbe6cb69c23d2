"""Real Keras test fixtures: every Keras Applications family (weights=None, include_top=False,
96x96x3, small widths where the constructor has them) plus two user-style models, saved in
every format Keras users have (.keras, full-model .h5, .weights.h5, Keras-2-style weights
.h5, TF.js layers model.json from .keras and from .h5), with Keras's own outputs on
deterministic pixels and on image files resized the three ways image_dataset_from_directory
can. Everything is described by manifest.json (see test/support/kerasFixtures.ts).

    python make_fixtures.py --out DIR      (DIR must not exist; the caller renames it into place)

Run by scripts/setup-keras-fixtures.mjs, which picks the Python and the output folder.
Deterministic: seeded per model, op determinism on, the same synthetic data every run (the
weights, outputs and files are the same bytes each run; only Keras's own shared_object_id
and date_saved values in the configs differ). verify_fixtures.py DIR checks a folder with
Keras: every file reloads and reproduces the recorded outputs.

Weights are random (weights=None; no ImageNet weights can be downloaded here) but made to
look trained: constant initial values (BN/LN gamma and beta, biases, layer scales) are
perturbed, and BatchNorm statistics are calibrated on the inputs, so outputs are O(1) and
differ from image to image (outputStats in the manifest).
"""

import argparse
import json
import os
import platform
import sys
import time
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import PIL  # noqa: E402
from PIL import Image  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")  # retracing and "HDF5 is legacy" warnings
try:
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
except ImportError:
    pass

sys.dont_write_bytecode = True  # no __pycache__ in scripts/keras-fixtures (it would change the folder's hash)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras2_weights  # noqa: E402
import tfjs_layers_format  # noqa: E402

SEED = 20261202
SIZE = 96
N_PIXELS = 4
N_CALIB = 16
RESIZE_MODES = {
    "squash": {},
    "crop-to-aspect-ratio": {"crop_to_aspect_ratio": True},
    "pad-to-aspect-ratio": {"pad_to_aspect_ratio": True},
}

# id, keras.applications constructor, module with preprocess_input, extra constructor args
FAMILIES = [
    ("mobilenet", "MobileNet", "mobilenet", {"alpha": 0.25}),
    ("mobilenet_v2", "MobileNetV2", "mobilenet_v2", {"alpha": 0.35}),
    ("mobilenet_v3_small", "MobileNetV3Small", "mobilenet_v3", {"alpha": 0.75, "minimalistic": False}),
    ("resnet50", "ResNet50", "resnet50", {}),
    ("resnet50_v2", "ResNet50V2", "resnet_v2", {}),
    ("vgg16", "VGG16", "vgg16", {}),
    ("inception_v3", "InceptionV3", "inception_v3", {}),
    ("inception_resnet_v2", "InceptionResNetV2", "inception_resnet_v2", {}),
    ("xception", "Xception", "xception", {}),
    ("densenet121", "DenseNet121", "densenet", {}),
    ("efficientnet_b0", "EfficientNetB0", "efficientnet", {}),
    ("efficientnet_v2_b0", "EfficientNetV2B0", "efficientnet_v2", {}),
    ("nasnet_mobile", "NASNetMobile", "nasnet", {}),
    ("convnext_tiny", "ConvNeXtTiny", "convnext", {}),
]

# The image files: (name, width, height, PIL mode, format, save options). Varied sizes,
# aspect ratios, colour modes and encodings, as a user's folder has them.
IMAGE_FILES = [
    ("a_landscape_120x80.jpg", 120, 80, "RGB", "JPEG", {"quality": 90}),
    ("b_tall_64x200.png", 64, 200, "RGB", "PNG", {}),
    ("c_square_300x300.jpg", 300, 300, "RGB", "JPEG", {"quality": 95, "subsampling": 0}),
    ("d_odd_97x131.png", 97, 131, "RGBA", "PNG", {}),
    ("e_photo_500x375.jpeg", 500, 375, "RGB", "JPEG", {"quality": 75}),
    ("f_tiny_33x47.png", 33, 47, "P", "PNG", {}),
    ("g_gray_144x256.jpg", 144, 256, "L", "JPEG", {"quality": 85}),
    ("h_wide_256x96.png", 256, 96, "RGB", "PNG", {}),
]

T0 = time.time()


def log(msg):
    print(f"[keras-fixtures {time.time() - T0:6.1f}s] {msg}", flush=True)


# ---------------------------------------------------------------------------------------
# Deterministic synthetic images: gradients, shapes, stripes and noise.


def synthetic_image(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= max(h - 1, 1)
    xx /= max(w - 1, 1)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, off = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 100 * (a * xx + b * yy) + 40 * off
    for _ in range(rng.integers(2, 5)):  # discs and rectangles in random colours
        colour = rng.uniform(0, 255, 3)
        cy, cx, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.35)
        if rng.random() < 0.5:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            mask = (np.abs(yy - cy) < r * 0.7) & (np.abs(xx - cx) < r)
        img[mask] = 0.35 * img[mask] + 0.65 * colour
    freq, phase = rng.uniform(4, 20), rng.uniform(0, 6.3)
    img += 25 * np.sin(freq * (xx + 0.6 * yy) * np.pi + phase)[..., None]
    img += rng.normal(0, 10, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def synthetic_batch(seed, n, h=SIZE, w=SIZE):
    rng = np.random.default_rng(seed)
    return np.stack([synthetic_image(rng, h, w) for _ in range(n)])


def write_images(folder):
    cls = os.path.join(folder, "all")
    os.makedirs(cls)
    rng = np.random.default_rng(SEED + 7)
    described = []
    for name, w, h, mode, fmt, opts in IMAGE_FILES:
        rgb = Image.fromarray(synthetic_image(rng, h, w), "RGB")
        if mode == "RGBA":
            alpha = np.clip(np.linspace(40, 255, w)[None, :].repeat(h, 0), 0, 255).astype(np.uint8)
            im = rgb.copy()
            im.putalpha(Image.fromarray(alpha, "L"))
        elif mode == "P":
            im = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        elif mode == "L":
            im = rgb.convert("L")
        else:
            im = rgb
        im.save(os.path.join(cls, name), fmt, **opts)
        described.append({"path": f"all/{name}", "width": w, "height": h, "colorMode": mode, "format": fmt.lower(), "saveOptions": opts})
    return described


# ---------------------------------------------------------------------------------------
# Model preparation


def leaf_layers(layer):
    subs = getattr(layer, "layers", None)
    if not subs:
        return [layer]
    out = []
    for s in subs:
        out += leaf_layers(s)
    return out


def leaf_operations(op):
    """Like leaf_layers, but also the ops applied to Keras tensors inside Functional models
    (`x + y` makes a keras.src.ops.numpy.Add that model.layers does not list)."""
    subs = getattr(op, "operations", None) or getattr(op, "layers", None)
    if not subs:
        return [op]
    out = []
    for s in subs:
        out += leaf_operations(s)
    return out


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


# ---------------------------------------------------------------------------------------


class Out:
    def __init__(self, root):
        self.root = root

    def path(self, rel):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def raw(self, rel, arr, dtype):
        arr = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
        with open(self.path(rel), "wb") as f:
            f.write(arr.tobytes())
        return {"file": rel, "shape": list(arr.shape), "dtype": np.dtype(dtype).name}

    def size(self, rel):
        p = os.path.join(self.root, rel)
        if os.path.isdir(p):
            return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs)
        return os.path.getsize(p)


def build(fid, app, module, kwargs):
    """The model for one fixture id, and what to record about how it was made."""
    ctor = getattr(keras.applications, app)
    base_args = dict(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3), **kwargs)
    if fid == "inception_v3_head":
        base = ctor(**base_args)
        x = keras.layers.GlobalAveragePooling2D()(base.output)
        x = keras.layers.Dense(64, activation="relu")(x)
        x = keras.layers.Dropout(0.2)(x)
        out = keras.layers.Dense(4, activation="softmax")(x)
        model = keras.Model(base.input, out, name="inception_v3_head")
        extra = {"variant": "head", "structure": "flat Functional: InceptionV3 base + GlobalAveragePooling2D + Dense(64, relu) + Dropout(0.2) + Dense(4, softmax)", "expectedCut": "mixed10"}
        return model, extra
    if fid == "mobilenet_v2_nested":
        base = ctor(**base_args)
        model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")], name="mobilenet_v2_nested")
        extra = {"variant": "nested", "structure": "Sequential([MobileNetV2 (frozen, trainable=False), GlobalAveragePooling2D, Dense(3, softmax)]), as the Keras transfer-learning guide builds it", "expectedCut": base.name}
        return model, extra
    return ctor(**base_args), {"variant": "application"}


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


def make_model_fixture(out, fid, app, module, kwargs, pixels, calib, resized):
    t0 = time.time()
    keras.backend.clear_session()  # layer-name counters start afresh: names do not depend on order
    keras.utils.set_random_seed(SEED + zlib.crc32(fid.encode()) % 100000)
    rng = np.random.default_rng(SEED + zlib.crc32(fid.encode()) % 100000)
    preprocess = getattr(keras.applications, module).preprocess_input
    mode = preprocess_mode(preprocess)
    model, extra = build(fid, app, module, kwargs)
    perturb_constant_weights(model, rng)
    # The inputs whose outputs are recorded: 4 pixel images + 8 files x 3 resize modes.
    inputs = [("pixels", pixels.astype(np.float32))] + [(m, resized[m]) for m in RESIZE_MODES]
    stacked = np.concatenate([preprocess(a.copy()) for _, a in inputs])
    # Calibration sees those inputs too: in a randomly initialised deep net the features of
    # different images are nearly alike, so statistics from other images alone would blow
    # the recorded images' differences up layer after layer.
    calib_in = np.concatenate([preprocess(calib.astype(np.float32)), stacked])
    n_bn = calibrate_batchnorm(model, calib_in)
    training = train_like_a_user(fid, model, calib_in[:N_CALIB], rng)
    if training:
        calibrate_batchnorm(model, calib_in)  # training moved the weights; BN layers of a frozen base stay as they are

    # Keras's outputs: one predict over all inputs, split afterwards; inference outputs do
    # not depend on the batch's other samples.
    pred = model.predict(stacked, batch_size=len(stacked), verbose=0)
    outputs, at = {}, 0
    for name, a in inputs:
        outputs[name] = out.raw(f"models/{fid}/outputs/{name}.f32", pred[at:at + len(a)], "float32")
        at += len(a)
    px, sq = pred[:len(pixels)], np.asarray(pred[len(pixels):len(pixels) + len(resized["squash"])])
    # betweenImagesStd: how much the outputs differ from image to image (the mean over output
    # elements of their std across the 8 squashed files): near 0 would make a weak test.
    stats = {"mean": float(px.mean()), "std": float(px.std()), "min": float(px.min()), "max": float(px.max()), "betweenImagesStd": float(sq.std(axis=0).mean())}
    if not np.all(np.isfinite(pred)):
        raise RuntimeError(f"{fid}: non-finite outputs")
    if not 1e-3 < stats["std"] < 1e3:
        log(f"WARNING {fid}: output std {stats['std']:.3g} is outside [1e-3, 1e3]")

    d = f"models/{fid}"
    files = {
        "keras": f"{d}/model.keras",
        "h5": f"{d}/model.h5",
        "weightsH5": f"{d}/model.weights.h5",
        "keras2WeightsH5": f"{d}/legacy_weights.h5",
        "tfjsFromKeras": f"{d}/tfjs_from_keras/model.json",
        "tfjsFromH5": f"{d}/tfjs_from_h5/model.json",
    }
    model.save(out.path(files["keras"]))
    model.save(out.path(files["h5"]))
    model.save_weights(out.path(files["weightsH5"]))
    keras2_weights.save_keras2_weights(model, out.path(files["keras2WeightsH5"]))
    tj_k = tfjs_layers_format.from_keras_zip(out.path(files["keras"]), os.path.dirname(out.path(files["tfjsFromKeras"])))
    tj_h = tfjs_layers_format.from_h5(out.path(files["h5"]), os.path.dirname(out.path(files["tfjsFromH5"])))
    sizes = {k: out.size(os.path.dirname(v) if k.startswith("tfjs") else v) for k, v in files.items()}

    custom = sorted({f"{type(l).__module__}.{type(l).__name__}" for l in leaf_operations(model) if not type(l).__module__.startswith("keras.src.layers.")})
    entry = {
        "id": fid,
        "application": app,
        "module": module,
        "constructor": {"include_top": False, "weights": None, "input_shape": [SIZE, SIZE, 3], **kwargs},
        **extra,
        "modelName": model.name,
        "preprocess": mode,
        "inputShape": [SIZE, SIZE, 3],
        "outputLayer": model.layers[-1].name,
        "outputShape": [int(s) for s in model.output_shape[1:]],
        "params": param_counts(model),
        "layers": len(model.layers),
        "layerClasses": sorted({type(l).__name__ for l in leaf_operations(model)}),
        # Classes from outside keras.layers, by module: application-private layers
        # (CustomScaleLayer, LayerScale: Keras 3 loads the .h5 only with custom_objects) and
        # ops applied to Keras tensors (ConvNeXt's `x + y` is keras.src.ops.numpy.Add, saved
        # as class_name "Add" with two positional args). The .h5 config and the TF.js
        # model_config drop the module, so "Add" there is ambiguous; Keras 3.15 itself
        # reads it as keras.layers.Add and cannot reload that .h5 (kerasReloadsH5 false).
        "customLayerClasses": custom,
        "kerasReloadsH5": not any(c.startswith("keras.src.ops.") for c in custom),
        "batchNormLayers": n_bn,
        "training": training,
        "outputStats": stats,
        "files": files,
        "fileBytes": sizes,
        "tfjsWeights": {"fromKeras": sum(len(g["weights"]) for g in tj_k["weightsManifest"]), "fromH5": sum(len(g["weights"]) for g in tj_h["weightsManifest"])},
        "outputs": outputs,
    }
    if extra.get("expectedCut"):
        cut = model.get_layer(extra["expectedCut"])
        # flat model: a sub-model up to the cut layer; nested: the inner model itself
        cut_model = cut if extra["variant"] == "nested" else keras.Model(model.inputs, cut.output)
        cut_pred = cut_model.predict(stacked[:len(pixels)], batch_size=len(pixels), verbose=0)
        entry["cutOutputs"] = {"layer": cut.name, "outputShape": [int(s) for s in cut_pred.shape[1:]], "pixels": out.raw(f"{d}/outputs/cut_pixels.f32", cut_pred, "float32")}
    entry["seconds"] = round(time.time() - t0, 1)
    log(f"{fid:22s} {app:18s} params {entry['params']['total']:>10,}  out {entry['outputShape']}  std {stats['std']:.4g} (between images {stats['betweenImagesStd']:.3g})  "
        f"keras {sizes['keras'] / 1e6:.1f} MB  ({entry['seconds']} s)")
    return entry


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", help="comma-separated fixture ids (for trying things out; the manifest then lists only those)")
    args = ap.parse_args()
    if os.path.exists(args.out):
        raise SystemExit(f"{args.out} exists")
    os.makedirs(args.out)
    out = Out(args.out)
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)

    pixels = synthetic_batch(SEED + 1, N_PIXELS)
    calib = synthetic_batch(SEED + 2, N_CALIB)
    manifest = {
        "schemaVersion": 1,
        "generator": {"script": "scripts/keras-fixtures/make_fixtures.py", "hash": os.environ.get("KERAS_FIXTURES_HASH", "")},
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__, "h5py": h5py.__version__, "pillow": PIL.__version__, "python": platform.python_version()},
        "backend": keras.backend.backend(),
        "tfEnableOnednnOpts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "seed": SEED,
        "imageSize": [SIZE, SIZE],
        "tfjsConverterEmulated": tfjs_layers_format.CONVERTER_VERSION,
        "formats": {
            "keras": "model.save('model.keras'): a zip of config.json, metadata.json and model.weights.h5 (Keras 3 layout: layers/<class-based name>/vars/<i>, optimizer/vars/<i>)",
            "h5": "model.save('model.h5'): legacy HDF5 full model; root attributes keras_version, backend, model_config (JSON), training_config for the compiled models; group model_weights with attribute layer_names and one group per layer whose weight_names are Keras 3 variable paths (e.g. Conv1/kernel); optimizer_weights for the compiled models. A variable path is not always <layer>/<variable>: it carries the name scopes the model was built under (NASNet: normal_A_block_0/adjust_block/adjust_reduction_block_0/adjust_bn_0/gamma; the nested model's head: mobilenet_v2_nested/dense/kernel) and unnamed variables get a session-wide counter (ConvNeXt: convnext_tiny_stage_1_block_0_layer_scale/variable_3); the part before the last is the layer's name",
            "weightsH5": "model.save_weights('model.weights.h5'): the Keras 3 weights file (same layout as inside the .keras zip)",
            "keras2WeightsH5": "written by keras2_weights.py in the layout of Keras 2 save_weights('x.h5') and of the Keras Applications ImageNet weight files: root layer_names (fixed-length bytes), backend, keras_version '%s'; weight_names '<layer>/<variable>:0'; empty float64 weight_names for weightless layers. Named legacy_weights.h5, not *.weights.h5: Keras 3's load_weights takes a .weights.h5 name for its own format" % keras2_weights.KERAS2_VERSION,
            "tfjsFromKeras": "what tensorflowjs_converter 4.22 --input_format=keras_keras writes from model.keras (see tfjs_layers_format.py): modelTopology {keras_version, model_config}, weight names = paths in the .keras weights file, optimizer variables included (int64 iterations as int32)",
            "tfjsFromH5": "what tensorflowjs_converter 4.22 --input_format=keras writes from model.h5: modelTopology {keras_version, backend, model_config, training_config?}, weight names = weight_names with ':0' removed, layer groups in h5 key (alphabetical) order",
        },
        "pixels": out.raw("pixels.u8", pixels, "uint8"),
        "calibration": {"images": N_CALIB, "method": "constant trainable weights (gamma, beta, biases, layer scales) perturbed; then BatchNormalization momentum 0, one training-mode forward pass on preprocess_input of the 16 calibration images + every recorded input (pixels and the resized files), momentum restored (again after fitting, for the fitted user models)"},
    }
    pre = {}
    for _, _, module, _ in FAMILIES:
        p = getattr(keras.applications, module).preprocess_input
        m = preprocess_mode(p)
        if m not in pre:
            pre[m] = out.raw(f"preprocessed/{m}.f32", p(pixels.astype(np.float32)), "float32")
    manifest["preprocessedPixels"] = pre

    manifest["images"] = {"dir": "images", "files": write_images(os.path.join(args.out, "images"))}
    resized, modes = {}, {}
    images_dir = os.path.join(args.out, "images")
    for mode, opts in RESIZE_MODES.items():
        ds = keras.utils.image_dataset_from_directory(images_dir, labels=None, image_size=(SIZE, SIZE), interpolation="bilinear", shuffle=False, batch_size=None, verbose=False, **opts)
        arr = np.stack([np.asarray(x, np.float32) for x in ds])
        resized[mode] = arr
        files = [os.path.relpath(p, images_dir).replace(os.sep, "/") for p in ds.file_paths]
        call = {"image_size": [SIZE, SIZE], "interpolation": "bilinear", "shuffle": False, "labels": None, "color_mode": "rgb", **opts}
        modes[mode] = {"kerasCall": call, "files": files, "pixels": out.raw(f"resized/{mode}.f32", arr, "float32")}
    manifest["resizeModes"] = modes
    log(f"images and resized pixels written ({len(IMAGE_FILES)} files, {len(RESIZE_MODES)} modes)")

    todo = FAMILIES + [("inception_v3_head", "InceptionV3", "inception_v3", {}), ("mobilenet_v2_nested", "MobileNetV2", "mobilenet_v2", {"alpha": 0.35})]
    if args.only:
        keep = set(args.only.split(","))
        todo = [t for t in todo if t[0] in keep]
    manifest["models"] = [make_model_fixture(out, *t, pixels, calib, resized) for t in todo]

    # A 100 MB+ real Keras weights file for benchmarking HDF5 readers.
    if not args.only:
        t0 = time.time()
        keras.backend.clear_session()
        keras.utils.set_random_seed(SEED + 99)
        big = keras.applications.ResNet50(include_top=True, weights=None)
        big.save_weights(out.path("big.weights.h5"))
        manifest["bigWeights"] = {"file": "big.weights.h5", "bytes": out.size("big.weights.h5"), "application": "ResNet50", "constructor": {"include_top": True, "weights": None}, "params": param_counts(big), "format": "Keras 3 save_weights (.weights.h5)", "arrays": len(big.weights)}
        log(f"big.weights.h5: {manifest['bigWeights']['bytes'] / 1e6:.1f} MB ({time.time() - t0:.1f} s)")

    manifest["generationSeconds"] = round(time.time() - T0, 1)
    manifest["totalBytes"] = out.size(".")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"done: {len(manifest['models'])} models, {manifest['totalBytes'] / 1e9:.2f} GB in {args.out}")


if __name__ == "__main__":
    main()
