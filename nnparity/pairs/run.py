"""One run of a pair: both sides computed from the same weights and compared, under given settings.

``Inputs`` holds what the user passed; ``Settings`` what a run changes on top of it (nothing, for
the comparison itself): Keras conventions that torch is made to follow (``torch_follow.py``), Keras
or torch settings overridden and torch layers left out, the way ``explain.py`` tests an explanation's fix.
``batches`` is the one place that says which samples each step takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import torch_follow, torch_side, walk
from .keras_side import KerasSide
from .pairing import Pair


@dataclass
class Inputs:
    torch_model: object
    keras_model: object
    X: np.ndarray
    y: np.ndarray
    torch_loss: object
    keras_loss: object
    torch_optimizer: object  # a callable taking the parameters
    keras_optimizer: object  # a Keras optimizer (its class and config are used, never the instance)
    steps: int
    dtype: str
    batch_size: int | None = None  # None: every step takes the whole data; n: the next n samples, in order
    # each side's values by the settings that change that side: a run that changes only torch (a convention it
    # follows) reuses Keras's, and one that changes only Keras (a fix tried) reuses torch's
    computed: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """What a run changes: conventions torch follows, Keras and torch settings, torch layers left out."""

    follow: frozenset = frozenset()  # torch_follow.FOLLOWED's keys
    keras_layers: tuple = ()  # ((position, key, value), ...)
    keras_optimizer: tuple = ()  # ((key, value), ...)
    torch_skip: frozenset = frozenset()  # positions of torch modules left out
    torch_layers: tuple = ()  # ((position, attribute, value), ...) set on the torch copy's modules
    torch_optimizer: tuple = ()  # ((key, value), ...) set in each of the torch optimizer's parameter groups

    def plus(self, other: "Settings") -> "Settings":
        return Settings(self.follow | other.follow, self.keras_layers + other.keras_layers,
                        self.keras_optimizer + other.keras_optimizer, self.torch_skip | other.torch_skip,
                        self.torch_layers + other.torch_layers, self.torch_optimizer + other.torch_optimizer)


def batches(inputs: Inputs) -> list[tuple[int, int]]:
    """(start, stop) of the samples each step takes: the whole data, or the next ``batch_size`` samples in order,
    a shorter last batch where they do not divide, from the first again after the last (no shuffling)."""
    n = len(inputs.X)
    if inputs.batch_size is None:
        return [(0, n)] * inputs.steps
    starts = list(range(0, n, inputs.batch_size))
    return [(starts[k % len(starts)], min(starts[k % len(starts)] + inputs.batch_size, n)) for k in range(inputs.steps)]


@dataclass
class Run:
    settings: Settings
    comparisons: dict = field(default_factory=dict)
    divergence: object = None
    torch_values: dict = field(default_factory=dict)
    keras_values: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    start: dict = field(default_factory=dict)  # the weights both sides started from (torch's, reference layout)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons.values())


def _torch_values(inputs: Inputs, pair: Pair, settings: Settings) -> tuple[dict, dict]:
    """(the torch side's inspected quantities, its trajectory), and the start weights, computed once per setting."""
    key = ("torch", settings.follow, settings.torch_skip, settings.torch_layers, settings.torch_optimizer)
    if key not in inputs.computed:
        model = torch_side.torch_copy(inputs.torch_model, inputs.dtype)
        start = torch_side.params_of(model, pair)
        torch_follow.set_layers(model, pair, settings.torch_layers)
        first = slice(*batches(inputs)[0])
        inspected = torch_side.inspect(model, pair, inputs.X[first], inputs.y[first], inputs.torch_loss, inputs.dtype,
                                       skip=settings.torch_skip, follow=settings.follow)
        steps = torch_side.trajectory(model, pair, inputs.X, inputs.y, inputs.torch_loss, inputs.torch_optimizer,
                                      batches(inputs), inputs.dtype, settings)
        inputs.computed[key] = (inspected, steps, start)
    return inputs.computed[key]


def _keras_values(inputs: Inputs, pair: Pair, settings: Settings, start: dict) -> tuple[dict, list]:
    key = ("keras", settings.keras_layers, settings.keras_optimizer)
    if key not in inputs.computed:
        layer_overrides: dict = {}
        for position, name, value in settings.keras_layers:
            layer_overrides.setdefault(position, {})[name] = value
        keras = KerasSide(pair, inputs.keras_loss, inputs.dtype, layer_overrides)
        keras.load(start)
        first = slice(*batches(inputs)[0])
        inputs.computed[key] = (keras.inspect(inputs.X[first], inputs.y[first]),
                                keras.trajectory(inputs.X, inputs.y, inputs.keras_optimizer, batches(inputs),
                                                 dict(settings.keras_optimizer)))
    return inputs.computed[key]


def run(inputs: Inputs, pair: Pair, settings: Settings = Settings()) -> Run:
    """Both sides from the torch model's weights, every quantity compared (``walk.py``)."""
    t_inspected, t_steps, start = _torch_values(inputs, pair, settings)
    k_inspected, k_steps = _keras_values(inputs, pair, settings, start)
    # a point whose torch layers a fix leaves out (a softmax before CrossEntropyLoss) is what the loss applies
    left_out = {p.name for p in pair.points if p.torch and all(s.spec.position in settings.torch_skip for s in p.torch)}
    qs = walk.quantities(pair, inputs.steps)
    qs["forward"] = [q for q in qs["forward"] if q.name not in left_out]
    qs["backward"] = [q for q in qs["backward"] if q.name[len("dL/d"):] not in left_out]
    t_values, k_values = walk.values(pair, t_inspected, t_steps), walk.values(pair, k_inspected, k_steps)
    unreached = {q.name for q in qs["backward"] if t_values[q.name] is None or k_values[q.name] is None}
    qs["backward"] = [q for q in qs["backward"] if q.name not in unreached]
    comparisons = walk.compare_stages(qs, t_values, k_values, inputs.dtype, pair.batchnorm)
    per_step = "" if inputs.batch_size is None else f", batches of {inputs.batch_size}"
    case = walk.PairCase(f"torch vs Keras ({inputs.dtype}, {inputs.steps} steps{per_step})")
    notes = [f"{name} is not compared: the loss of one side does not depend on it (a Keras cross-entropy after a "
             "sigmoid or softmax reads the logits attached to its output: keras-logits)" for name in sorted(unreached)]
    return Run(settings, comparisons, walk.first_divergence(qs, comparisons, case), t_values, k_values, notes, start)
