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
from fixture_images import IMAGE_FILES, synthetic_batch, write_images  # noqa: E402
from keras_layers import leaf_operations  # noqa: E402
from model_preparation import calibrate_batchnorm, param_counts, perturb_constant_weights, preprocess_mode, train_like_a_user  # noqa: E402

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

# What each saved file is, for the manifest (and the readers' tests).
FORMATS = {
    "keras": "model.save('model.keras'): a zip of config.json, metadata.json and model.weights.h5 (Keras 3 layout: layers/<class-based name>/vars/<i>, optimizer/vars/<i>)",
    "h5": "model.save('model.h5'): legacy HDF5 full model; root attributes keras_version, backend, model_config (JSON), training_config for the compiled models; group model_weights with attribute layer_names and one group per layer whose weight_names are Keras 3 variable paths (e.g. Conv1/kernel); optimizer_weights for the compiled models. A variable path is not always <layer>/<variable>: it carries the name scopes the model was built under (NASNet: normal_A_block_0/adjust_block/adjust_reduction_block_0/adjust_bn_0/gamma; the nested model's head: mobilenet_v2_nested/dense/kernel) and unnamed variables get a session-wide counter (ConvNeXt: convnext_tiny_stage_1_block_0_layer_scale/variable_3); the part before the last is the layer's name",
    "weightsH5": "model.save_weights('model.weights.h5'): the Keras 3 weights file (same layout as inside the .keras zip)",
    "keras2WeightsH5": "written by keras2_weights.py in the layout of Keras 2 save_weights('x.h5') and of the Keras Applications ImageNet weight files: root layer_names (fixed-length bytes), backend, keras_version '%s'; weight_names '<layer>/<variable>:0'; empty float64 weight_names for weightless layers. Named legacy_weights.h5, not *.weights.h5: Keras 3's load_weights takes a .weights.h5 name for its own format" % keras2_weights.KERAS2_VERSION,
    "tfjsFromKeras": "what tensorflowjs_converter 4.22 --input_format=keras_keras writes from model.keras (see tfjs_layers_format.py): modelTopology {keras_version, model_config}, weight names = paths in the .keras weights file, optimizer variables included (int64 iterations as int32)",
    "tfjsFromH5": "what tensorflowjs_converter 4.22 --input_format=keras writes from model.h5: modelTopology {keras_version, backend, model_config, training_config?}, weight names = weight_names with ':0' removed, layer groups in h5 key (alphabetical) order",
}

T0 = time.time()


def log(msg):
    print(f"[keras-fixtures {time.time() - T0:6.1f}s] {msg}", flush=True)


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


def prepare_model(fid, app, module, kwargs, pixels, calib, resized):
    """The fixture's model, built, made to look trained (and trained, for the user-style
    models), with the preprocessed inputs whose outputs are recorded."""
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
    return model, extra, {"preprocess": mode, "inputs": inputs, "stacked": stacked, "batchNormLayers": n_bn, "training": training}


def record_outputs(out, fid, model, inputs, stacked, n_pixels, n_squash):
    """Keras's outputs: one predict over all inputs, split afterwards (inference outputs do
    not depend on the batch's other samples); and their statistics."""
    pred = model.predict(stacked, batch_size=len(stacked), verbose=0)
    outputs, at = {}, 0
    for name, a in inputs:
        outputs[name] = out.raw(f"models/{fid}/outputs/{name}.f32", pred[at:at + len(a)], "float32")
        at += len(a)
    px, sq = pred[:n_pixels], np.asarray(pred[n_pixels:n_pixels + n_squash])
    # betweenImagesStd: how much the outputs differ from image to image (the mean over output
    # elements of their std across the 8 squashed files): near 0 would make a weak test.
    stats = {"mean": float(px.mean()), "std": float(px.std()), "min": float(px.min()), "max": float(px.max()), "betweenImagesStd": float(sq.std(axis=0).mean())}
    if not np.all(np.isfinite(pred)):
        raise RuntimeError(f"{fid}: non-finite outputs")
    if not 1e-3 < stats["std"] < 1e3:
        log(f"WARNING {fid}: output std {stats['std']:.3g} is outside [1e-3, 1e3]")
    return outputs, stats


def save_formats(out, fid, model):
    """The model in every format (see FORMATS): the files, their sizes, the TF.js weight counts."""
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
    tfjs_weights = {"fromKeras": sum(len(g["weights"]) for g in tj_k["weightsManifest"]), "fromH5": sum(len(g["weights"]) for g in tj_h["weightsManifest"])}
    return files, sizes, tfjs_weights


def cut_outputs(out, fid, model, extra, x):
    """Keras's outputs at the layer a reader should cut at, on the pixel images x."""
    cut = model.get_layer(extra["expectedCut"])
    # flat model: a sub-model up to the cut layer; nested: the inner model itself
    cut_model = cut if extra["variant"] == "nested" else keras.Model(model.inputs, cut.output)
    cut_pred = cut_model.predict(x, batch_size=len(x), verbose=0)
    return {"layer": cut.name, "outputShape": [int(s) for s in cut_pred.shape[1:]], "pixels": out.raw(f"models/{fid}/outputs/cut_pixels.f32", cut_pred, "float32")}


def make_model_fixture(out, fid, app, module, kwargs, pixels, calib, resized):
    t0 = time.time()
    model, extra, prep = prepare_model(fid, app, module, kwargs, pixels, calib, resized)
    outputs, stats = record_outputs(out, fid, model, prep["inputs"], prep["stacked"], len(pixels), len(resized["squash"]))
    files, sizes, tfjs_weights = save_formats(out, fid, model)
    custom = sorted({f"{type(l).__module__}.{type(l).__name__}" for l in leaf_operations(model) if not type(l).__module__.startswith("keras.src.layers.")})
    entry = {
        "id": fid,
        "application": app,
        "module": module,
        "constructor": {"include_top": False, "weights": None, "input_shape": [SIZE, SIZE, 3], **kwargs},
        **extra,
        "modelName": model.name,
        "preprocess": prep["preprocess"],
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
        "batchNormLayers": prep["batchNormLayers"],
        "training": prep["training"],
        "outputStats": stats,
        "files": files,
        "fileBytes": sizes,
        "tfjsWeights": tfjs_weights,
        "outputs": outputs,
    }
    if extra.get("expectedCut"):
        entry["cutOutputs"] = cut_outputs(out, fid, model, extra, prep["stacked"][:len(pixels)])
    entry["seconds"] = round(time.time() - t0, 1)
    log(f"{fid:22s} {app:18s} params {entry['params']['total']:>10,}  out {entry['outputShape']}  std {stats['std']:.4g} (between images {stats['betweenImagesStd']:.3g})  "
        f"keras {sizes['keras'] / 1e6:.1f} MB  ({entry['seconds']} s)")
    return entry


def preprocessed_pixels(out, pixels):
    """The pixel images through each preprocess_input formula the families use."""
    pre = {}
    for _, _, module, _ in FAMILIES:
        p = getattr(keras.applications, module).preprocess_input
        m = preprocess_mode(p)
        if m not in pre:
            pre[m] = out.raw(f"preprocessed/{m}.f32", p(pixels.astype(np.float32)), "float32")
    return pre


def resized_images(out, images_dir):
    """The image files resized by image_dataset_from_directory in each resize mode: the arrays, and their manifest entries."""
    resized, modes = {}, {}
    for mode, opts in RESIZE_MODES.items():
        ds = keras.utils.image_dataset_from_directory(images_dir, labels=None, image_size=(SIZE, SIZE), interpolation="bilinear", shuffle=False, batch_size=None, verbose=False, **opts)
        arr = np.stack([np.asarray(x, np.float32) for x in ds])
        resized[mode] = arr
        files = [os.path.relpath(p, images_dir).replace(os.sep, "/") for p in ds.file_paths]
        call = {"image_size": [SIZE, SIZE], "interpolation": "bilinear", "shuffle": False, "labels": None, "color_mode": "rgb", **opts}
        modes[mode] = {"kerasCall": call, "files": files, "pixels": out.raw(f"resized/{mode}.f32", arr, "float32")}
    return resized, modes


def big_weights(out):
    """A 100 MB+ real Keras weights file for benchmarking HDF5 readers."""
    t0 = time.time()
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED + 99)
    big = keras.applications.ResNet50(include_top=True, weights=None)
    big.save_weights(out.path("big.weights.h5"))
    entry = {"file": "big.weights.h5", "bytes": out.size("big.weights.h5"), "application": "ResNet50", "constructor": {"include_top": True, "weights": None}, "params": param_counts(big), "format": "Keras 3 save_weights (.weights.h5)", "arrays": len(big.weights)}
    log(f"big.weights.h5: {entry['bytes'] / 1e6:.1f} MB ({time.time() - t0:.1f} s)")
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

    pixels = synthetic_batch(SEED + 1, N_PIXELS, SIZE)
    calib = synthetic_batch(SEED + 2, N_CALIB, SIZE)
    manifest = {
        "schemaVersion": 1,
        "generator": {"script": "scripts/keras-fixtures/make_fixtures.py", "hash": os.environ.get("KERAS_FIXTURES_HASH", "")},
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__, "h5py": h5py.__version__, "pillow": PIL.__version__, "python": platform.python_version()},
        "backend": keras.backend.backend(),
        "tfEnableOnednnOpts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "seed": SEED,
        "imageSize": [SIZE, SIZE],
        "tfjsConverterEmulated": tfjs_layers_format.CONVERTER_VERSION,
        "formats": FORMATS,
        "pixels": out.raw("pixels.u8", pixels, "uint8"),
        "calibration": {"images": N_CALIB, "method": "constant trainable weights (gamma, beta, biases, layer scales) perturbed; then BatchNormalization momentum 0, one training-mode forward pass on preprocess_input of the 16 calibration images + every recorded input (pixels and the resized files), momentum restored (again after fitting, for the fitted user models)"},
    }
    manifest["preprocessedPixels"] = preprocessed_pixels(out, pixels)
    manifest["images"] = {"dir": "images", "files": write_images(os.path.join(args.out, "images"), SEED + 7)}
    resized, manifest["resizeModes"] = resized_images(out, os.path.join(args.out, "images"))
    log(f"images and resized pixels written ({len(IMAGE_FILES)} files, {len(RESIZE_MODES)} modes)")

    todo = FAMILIES + [("inception_v3_head", "InceptionV3", "inception_v3", {}), ("mobilenet_v2_nested", "MobileNetV2", "mobilenet_v2", {"alpha": 0.35})]
    if args.only:
        keep = set(args.only.split(","))
        todo = [t for t in todo if t[0] in keep]
    manifest["models"] = [make_model_fixture(out, *t, pixels, calib, resized) for t in todo]
    if not args.only:
        manifest["bigWeights"] = big_weights(out)

    manifest["generationSeconds"] = round(time.time() - T0, 1)
    manifest["totalBytes"] = out.size(".")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"done: {len(manifest['models'])} models, {manifest['totalBytes'] / 1e9:.2f} GB in {args.out}")


if __name__ == "__main__":
    main()
