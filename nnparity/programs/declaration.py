"""What the program writers read from a lesson's declaration, and what they cannot write yet.

``unsupported(lesson)`` names the first feature of the lesson that no writer handles (None: all
of it is written). The writers share ``num`` (a float as Python reads it back exactly) and the
layer names (``W1, b1, W2, b2, ...``, the reference's).
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .data import data_unsupported
from .weights import weights_unsupported

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "step", "linear")
ADAM = ("learning_rate", "beta_1", "beta_2", "epsilon")
# optimizer -> the hyper-parameters its programs write, in order (the last four: adaptive_optimizers.py)
OPTIMIZER_HYPER = {"sgd": ("learning_rate",), "adam": ADAM, "nadam": (*ADAM, "momentum_decay"), "adamax": ADAM,
                   "amsgrad": ADAM, "adadelta": ("learning_rate", "rho", "epsilon")}
# the losses that the programs compute from the output layer's logits, and the activation that must sit there
SCHEDULED = ("sgd", "adam")  # the optimizers whose programs apply a learning-rate schedule (schedule_weights.py)
FROM_LOGITS = {"bce": "sigmoid", "cce": "softmax"}
LOSSES = ("bce", "cce", "mse", "half_sse")
MAX_LAYERS = 3  # each layer written out, line by line; a deeper network is written as loops (loops.py)


def num(value) -> str:
    """``value`` as Python source that reads back as the same float64 (``repr`` is exact)."""
    return repr(float(value))


def layer_names(lesson: Lesson) -> list[str]:
    """``["W1", "b1", "W2", ...]``: the parameters in order, as the reference names them."""
    return lesson.param_names


def _network_unsupported(lesson: Lesson) -> str | None:
    if lesson.dropout and (lesson.batch_size or lesson.batchnorm or lesson.n_layers > MAX_LAYERS):
        return f"dropout with mini-batches, BatchNorm or more than {MAX_LAYERS} layers (not written yet)"
    if lesson.dropout and {"sigmoid", "tanh"} & set(lesson.activations[:-1]):
        return "dropout after a sigmoid or tanh hidden layer (not written yet: its derivative reads the activation)"
    if lesson.batchnorm and (lesson.batch_size or lesson.n_layers > MAX_LAYERS):
        return f"BatchNorm with mini-batches or more than {MAX_LAYERS} layers (not written yet)"
    if lesson.layernorm and (lesson.dropout or lesson.n_layers > MAX_LAYERS):
        return f"LayerNorm with dropout or more than {MAX_LAYERS} layers (not written yet)"
    if lesson.kernel_l2:
        return "an L2 penalty on the kernels (kernel_l2, not written yet)"
    if lesson.n_layers > MAX_LAYERS and (lesson.batch_size or not lesson.use_bias or lesson.fixed_params):
        return (f"{lesson.n_layers} layers with mini-batches, without biases or with weights stated exactly "
                f"(beyond {MAX_LAYERS} layers the programs loop over the layers: full batch, with biases, drawn)")
    other = [a for a in lesson.activations if a not in ACTIVATIONS]
    if other:
        return f"the activation {other[0]!r} (written: {', '.join(ACTIVATIONS)})"
    if "softmax" in lesson.activations[:-1]:
        return "softmax in a hidden layer"
    return None


def _training_unsupported(lesson: Lesson) -> str | None:
    if lesson.loss not in LOSSES:
        return f"the loss {lesson.loss!r} (written: {', '.join(LOSSES)})"
    wanted = FROM_LOGITS.get(lesson.loss)
    if wanted and lesson.activations[-1] != wanted:
        return f"the loss {lesson.loss!r} after a {lesson.activations[-1]!r} output (written: after {wanted})"
    if lesson.activations[-1] == "softmax" and lesson.loss != "cce":
        return f"a softmax output with the loss {lesson.loss!r} (written: cce)"
    if lesson.optimizer not in OPTIMIZER_HYPER:
        return f"the optimizer {lesson.optimizer!r} (written: {', '.join(OPTIMIZER_HYPER)})"
    extra = set(lesson.hyperparameters) - set(OPTIMIZER_HYPER[lesson.optimizer])
    if extra:
        return f"the {lesson.optimizer} hyper-parameter(s) {', '.join(sorted(extra))} (not written yet)"
    if "learning_rate" not in lesson.hyperparameters:
        return "an optimizer without an explicit learning_rate"
    if (lesson.lr_schedule or lesson.class_weights) and lesson.n_layers > MAX_LAYERS:
        return f"a learning-rate schedule or class weights with more than {MAX_LAYERS} layers (not written yet)"
    if lesson.lr_schedule and lesson.optimizer not in SCHEDULED:
        return f"a learning-rate schedule with {lesson.optimizer} (written: with {', '.join(SCHEDULED)})"
    return None


def unsupported(lesson: Lesson) -> str | None:
    """The first feature of ``lesson`` that the programs cannot be written with, in words; None if none."""
    return (_network_unsupported(lesson) or _training_unsupported(lesson) or weights_unsupported(lesson)
            or data_unsupported(lesson))


def epochs_lines(lesson: Lesson) -> list[str]:
    return ["# EPOCHS=5 in the environment: a short run", f'epochs = int(os.environ.get("EPOCHS", {lesson.epochs}))']


def accuracy_lines(lesson: Lesson, save: str) -> list[str]:
    """After ``a`` (the trained network's output on X_test, NumPy): the accuracy, a print, and the
    ``save`` lines (``np.savez`` of the weights, then ``losses=losses``), run when SAVE is set."""
    if lesson.sizes[-1] == 1:
        lines = ["accuracy = np.mean((a >= 0.5) == y_test)"]
    else:
        lines = ["accuracy = np.mean(a.argmax(axis=1) == y_test.argmax(axis=1))"]
    if lesson.epochs:
        lines.append('print("loss", losses[-1], "accuracy", accuracy)')
    else:
        lines.append('print("accuracy", accuracy)')
    return lines + ["# SAVE=run.npz: keep the weights, the loss curve",
                    'if "SAVE" in os.environ:', '    path = os.environ["SAVE"]'] + [f"    {line}" for line in save]
