"""What ``nnparity bench`` times: the workloads, and one training step of each implementation.

A workload is a network and its batch (every lesson of the catalog, full batch, and
``mnist-size``: 784-256-128-10, ReLU, ReLU, softmax with categorical cross-entropy, 128
random rows). An implementation (``IMPLS``) builds, for a workload and a dtype, a function
that takes one whole training step (forward, loss, backward, update) and one that runs,
untimed, before every timed block (it sets the thread count). ``bench.py`` says which
implementations there are and how they are timed (``timing.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from conformance.cases import reference_model, share_dropout_masks
from conformance.lessons import LESSONS, Lesson, get_lesson, initial_params, lesson_data
from conformance.threads import REFERENCE_BLAS_THREADS, default_blas_threads
from frameworks import twin_class
from reference import get_initializer, get_optimizer

# Timed steps use learning_rate * LR_SCALE: the same arithmetic, weights that stay put.
LR_SCALE = 1e-3
IMPL_NAMES = ("reference", "reference-default-blas", "torch-1thread", "torch", "keras-function", "keras-train-on-batch")
MNIST_SIZE = "mnist-size"


@dataclass(frozen=True)
class Workload:
    """A network and its batch: what one training step works on.

    ``network()`` is the ``Lesson`` it runs, so the twins' own builders and the
    checks' ``reference_model`` make the bench's models (with a lesson's
    regularizers; a dropout lesson keeps one fixed mask: the arithmetic of any step).
    """

    name: str
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    optimizer: str = "sgd"
    hyper: tuple[tuple[str, float], ...] = (("learning_rate", 0.1),)
    use_bias: bool = True
    lesson: str | None = None  # the catalog lesson it comes from, if any

    def network(self):
        """The ``Lesson`` the twins and the reference are built from: the catalog lesson itself (with its
        dropout, BatchNorm or penalty), or, for ``mnist-size``, a plain MLP declared from these fields."""
        if self.lesson is not None:
            return get_lesson(self.lesson)
        return Lesson(name=self.name, sizes=self.sizes, activations=self.activations, loss=self.loss,
                      init="he_normal", dataset="(random rows, Workload.data)", seed_text="a bench workload",
                      use_bias=self.use_bias, optimizer=self.optimizer, hyper=self.hyper)

    @property
    def timed_hyperparameters(self) -> dict[str, float]:
        """The optimizer's hyper-parameters, learning rate times ``LR_SCALE``."""
        hyper = dict(self.hyper)
        hyper["learning_rate"] *= LR_SCALE
        return hyper

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) in float64: the lesson's dataset, or random data for ``mnist-size``."""
        if self.lesson is not None:
            return lesson_data(get_lesson(self.lesson))
        rng = np.random.default_rng(0)
        X = rng.standard_normal((128, self.sizes[0]))
        y = np.eye(self.sizes[-1])[rng.integers(0, self.sizes[-1], 128)]  # one-hot labels
        return X, y

    def params(self) -> dict[str, np.ndarray]:
        """The starting weights (float64, reference layout)."""
        if self.lesson is not None:
            return initial_params(get_lesson(self.lesson))
        rng = np.random.default_rng(0)
        he, params = get_initializer("he_normal"), {}
        for i, (fan_in, units) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            params[f"W{i}"] = he((fan_in, units), rng)
            params[f"b{i}"] = np.zeros(units)
        return params


def workloads() -> dict[str, Workload]:
    """Every lesson of the catalog, then ``mnist-size``."""
    out = {
        name: Workload(name, lesson.sizes, lesson.activations, lesson.loss, lesson.optimizer, tuple(lesson.hyper),
                       lesson.use_bias, lesson=name)
        for name, lesson in LESSONS.items()
    }
    out[MNIST_SIZE] = Workload(MNIST_SIZE, (784, 256, 128, 10), ("relu", "relu", "softmax"), "cce")
    return out


# ---------------------------------------------------------------------------
# One step per implementation. Each builder returns (step, before_block):
# ``step()`` does one training step and returns its loss (before the update);
# ``before_block()`` runs, untimed, before every timed block.


def _nothing():
    pass


def reference_step(workload: Workload, dtype: str, blas_threads: int = REFERENCE_BLAS_THREADS):
    """NumPy's BLAS on ``blas_threads`` threads: one, as every nnparity process runs the reference
    (``conformance/threads.py``), or ``default_blas_threads()`` for the ``reference-default-blas`` row."""
    X, y = (a.astype(dtype) for a in workload.data())
    # torch's conventions where the two differ (BatchNorm's running variance, the optimizer's formula)
    model = reference_model(workload.network(), workload.params(), convention="torch", dtype=dtype)
    share_dropout_masks(model, workload.network(), len(X))  # one fixed mask: the arithmetic of any step
    optimizer = get_optimizer(workload.optimizer, convention="torch", **workload.timed_hyperparameters)
    return partial(model.step, X, y, optimizer), partial(threadpool_limits, limits=blas_threads, user_api="blas")


def _default_blas_step(workload: Workload, dtype: str):
    return reference_step(workload, dtype, blas_threads=default_blas_threads())


def _twin(framework: str, workload: Workload, dtype: str):
    """A new twin of the workload's network (not the suite's cached one), with its weights and dropout mask."""
    twin = twin_class(framework)(workload.network(), dtype)
    twin.set_params(workload.params())
    share_dropout_masks(twin, workload.network(), len(workload.data()[0]))
    return twin


def _torch_twin(workload: Workload, dtype: str):
    return _twin("torch", workload, dtype)


def torch_step(workload: Workload, dtype: str, threads: int | None):
    """threads=None: torch's default number of threads (``torch_default_threads``)."""
    import torch

    twin = _torch_twin(workload, dtype)
    X, y = workload.data()
    x, y = (torch.tensor(a, dtype=twin.torch_dtype) for a in (X, y))
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)

    def step():
        optimizer.zero_grad(set_to_none=True)
        trace = {}
        twin.model(x, trace)  # trace: every stage by name; the logits losses use z_L
        last = len(workload.sizes) - 1
        loss = twin.loss_fn(trace[f"z{last}"], trace[f"a{last}"], y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    n = threads or torch_default_threads()
    return step, partial(torch.set_num_threads, n)


def torch_default_threads() -> int:
    """torch's default intra-op thread count: the torch twin pins the process to one thread
    when it is imported, and notes the default it found first."""
    from frameworks.torch_twin import DEFAULT_THREADS

    return DEFAULT_THREADS


def _keras_twin(workload: Workload, dtype: str):
    return _twin("keras", workload, dtype)


def keras_function_step(workload: Workload, dtype: str):
    twin = _keras_twin(workload, dtype)  # first: the twin's module sets TensorFlow's environment before its import
    import tensorflow as tf

    X, y = workload.data()
    x, y = (tf.constant(a.astype(dtype)) for a in (X, y))
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)
    variables = list(twin.model.trainable_variables)
    optimizer.build(variables)  # its variables exist before tracing

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = twin.loss_fn(y, twin.model(x, training=True))
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return partial(train_step, x, y), _nothing


def keras_train_on_batch_step(workload: Workload, dtype: str):
    from frameworks.keras_twin import keras_dtype

    twin = _keras_twin(workload, dtype)
    X, y = (a.astype(dtype) for a in workload.data())
    optimizer = twin.make_optimizer(workload.optimizer, workload.timed_hyperparameters)
    with keras_dtype(dtype):
        twin.model.compile(optimizer=optimizer, loss=twin.loss_fn)
    return partial(twin.model.train_on_batch, X, y), _nothing


# impl name -> (framework it needs or None, builder(workload, dtype))
IMPLS: dict[str, tuple[str | None, Callable]] = {
    "reference": (None, reference_step),
    "reference-default-blas": (None, _default_blas_step),
    "torch-1thread": ("torch", partial(torch_step, threads=1)),
    "torch": ("torch", partial(torch_step, threads=None)),
    "keras-function": ("keras", keras_function_step),
    "keras-train-on-batch": ("keras", keras_train_on_batch_step),
}
