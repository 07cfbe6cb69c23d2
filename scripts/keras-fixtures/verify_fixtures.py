"""Checks a fixtures folder made by make_fixtures.py with Keras itself: every .keras and .h5
reloads and reproduces the recorded outputs; both weights-only files load into the
architecture and do too; the TF.js weights (shards + weightsManifest) hold exactly the
arrays of the file they were made from, and those of tfjs_from_h5, assigned by name,
reproduce the outputs.

    python verify_fixtures.py DIR [--only id,id,big]
"""

import argparse
import importlib
import io
import json
import os
import sys
import time
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")
sys.dont_write_bytecode = True  # no __pycache__ in scripts/keras-fixtures
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_layers import leaf_layers  # noqa: E402


def raw(root, ref):
    return np.fromfile(os.path.join(root, ref["file"]), dtype=np.dtype(ref["dtype"]).newbyteorder("<")).reshape(ref["shape"])


def tfjs_arrays(model_json_path):
    d = os.path.dirname(model_json_path)
    mj = json.load(open(model_json_path))
    out = {}
    for group in mj["weightsManifest"]:
        buf = b"".join(open(os.path.join(d, p), "rb").read() for p in group["paths"])
        at = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            dt = np.dtype(w["dtype"]).newbyteorder("<")
            out[w["name"]] = np.frombuffer(buf, dt, n, at).reshape(w["shape"])
            at += n * dt.itemsize
        assert at == len(buf), f"{model_json_path}: {len(buf) - at} bytes not described by the manifest"
    return mj, out


def model_inputs(root, man, m):
    """The recorded inputs, preprocessed as the model's module does, and the recorded outputs."""
    pre = getattr(keras.applications, m["module"]).preprocess_input
    modes = ["pixels"] + list(man["resizeModes"])
    inputs = [raw(root, man["pixels"]).astype(np.float32)] + [raw(root, man["resizeModes"][k]["pixels"]) for k in man["resizeModes"]]
    x = np.concatenate([pre(a.copy()) for a in inputs])
    want = np.concatenate([raw(root, m["outputs"][k]) for k in modes])
    return x, want, len(inputs[0])


def load_h5(m, path, results):
    """The full-model .h5 reloaded (None where Keras cannot), checking that against the manifest's kerasReloadsH5."""
    custom = {}
    for qual in m["customLayerClasses"]:
        mod, _, cls = qual.rpartition(".")
        if not mod.startswith("keras.src.ops."):
            custom[cls] = getattr(importlib.import_module(mod), cls)
    try:
        h5m = keras.models.load_model(path, custom_objects=custom)
    except Exception as e:  # expected where the manifest says Keras cannot reload it
        if m["kerasReloadsH5"]:
            results["h5 UNEXPECTEDLY unloadable"] = 1.0
        else:
            results["h5 unloadable as expected"] = 0.0
        print(f"     {m['id']}: Keras cannot reload model.h5: {type(e).__name__}: {str(e)[:120]}")
        return None
    if not m["kerasReloadsH5"]:
        results["h5 reloads although the manifest says not"] = 1.0
    return h5m


def check_tfjs_from_keras(f):
    """TF.js from .keras: every array is the .keras weights file's dataset at that path."""
    _, tk = tfjs_arrays(f("tfjsFromKeras"))
    with zipfile.ZipFile(f("keras")) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as h5:
        n_ds = []
        h5.visititems(lambda name, o: n_ds.append(name) if isinstance(o, h5py.Dataset) else None)
        assert sorted(n_ds) == sorted(tk), "tfjs_from_keras names differ from the .keras datasets"
        assert all(np.array_equal(np.asarray(h5[n]).astype(tk[n].dtype), tk[n]) for n in tk), "tfjs_from_keras values differ"


def model_from_tfjs_h5(f):
    """The .keras architecture with the weights of tfjs_from_h5 (names are Keras 3 variable paths), assigned by name."""
    _, th = tfjs_arrays(f("tfjsFromH5"))
    fresh = keras.models.load_model(f("keras"))
    # Keras 3 variable paths carry the name scopes the model was built under and global
    # counters, which a reloaded model does not repeat: the saved
    # "mobilenet_v2_nested/dense/kernel" is "dense/kernel" after reloading, NASNet's
    # "normal_A_block_0/adjust_block/adjust_reduction_block_0/adjust_bn_0/gamma" is
    # "adjust_bn_0/gamma", ConvNeXt's ".._layer_scale/variable_3" another variable_<n>.
    # The part before the last is the layer's name: match per layer, in legacy order.
    saved = {}
    for name, arr in th.items():
        saved.setdefault(name.split("/")[-2], []).append(arr)
    leaves = {l.name: l.trainable_weights + l.non_trainable_weights for l in leaf_layers(fresh) if l.weights}
    assert saved.keys() == leaves.keys(), f"tfjs_from_h5 layers differ: {sorted(saved.keys() ^ leaves.keys())[:5]}"
    for lname, arrs in saved.items():
        assert [tuple(a.shape) for a in arrs] == [tuple(v.shape) for v in leaves[lname]], f"{lname}: shapes differ"
        for v, a in zip(leaves[lname], arrs):
            v.assign(a)
    return fresh


def verify_model(root, man, m):
    """Max |diff| / max |output| of each file's (and the cut's) outputs against the recorded ones."""
    keras.backend.clear_session()
    x, want, n_pixels = model_inputs(root, man, m)
    scale = float(np.abs(want).max()) or 1.0
    results = {}

    def check(name, model):
        got = model.predict(x, batch_size=len(x), verbose=0)
        results[name] = float(np.abs(got - want).max() / scale)

    f = lambda k: os.path.join(root, m["files"][k])
    km = keras.models.load_model(f("keras"))
    check("keras", km)
    h5m = load_h5(m, f("h5"), results)
    if h5m is not None:
        check("h5", h5m)
    for key in ("weightsH5", "keras2WeightsH5"):
        fresh = keras.models.load_model(f("keras"))
        for v in fresh.weights:
            v.assign(np.zeros(v.shape, v.dtype))
        fresh.load_weights(f(key))
        check(key, fresh)
    check_tfjs_from_keras(f)
    check("tfjsFromH5", model_from_tfjs_h5(f))
    if "cutOutputs" in m:
        cut = km.get_layer(m["cutOutputs"]["layer"])
        sub = cut if m["variant"] == "nested" else keras.Model(km.inputs, cut.output)
        got = sub.predict(x[:n_pixels], verbose=0)
        w = raw(root, m["cutOutputs"]["pixels"])
        results["cut"] = float(np.abs(got - w).max() / (np.abs(w).max() or 1))
    return results


def verify_big(root, big):
    """Whether big.weights.h5 holds as many values as the manifest's parameter count."""
    with h5py.File(os.path.join(root, big["file"]), "r") as h5:
        n = []
        h5.visititems(lambda name, o: n.append(o.size) if isinstance(o, h5py.Dataset) else None)
    print(f"big.weights.h5: {big['bytes'] / 1e6:.1f} MB, {len(n)} arrays, {sum(n):,} values (params {big['params']['total']:,})")
    return sum(n) == big["params"]["total"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--only")
    args = ap.parse_args()
    root = args.root
    man = json.load(open(os.path.join(root, "manifest.json")))
    only = set(args.only.split(",")) if args.only else None
    failures = 0
    for m in man["models"]:
        if only and m["id"] not in only:
            continue
        t0 = time.time()
        results = verify_model(root, man, m)
        worst = max(results.values())
        ok = worst < 1e-4
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {m['id']:22s} max |diff|/max|out|: " + ", ".join(f"{k} {v:.1e}" for k, v in results.items()) + f"  ({time.time() - t0:.1f} s)", flush=True)
    big = man.get("bigWeights")
    if big and (not only or "big" in only):
        failures += not verify_big(root, big)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
