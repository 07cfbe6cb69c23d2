"""Walking a Keras model down to its leaves: one definition for the fixture generator, its
verifier, the Keras-2 weights writer and the Keras Applications catalog generator
(scripts/keras-applications/make_catalog.py puts this folder on sys.path).

A nested model (Sequential or Functional used as a layer) lists its sub-layers in `.layers`;
a leaf is a layer without any. Functional models also apply ops to Keras tensors (`x + y`
makes a keras.src.ops.numpy.Add) that `.layers` does not list but `.operations` does.
"""


def leaf_paths(layer, path, operations=False):
    """(leaf, "outer/inner/leaf" path) for each leaf under layer, in order, path starting at
    `path` (the layer's own name, usually). operations: walk `.operations` where a model has
    them, so ops applied to Keras tensors are leaves too."""
    subs = (getattr(layer, "operations", None) if operations else None) or getattr(layer, "layers", None)
    if not subs:
        return [(layer, path)]
    return [leaf for sub in subs for leaf in leaf_paths(sub, f"{path}/{sub.name}", operations)]


def leaf_layers(layer):
    """The leaf layers under layer (itself when it has no sub-layers), in order."""
    return [leaf for leaf, _ in leaf_paths(layer, layer.name)]


def leaf_operations(op):
    """Like leaf_layers, but also the ops applied to Keras tensors inside Functional models."""
    return [leaf for leaf, _ in leaf_paths(op, op.name, operations=True)]


def weight_owners(layer, by_path=False):
    """id(variable) -> the name (by_path: the "outer/inner/leaf" path) of the first leaf under
    layer that holds it: a variable shared by two leaves belongs to the first."""
    owners = {}
    for leaf, path in leaf_paths(layer, layer.name):
        for w in leaf.weights:
            owners.setdefault(id(w), path if by_path else leaf.name)
    return owners
