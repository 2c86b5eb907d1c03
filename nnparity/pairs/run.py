"""One run of a pair: both sides computed from the same weights and compared, under given settings.

``Inputs`` holds what the user passed; ``Settings`` what a run changes on top of it (nothing, for
the comparison itself): Keras conventions that torch is made to follow (``torch_side.py``), Keras
settings overridden and torch layers left out, the way ``explain.py`` tests an explanation's fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import torch_side, walk
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
    # each side's values by the settings that change that side: a run that changes only torch (a convention it
    # follows) reuses Keras's, and one that changes only Keras (a fix tried) reuses torch's
    computed: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """What a run changes: conventions torch follows, Keras layer/optimizer settings, torch layers left out."""

    follow: frozenset = frozenset()  # "epsilon-hat", "biased-running-variance"
    keras_layers: tuple = ()  # ((position, key, value), ...)
    keras_optimizer: tuple = ()  # ((key, value), ...)
    torch_skip: frozenset = frozenset()  # positions of torch modules left out

    def plus(self, other: "Settings") -> "Settings":
        return Settings(self.follow | other.follow, self.keras_layers + other.keras_layers,
                        self.keras_optimizer + other.keras_optimizer, self.torch_skip | other.torch_skip)


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
    key = ("torch", settings.follow, settings.torch_skip)
    if key not in inputs.computed:
        model = torch_side.torch_copy(inputs.torch_model, inputs.dtype)
        inspected = torch_side.inspect(model, pair, inputs.X, inputs.y, inputs.torch_loss, inputs.dtype,
                                       skip=settings.torch_skip)
        steps = torch_side.trajectory(model, pair, inputs.X, inputs.y, inputs.torch_loss, inputs.torch_optimizer,
                                      inputs.steps, inputs.dtype, follow=settings.follow, skip=settings.torch_skip)
        inputs.computed[key] = (inspected, steps, torch_side.params_of(model, pair))
    return inputs.computed[key]


def _keras_values(inputs: Inputs, pair: Pair, settings: Settings, start: dict) -> tuple[dict, list]:
    key = ("keras", settings.keras_layers, settings.keras_optimizer)
    if key not in inputs.computed:
        layer_overrides: dict = {}
        for position, name, value in settings.keras_layers:
            layer_overrides.setdefault(position, {})[name] = value
        keras = KerasSide(pair, inputs.keras_loss, inputs.dtype, layer_overrides)
        keras.load(start)
        inputs.computed[key] = (keras.inspect(inputs.X, inputs.y),
                                keras.trajectory(inputs.X, inputs.y, inputs.keras_optimizer, inputs.steps,
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
    case = walk.PairCase(f"torch vs Keras ({inputs.dtype}, {inputs.steps} steps)")
    notes = [f"{name} is not compared: the loss of one side does not depend on it (a Keras cross-entropy after a "
             "sigmoid or softmax reads the logits attached to its output: keras-logits)" for name in sorted(unreached)]
    return Run(settings, comparisons, walk.first_divergence(qs, comparisons, case), t_values, k_values, notes, start)
