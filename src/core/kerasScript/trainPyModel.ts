// train.py's model: the backbone (Keras Applications, a Keras file, or a TF.js layers model rebuilt in Keras), the cut, freeze policy, head and the two-rate train step.
// Python, kept as Python text (String.raw: backslashes stay as written); trainPy.ts joins the parts.
export const TRAIN_PY_MODEL = String.raw`# --- Backbone: Keras Applications, a Keras file, or a TF.js layers model rebuilt here ----------


def tfjs_layers_model(folder, load_weights):
    """Rebuilds a TF.js layers model (model.json + weight shards) as a Keras 3 functional model.

    TF.js writes Keras's own layer configs, so each layer is Keras's class from its config;
    the weights are float32 arrays in manifest order, matched to layers by name.
    """
    spec = read_json(os.path.join(folder, "model.json"))
    topology = spec["modelTopology"]
    topology = topology.get("model_config", topology)
    config = topology["config"]
    tensors = {}
    for entry in config["layers"]:
        cls, conf = entry["class_name"], dict(entry["config"])
        name = conf["name"]
        if cls == "InputLayer":
            shape = conf.get("batch_input_shape") or conf.get("batch_shape")
            tensors[name] = keras.Input(shape=tuple(shape[1:]), name=name)
            continue
        conf.pop("batch_input_shape", None)
        try:
            layer = getattr(keras.layers, cls).from_config(conf)
        except Exception as e:
            raise SystemExit(f"{folder}/model.json: layer {name} ({cls}) has no Keras 3 equivalent here ({e})")
        inbound = [tensors[node[0]] for node in entry["inbound_nodes"][0]]
        tensors[name] = layer(inbound[0] if len(inbound) == 1 else inbound)
    outputs = [tensors[o[0]] for o in config["output_layers"]]
    inputs = [tensors[i[0]] for i in config["input_layers"]]
    model = keras.Model(inputs[0], outputs[0] if len(outputs) == 1 else outputs, name=config.get("name", "backbone"))
    if load_weights:
        set_tfjs_weights(model, folder, spec["weightsManifest"])
    return model


def set_tfjs_weights(model, folder, manifest):
    values = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise SystemExit(f"{folder}/model.json: weight {w['name']} is not plain float32; this loader reads float32 weights only")
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            values[w["name"]] = np.frombuffer(data, np.float32, count, offset).reshape(w["shape"])
            offset += 4 * count
    used = set()
    for layer in model.layers:
        for var in layer.weights:
            names = [f"{layer.name}/{var.name}"] + ([f"{layer.name}/depthwise_kernel"] if var.name == "kernel" else [])
            key = next((n for n in names if n in values), None)
            if key is None:
                raise SystemExit(f"{folder}: no weight for {layer.name}/{var.name} in the manifest")
            var.assign(values[key])
            used.add(key)
    unused = sorted(set(values) - used)
    if unused:
        raise SystemExit(f"{folder}: weights in the manifest that no layer takes: {', '.join(unused[:5])}")


def load_backbone(job):
    """The backbone as the experiment names it; from scratch, the same architecture with fresh weights."""
    b = job["backbone"]
    pretrained = job["config"]["strategy"]["kind"] != "scratch"
    if b["kind"] == "keras-application":
        ctor = getattr(keras.applications, b["constructor"])
        return ctor(include_top=False, weights="imagenet" if pretrained else None, input_shape=tuple(job["inputSize"]))
    if b["kind"] == "keras-file":
        model = keras.models.load_model(b["path"], compile=False)
        return model if pretrained else keras.models.clone_model(model)
    return tfjs_layers_model(os.path.join(HERE, b["dir"]), pretrained)


def cut(base, cut_at):
    """The base up to cutAt (the layer whose output the head takes)."""
    if not cut_at:
        # As Transfer Lab does without a cutAt: the last layer before the classifier head.
        head = (keras.layers.Dense, keras.layers.Dropout, keras.layers.Activation, keras.layers.Softmax, keras.layers.Flatten,
                keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D, keras.layers.Reshape)
        layers = list(base.layers)
        while len(layers) > 2 and isinstance(layers[-1], head):
            layers.pop()
        if layers[-1] is base.layers[-1]:
            return base
        cut_at = layers[-1].name
    try:
        layer = base.get_layer(cut_at)
    except ValueError:
        raise SystemExit(f"backbone.cutAt: the backbone has no layer {cut_at!r}; pick one of its layers (model.summary())")
    return keras.Model(base.inputs, layer.output, name="base")


def set_trainable(base, strategy):
    """Which base layers train: none (feature extraction, and fine-tune before it unfreezes), from a layer on, the last N, or all (scratch)."""
    kind = strategy["kind"]
    if kind == "scratch":
        base.trainable = True
        return [l.name for l in base.layers]
    base.trainable = True
    names = [l.name for l in base.layers]
    if strategy.get("unfreezeFrom"):
        if strategy["unfreezeFrom"] not in names:
            raise SystemExit(f"strategy.unfreezeFrom: the cut backbone has no layer {strategy['unfreezeFrom']!r}")
        first = names.index(strategy["unfreezeFrom"])
    else:
        first = max(0, len(names) - int(strategy.get("unfreezeLast") or len(names)))
    for i, layer in enumerate(base.layers):
        layer.trainable = i >= first
    return names[first:]


def build_head(features, head, classes, seed):
    """pooling -> (dropout, dense relu)* -> dropout -> softmax, with Transfer Lab's layer names."""
    init = lambda k: keras.initializers.GlorotUniform(seed=seed + k)  # noqa: E731
    x = features
    if len(features.shape) == 4:
        pool = {"max": keras.layers.GlobalMaxPooling2D, "flatten": keras.layers.Flatten}.get(head["pooling"], keras.layers.GlobalAveragePooling2D)
        x = pool(name="head_pool")(x)
    elif len(features.shape) != 2:
        x = keras.layers.Flatten(name="head_pool")(x)
    for i, units in enumerate(head["dense"], start=1):
        if head["dropout"] > 0:
            x = keras.layers.Dropout(head["dropout"], seed=seed + 100 + i, name=f"head_dropout_{i}")(x)
        x = keras.layers.Dense(units, activation="relu", kernel_initializer=init(i), name=f"head_dense_{i}")(x)
    if head["dropout"] > 0:
        x = keras.layers.Dropout(head["dropout"], seed=seed + 100, name="head_dropout")(x)
    return keras.layers.Dense(classes, activation="softmax", kernel_initializer=init(0), name="head_predictions")(x)


class TwoRateModel(keras.Model):
    """The head trains with the compiled optimizer, the base with its own (fine-tune's baseLearningRate).

    Keras has one optimizer per model; this train_step is Keras's own, with the gradients of
    the base's variables sent to the second optimizer.
    """

    base_optimizer = None
    base_ids = frozenset()
    sample_batch = None

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 builds the compiled loss and metrics from the first distributed batch,
        # reduced with strategy.reduce, which MultiWorkerMirroredStrategy refuses in eager
        # mode; one local batch builds them the same way.
        if iterator is not None and self.sample_batch is not None:
            return super()._maybe_symbolic_build(data_batch=self.sample_batch)
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        head = [(g, v) for g, v in zip(grads, variables) if id(v) not in self.base_ids]
        base = [(g, v) for g, v in zip(grads, variables) if id(v) in self.base_ids]
        self.optimizer.apply([g for g, _ in head], [v for _, v in head])
        if base:
            optimizer = self.base_optimizer or self.optimizer
            optimizer.apply([g for g, _ in base], [v for _, v in base])
        for metric in self.metrics:
            if metric.name == "loss":
                # compute_loss divides by the replicas (their gradients are summed); the logged loss is the batch's.
                metric.update_state(loss * tf.distribute.get_strategy().num_replicas_in_sync)
            else:
                metric.update_state(y, y_pred)
        return self.replica_logs({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        return self.replica_logs(super().test_step(data))

    multi_worker = False

    def replica_logs(self, logs):
        # Keras 3.15 averages each worker's logs with strategy.reduce(axis=0), which needs a
        # batch axis: under MultiWorkerMirroredStrategy each value gets one (the mean is the value).
        return tf.nest.map_structure(lambda v: tf.reshape(v, [1]), logs) if self.multi_worker else logs


def make_optimizer(train, rate):
    if train["optimizer"] == "sgd":
        return keras.optimizers.SGD(rate, momentum=train["momentum"])
    if train["optimizer"] == "rmsprop":
        return keras.optimizers.RMSprop(rate, momentum=train["momentum"])
    return keras.optimizers.Adam(rate)


def build_model(job, classes):
    """Input -> cut base (BatchNorm in inference mode unless from scratch, the Keras rule) -> head."""
    seed = job["config"]["train"]["seed"]
    base = cut(load_backbone(job), job["cutAt"])
    if job["inputSize"] is None:  # a Keras file: its own input size
        job["inputSize"] = [int(d) for d in base.input_shape[1:]]
    strategy = job["config"]["strategy"]
    base.trainable = strategy["kind"] == "scratch"
    inputs = keras.Input(shape=tuple(job["inputSize"]), name="input")
    features = base(inputs, training=None if strategy["kind"] == "scratch" else False)
    outputs = build_head(features, job["config"]["head"], classes, seed)
    return TwoRateModel(inputs, outputs, name="transfer_lab"), base
`;
