"""The lines a lesson with LayerNorm adds to each program: a LayerNorm before every hidden activation.

NumPy writes it out, each sample over its own units (``m1 = z1.mean(axis=1, keepdims=True)``,
``h1 = (z1 - m1) / np.sqrt(v1 + eps)``, ``n1 = gamma1 * h1 + beta1``, and its backward); PyTorch
adds ``nn.LayerNorm(units, eps=...)`` and Keras ``LayerNormalization(epsilon=...)``. The epsilon is
written in both, because their defaults differ (torch 1e-5, Keras 1e-3: docs/conventions-layers.md).
Both start at gamma 1, beta 0, as the NumPy program does; there are no running statistics.
"""

from __future__ import annotations

from conformance.lessons import Lesson

from .declaration import num


def hidden(lesson: Lesson, l: int) -> bool:
    """Whether layer ``l`` (from 1) has a LayerNorm after its Dense."""
    return lesson.layernorm and l < lesson.n_layers


def settings(lesson: Lesson) -> list[str]:
    return ["# LayerNorm's epsilon, given to torch and Keras",
            "# too: their defaults differ (1e-5, 1e-3)", f"eps = {num(lesson.layernorm_epsilon)}", ""]


def numpy_forward(l: int, prev: str, bias: str, act: str) -> list[str]:
    """Hidden layer ``l``: Dense, each row normalized over its units, scaled and shifted, activated."""
    return [f"    z{l} = {prev} @ W{l}{bias}", "    # each sample over its own units",
            f"    m{l} = z{l}.mean(axis=1, keepdims=True)", f"    v{l} = z{l}.var(axis=1, keepdims=True)",
            f"    h{l} = (z{l} - m{l}) / np.sqrt(v{l} + eps)", f"    n{l} = gamma{l} * h{l} + beta{l}",
            f"    a{l} = {act}(n{l})"]


def numpy_backward(l: int, upstream: str, derivative: str) -> list[str]:
    """dz of hidden layer ``l`` through its LayerNorm, from ``upstream`` = dL/da (``derivative``: its act')."""
    return [f"dn{l} = {upstream}{derivative.replace('z{l}', 'n{l}').format(l=l)}",
            f"dgamma{l}, dbeta{l} = (dn{l} * h{l}).sum(axis=0), dn{l}.sum(axis=0)",
            f"dh{l} = dn{l} * gamma{l} / np.sqrt(v{l} + eps)",
            "# the row means, as the forward took them",
            f"dz{l} = (dh{l} - dh{l}.mean(axis=1, keepdims=True)",
            f"       - h{l} * (dh{l} * h{l}).mean(axis=1, keepdims=True))"]


def weight_lines(lesson: Lesson) -> list[str]:
    lines = ["# LayerNorm's start, as PyTorch's and Keras's"]
    for l, units in enumerate(lesson.sizes[1:-1], start=1):
        lines.append(f"gamma{l}, beta{l} = np.ones({units}), np.zeros({units})")
    return lines


def torch_module(lesson: Lesson, units: int) -> str:
    return f"nn.LayerNorm({units}, eps={num(lesson.layernorm_epsilon)})"


def keras_layer(lesson: Lesson) -> str:
    return f"keras.layers.LayerNormalization(epsilon={num(lesson.layernorm_epsilon)})"
