"""The Keras Applications part of the backbone catalog, generated from Keras itself.

Run with the Keras venv (see scripts/keras-applications/make-catalog.mjs, which finds it):

    python scripts/keras-applications/make_catalog.py [--out-media DIR] [--out-data FILE]

For each application below this builds the model exactly as keras.applications builds it for
``weights="imagenet"``, ``include_top=False`` at the family's native input size, but downloads
nothing: during construction ``keras.src.utils.file_utils.get_file`` is replaced by a recorder
(which also gives us the URL, cache file name and hash Keras would have used, straight from the
call Keras makes) and ``Model.load_weights`` by a no-op. Building for "imagenet" matters:
EfficientNet adds a ``Rescaling`` layer only when ``weights == "imagenet"``, so a
``weights=None`` topology would be a different network.

Written:
  media/keras-applications/<id>.json.gz   the model's Keras 3 config (``model.to_json()``) plus
                                          the order and shapes of its weights as Keras's legacy
                                          h5 loader matches them (by position, layers without
                                          weights skipped), gzipped without a timestamp.
  src/core/kerasApplications.json         one record per entry: id, constructor, input size,
                                          params, output shape, default cut (the model's last
                                          layer), weight URL/file name/hash/algorithm, the
                                          preprocess_input mode, ImageNet top-1 and where each
                                          came from.

What is read from Keras at generation time (never copied into this repository's code):
  - URL, file name, hash: the arguments of Keras's own get_file call. They are checked
    against the module constants where the module has them (WEIGHTS_HASHES, BASE_WEIGHTS_PATH,
    BASE_WEIGHT_PATH, BASE_WEIGHT_URL, WEIGHTS_PATH_NO_TOP, ...) and the record says which
    constant or, where Keras writes the hash inline in the call, that it is the call's literal.
    MobileNet and MobileNetV2 call get_file without a hash: recorded as null.
  - hash algorithm: keras.src.utils.file_utils.resolve_hasher("auto", hash) (64 hex digits
    are sha256, anything else md5), as get_file decides.
  - native input size: the default_size the application passes to
    imagenet_utils.obtain_input_shape (recorded by wrapping it), checked against NATIVE_SIZE
    below; MobileNetV3 does not call it, its checkpoints are 224x224.
  - preprocessing: the module's preprocess_input run on a probe array and compared with the
    four formulas of imagenet_utils ('tf', 'caffe', 'torch') or the identity ('none': the
    model rescales itself).

ImageNet top-1 (%): not in Keras's code, so listed here in TOP1 with where each number is from.
"""

import argparse
import gzip
import hashlib
import importlib
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras.src.applications import imagenet_utils  # noqa: E402
from keras.src.models import Model  # noqa: E402
from keras.src.utils import file_utils  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/keras-fixtures (it would change the fixtures' hash)
sys.path.insert(0, os.path.join(ROOT, "scripts", "keras-fixtures"))
from keras_layers import weight_owners  # noqa: E402  (shared with the Keras fixtures' generator)

SCHEMA_VERSION = 1

# (id, constructor, keras.src.applications module, family, native input size)
# Native sizes: Keras's default_size per constructor (checked at run time where Keras has one).
APPLICATIONS = [
    ("mobilenet", "MobileNet", "mobilenet", "mobilenet_v1", 224),
    ("mobilenet_v2", "MobileNetV2", "mobilenet_v2", "mobilenet_v2", 224),
    ("mobilenet_v3_small", "MobileNetV3Small", "mobilenet_v3", "mobilenet_v3", 224),
    ("mobilenet_v3_large", "MobileNetV3Large", "mobilenet_v3", "mobilenet_v3", 224),
    ("resnet50", "ResNet50", "resnet", "resnet", 224),
    ("resnet101", "ResNet101", "resnet", "resnet", 224),
    ("resnet152", "ResNet152", "resnet", "resnet", 224),
    ("resnet50_v2", "ResNet50V2", "resnet_v2", "resnet_v2", 224),
    ("resnet101_v2", "ResNet101V2", "resnet_v2", "resnet_v2", 224),
    ("resnet152_v2", "ResNet152V2", "resnet_v2", "resnet_v2", 224),
    ("vgg16", "VGG16", "vgg16", "vgg", 224),
    ("vgg19", "VGG19", "vgg19", "vgg", 224),
    ("inception_v3", "InceptionV3", "inception_v3", "inception_v3", 299),
    ("inception_resnet_v2", "InceptionResNetV2", "inception_resnet_v2", "inception_resnet_v2", 299),
    ("xception", "Xception", "xception", "xception", 299),
    ("densenet121", "DenseNet121", "densenet", "densenet", 224),
    ("densenet169", "DenseNet169", "densenet", "densenet", 224),
    ("densenet201", "DenseNet201", "densenet", "densenet", 224),
    ("efficientnet_b0", "EfficientNetB0", "efficientnet", "efficientnet", 224),
    ("efficientnet_b1", "EfficientNetB1", "efficientnet", "efficientnet", 240),
    ("efficientnet_b2", "EfficientNetB2", "efficientnet", "efficientnet", 260),
    ("efficientnet_b3", "EfficientNetB3", "efficientnet", "efficientnet", 300),
    ("efficientnet_b4", "EfficientNetB4", "efficientnet", "efficientnet", 380),
    ("efficientnet_b5", "EfficientNetB5", "efficientnet", "efficientnet", 456),
    ("efficientnet_b6", "EfficientNetB6", "efficientnet", "efficientnet", 528),
    ("efficientnet_b7", "EfficientNetB7", "efficientnet", "efficientnet", 600),
    ("efficientnet_v2_b0", "EfficientNetV2B0", "efficientnet_v2", "efficientnet_v2", 224),
    ("efficientnet_v2_b1", "EfficientNetV2B1", "efficientnet_v2", "efficientnet_v2", 240),
    ("efficientnet_v2_b2", "EfficientNetV2B2", "efficientnet_v2", "efficientnet_v2", 260),
    ("efficientnet_v2_b3", "EfficientNetV2B3", "efficientnet_v2", "efficientnet_v2", 300),
    ("efficientnet_v2_s", "EfficientNetV2S", "efficientnet_v2", "efficientnet_v2", 384),
    ("efficientnet_v2_m", "EfficientNetV2M", "efficientnet_v2", "efficientnet_v2", 480),
    ("efficientnet_v2_l", "EfficientNetV2L", "efficientnet_v2", "efficientnet_v2", 480),
    ("nasnet_mobile", "NASNetMobile", "nasnet", "nasnet", 224),
    ("nasnet_large", "NASNetLarge", "nasnet", "nasnet", 331),
    ("convnext_tiny", "ConvNeXtTiny", "convnext", "convnext", 224),
    ("convnext_small", "ConvNeXtSmall", "convnext", "convnext", 224),
    ("convnext_base", "ConvNeXtBase", "convnext", "convnext", 224),
    ("convnext_large", "ConvNeXtLarge", "convnext", "convnext", 224),
    ("convnext_xlarge", "ConvNeXtXLarge", "convnext", "convnext", 224),
]

# ImageNet top-1 accuracy (%) of the full classifier, single centre crop, and its source.
KERAS_IO = (
    "keras.io/api/applications table (keras-team/keras-io templates/api/applications/index.md, "
    "commit e7be306b7cad4726760a753c5bed90824e096b81)"
)
MOBILENET_V3_DOC = "the table in the docstring of keras/src/applications/mobilenet_v3.py (Keras 3.15)"
CONVNEXT_1K = (
    "facebookresearch/ConvNeXt README, ImageNet-1K trained, 224x224 (the checkpoints Keras converted; "
    "keras.io lists no ConvNeXt accuracy)"
)
CONVNEXT_22K = (
    "facebookresearch/ConvNeXt README, ImageNet-22K trained then ImageNet-1K fine-tuned, 224x224 "
    "(the checkpoints Keras converted; keras.io lists no ConvNeXt accuracy)"
)
TOP1 = {
    "Xception": (79.0, KERAS_IO), "VGG16": (71.3, KERAS_IO), "VGG19": (71.3, KERAS_IO),
    "ResNet50": (74.9, KERAS_IO), "ResNet50V2": (76.0, KERAS_IO), "ResNet101": (76.4, KERAS_IO),
    "ResNet101V2": (77.2, KERAS_IO), "ResNet152": (76.6, KERAS_IO), "ResNet152V2": (78.0, KERAS_IO),
    "InceptionV3": (77.9, KERAS_IO), "InceptionResNetV2": (80.3, KERAS_IO),
    "MobileNet": (70.4, KERAS_IO), "MobileNetV2": (71.3, KERAS_IO),
    "DenseNet121": (75.0, KERAS_IO), "DenseNet169": (76.2, KERAS_IO), "DenseNet201": (77.3, KERAS_IO),
    "NASNetMobile": (74.4, KERAS_IO), "NASNetLarge": (82.5, KERAS_IO),
    "EfficientNetB0": (77.1, KERAS_IO), "EfficientNetB1": (79.1, KERAS_IO), "EfficientNetB2": (80.1, KERAS_IO),
    "EfficientNetB3": (81.6, KERAS_IO), "EfficientNetB4": (82.9, KERAS_IO), "EfficientNetB5": (83.6, KERAS_IO),
    "EfficientNetB6": (84.0, KERAS_IO), "EfficientNetB7": (84.3, KERAS_IO),
    "EfficientNetV2B0": (78.7, KERAS_IO), "EfficientNetV2B1": (79.8, KERAS_IO), "EfficientNetV2B2": (80.5, KERAS_IO),
    "EfficientNetV2B3": (82.0, KERAS_IO), "EfficientNetV2S": (83.9, KERAS_IO), "EfficientNetV2M": (85.3, KERAS_IO),
    "EfficientNetV2L": (85.7, KERAS_IO),
    "MobileNetV3Small": (68.1, MOBILENET_V3_DOC), "MobileNetV3Large": (75.6, MOBILENET_V3_DOC),
    "ConvNeXtTiny": (82.1, CONVNEXT_1K), "ConvNeXtSmall": (83.1, CONVNEXT_1K),
    "ConvNeXtBase": (85.8, CONVNEXT_22K), "ConvNeXtLarge": (86.6, CONVNEXT_22K), "ConvNeXtXLarge": (87.0, CONVNEXT_22K),
}

# What the weights were trained on, where it is not plain ImageNet-1k (keras.io's ConvNeXt page:
# "The base, large, and xlarge models were first pre-trained on the ImageNet-21k dataset and then
# fine-tuned on the ImageNet-1k dataset").
TRAINED_ON_21K = {"ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"}

TITLES = {
    "mobilenet_v1": "MobileNet", "mobilenet_v2": "MobileNetV2", "mobilenet_v3": "MobileNetV3",
    "resnet": "ResNet", "resnet_v2": "ResNet v2", "vgg": "VGG", "inception_v3": "Inception v3",
    "inception_resnet_v2": "Inception-ResNet v2", "xception": "Xception", "densenet": "DenseNet",
    "efficientnet": "EfficientNet", "efficientnet_v2": "EfficientNetV2", "nasnet": "NASNet", "convnext": "ConvNeXt",
}


class Recorder:
    """Stands in for get_file and obtain_input_shape while one application is built."""

    def __init__(self):
        self.get_file_calls = []
        self.default_sizes = []

    def install(self):
        self._get_file = file_utils.get_file
        self._obtain = imagenet_utils.obtain_input_shape
        self._load_weights = Model.load_weights

        def fake_get_file(fname=None, origin=None, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__")  # the module whose code called get_file
            self.get_file_calls.append({"fname": fname, "origin": origin, "caller": caller, **kwargs})
            return os.path.join("/nonexistent-keras-cache", str(fname))

        def obtain(input_shape, default_size, *args, **kwargs):
            self.default_sizes.append(default_size)
            return self._obtain(input_shape, default_size, *args, **kwargs)

        file_utils.get_file = fake_get_file
        imagenet_utils.obtain_input_shape = obtain
        Model.load_weights = lambda model, *a, **k: None

    def uninstall(self):
        file_utils.get_file = self._get_file
        imagenet_utils.obtain_input_shape = self._obtain
        Model.load_weights = self._load_weights


def constant_sources(module, origin, file_hash):
    """Which module constants name the URL (or its folder) and the hash."""
    url_from = None
    for name in sorted(dir(module)):
        value = getattr(module, name)
        if not name.isupper() or not isinstance(value, str):
            continue
        if value == origin:
            url_from = f"{module.__name__}.{name}"
            break
        if origin.startswith(value) and value.startswith("https://") and url_from is None:
            url_from = f"{module.__name__}.{name} + file name"
    hash_from = None
    hashes = getattr(module, "WEIGHTS_HASHES", None)
    if file_hash is None:
        hash_from = "none: Keras calls get_file without a hash for this model"
    elif isinstance(hashes, dict):
        for key, pair in hashes.items():
            if file_hash in pair:
                hash_from = f"{module.__name__}.WEIGHTS_HASHES[{key!r}][{pair.index(file_hash)}]"
        if hash_from is None:
            raise SystemExit(f"{module.__name__}: hash {file_hash} is not in WEIGHTS_HASHES")
    else:
        hash_from = f"the file_hash literal of get_file in {module.__name__}"
    if url_from is None:
        raise SystemExit(f"{module.__name__}: no module constant names {origin}")
    return url_from, hash_from


def preprocessing_mode(module):
    """Which formula the module's preprocess_input applies, found by running it."""
    x = np.array([[[[0.0, 64.0, 255.0], [128.0, 200.0, 10.0]]]], dtype="float32")
    y = np.asarray(module.preprocess_input(x.copy()))
    candidates = {
        "tf": x / 127.5 - 1.0,
        "caffe": x[..., ::-1] - np.array([103.939, 116.779, 123.68], dtype="float32"),
        "torch": (x / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225]),
        "none": x,
    }
    found = [m for m, want in candidates.items() if np.allclose(y, want, atol=1e-4)]
    if len(found) != 1:
        raise SystemExit(f"{module.__name__}.preprocess_input matches {found or 'no known formula'}")
    return found[0]


def legacy_weight_order(model):
    """[layer name, [weight shapes]] for each layer with weights, in model.layers order:
    what keras.src.legacy.saving.legacy_h5_format.load_weights_from_hdf5_group pairs, by
    position, with the h5 file's layer groups that have weights (the layer's trainable, then
    non-trainable weights). A nested model (ConvNeXt's stem and downsampling blocks are
    Sequential models) is one such layer; a third element then says which of its leaf
    layers owns each weight ("stem/stem_conv"), which is how its inlined layers are named."""
    out = []
    for layer in model.layers:
        weights = layer.trainable_weights + layer.non_trainable_weights
        if not weights:
            continue
        owners = weight_owners(layer, by_path=True)
        item = [layer.name, [list(w.shape) for w in weights]]
        paths = [owners.get(id(w), layer.name) for w in weights]
        if any(p != layer.name for p in paths):
            item.append(paths)
        out.append(item)
    return out


def build(constructor, size, recorder):
    keras.backend.clear_session()  # layer auto-names (conv2d_3, activation_17) start afresh
    recorder.get_file_calls.clear()
    recorder.default_sizes.clear()
    fn = getattr(keras.applications, constructor)
    return fn(include_top=False, weights="imagenet", input_shape=(size, size, 3))


def weights_source(constructor, size, recorder):
    """Where Keras would download the weights from, read from its one get_file call while the
    model was built, with which module constants say so, and where the input size comes from."""
    if len(recorder.get_file_calls) != 1:
        raise SystemExit(f"{constructor}: expected one get_file call, saw {recorder.get_file_calls}")
    call = recorder.get_file_calls[0]
    origin, fname, file_hash = call["origin"], call["fname"], call.get("file_hash")
    if call.get("cache_subdir") != "models":
        raise SystemExit(f"{constructor}: get_file cache_subdir {call.get('cache_subdir')!r}, expected 'models'")
    algorithm = None if file_hash is None else file_utils.resolve_hasher("auto", file_hash).name
    # ResNetV2 builds through keras.src.applications.resnet: its constants are there.
    url_from, hash_from = constant_sources(importlib.import_module(call["caller"]), origin, file_hash)
    if recorder.default_sizes:
        if recorder.default_sizes[0] != size:
            raise SystemExit(f"{constructor}: Keras's default_size is {recorder.default_sizes[0]}, the table says {size}")
        size_from = f"default_size={size} passed to imagenet_utils.obtain_input_shape"
    else:
        size_from = "Keras has no default_size for it; its ImageNet checkpoints are 224x224"
    weights = {"url": origin, "fileName": fname, "hash": file_hash, "hashAlgorithm": algorithm}
    return weights, {"url": url_from, "hash": hash_from}, size_from


def write_topology(out_media, app_id, constructor, size, model):
    """media/keras-applications/<id>.json.gz: the config and legacy weight order, gzipped
    without a timestamp; returns the weight order, the JSON's and the file's bytes."""
    order = legacy_weight_order(model)
    topology = {
        "format": "transfer-lab.keras-application-topology",
        "schemaVersion": SCHEMA_VERSION,
        "id": app_id,
        "constructor": f"keras.applications.{constructor}(include_top=False, weights='imagenet', input_shape=({size}, {size}, 3))",
        "kerasVersion": keras.__version__,
        "modelTopology": json.loads(model.to_json()),
        "legacyWeightOrder": order,
    }
    raw = json.dumps(topology, separators=(",", ":")).encode("utf8")
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    with open(os.path.join(out_media, f"{app_id}.json.gz"), "wb") as f:
        f.write(packed)
    return order, raw, packed


def catalog_entry(application, recorder, out_media):
    """Builds one application and writes its topology; its record in kerasApplications.json."""
    t0 = time.time()
    app_id, constructor, module_name, family, size = application
    module = importlib.import_module(f"keras.src.applications.{module_name}")
    model = build(constructor, size, recorder)
    weights, weights_from, size_from = weights_source(constructor, size, recorder)
    order, raw, packed = write_topology(out_media, app_id, constructor, size, model)
    params = int(model.count_params())
    top1, top1_from = TOP1[constructor]
    entry = {
        "id": app_id,
        "title": f"{constructor} (Keras Applications, no top) at {size}x{size}",
        "family": family,
        "familyTitle": TITLES[family],
        "constructorName": constructor,
        "kerasModule": f"keras.src.applications.{module_name}",
        "inputSize": [size, size, 3],
        "inputSizeFrom": size_from,
        "params": params,
        "layers": len(model.layers),
        "featureShape": [int(d) for d in model.output.shape[1:]],
        "defaultCut": model.layers[-1].name,
        "weights": weights,
        "weightsFrom": weights_from,
        "weightArrays": sum(len(item[1]) for item in order),
        "weightedLayers": len(order),
        "downloadMB": round(params * 4 / 1e6, 1),
        "preprocessing": preprocessing_mode(module),
        "preprocessingFrom": f"{module.__name__}.preprocess_input, run on a probe array",
        "imagenetTop1": top1,
        "imagenetTop1From": top1_from,
        "trainedOn": "imagenet-21k+1k" if constructor in TRAINED_ON_21K else "imagenet-1k",
        "topology": f"media/keras-applications/{app_id}.json.gz",
        "topologySha256": hashlib.sha256(packed).hexdigest(),
        "topologyBytes": len(packed),
    }
    print(f"{app_id:22s} {constructor:18s} {size:4d} {params:>11,d} params {len(model.layers):4d} layers "
          f"{len(raw) / 1e3:7.0f} kB json {len(packed) / 1e3:6.1f} kB gz  {time.time() - t0:5.1f} s", file=sys.stderr)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-media", default=os.path.join(ROOT, "media", "keras-applications"))
    ap.add_argument("--out-data", default=os.path.join(ROOT, "src", "core", "kerasApplications.json"))
    ap.add_argument("--only", nargs="*", help="ids to generate (default: all; the data file then lists only these)")
    args = ap.parse_args()
    os.makedirs(args.out_media, exist_ok=True)
    with open(__file__, "rb") as f:
        script_sha = hashlib.sha256(f.read()).hexdigest()

    recorder = Recorder()
    recorder.install()
    t_all = time.time()
    try:
        entries = [catalog_entry(a, recorder, args.out_media) for a in APPLICATIONS if not args.only or a[0] in args.only]
    finally:
        recorder.uninstall()

    data = {
        "_generated": "by scripts/keras-applications/make_catalog.py (node scripts/keras-applications/make-catalog.mjs); do not edit",
        "schemaVersion": SCHEMA_VERSION,
        "generator": {"script": "scripts/keras-applications/make_catalog.py", "sha256": script_sha},
        "versions": {"keras": keras.__version__, "tensorflow": _tf_version(), "python": sys.version.split()[0]},
        "entries": entries,
    }
    with open(args.out_data, "w", encoding="utf8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    total = sum(e["topologyBytes"] for e in entries)
    print(f"{len(entries)} entries, {total / 1e6:.2f} MB of topologies, {time.time() - t_all:.0f} s", file=sys.stderr)


def _tf_version():
    try:
        import tensorflow as tf

        return tf.__version__
    except ImportError:
        return None


if __name__ == "__main__":
    main()
