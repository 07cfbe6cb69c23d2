"""A weights-only HDF5 file in the layout Keras 2 `model.save_weights('x.h5')` wrote, which
is the layout of the Keras Applications ImageNet weight files users download
(e.g. resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5):

  root attributes: layer_names (fixed-length byte strings, every layer of model.layers in
  order, weightless ones included), backend (b"tensorflow"), keras_version (bytes);
  one group per layer, named after it, with attribute weight_names: the layer's weights in
  legacy order (trainable, then non-trainable), each "<owning layer>/<variable>:0"; an
  empty float64 array for a layer without weights (what h5py makes of an empty list);
  each weight a dataset at <layer group>/<weight name>, the "/" making nested groups
  (e.g. conv1_conv/conv1_conv/kernel:0).

Keras 3 reads such a file with `model.load_weights(path)` when the name ends in ".h5" but
not ".weights.h5" (legacy_h5_format.load_weights_from_hdf5_group, by layer order).
"""

import h5py
import numpy as np

from keras_layers import weight_owners

KERAS2_VERSION = "2.15.0"  # the last Keras 2; what the file says it was written by


def save_keras2_weights(model, path):
    owner = weight_owners(model)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([l.name.encode("utf8") for l in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION.encode("utf8")
        for layer in model.layers:
            g = f.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{owner.get(id(w), layer.name)}/{w.name}:0".encode("utf8") for w in weights]
            g.attrs["weight_names"] = np.array(names) if names else np.array([], dtype=np.float64)
            for name, w in zip(names, weights):
                g.create_dataset(name.decode("utf8"), data=np.asarray(w.numpy()))
