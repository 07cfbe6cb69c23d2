// train.py's run folder writer (run.json, metrics.jsonl, eval.json, log.txt), the schedule, the epoch callback (checkpoint, early stopping) and the evaluation.
// Python, kept as Python text (String.raw: backslashes stay as written); trainPy.ts joins the parts.
export const TRAIN_PY_RUN_FOLDER = String.raw`# --- The run folder: run.json, metrics.jsonl, eval.json, log.txt, model/ ------------------------


class RunFolder:
    """Writes a Transfer Lab run folder (only the chief writes; other workers keep quiet)."""

    def __init__(self, runs_dir, job, record_extra, write):
        self.write = write
        started = time.localtime()
        self.started = time.time()
        run_id = f"{time.strftime('%Y%m%d-%H%M%S', started)}-{job['slug']}-{secrets.token_hex(2)}"
        self.dir = os.path.join(runs_dir, run_id)
        self.record = {
            "format": "transfer-lab-run",
            "version": 1,
            "id": run_id,
            "experiment": job["experiment"],
            "status": "running",
            "config": job["config"],
            "skipped": [],
            "timings": {"startedAt": iso(self.started)},
            "metrics": {},
            "pid": os.getpid(),
            "host": socket.gethostname(),
            **record_extra,
        }
        if write:
            os.makedirs(self.dir)
            open(os.path.join(self.dir, "metrics.jsonl"), "w").close()
            self.update({})

    def update(self, patch):
        timings = {**self.record["timings"], **patch.pop("timings", {})}
        self.record.update(patch)
        self.record["timings"] = timings
        self.write_json("run.json", self.record)

    def write_json(self, name, value):
        if not self.write:
            return
        tmp = os.path.join(self.dir, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(finite(value), indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.dir, name))

    def append_metric(self, record):
        if self.write:
            with open(os.path.join(self.dir, "metrics.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(finite(record)) + "\n")

    def log(self, line):
        print(line, flush=True)
        if self.write:
            with open(os.path.join(self.dir, "log.txt"), "a", encoding="utf-8") as f:
                f.write(f"{iso(time.time())} {line}\n")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def finite(v):
    """NaN and infinities as null, as Transfer Lab's JSON writer does."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite(x) for x in v]
    return v


def schedule_factor(schedule, epoch, epochs, base_rate):
    """Learning-rate multiplier for a 0-based epoch, as Transfer Lab's trainer computes it."""
    if schedule["kind"] == "step":
        return schedule["factor"] ** (epoch // max(1, schedule["every"]))
    if schedule["kind"] == "cosine":
        floor = min(1.0, (schedule.get("minLearningRate") or 0) / base_rate)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * epoch / max(1, epochs)))
    return 1.0


class Progress(keras.callbacks.Callback):
    """Per epoch: the learning rates, a metrics.jsonl line, the best checkpoint (kept in memory), early stopping."""

    def __init__(self, job, run, steps, images, head_opt, base_opt):
        super().__init__()
        self.train = job["config"]["train"]
        self.base_lr = job["config"]["strategy"].get("baseLearningRate", self.train["learningRate"])
        self.run, self.steps, self.images = run, steps, images
        self.head_opt, self.base_opt = head_opt, base_opt
        self.history, self.best, self.best_weights = [], None, None
        self.since_improvement, self.stopped_early, self.base_trains = 0, False, False

    def on_epoch_begin(self, epoch, logs=None):
        self.factor = schedule_factor(self.train["schedule"], epoch, self.train["epochs"], self.train["learningRate"])
        self.head_opt.learning_rate.assign(self.train["learningRate"] * self.factor)
        if self.base_opt is not None:
            self.base_opt.learning_rate.assign(self.base_lr * self.factor)
        self.epoch_started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        val = {"loss": float(logs.get("val_loss", math.nan)), "accuracy": float(logs.get("val_accuracy", math.nan))}
        seconds = max(1e-9, time.time() - self.epoch_started)
        record = {"kind": "epoch", "epoch": epoch + 1, "step": (epoch + 1) * self.steps, "loss": float(logs.get("loss", math.nan))}
        record.update({"accuracy": float(logs.get("accuracy", math.nan)), "val_loss": val["loss"], "val_accuracy": val["accuracy"]})
        record["lr"] = self.train["learningRate"] * self.factor
        if self.base_trains and self.base_opt is not None:
            record["baseLr"] = self.base_lr * self.factor
        record.update({"imagesPerSec": self.images / seconds, "time": int(time.time() * 1000)})
        self.run.append_metric(record)
        self.run.log(f"epoch {epoch + 1}: loss {record['loss']:.4f} accuracy {record['accuracy']:.4f} val_loss {val['loss']:.4f} val_accuracy {val['accuracy']:.4f}")
        metric = self.train["checkpointMetric"]
        improved = self.best is None or (val["loss"] < self.best["loss"] if metric == "val_loss" else val["accuracy"] > self.best["accuracy"])
        if improved:
            self.best = {"epoch": epoch + 1, **val}
            self.best_weights = self.model.get_weights()
        self.history.append({**val, "train_accuracy": record["accuracy"]})
        es = self.train["earlyStopping"]
        if es:
            prior = self.history[:-1]
            if es["monitor"] == "val_loss":
                better = not prior or val["loss"] < min(h["loss"] for h in prior)
            else:
                better = not prior or val["accuracy"] > max(h["accuracy"] for h in prior)
            self.since_improvement = 0 if better else self.since_improvement + 1
            if self.since_improvement >= es["patience"]:
                self.stopped_early = True
                self.model.stop_training = True


def evaluate(model, ds, paths, labels, classes, split):
    """eval.json as Transfer Lab's evaluatePredictions writes it."""
    probs = np.concatenate([model(x, training=False).numpy() for x, _ in ds]) if len(paths) else np.zeros((0, len(classes)))
    n, k = len(labels), len(classes)
    predicted = probs.argmax(axis=1) if n else np.zeros(0, np.int64)
    confusion = np.zeros((k, k), np.int64)
    for t, p in zip(labels, predicted):
        confusion[t, p] += 1
    truth_p = probs[np.arange(n), labels] if n else np.zeros(0)
    rank = (probs > truth_p[:, None]).sum(axis=1) if n else np.zeros(0)
    top_k = {f"top{t}": float((rank < t).mean()) if n else 0.0 for t in range(1, min(5, k) + 1)}
    per_class = []
    for c, label in enumerate(classes):
        tp, predicted_c, support = int(confusion[c, c]), int(confusion[:, c].sum()), int(confusion[c].sum())
        precision = tp / predicted_c if predicted_c else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": support})
    wrong = [
        {"path": paths[i], "trueLabel": classes[labels[i]], "predictedLabel": classes[predicted[i]], "confidence": float(probs[i, predicted[i]])}
        for i in range(n)
        if predicted[i] != labels[i]
    ]
    wrong.sort(key=lambda w: -w["confidence"])
    return {
        "split": split,
        "count": n,
        "accuracy": float(np.trace(confusion) / n) if n else 0.0,
        "topK": top_k,
        "loss": float(-np.log(np.maximum(truth_p, 1e-7)).mean()) if n else 0.0,
        "labels": classes,
        "confusion": confusion.tolist(),
        "perClass": per_class,
        "macroF1": sum(p["f1"] for p in per_class) / max(1, k),
        "mostConfidentlyWrong": wrong[:12],
    }
`;
