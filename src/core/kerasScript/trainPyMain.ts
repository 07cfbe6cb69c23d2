// train.py's job: the arguments, the fine-tune stages, the final run.json and the saved model.
// Python, kept as Python text (String.raw: backslashes stay as written); trainPy.ts joins the parts.
export const TRAIN_PY_MAIN = String.raw`# --- The job --------------------------------------------------------------------------------


def parse_args(job):
    p = argparse.ArgumentParser(description=f"Transfer Lab experiment {job['experiment']['name']!r} as a Keras job")
    p.add_argument("--data", default=job["dataDir"], help="dataset folder (splits.json paths are relative to it); default: where it was exported from")
    p.add_argument("--runs-dir", default=job["runsDir"], help="where the run folder goes; default: the experiment's .transferlab/runs")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs (a quick check)")
    return p.parse_args()


def fit_stages(model, base, job, data, progress, head_opt, base_opt):
    """Feature extraction and scratch: one fit. Fine-tune: warmupEpochs head-only, then the base from its layer on."""
    train, strategy = job["config"]["train"], job["config"]["strategy"]
    compile_args = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    train_ds, val_ds = data
    stages = [(0, train["epochs"], None)]
    if strategy["kind"] == "fine-tune":
        warmup = min(strategy["warmupEpochs"], train["epochs"])
        stages = [(0, warmup, None), (warmup, train["epochs"], strategy)]
    trainable = [l.name for l in base.layers] if strategy["kind"] == "scratch" else []
    model.sample_batch = next(iter(train_ds))
    model.multi_worker = isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)
    for first, last, unfreeze in stages:
        if first >= last or progress.stopped_early:
            continue
        if unfreeze:
            trainable = set_trainable(base, unfreeze)
            model.base_ids = frozenset(id(v) for v in base.trainable_variables)
            model.base_optimizer = base_opt
            base_opt.build(base.trainable_variables)
            progress.base_trains = True
        model.compile(optimizer=head_opt, **compile_args)
        model.fit(train_ds, validation_data=val_ds, initial_epoch=first, epochs=last, callbacks=[progress], verbose=0)
    return trainable


def main():
    job = read_json(os.path.join(HERE, "job.json"))
    splits = read_json(os.path.join(HERE, "splits.json"))
    args = parse_args(job)
    if args.epochs:
        job["config"]["train"]["epochs"] = args.epochs
    if not os.path.isdir(args.data):
        raise SystemExit(f"--data: {args.data} is not a folder; pass the dataset folder (splits.json's paths are relative to it)")
    strategy, chief, how = make_strategy()
    train = job["config"]["train"]
    keras.utils.set_random_seed(train["seed"])
    classes = splits["classes"]
    versions = f"Keras {keras.__version__} on TensorFlow {tf.__version__}"
    run = RunFolder(
        os.path.abspath(args.runs_dir),
        job,
        {"backend": f"keras ({how})", "dataset": splits["dataset"], "notes": [f"trained by train.py: {versions}, {how}", *job["notes"]]},
        chief,
    )
    try:
        finish(run, job, splits, args, strategy, classes)
    except BaseException as e:
        message = str(e) or type(e).__name__
        # SystemExit: bad input found by train.py itself (its message names the field); anything else: TensorFlow's own error.
        hint = "Fix it in the experiment file and export the script again." if isinstance(e, SystemExit) else "train.py printed the traceback; rerun it after fixing the cause."
        run.log(f"failed: {message}")
        run.update({"status": "failed", "failure": {"message": message, "hint": hint}, "timings": ended(run)})
        raise


def ended(run):
    now = time.time()
    return {"endedAt": iso(now), "durationMs": int((now - run.started) * 1000)}


def finish(run, job, splits, args, strategy, classes):
    train = job["config"]["train"]
    batch = train["batchSize"]
    run.log(f"run {run.record['id']}: {len(classes)} classes, {run.record['backend']}")
    with strategy.scope():
        model, base = build_model(job, len(classes))
        train_ds, _, train_labels = split_dataset(job, splits, args.data, "train", batch, train["seed"], augmentation(job, train["seed"]))
        val_ds, _, _ = split_dataset(job, splits, args.data, "val", batch)
        head_opt = make_optimizer(train, train["learningRate"])
        kind = job["config"]["strategy"]["kind"]
        base_opt = make_optimizer(train, job["config"]["strategy"]["baseLearningRate"]) if kind == "fine-tune" else None
        steps = math.ceil(len(train_labels) / batch)
        progress = Progress(job, run, steps, len(train_labels), head_opt, base_opt)
        started = time.time()
        trainable = fit_stages(model, base, job, (train_ds, val_ds), progress, head_opt, base_opt)
        train_ms = int((time.time() - started) * 1000)
    if progress.best_weights is not None:
        model.set_weights(progress.best_weights)
    split = "test" if splits["splits"]["test"] else "val"
    eval_ds, eval_paths, eval_labels = split_dataset(job, splits, args.data, split, batch)
    started = time.time()
    report = evaluate(model, eval_ds, eval_paths, eval_labels, classes, split)
    evaluate_ms = int((time.time() - started) * 1000)
    run.write_json("eval.json", report)
    started = time.time()
    save_model(run, model, classes, job)
    history = progress.history
    last_val = history[-1]["accuracy"] if history else math.nan
    peak = max(range(len(history)), key=lambda i: history[i]["accuracy"]) if history else None
    best = progress.best or {"epoch": len(history), "loss": math.nan, "accuracy": math.nan}
    names = [l.name for l in base.layers]
    run.update(
        {
            "status": "succeeded",
            "metrics": {
                "lastValAccuracy": last_val,
                **({"peakValAccuracy": history[peak]["accuracy"], "peakValAccuracyEpoch": peak + 1} if peak is not None else {}),
                "accuracy": report["accuracy"],
                "loss": report["loss"],
                "macroF1": report["macroF1"],
                "bestValAccuracy": best["accuracy"],
                "bestValLoss": best["loss"],
                "bestEpoch": best["epoch"],
                "epochs": len(history),
                "trainAccuracy": history[-1]["train_accuracy"] if history else math.nan,
                "trainSeconds": train_ms / 1000,
            },
            "timings": {**ended(run), "trainMs": train_ms, "evaluateMs": evaluate_ms, "exportMs": int((time.time() - started) * 1000)},
            "preprocessing": {**job["preprocessing"], "inputSize": job["inputSize"][:2]},
            "training": {"stoppedEarly": progress.stopped_early, "history": len(history)},
            "weights": {"epoch": best["epoch"], "metric": train["checkpointMetric"], "evaluatedOn": split},
            "freeze": {
                "cutAt": job["cutAt"] or names[-1],
                "frozen": [n for n in names if n not in set(trainable)],
                "trainable": list(trainable),
                "boundary": [],
                "reinitialize": job["config"]["strategy"]["kind"] == "scratch",
            },
        }
    )
    run.log(f"test accuracy {report['accuracy']:.4f} on {report['count']} {split} images; run folder {run.dir}")


def save_model(run, model, classes, job):
    """model/model.keras (a plain functional model: it loads with keras.models.load_model, no custom class) + labels.json.

    Every worker saves (the Keras multi-worker rule); the others to a temporary folder they delete.
    """
    plain = keras.Model(model.inputs, model.outputs, name="transfer_lab")
    folder = os.path.join(run.dir, "model") if run.write else tempfile.mkdtemp()
    os.makedirs(folder, exist_ok=True)
    plain.save(os.path.join(folder, "model.keras"))
    with open(os.path.join(folder, "labels.json"), "w", encoding="utf-8") as f:
        json.dump(classes, f)
    with open(os.path.join(folder, "preprocessing.json"), "w", encoding="utf-8") as f:
        json.dump({**job["preprocessingFile"], "inputSize": job["inputSize"][:2]}, f, indent=2)
    if not run.write:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
`;
