"""Converts a Transfer Lab model.keras with TensorFlow's own converter, and checks the result.

Run by `transfer-lab export --format tflite|tflite-int8|savedmodel` (src/engine/export/tfliteExport.ts),
not by hand. Formats:
  tflite       float32 .tflite (tf.lite.TFLiteConverter.from_keras_model)
  tflite-int8  full-integer .tflite (int8 weights, activations, input and output), calibrated on
               training images preprocessed by the export's preprocess.py
  savedmodel   a TensorFlow SavedModel folder (model.export)
Then evaluates the converted model on the test split with the same preprocessing. The last line
on stdout is a JSON object: {"tensorflow", "keras", "testCount", "kerasAccuracy", "convertedAccuracy"}.
"""
import argparse, importlib.util, json, os, random, sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf
import keras


def load_preprocess(file):
    """The preprocess(path) function of the preprocess.py written beside the Keras export."""
    spec = importlib.util.spec_from_file_location("tl_preprocess", file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.preprocess


def items(splits, data_root, split):
    return [(os.path.join(data_root, i["path"]), i["label"]) for i in splits["splits"][split]]


def convert_tflite(model, preprocess, calibration, int8):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        if not calibration:
            raise SystemExit("tflite-int8: the run has no training images to calibrate with")

        def representative():
            for path in calibration:
                yield [tf.expand_dims(tf.cast(preprocess(path), tf.float32), 0)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def tflite_predictor(file):
    interpreter = tf.lite.Interpreter(model_path=file)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]

    def predict(x):
        x = np.asarray(x, dtype=np.float32)[None]
        scale, zero = inp["quantization"]
        if inp["dtype"] != np.float32:
            x = np.clip(np.round(x / scale + zero), np.iinfo(inp["dtype"]).min, np.iinfo(inp["dtype"]).max)
        interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])[0].astype(np.float32)
        o_scale, o_zero = out["quantization"]
        return (y - o_zero) * o_scale if out["dtype"] != np.float32 else y

    return predict


def saved_model_predictor(folder):
    loaded = tf.saved_model.load(folder)
    return lambda x: np.asarray(loaded.serve(tf.expand_dims(tf.cast(x, tf.float32), 0)))[0]


def accuracy(predict, preprocess, test):
    if not test:
        return None
    right = sum(int(np.argmax(predict(preprocess(path))) == label) for path, label in test)
    return right / len(test)


def main():
    p = argparse.ArgumentParser()
    for a in ("--keras", "--preprocess", "--splits", "--data-root", "--format", "--out"):
        p.add_argument(a, required=True)
    p.add_argument("--calibration", type=int, default=200)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    preprocess = load_preprocess(a.preprocess)
    splits = json.load(open(a.splits))
    model = keras.models.load_model(a.keras, compile=False)
    train = [path for path, _ in items(splits, a.data_root, "train")]
    random.Random(a.seed).shuffle(train)
    test = items(splits, a.data_root, "test")
    if a.format == "savedmodel":
        model.export(a.out, format="tf_saved_model", verbose=False)
        converted = saved_model_predictor(a.out)
    else:
        data = convert_tflite(model, preprocess, train[: a.calibration], a.format == "tflite-int8")
        with open(a.out, "wb") as f:
            f.write(data)
        converted = tflite_predictor(a.out)
    keras_predict = lambda x: np.asarray(model(tf.expand_dims(x, 0), training=False))[0]
    result = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "testCount": len(test),
        "kerasAccuracy": accuracy(keras_predict, preprocess, test),
        "convertedAccuracy": accuracy(converted, preprocess, test),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
