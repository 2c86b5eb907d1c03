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

from dataclasses import dataclass, field

import numpy as np

from reference import get_initializer

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
    seed_text: str  # what the seed says
    init_args: tuple[tuple[str, float], ...] = ()
    bias_init: str = "zeros"  # the lesson's own bias initializer
    use_bias: bool = True
    optimizer: str = "sgd"
    hyper: tuple[tuple[str, float], ...] = (("learning_rate", 0.1),)
    epochs: int = 1000
    batch_size: int | None = None  # None: full batch, as the from-scratch lessons train
    seed: int = 0  # for the weights
    fixed_params: tuple[tuple[str, tuple], ...] = ()  # weights the seed states exactly
    dataset_args: tuple[tuple[str, object], ...] = ()  # the dataset loader's arguments, if any
    choices: str = ""  # what nnparity chose where the seed is silent

    def __post_init__(self):
        n = len(self.sizes) - 1
        if n < 1 or any(int(s) < 1 for s in self.sizes):
            raise ValueError(f"lesson {self.name!r}: sizes must be at least 2 positive ints. Received: {self.sizes}")
        if len(self.activations) != n:
            raise ValueError(
                f"lesson {self.name!r}: {n} layers need {n} activations. Received: {self.activations}"
            )

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
        }


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
    return _params(lesson, get_initializer(lesson.bias_init))


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
    return _params(lesson, CANONICAL_BIAS)


def lesson_data(lesson: Lesson):
    """(X, y) the lesson trains on, float64; shapes checked against the lesson's layers."""
    X, y = datasets.load(lesson.dataset, **dict(lesson.dataset_args))
    if X.ndim != 2 or y.ndim != 2 or X.shape[1] != lesson.sizes[0] or y.shape != (len(X), lesson.sizes[-1]):
        raise ValueError(
            f"lesson {lesson.name!r}: dataset {lesson.dataset!r} gives X {X.shape} and y {y.shape}; "
            f"the layers {lesson.sizes} need X (N, {lesson.sizes[0]}) and y (N, {lesson.sizes[-1]})"
        )
    return X, y


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
        seed_text="XOR 2-2-1, no biases, np.random.uniform init, 10000 epochs, summed updates * 0.1",
        choices="The seed's update adds X.T @ (error * sigmoid') with error = y - output: that is "
        "gradient descent on 0.5 * sum((output - y)**2) with learning rate 0.1.",
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
        hyper=(("learning_rate", 0.01),),
        epochs=100,
        seed_text="Keras Sequential: Dense(64, relu), Dense(32, relu), Dense(1, sigmoid); compile(adam, mse)",
        choices="Keras Dense's default init (Glorot uniform kernel, zero bias). SGD(0.01), Keras's default "
        "learning rate, until the optimizers issue brings Adam(0.001).",
    ),
)

LESSONS: dict[str, Lesson] = {lesson.name: lesson for lesson in _LESSONS}


def get_lesson(name: str) -> Lesson:
    try:
        return LESSONS[name]
    except KeyError:
        raise ValueError(f"unknown lesson {name!r}; expected one of {sorted(LESSONS)}") from None
