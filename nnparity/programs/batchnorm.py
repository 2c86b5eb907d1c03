"""The lines a lesson with BatchNorm adds to each program: a BatchNorm before every hidden activation.

NumPy writes it out (``h1 = (z1 - m1) / np.sqrt(v1 + eps)``, ``n1 = gamma1 * h1 + beta1``, its
backward, the running statistics); PyTorch adds ``nn.BatchNorm1d(units, eps, momentum)`` and Keras
``BatchNormalization(momentum, epsilon)``, each in its own words: Keras's momentum is the old
running value's weight, torch's the batch's (``1 - momentum``). Both start at gamma 1, beta 0,
running mean 0 and variance 1, as the NumPy program does. The running variance stays each
framework's own, unbiased in PyTorch and biased in Keras; the NumPy program keeps PyTorch's.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from . import layernorm
from .declaration import num

STATE = ("gamma", "beta", "moving_mean", "moving_variance")


def hidden(lesson: Lesson, l: int) -> bool:
    """Whether layer ``l`` (from 1) has a BatchNorm after its Dense."""
    return lesson.batchnorm and l < lesson.n_layers


def state_names(lesson: Lesson) -> list[str]:
    """Every array a program saves, in Keras's order: W1, b1, gamma1, beta1, moving_mean1, ... (a LayerNorm's
    gamma1, beta1 too)."""
    names = []
    for l in range(1, lesson.n_layers + 1):
        names += [f"W{l}"] + ([f"b{l}"] if lesson.use_bias else [])
        names += [f"{p}{l}" for p in STATE] if hidden(lesson, l) else []
        names += [f"gamma{l}", f"beta{l}"] if layernorm.hidden(lesson, l) else []
    return names


def trainable_names(lesson: Lesson) -> list[str]:
    """The parameters the optimizer updates: the state but the running statistics."""
    return [n for n in state_names(lesson) if not n.startswith("moving_")]


def settings(lesson: Lesson) -> list[str]:
    return [f"# BatchNorm: Keras's momentum {num(lesson.batchnorm_momentum)} is torch's "
            f"{num(round(1 - lesson.batchnorm_momentum, 12))}",
            f"momentum, eps = {num(lesson.batchnorm_momentum)}, {num(lesson.batchnorm_epsilon)}", ""]


def numpy_forward(l: int, prev: str, bias: str, act: str) -> list[str]:
    return [f"    z{l} = {prev} @ W{l}{bias}", f"    m{l}, v{l} = z{l}.mean(axis=0), z{l}.var(axis=0)",
            "    if not training:  # the running statistics",
            f"        m{l}, v{l} = moving_mean{l}, moving_variance{l}",
            f"    h{l} = (z{l} - m{l}) / np.sqrt(v{l} + eps)", f"    n{l} = gamma{l} * h{l} + beta{l}",
            f"    a{l} = {act}(n{l})"]


def numpy_backward(l: int, upstream: str, derivative: str) -> list[str]:
    """dz of hidden layer ``l`` through its BatchNorm, from ``upstream`` = dL/da (``derivative``: its act')."""
    return [f"dn{l} = {upstream}{derivative.replace('z{l}', 'n{l}').format(l=l)}",
            f"dgamma{l}, dbeta{l} = (dn{l} * h{l}).sum(axis=0), dn{l}.sum(axis=0)",
            f"dh{l} = dn{l} * gamma{l} / np.sqrt(v{l} + eps)",
            f"dz{l} = dh{l} - dh{l}.mean(axis=0) - h{l} * (dh{l} * h{l}).mean(axis=0)"]


def numpy_running(lesson: Lesson, n: str) -> list[str]:
    lines = ["# the running statistics; the variance unbiased, as torch"]
    for l in range(1, lesson.n_layers):
        lines += [f"moving_mean{l}[:] = momentum * moving_mean{l} + (1 - momentum) * m{l}",
                  f"moving_variance{l}[:] = (momentum * moving_variance{l}",
                  f"    + (1 - momentum) * v{l} * ({n} / ({n} - 1)))"]
    return lines


def weight_lines(lesson: Lesson) -> list[str]:
    lines = ["# BatchNorm's start, as PyTorch's and Keras's"]
    for l, units in enumerate(lesson.sizes[1:-1], start=1):
        lines += [f"gamma{l}, beta{l} = np.ones({units}), np.zeros({units})",
                  f"moving_mean{l} = np.zeros({units})", f"moving_variance{l} = np.ones({units})"]
    return lines


def torch_module(lesson: Lesson, units: int) -> str:
    return f"nn.BatchNorm1d({units}, eps={num(lesson.batchnorm_epsilon)}, momentum={num(round(1 - lesson.batchnorm_momentum, 12))})"


def keras_layer(lesson: Lesson) -> str:
    return (f"keras.layers.BatchNormalization(momentum={num(lesson.batchnorm_momentum)}, "
            f"epsilon={num(lesson.batchnorm_epsilon)})")
