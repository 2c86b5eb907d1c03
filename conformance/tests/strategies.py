"""Hypothesis strategies: random MLP lessons, declared exactly as the catalog declares them.

``lessons()`` draws a whole ``Lesson``: depth 1 to 5 Dense layers of 1 to 64
units, any activation in the hidden layers, an output activation and loss that
fit each other, an initializer, an optimizer with its hyper-parameters, and a
random batch of 1 to 256 samples whose inputs are N(0, scale**2) with scale up
to 1000 (saturated sigmoids and softmaxes included). The data is declared too
(``dataset="random"`` and its ``dataset_args``), so ``declaration(lesson)`` is
Python that can be pasted into ``conformance/lessons.py`` to keep a failure.

A few examples sit where the frameworks' answers are defined by rounding, not
by the formula; ``ambiguity`` names them, and the property test checks only
their forward pass (see its docstring).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import strategies as st

from conformance.lessons import Lesson
from reference import ACTIVATIONS, OPTIMIZERS

MAX_DEPTH, MAX_WIDTH, MAX_BATCH = 5, 64, 256
# Input scales: 1 first (hypothesis shrinks towards the first), then small, large and very large.
SCALES = (1.0, 0.01, 30.0, 1000.0)

# output activation -> the losses that fit it, and the targets each needs
OUTPUT_LOSSES: dict[str, tuple[tuple[str, str], ...]] = {
    "sigmoid": (("bce", "binary"), ("mse", "real"), ("half_sse", "real")),
    "softmax": (("cce", "onehot"), ("mse", "real")),
    "linear": (("bce_logits", "binary"), ("cce_logits", "onehot"), ("mse", "real"), ("half_sse", "real")),
    "tanh": (("mse", "real"), ("half_sse", "real")),
    "relu": (("mse", "real"),),
    "leaky_relu": (("mse", "real"),),
}
MULTI_CLASS = {"cce", "cce_logits"}  # need at least 2 outputs
# Hidden activations, named rather than taken from reference.ACTIVATIONS: an activation with a
# jump (a step) would need its own rounding rule in ``ambiguity`` before it can join.
HIDDEN = tuple(a for a in ("relu", "sigmoid", "tanh", "leaky_relu", "linear", "softmax") if a in ACTIVATIONS)

# kernel initializer -> its arguments
INITS: dict[str, st.SearchStrategy] = {
    "glorot_uniform": st.just(()),
    "he_normal": st.just(()),
    "torch_linear_default": st.just(()),
    "glorot_normal": st.just(()),
    "he_uniform": st.just(()),
    "normal": st.sampled_from([0.5, 0.1, 2.0]).map(lambda s: (("scale", s),)),
    "zeros": st.just(()),
}

# optimizer -> its hyper-parameters (an optimizer added to reference.OPTIMIZERS gets a row here)
OPTIMIZER_HYPER: dict[str, st.SearchStrategy] = {
    "sgd": st.sampled_from([0.1, 0.01, 1.0]).map(lambda lr: (("learning_rate", lr),)),
}


@st.composite
def lessons(draw, name: str = "property") -> Lesson:
    """A random, valid lesson (see the module doc)."""
    depth = draw(st.integers(1, MAX_DEPTH))
    output = draw(st.sampled_from(sorted(OUTPUT_LOSSES)))
    loss, targets = draw(st.sampled_from(OUTPUT_LOSSES[output]))
    min_out = 2 if loss in MULTI_CLASS else 1
    sizes = tuple(draw(st.integers(1, MAX_WIDTH)) for _ in range(depth)) + (draw(st.integers(min_out, 8)),)
    hidden = tuple(draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1))
    init = draw(st.sampled_from(list(INITS)))
    optimizer = draw(st.sampled_from([o for o in OPTIMIZER_HYPER if o in OPTIMIZERS]))
    data = (
        ("samples", draw(st.integers(1, MAX_BATCH))),
        ("features", sizes[0]),
        ("outputs", sizes[-1]),
        ("targets", targets),
        ("scale", draw(st.sampled_from(SCALES))),
        ("seed", draw(st.integers(0, 2**16))),
    )
    return Lesson(
        name=name,
        sizes=sizes,
        activations=hidden + (output,),
        loss=loss,
        init=init,
        init_args=draw(INITS[init]),
        use_bias=draw(st.booleans().map(lambda b: not b)),  # shrinks towards biases on
        optimizer=optimizer,
        hyper=draw(OPTIMIZER_HYPER[optimizer]),
        seed=draw(st.integers(0, 2**16)),
        dataset="random",
        dataset_args=data,
        seed_text="a random lesson drawn by conformance/tests/strategies.py",
    )


def random_batch_of(lesson: Lesson, samples: int, scale: float = 1.0, seed: int = 0) -> Lesson:
    """``lesson`` on a random batch of ``samples`` (targets that fit its loss), inputs of size ``scale``."""
    targets = {"bce": "binary", "cce": "onehot", "bce_logits": "binary", "cce_logits": "onehot"}.get(lesson.loss, "real")
    args = (("samples", samples), ("features", lesson.sizes[0]), ("outputs", lesson.sizes[-1]),
            ("targets", targets), ("scale", scale), ("seed", seed))
    return dataclasses.replace(lesson, name=f"{lesson.name}-{samples}-samples", dataset="random", dataset_args=args)


def declaration(lesson: Lesson) -> str:
    """``Lesson(...)`` with every field that differs from its default: paste it into lessons.py."""
    fields = [f"{f.name}={getattr(lesson, f.name)!r}" for f in dataclasses.fields(lesson)
              if f.default is dataclasses.MISSING or getattr(lesson, f.name) != f.default]
    return "Lesson(\n    " + ",\n    ".join(fields) + ",\n)"


# Where a probability is this close to 0 or 1 the gradient of a loss computed on
# probabilities depends on how each library rounds the sigmoid: float32 sigmoid(17)
# is exactly 1.0 in torch (then BCELoss's gradient is 0) and 1 - 6e-8 in float64;
# Keras clips at 1 - 1.19e-7 in float32. float64 turns ill-conditioned where torch's
# max(p (1 - p), 1e-12) takes over. Those saturated outputs are checked exactly, with
# inputs where every library rounds alike, in test_edges.py.
SATURATION_MARGIN = {"float32": 1e-5, "float64": 1e-10}

# A ReLU/leaky ReLU unit whose |z| is within this many ulps of its terms' size may sit on
# the other side of the kink in the framework (derivative 0 vs 1): float32 sums of up to
# 64 terms carry errors of a few ulps of the terms.
KINK_ULPS = 64
KINKED = {"relu", "leaky_relu"}


def ambiguity(lesson: Lesson, model, X: np.ndarray, probabilities: bool, dtype: str) -> str | None:
    """Why this example's gradients are rounding-defined (and so not comparable), or None.

    ``model`` is the reference MLP after ``forward(X)``; ``probabilities``: whether the
    framework computes the loss on probabilities (``conventions.uses_probabilities``).
    """
    if probabilities:
        p = model.a[-1]
        if lesson.loss == "cce":
            p = p / p.sum(axis=1, keepdims=True)
        if np.any(np.minimum(p, 1 - p) < SATURATION_MARGIN[dtype]):
            return "saturated output under a loss on probabilities"
    eps = np.finfo(dtype).eps
    for i, (activation, z) in enumerate(zip(lesson.activations, model.z)):
        if activation in KINKED:
            terms = np.abs(model.a[i]) @ np.abs(model.params[f"W{i + 1}"])
            if lesson.use_bias:
                terms = terms + np.abs(model.params[f"b{i + 1}"])
            if np.any(np.abs(z) < KINK_ULPS * eps * terms):  # z exactly 0 from exact zeros is no ambiguity
                return f"a {activation} unit of layer {i + 1} within rounding of its kink"
    return None
