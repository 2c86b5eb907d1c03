"""The Keras program, as a Keras user writes it: ``keras.Sequential``, ``compile``, ``fit``.

What makes it agree with the NumPy and PyTorch programs is written where it happens: the
TensorFlow backend, float64 (``set_floatx`` for the weights and ``set_dtype_policy`` for the
layers' arithmetic), hyper-parameters as ``np.float64`` (TensorFlow rounds a Python float through
float32), the weights loaded with ``set_weights`` (a Dense kernel is (in, out), as in NumPy), and
``fit(batch_size=..., shuffle=False)``: the lesson's batches, in order.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .data import data_lines
from . import adaptive_optimizers, batchnorm, dropout, layernorm, loops, schedule_weights
from .declaration import MAX_LAYERS, accuracy_lines, epochs_lines, num
from .weights import weight_lines, weight_loop_lines

STEP_FUNCTION = ["def step(z):", "    # 1 if z >= 0 else 0; gradient: straight through",
                 "    value = keras.ops.cast(z >= 0, z.dtype)",
                 "    return value + (z - keras.ops.stop_gradient(z))", ""]
LOSS_LINES = {
    "bce": ["# on TensorFlow, Keras computes it from the logits",
            "# under the sigmoid: exact, as NumPy and torch do",
            "loss_fn = keras.losses.BinaryCrossentropy()"],
    "cce": ["# on TensorFlow, Keras computes it from the logits",
            "# under the softmax, as NumPy and torch do",
            "loss_fn = keras.losses.CategoricalCrossentropy()"],
    "mse": ["loss_fn = keras.losses.MeanSquaredError()"],
    "half_sse": ["# half the sum of squared errors (not in Keras)",
                 "def loss_fn(y, a):", "    return 0.5 * keras.ops.sum((a - y) ** 2)"],
}


def _model(lesson: Lesson) -> list[str]:
    if lesson.n_layers > MAX_LAYERS:
        return loops.keras_model(lesson, STEP_FUNCTION)
    lines = (STEP_FUNCTION if "step" in lesson.activations else []) + (
        dropout.layer_lines(lesson, "keras") if lesson.dropout else []) + [
        "model = keras.Sequential([", f"    keras.Input(({lesson.sizes[0]},)),"]
    for l, (units, act) in enumerate(zip(lesson.sizes[1:], lesson.activations), start=1):
        activation = "step" if act == "step" else f'"{act}"'
        bias = "" if lesson.use_bias else ", use_bias=False"
        if batchnorm.hidden(lesson, l):
            lines += [f"    keras.layers.Dense({units}{bias}),", f"    {batchnorm.keras_layer(lesson)},",
                      f"    keras.layers.Activation({activation}),"]
            continue
        if layernorm.hidden(lesson, l):
            lines += [f"    keras.layers.Dense({units}{bias}),", "    # epsilon as declared (torch's default: 1e-5)",
                      f"    {layernorm.keras_layer(lesson)},", f"    keras.layers.Activation({activation}),"]
            continue
        lines.append(f"    keras.layers.Dense({units}, activation={activation}{bias}),")
        lines += [f"    drop{l},"] if l in dropout.hidden(lesson) else []
    return lines + ["])"]


def _weights(lesson: Lesson) -> list[str]:
    names = batchnorm.state_names(lesson)
    rows = [", ".join(names[i:i + 2]) for i in range(0, len(names), 2)]
    extra = batchnorm.weight_lines(lesson) if lesson.batchnorm else []
    extra += layernorm.weight_lines(lesson) if lesson.layernorm else []
    return weight_lines(lesson) + extra + ["# a Dense kernel is (in, out), as in NumPy",
                                           "model.set_weights([" + ",\n                   ".join(rows) + "])"]


def _optimizer(lesson: Lesson) -> list[str]:
    hyper = lesson.hyperparameters
    lines = ["# np.float64: TF rounds a Python float via float32"]
    learning_rate = schedule_weights.keras_learning_rate(lesson, f"np.float64({num(hyper['learning_rate'])})")
    if lesson.optimizer == "sgd" and not lesson.lr_schedule:
        lines += ["optimizer = keras.optimizers.SGD(",
                  f"    learning_rate=np.float64({num(hyper['learning_rate'])}))"]
    elif lesson.optimizer == "sgd":
        lines += ["optimizer = keras.optimizers.SGD("] + learning_rate + [")"]
    elif lesson.optimizer in adaptive_optimizers.STATE:
        lines += adaptive_optimizers.keras_lines(lesson)
    else:
        lines += ["# Keras adds epsilon before the bias correction,",
                  "# torch after it: not quite the same formula",
                  "optimizer = keras.optimizers.Adam("] + learning_rate + [
                  f"    beta_1=np.float64({num(hyper['beta_1'])}), beta_2=np.float64({num(hyper['beta_2'])}),",
                  f"    epsilon=np.float64({num(hyper['epsilon'])}))"]
    if lesson.dropout:
        return lines + ["# run_eagerly: each step reads its masks anew",
                        "# (a compiled step would keep the first ones)",
                        "model.compile(optimizer=optimizer, loss=loss_fn,", "              run_eagerly=True)"]
    return lines + ["model.compile(optimizer=optimizer, loss=loss_fn)"]


def _training(lesson: Lesson) -> list[str]:
    if lesson.batch_size is None:
        why, size = "# full batch: one step per epoch; in order", "len(X)"
    else:
        why, size = "# the lesson's batches, in order, every epoch", str(lesson.batch_size)
    masks = dropout.keras_callback_lines(lesson) if lesson.dropout else []
    return epochs_lines(lesson) + masks + [why,
            "history = model.fit(",
            f"    X, y, batch_size={size}, epochs=epochs,", *schedule_weights.keras_class_weight(lesson),
            "    shuffle=False, verbose=0,\n    callbacks=[NewMasks()])" if lesson.dropout else
            "    shuffle=False, verbose=0)",
            'losses = history.history.get("loss", [])  # none at 0 epochs'
            if lesson.epochs == 0 else 'losses = history.history["loss"]']


def steps(lesson: Lesson) -> dict[str, str]:
    setup = ["import os", "", "# the backend these programs are checked on",
             'os.environ["KERAS_BACKEND"] = "tensorflow"', "import numpy as np", "import keras", "",
             "# float64 everywhere, as NumPy computes: for the",
             "# weights (floatx) and the layers' math (policy)",
             'keras.config.set_floatx("float64")', 'keras.config.set_dtype_policy("float64")']
    return {
        "setup": "\n".join(setup),
        "data": "\n".join(data_lines(lesson)),
        "model": "\n".join(_model(lesson)),
        "initial weights": "\n".join(weight_loop_lines(lesson) + loops.KERAS_WEIGHTS if lesson.n_layers > MAX_LAYERS
                                     else _weights(lesson)),
        "loss": "\n".join(schedule_weights.keras_loss(lesson) if lesson.class_weights else LOSS_LINES[lesson.loss]),
        "optimizer": "\n".join(_optimizer(lesson)),
        "training": "\n".join(_training(lesson)),
        "accuracy": "\n".join(["a = model.predict(X_test, verbose=0)"] + accuracy_lines(
            lesson, ["weights = model.get_weights()",
                     "np.savez(path, *weights, losses=losses)"])),
    }
