"""The lesson catalog: every lesson declared once, as data.

A ``Lesson`` names its architecture, loss, initializer, optimizer and dataset.
Weights are made once, in float64, by the reference's initializers
(``initial_params``), and every framework is loaded with exactly those numbers.
The conformance checks use ``canonical_params``: the same kernels with non-zero
biases, because a bias bug hides behind a zero bias.

Where a seed (../shared/seeds) leaves a detail open, the choice is written in
the lesson's ``choices``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from reference import get_initializer
from reference.dropout import draw_mask

from . import datasets


@dataclass(frozen=True)
class Lesson:
    """One lesson's network, declared once for the reference, PyTorch and Keras."""

    name: str
    sizes: tuple[int, ...]  # (inputs, hidden..., outputs)
    activations: tuple[str, ...]  # one per Dense layer
    loss: str  # a key of reference.LOSSES
    init: str  # kernel initializer, a key of reference.INITIALIZERS
    dataset: str  # a key of conformance.datasets.DATASETS
    seed_text: str = ""  # what the seed says (a user's lesson: what it is about, optional)
    init_args: tuple[tuple[str, float], ...] = ()
    bias_init: str = "zeros"  # the lesson's own bias initializer
    use_bias: bool = True
    optimizer: str = "sgd"
    hyper: tuple[tuple[str, float], ...] = (("learning_rate", 0.1),)
    epochs: int = 1000  # 0: the lesson does not train (it is about the initial network)
    batch_size: int | None = None  # None: full batch, as the from-scratch lessons train
    seed: int = 0  # for the weights
    fixed_params: tuple[tuple[str, tuple], ...] = ()  # weights the seed states exactly
    dataset_args: tuple[tuple[str, object], ...] = ()  # the dataset loader's arguments, if any
    choices: str = ""  # what nnparity chose where the seed is silent
    # Regularizers (reference/regularized_mlp.py), in Keras's vocabulary; the defaults add none.
    dropout: float | None = None  # rate of a Dropout after every hidden activation
    batchnorm: bool = False  # a BatchNorm before every hidden activation
    batchnorm_momentum: float = 0.99  # the old running value's weight (torch's momentum is 1 - this)
    batchnorm_epsilon: float = 1e-3
    kernel_l2: float = 0.0  # L2 penalty factor on every kernel (Keras kernel_regularizer=L2(kernel_l2))
    test_dataset: str | None = None  # the points a trained network is judged on (None: its training data)
    # A LayerNorm before every hidden activation (reference/layernorm.py): gamma{l}, beta{l}, trained; the
    # epsilon is given to both frameworks (their defaults differ: torch 1e-5, Keras 1e-3).
    layernorm: bool = False
    layernorm_epsilon: float = 1e-3
    # A learning-rate schedule of the optimizer's step count (() : the learning rate stays constant):
    # (("decay_steps", k), ("decay_rate", r)[, ("staircase", True)]) is Keras's ExponentialDecay computed in
    # float64, lr(step) = learning_rate * r ** (step / k), every step (reference/training_conventions.py).
    lr_schedule: tuple[tuple[str, object], ...] = ()
    # One weight per output class of a cce lesson (() : none), and what the weighted sum is divided by:
    # "sum_of_weights" (torch CrossEntropyLoss(weight=w)'s default) or "batch_size" (Keras fit(class_weight=)'s).
    class_weights: tuple[float, ...] = ()
    class_weight_divisor: str = "sum_of_weights"

    def __post_init__(self):
        n = len(self.sizes) - 1
        if n < 1 or any(int(s) < 1 for s in self.sizes):
            raise ValueError(f"lesson {self.name!r}: sizes must be at least 2 positive ints. Received: {self.sizes}")
        if len(self.activations) != n:
            raise ValueError(
                f"lesson {self.name!r}: {n} layers need {n} activations. Received: {self.activations}"
            )
        if (self.dropout is not None or self.batchnorm) and n < 2:
            raise ValueError(f"lesson {self.name!r}: dropout and batchnorm need a hidden layer. Received: {self.sizes}")
        if self.dropout is not None and not 0 < self.dropout < 1:
            raise ValueError(f"lesson {self.name!r}: expected 0 < dropout < 1. Received: dropout={self.dropout}")
        self._check_layernorm(n)
        if self.epochs < 0 or (self.batch_size is not None and self.batch_size < 1):
            raise ValueError(f"lesson {self.name!r}: expected epochs >= 0 and batch_size None or >= 1. "
                             f"Received: epochs={self.epochs}, batch_size={self.batch_size}")
        _check_lr_schedule(self)
        _check_class_weights(self)

    def _check_layernorm(self, n: int) -> None:
        if self.layernorm and (n < 2 or self.batchnorm):
            raise ValueError(f"lesson {self.name!r}: layernorm needs a hidden layer and no batchnorm (one "
                             f"normalization per layer). Received: sizes={self.sizes}, batchnorm={self.batchnorm}")
        eps = self.layernorm_epsilon
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < float("inf"):
            raise ValueError(f"lesson {self.name!r}: expected a positive, finite layernorm_epsilon (torch's "
                             f"default 1e-5, Keras's 1e-3). Received: layernorm_epsilon={eps!r}")

    @property
    def regularized(self) -> bool:
        """True when the lesson needs ``reference.RegularizedMLP`` (dropout, batchnorm, layernorm or a penalty)."""
        return bool(self.dropout or self.batchnorm or self.kernel_l2 or self.layernorm)

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def hyperparameters(self) -> dict[str, float]:
        return dict(self.hyper)

    @property
    def param_names(self) -> list[str]:
        names = []
        for i in range(1, self.n_layers + 1):
            names.append(f"W{i}")
            if self.use_bias:
                names.append(f"b{i}")
        return names

    def describe(self) -> dict:
        """A JSON-ready description (``nnparity lessons --json``)."""
        return {
            "name": self.name,
            "layers": "-".join(map(str, self.sizes)),
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "loss": self.loss,
            "init": self.init,
            "use_bias": self.use_bias,
            "optimizer": self.optimizer,
            "hyperparameters": self.hyperparameters,
            "dataset": self.dataset,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed_text": self.seed_text,
            "choices": self.choices,
            "dropout": self.dropout,
            "batchnorm": {"momentum": self.batchnorm_momentum, "epsilon": self.batchnorm_epsilon}
            if self.batchnorm else None,
            "kernel_l2": self.kernel_l2,
            "test_dataset": self.test_dataset or self.dataset,
            "layernorm": {"epsilon": self.layernorm_epsilon} if self.layernorm else None,
            "lr_schedule": dict(self.lr_schedule) or None,
            "class_weights": {"weights": list(self.class_weights), "divisor": self.class_weight_divisor}
            if self.class_weights else None,
        }


SCHEDULE_KEYS = {"decay_steps": "an integer >= 1", "decay_rate": "a number > 0",
                 "staircase": "true or false (optional)"}
CLASS_WEIGHT_DIVISORS = ("sum_of_weights", "batch_size")  # reference/loss_conventions.py CLASS_WEIGHT_DIVISORS


def _check_lr_schedule(lesson: Lesson) -> None:
    """An ExponentialDecay's settings, or ValueError naming the lesson, the field and what each key takes."""
    if not lesson.lr_schedule:
        return
    given = dict(lesson.lr_schedule)
    expected = ", ".join(f"{k}: {v}" for k, v in SCHEDULE_KEYS.items())
    steps, rate, stair = given.get("decay_steps"), given.get("decay_rate"), given.get("staircase", False)
    if (set(given) - set(SCHEDULE_KEYS) or not isinstance(steps, int) or isinstance(steps, bool) or steps < 1
            or not isinstance(rate, (int, float)) or isinstance(rate, bool) or not rate > 0
            or not isinstance(stair, bool)):
        raise ValueError(f"lesson {lesson.name!r}: lr_schedule expects {expected}. Received: {given}")


def _check_class_weights(lesson: Lesson) -> None:
    """One positive weight per output class of a cce lesson, and a known divisor; or ValueError naming both."""
    if not lesson.class_weights:
        return
    weights = lesson.class_weights
    if not isinstance(weights, tuple):
        raise ValueError(f"lesson {lesson.name!r}: class_weights expects a tuple of numbers, one per output class. "
                         f"Received: {weights!r}")
    if lesson.loss != "cce" or lesson.sizes[-1] < 2:
        raise ValueError(f"lesson {lesson.name!r}: class_weights need the loss 'cce' (a softmax over classes). "
                         f"Received: loss={lesson.loss!r}, {lesson.sizes[-1]} output unit(s)")
    if (len(weights) != lesson.sizes[-1]
            or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in weights)):
        raise ValueError(f"lesson {lesson.name!r}: class_weights expects {lesson.sizes[-1]} positive numbers, one "
                         f"per output class. Received: {weights!r}")
    if lesson.class_weight_divisor not in CLASS_WEIGHT_DIVISORS:
        raise ValueError(f"lesson {lesson.name!r}: class_weight_divisor expects one of {list(CLASS_WEIGHT_DIVISORS)}. "
                         f"Received: {lesson.class_weight_divisor!r}")


def _params(lesson: Lesson, bias_init) -> dict[str, np.ndarray]:
    if lesson.fixed_params:
        return {k: np.array(v, dtype=np.float64) for k, v in lesson.fixed_params}
    rng = np.random.default_rng(lesson.seed)
    kernel_init = get_initializer(lesson.init, **dict(lesson.init_args))
    params = {}
    for i, (fan_in, units) in enumerate(zip(lesson.sizes[:-1], lesson.sizes[1:]), start=1):
        params[f"W{i}"] = kernel_init((fan_in, units), rng)
        if lesson.use_bias:
            params[f"b{i}"] = bias_init((units,), rng, fan_in=fan_in, fan_out=units)
    return params


def initial_params(lesson: Lesson) -> dict[str, np.ndarray]:
    """The lesson's own starting weights (float64, reference layout: W is (in, out))."""
    return {**_params(lesson, get_initializer(lesson.bias_init)), **_batchnorm_params(lesson, canonical=False),
            **_layernorm_params(lesson, canonical=False)}


# Where the lesson's random streams start: numpy's SeedSequence takes (seed, stream, ...) tuples,
# so the kernels (seed alone), BatchNorm's canonical values and the dropout masks never share draws.
BATCHNORM_STREAM, DROPOUT_STREAM = 1, 2


def _batchnorm_params(lesson: Lesson, canonical: bool) -> dict[str, np.ndarray]:
    """gamma, beta, moving_mean, moving_variance of every hidden layer ({} without batchnorm).

    The lesson's own are both frameworks' initial values (ones, zeros, zeros, ones);
    the canonical ones are drawn away from them, so that a bug that swaps, drops or
    mis-weighs one of them shows in the checks.
    """
    if not lesson.batchnorm:
        return {}
    rng = np.random.default_rng((lesson.seed, BATCHNORM_STREAM))
    params = {}
    for l, units in enumerate(lesson.sizes[1:-1], start=1):
        if canonical:
            params[f"gamma{l}"] = rng.uniform(0.5, 1.5, units)
            params[f"beta{l}"] = rng.uniform(-0.5, 0.5, units)
            params[f"moving_mean{l}"] = rng.uniform(-0.5, 0.5, units)
            params[f"moving_variance{l}"] = rng.uniform(0.5, 1.5, units)
        else:
            params[f"gamma{l}"], params[f"beta{l}"] = np.ones(units), np.zeros(units)
            params[f"moving_mean{l}"], params[f"moving_variance{l}"] = np.zeros(units), np.ones(units)
    return params


LAYERNORM_STREAM = 3  # LayerNorm's canonical gamma and beta: a stream of their own


def _layernorm_params(lesson: Lesson, canonical: bool) -> dict[str, np.ndarray]:
    """gamma and beta of every hidden layer's LayerNorm ({} without layernorm): both frameworks' start
    (ones, zeros), or canonical ones drawn away from it, so that a swapped or dropped one shows."""
    if not lesson.layernorm:
        return {}
    rng = np.random.default_rng((lesson.seed, LAYERNORM_STREAM))
    params = {}
    for l, units in enumerate(lesson.sizes[1:-1], start=1):
        if canonical:
            params[f"gamma{l}"], params[f"beta{l}"] = rng.uniform(0.5, 1.5, units), rng.uniform(-0.5, 0.5, units)
        else:
            params[f"gamma{l}"], params[f"beta{l}"] = np.ones(units), np.zeros(units)
    return params


def dropout_masks(lesson: Lesson, n_samples: int, step: int = 0) -> dict[str, np.ndarray]:
    """The keep-masks all three sides apply at training step ``step`` ({} without dropout).

    ``{"dropout1": (n_samples, units1) bool, ...}``, one per hidden layer, drawn in
    NumPy once and multiplied explicitly by the reference, PyTorch and Keras
    (docs/conventions.md#dropout), because the frameworks' own generators differ.
    """
    if not lesson.dropout:
        return {}
    rng = np.random.default_rng((lesson.seed, DROPOUT_STREAM, step))
    return {f"dropout{l}": draw_mask((n_samples, units), lesson.dropout, rng)
            for l, units in enumerate(lesson.sizes[1:-1], start=1)}


# Canonical biases for the checks: U(-0.5, 0.5), large enough that a bias bug shows
# at the tolerances of either dtype, small enough not to saturate the activations.
CANONICAL_BIAS = get_initializer("uniform", low=-0.5, high=0.5)


def canonical_params(lesson: Lesson) -> dict[str, np.ndarray]:
    """The weights every conformance check starts from: the lesson's kernels, non-zero biases."""
    if lesson.fixed_params:
        params = _params(lesson, None)
        zero = [k for k, v in params.items() if k.startswith("b") and not np.all(v != 0)]
        if zero:
            raise ValueError(f"lesson {lesson.name!r}: fixed biases {zero} must be non-zero for the checks")
        return params
    return {**_params(lesson, CANONICAL_BIAS), **_batchnorm_params(lesson, canonical=True),
            **_layernorm_params(lesson, canonical=True)}


def lesson_data(lesson: Lesson):
    """(X, y) the lesson trains on, float64; shapes checked against the lesson's layers."""
    X, y = datasets.load(lesson.dataset, **dict(lesson.dataset_args))
    if X.ndim != 2 or y.ndim != 2 or X.shape[1] != lesson.sizes[0] or y.shape != (len(X), lesson.sizes[-1]):
        raise ValueError(
            f"lesson {lesson.name!r}: dataset {lesson.dataset!r} gives X {X.shape} and y {y.shape}; "
            f"the layers {lesson.sizes} need X (N, {lesson.sizes[0]}) and y (N, {lesson.sizes[-1]})"
        )
    return X, y


def lesson_test_data(lesson: Lesson):
    """(X, y) a trained network of the lesson is judged on: its test split, else its training data."""
    return datasets.load(lesson.test_dataset or lesson.dataset)


def _seed_xor_weights():
    """The XOR seed's own start: ``np.random.seed(42)``, then ``uniform(size=(2, 2))``, ``uniform(size=(2, 1))``.

    ``RandomState(42)`` is the legacy generator behind ``np.random.seed``, so these are
    the seed's numbers exactly. (From other starts, this bias-free 2-2-1 net often
    stalls at 0.5 on every point.)
    """
    rng = np.random.RandomState(42)
    W1, W2 = rng.uniform(size=(2, 2)), rng.uniform(size=(2, 1))
    return (("W1", tuple(map(tuple, W1))), ("W2", tuple(map(tuple, W2))))


_LESSONS = (
    Lesson(
        name="neuron",
        sizes=(2, 1),
        activations=("sigmoid",),
        loss="mse",
        init="zeros",
        dataset="neuron",
        fixed_params=(("W1", ((0.3,), (-0.1,))), ("b1", (0.2,))),
        epochs=100,
        seed_text="single neuron: w=[0.3, -0.1], b=0.2, x=[0.5, 0.8]; z = 0.2700, sigmoid(z) = 0.5671",
        choices="The seed only runs forward: the target y=1.0, MSE and SGD(0.1) for 100 steps are nnparity's.",
    ),
    Lesson(
        name="xor-mse",
        sizes=(2, 2, 1),
        activations=("sigmoid", "sigmoid"),
        loss="half_sse",
        init="uniform",
        init_args=(("low", 0.0), ("high", 1.0)),
        use_bias=False,
        dataset="xor",
        epochs=10000,
        fixed_params=_seed_xor_weights(),
        seed_text="XOR 2-2-1, no biases, np.random.seed(42) then np.random.uniform init, 10000 epochs, "
        "summed updates * 0.1",
        choices="The seed's update adds X.T @ (error * sigmoid') with error = y - output: that is "
        "gradient descent on 0.5 * sum((output - y)**2) with learning rate 0.1. The weights are the "
        "seed's own np.random.seed(42) draws.",
    ),
    Lesson(
        name="xor-relu",
        sizes=(2, 4, 1),
        activations=("relu", "sigmoid"),
        loss="mse",
        init="normal",
        init_args=(("scale", 0.5),),
        dataset="xor",
        hyper=(("learning_rate", 0.5),),
        epochs=5000,
        seed=3,
        seed_text="XOR 2-4-1 with ReLU hidden, sigmoid output, MSE, small random Gaussian init",
        choices="The seed's code is cut: scale 0.5, learning rate 0.5, 5000 epochs and weight seed 3 "
        "are nnparity's.",
    ),
    Lesson(
        name="sigmoid-mlp",
        sizes=(2, 4, 1),
        activations=("sigmoid", "sigmoid"),
        loss="bce",
        init="normal",
        init_args=(("scale", 0.5),),
        dataset="xor",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        seed_text="MLP class: W = randn * 0.5, biases zero, sigmoid both layers, dz2 = a2 - y (BCE), lr 0.1, "
        "fit(epochs=1000)",
        choices="Trained on XOR (the lesson names no data set for this class).",
    ),
    Lesson(
        name="circles",
        sizes=(2, 8, 1),
        activations=("relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="circles",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        test_dataset="circles_test",
        seed_text="make_circles(1000, noise=0.1, random_state=42), StandardScaler, 2-8-1 ReLU/sigmoid, "
        "He init, BCE, lr 0.1, 1000 epochs",
        choices="train_test_split gets random_state=42 (the seed leaves it unseeded).",
    ),
    Lesson(
        name="spiral",
        sizes=(2, 16, 1),
        activations=("relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 0.05),),
        epochs=2000,
        seed_text="two spirals (150 per class, noise 0.15), 2-16-1 ReLU/sigmoid, He init, BCE, lr 0.05, "
        "2000 epochs",
    ),
    Lesson(
        name="spiral-dropout",
        sizes=(2, 16, 16, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 0.05),),
        epochs=2000,
        dropout=0.2,
        seed_text="the lessons end on the regularizers that come next: dropout zeroes a random share of the "
        "activations at every training step; a pitfalls section adds Dropout against overfitting",
        choices="The spiral lesson (He init, BCE, lr 0.05, 2000 epochs) with a second hidden layer of 16 and "
        "Dropout(0.2) after each hidden ReLU. The checks share one NumPy mask per step (dropout_masks).",
    ),
    Lesson(
        name="spiral-batchnorm",
        sizes=(2, 16, 16, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 0.05),),
        epochs=2000,
        batchnorm=True,
        batchnorm_momentum=0.9,
        batchnorm_epsilon=1e-5,
        seed_text="the lessons end on the regularizers that come next: batch normalization rescales "
        "activations with mini-batch statistics and keeps running ones",
        choices="The spiral lesson (He init, BCE, lr 0.05, 2000 epochs) with a second hidden layer of 16 and "
        "BatchNorm before each hidden ReLU, with PyTorch's defaults in Keras's words (momentum 0.9, i.e. "
        "torch's 0.1; epsilon 1e-5) given to both. The running variance stays each framework's own: unbiased "
        "in PyTorch, biased in Keras. The Dense layers keep their biases, as a first version does: BatchNorm "
        "subtracts the batch mean, so their gradient is zero.",
    ),
    Lesson(
        name="sensor",
        sizes=(2, 16, 3),
        activations=("relu", "softmax"),
        loss="cce",
        init="he_normal",
        dataset="sensor",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        seed_text="temperature/vibration sensor, 3 classes (normal, warning, critical), 2-16-3, ReLU, softmax",
        choices="The seed's code is cut: He init, categorical CE, lr 0.1, 1000 epochs and the data's "
        "class centres are nnparity's.",
    ),
    Lesson(
        name="tanh-4-5-4-1",
        sizes=(4, 5, 4, 1),
        activations=("tanh", "tanh", "sigmoid"),
        loss="bce",
        init="glorot_uniform",
        dataset="tabular4",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        seed_text="4-5-4-1: tanh, tanh, sigmoid output; Xavier initialization",
        choices="Data (tabular4), BCE, lr 0.1 and 1000 epochs are nnparity's.",
    ),
    Lesson(
        name="torch-4-8-4-1",
        sizes=(4, 8, 4, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="torch_linear_default",
        bias_init="torch_linear_default",
        dataset="tabular4",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        seed_text="PyTorch Net: Linear(4, 8), Linear(8, 4), Linear(4, 1); relu, relu, sigmoid",
        choices="nn.Linear's default init for weights and biases; BCE, SGD lr 0.1, 1000 epochs, tabular4 data.",
    ),
    Lesson(
        name="keras-4-64-32-1",
        sizes=(4, 64, 32, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="mse",
        init="glorot_uniform",
        dataset="tabular4",
        optimizer="adam",
        hyper=(("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7)),
        epochs=100,
        batch_size=32,
        seed_text="Keras Sequential: Dense(64, relu), Dense(32, relu), Dense(1, sigmoid); compile(adam, mse); "
        "optimizer = tf.keras.optimizers.Adam(learning_rate=0.001)",
        choices="Keras Dense's default init (Glorot uniform kernel, zero bias). Adam(learning_rate=0.001) as the "
        "seed writes it, with Keras's other defaults written out (beta_1 0.9, beta_2 0.999, epsilon 1e-7) so "
        "torch gets the same numbers. fit()'s default batch_size=32; its shuffle=True is replaced by an order fixed "
        "for all three: the training check takes the batches in order every epoch (fit(shuffle=False)), the "
        "trajectory check shuffles every epoch from the lesson's seed (reference.MiniBatches).",
    ),
    # --- the rest of the seeds' catalog (issue 4) ---
    Lesson(
        name="perceptron-and",
        sizes=(2, 1),
        activations=("step",),
        loss="half_sse",
        init="zeros",
        dataset="and",
        hyper=(("learning_rate", 0.01),),
        epochs=15,
        batch_size=1,
        seed_text="Perceptron(lr=0.01, epochs=15): zero weights and bias, step(z) = 1 if z >= 0 else 0, "
        "w += lr * (y - y_hat) * x and b += lr * (y - y_hat), one sample at a time, on the AND gate",
        choices="The perceptron rule is written as SGD with batch size 1, in order, on 0.5 * (y_hat - y)**2 "
        "through a straight-through step (reference/activations.py, Step): the same update exactly.",
    ),
    Lesson(
        name="tabular-3-4-1",
        sizes=(3, 4, 1),
        activations=("relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="tabular3",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        seed_text="NeuralNetwork(3, 4, 1): W = randn * sqrt(2 / fan_in) (He), zero biases, ReLU hidden, "
        "sigmoid output, BCE with dz2 = a2 - y; trained 1000 epochs at learning rate 0.1",
        choices="The seed names the shapes, not the data: a 3-feature make_classification set (tabular3).",
    ),
    Lesson(
        name="spiral-3-layer",
        sizes=(2, 16, 16, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        optimizer="adam",
        hyper=(("learning_rate", 0.01), ("beta_1", 0.9), ("beta_2", 0.999), ("epsilon", 1e-7)),
        epochs=1000,
        seed_text="What to try next: add a third hidden layer to the spiral network; implement momentum or Adam",
        choices="2-16-16-1 with Adam: learning rate 0.01 and 1000 epochs are nnparity's; beta_1, beta_2 and "
        "epsilon are Keras's defaults, written out because torch's epsilon default differs (1e-8).",
    ),
    Lesson(
        name="deep-sigmoid",
        sizes=(2,) + (16,) * 10 + (1,),
        activations=("sigmoid",) * 11,
        loss="bce",
        init="glorot_uniform",
        dataset="spiral",
        hyper=(("learning_rate", 0.1),),
        epochs=0,
        seed_text="In a network with 10 sigmoid layers, the gradient at the first layer can be scaled by "
        "(0.25)^10: the early layers stop learning (the vanishing gradient problem)",
        choices="Ten hidden layers of 16 on the spiral data, Xavier (Glorot uniform) init, BCE. The lesson is "
        "the gradient at the initial weights (the gradient_norms check), so it does not train (epochs=0); "
        "SGD 0.1 is for the one-step check.",
    ),
    Lesson(
        name="deep-relu",
        sizes=(2,) + (16,) * 10 + (1,),
        activations=("relu",) * 10 + ("sigmoid",),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 0.1),),
        epochs=0,
        seed_text="ReLU's derivative is 1 for any positive input, so it does not attenuate gradients as they "
        "flow backwards; He / Kaiming initialization pairs well with ReLU",
        choices="The deep-sigmoid network with ReLU hidden layers and He normal init, BCE; like deep-sigmoid "
        "it does not train (epochs=0).",
    ),
    Lesson(
        name="spiral-layernorm",
        sizes=(2, 16, 16, 1),
        activations=("relu", "relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 0.05),),
        epochs=2000,
        layernorm=True,
        layernorm_epsilon=1e-5,
        seed_text="(no seed lesson has LayerNorm: this is nnparity's own lesson, the spiral-batchnorm network "
        "with each sample normalized over its units instead of each unit over the batch)",
        choices="The spiral lesson (He init, BCE, lr 0.05, 2000 epochs) with a second hidden layer of 16 and a "
        "LayerNorm before each hidden ReLU. Its epsilon is PyTorch's default, 1e-5, given to both: "
        "nn.LayerNorm(16, eps=1e-5) and LayerNormalization(epsilon=1e-5); Keras's default is 1e-3, and with "
        "each framework's default the two networks part (conformance/tests/test_layernorm_lesson.py, "
        "docs/conventions-layers.md). LayerNorm keeps no running statistics: training and inference agree.",
    ),
    # --- lessons that show a framework difference (issue 22): a schedule, class weights ---
    Lesson(
        name="spiral-schedule",
        sizes=(2, 16, 1),
        activations=("relu", "sigmoid"),
        loss="bce",
        init="he_normal",
        dataset="spiral",
        hyper=(("learning_rate", 1.0),),
        epochs=500,
        batch_size=30,
        lr_schedule=(("decay_steps", 200), ("decay_rate", 0.9)),
        seed_text="two spirals, 2-16-1 ReLU/sigmoid, He init, BCE (the spiral lesson), trained with a learning "
        "rate that decays as it goes: keras.optimizers.schedules.ExponentialDecay",
        choices="The spiral network on batches of 30 (10 steps an epoch), SGD from 1.0 decaying every step: "
        "lr = 1.0 * 0.9 ** (step / 200), Keras's ExponentialDecay(1.0, decay_steps=200, decay_rate=0.9) "
        "computed in float64 (np.float64 numbers; Keras takes a Python float's schedule in float32). torch "
        "gets it as LambdaLR(lambda step: 0.9 ** (step / 200)) stepped after every batch, not StepLR "
        "stepped once an epoch (docs/conventions-training.md). 500 epochs: 5000 steps, ending at lr 0.072.",
    ),
    Lesson(
        name="sensor-class-weights",
        sizes=(2, 16, 3),
        activations=("relu", "softmax"),
        loss="cce",
        init="he_normal",
        dataset="sensor",
        hyper=(("learning_rate", 0.1),),
        epochs=1000,
        class_weights=(1.0, 1.0, 4.0),
        class_weight_divisor="sum_of_weights",
        seed_text="temperature/vibration sensor, 3 classes (normal, warning, critical), 2-16-3, ReLU, softmax; "
        "a missed critical reading costs more than a false alarm",
        choices="The sensor lesson with class weights 1, 1, 4 (normal, warning, critical: numbers float32 "
        "holds exactly, as Keras's fit(class_weight=) keeps them) and the weighted sum divided by the sum of the "
        "weights: torch's nn.CrossEntropyLoss(weight=w) on class indices by default, Keras's "
        "CategoricalCrossentropy(reduction='mean_with_sample_weight'); Keras's default divides by N "
        "(docs/conventions-losses.md).",
    ),
)

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in _LESSONS}

# Not a catalog lesson (no lesson of the seeds has an L2 penalty): the spiral lesson with
# kernel_l2 = 2**-10, a factor float32 holds exactly (Keras rounds the factor through float32
# even in float64: conformance/tests/test_l2_penalty.py), for the L2 penalty's conformance tests.
SPIRAL_L2 = replace(LESSONS["spiral"], name="spiral-l2", kernel_l2=2.0**-10)


def get_lesson(name: str) -> Lesson:
    try:
        return LESSONS[name]
    except KeyError:
        raise ValueError(f"unknown lesson {name!r}; expected one of {sorted(LESSONS)}") from None
