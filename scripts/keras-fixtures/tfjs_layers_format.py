"""TF.js layers-model artefacts (model.json + groupG-shardNofM.bin), written from a saved
Keras file the way `tensorflowjs_converter` 4.22 lays them out. The converter cannot be
installed on our machines (no `tensorflowjs` wheel), so this is our own code, written from
a reading of tfjs-converter/python/tensorflowjs (tag tfjs-v4.22.0):

  --input_format=keras_keras (a Keras 3 `.keras` zip), converters/converter.py
    dispatch_keras_keras_to_tfjs_layers_model_conversion +
    keras_h5_conversion.h5_v3_merged_saved_model_to_tfjs_format:
      modelTopology = {keras_version (from metadata.json), model_config (config.json with
      every "module", "registered_name" and "date_saved" key removed, at any depth)};
      no "backend" key. Weights: the zip's model.weights.h5 walked depth-first in h5py key
      order (alphabetical: "batch_normalization", "batch_normalization_1",
      "batch_normalization_10", ...); a group holding datasets gives one entry per dataset,
      named by its path from the file root, e.g. "layers/batch_normalization/vars/0".
      Everything in the file is taken, optimizer variables ("optimizer/vars/0") included.
  --input_format=keras (an HDF5 file), dispatch_keras_h5_to_tfjs_layers_model_conversion:
      a full model (`model.save('x.h5')`): modelTopology = {keras_version, backend,
      model_config, training_config (when the file has one)}, from the root attributes;
      weights from the groups of "model_weights" in h5py key order (not the layer_names
      attribute order), each group's datasets in its "weight_names" order, named by the
      weight name with a trailing ":0" removed (e.g. "Conv1/kernel"). Optimizer weights are
      not taken.
      A weights-only file (root attribute "layer_names"): modelTopology null, groups in
      layer_names order.
  write_artifacts + write_weights: one weight group; its arrays' bytes concatenated
      (C order, little-endian) and cut into 4 MiB shards "group1-shard1of2.bin", ...;
      float64 -> float32, int64 -> int32, float16 -> float32 first; model.json =
      {format: "layers-model", generatedBy: "keras v<keras_version>" (null without
      topology), convertedBy: "TensorFlow.js Converter v4.22.0", modelTopology,
      weightsManifest: [{paths, weights: [{name, shape, dtype}]}]}, written by json.dump
      with Python's default separators.
"""

import io
import json
import math
import os
import zipfile

import h5py
import numpy as np

CONVERTER_VERSION = "4.22.0"
SHARD_BYTES = 4 * 1024 * 1024
_V3_DROPPED_KEYS = ("module", "registered_name", "date_saved")
# tf 1.13-era serialisations; the converter renames them (a no-op for Keras 3 files).
_CLASS_RENAMES = {"BatchNormalizationV1": "BatchNormalization", "UnifiedGRU": "GRU", "UnifiedLSTM": "LSTM"}
_DTYPE_WIDENING = {np.dtype(np.float16): np.float32, np.dtype(np.float64): np.float32, np.dtype(np.int64): np.int32, np.dtype(np.complex128): np.complex64}
_WRITABLE = {np.dtype(t) for t in (np.float32, np.int32, np.uint8, np.uint16, np.complex64, np.bool_)}


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _json(v):
    return v if isinstance(v, dict) else json.loads(_text(v))


def _without_keys(node, keys):
    if isinstance(node, dict):
        return {k: _without_keys(v, keys) for k, v in node.items() if k not in keys}
    if isinstance(node, list):
        return [_without_keys(v, keys) for v in node]
    return node


def _renamed_classes(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            out[k] = _CLASS_RENAMES.get(v, v) if k == "class_name" and isinstance(v, str) else _renamed_classes(v)
        return out
    if isinstance(node, list):
        return [_renamed_classes(v) for v in node]
    return node


def _v3_weight_entries(group, prefix=""):
    """Depth-first over a Keras 3 weights file: each group whose members are datasets
    yields them all, named by their path from the root."""
    entries = []
    keys = list(group.keys())
    if any(isinstance(group[k], h5py.Dataset) for k in keys):
        return [(prefix + k, np.array(group[k])) for k in keys]
    for k in keys:
        entries += _v3_weight_entries(group[k], prefix + k + "/")
    return entries


def _attr_list(attrs, name):
    """A list attribute as Keras writes it, also when split into name0, name1, ..."""
    if name in attrs:
        return [_text(n) for n in attrs[name]]
    out, i = [], 0
    while f"{name}{i}" in attrs:
        out += [_text(n) for n in attrs[f"{name}{i}"]]
        i += 1
    return out


def _h5_layer_entries(layer_group):
    """One layer group of a legacy HDF5 file: its datasets in weight_names order; a group
    without weight_names is a namespace level, searched below."""
    if "weight_names" in layer_group.attrs:
        names = _attr_list(layer_group.attrs, "weight_names")
        return [(n[:-2] if n.endswith(":0") else n, np.array(layer_group[n])) for n in names]
    entries = []
    for k in layer_group.keys():
        entries += _h5_layer_entries(layer_group[k])
    return entries


def write_artifacts(topology, entries, out_dir, shard_bytes=SHARD_BYTES):
    """Writes model.json and the shards of one weight group; returns the model.json dict."""
    os.makedirs(out_dir, exist_ok=True)
    seen, blobs, manifest_weights = set(), [], []
    for name, data in entries:
        if name in seen:
            raise ValueError(f"duplicate weight name {name}")
        seen.add(name)
        if data.dtype in _DTYPE_WIDENING:
            data = data.astype(_DTYPE_WIDENING[data.dtype])
        if data.dtype not in _WRITABLE:
            raise ValueError(f"weight {name}: dtype {data.dtype} is not one TF.js weights can hold")
        blobs.append(np.ascontiguousarray(data).astype(data.dtype.newbyteorder("<"), copy=False).tobytes())
        manifest_weights.append({"name": name, "shape": list(data.shape), "dtype": "bool" if data.dtype == np.bool_ else data.dtype.name})
    payload = b"".join(blobs)
    n_shards = max(1, math.ceil(len(payload) / shard_bytes)) if payload else 0
    paths = []
    for i in range(n_shards):
        fname = f"group1-shard{i + 1}of{n_shards}.bin"
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(payload[i * shard_bytes:(i + 1) * shard_bytes])
        paths.append(fname)
    model_json = {
        "format": "layers-model",
        "generatedBy": f"keras v{topology['keras_version']}" if topology and "keras_version" in topology else None,
        "convertedBy": f"TensorFlow.js Converter v{CONVERTER_VERSION}",
        "modelTopology": topology or None,
        "weightsManifest": [{"paths": paths, "weights": manifest_weights}],
    }
    with open(os.path.join(out_dir, "model.json"), "wt") as f:
        json.dump(model_json, f)
    return model_json


def from_keras_zip(keras_path, out_dir):
    """`tensorflowjs_converter --input_format=keras_keras model.keras out_dir`."""
    with zipfile.ZipFile(keras_path, "r") as z:
        config = json.loads(z.read("config.json"))
        metadata = json.loads(z.read("metadata.json"))
        weights_bytes = z.read("model.weights.h5")
    topology = {"keras_version": metadata["keras_version"], "model_config": _renamed_classes(_without_keys(config, _V3_DROPPED_KEYS))}
    with h5py.File(io.BytesIO(weights_bytes), "r") as h5:
        if "training_config" in h5.attrs:
            topology["training_config"] = _json(h5.attrs["training_config"])
        entries = _v3_weight_entries(h5)
    return write_artifacts(topology, entries, out_dir)


def from_h5(h5_path, out_dir):
    """`tensorflowjs_converter --input_format=keras model.h5 out_dir` (full model or weights only)."""
    with h5py.File(h5_path, "r") as h5:
        entries = []
        if "layer_names" in h5.attrs:
            topology = None
            for layer in _attr_list(h5.attrs, "layer_names"):
                entries += _h5_layer_entries(h5[layer])
        else:
            topology = {"keras_version": _text(h5.attrs["keras_version"]), "backend": _text(h5.attrs["backend"]), "model_config": _renamed_classes(_json(h5.attrs["model_config"]))}
            if "training_config" in h5.attrs:
                topology["training_config"] = _json(h5.attrs["training_config"])
            mw = h5["model_weights"]
            for layer in mw.keys():
                entries += _h5_layer_entries(mw[layer])
    return write_artifacts(topology, entries, out_dir)
