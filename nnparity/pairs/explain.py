"""Why a pair disagrees: the known conventions read off the two models' norms and losses (``Explanation``).

Nothing here is guessed from the numbers alone. Each detector reads the configurations (a
BatchNorm's momentum on each side, the optimizers' hyper-parameters and their defaults, the
activations between two paired layers, the loss classes) and names the convention of
``frameworks/conventions.py`` behind a difference it finds, with the setting that removes it. A
setting is then *tried*: ``compare_models`` runs the pair again with it (``Settings``) and says
whether the two then agree, or where they part next. Where no setting exists (Adam's epsilon-hat,
BatchNorm's unbiased running variance), the probe makes torch follow Keras's formula instead
(``torch_follow.py``): if the pair then agrees, that convention is the whole difference. The
activations are read in ``explain_activations.py``, the optimizers in ``explain_optimizers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frameworks.conventions import TORCH_VS_KERAS

from .pairing import Pair
from .run import Inputs, Settings
from .torch_side import optimizer_settings

# explanation keys that a row of the table covers under its own name: the row of each
ROW_OF = {"adamax-epsilon-in-max": "adamax-epsilon",  # the docs pages' name (conformance/tests) for the same row
          "gelu-float32-constant": "gelu-default",  # that row's Keras side: TensorFlow's float32 constants
          "leaky-relu-float32-slope": "leaky-relu-slope"}  # that row's Keras side: the kernel's float32 slope
# keys that name no convention of the frameworks: a difference of the two models themselves, or rounding
NOT_CONVENTIONS = {"activation": "another activation on one side", "loss": "another loss",
                   "optimizer": "another optimizer", "hyper-parameter": "another value of the same setting",
                   "zero-gradient": "a gradient that is rounding noise, which Adam-like optimizers amplify",
                   "kink-crossing": "float32 rounding deciding a ReLU kink (conformance/known/kink_crossing.py)"}
# torch loss class -> the Keras losses that compute the same thing
LOSS_PAIRS = {"MSELoss": ("MeanSquaredError",), "L1Loss": ("MeanAbsoluteError",), "BCELoss": ("BinaryCrossentropy",),
              "BCEWithLogitsLoss": ("BinaryCrossentropy",),
              "CrossEntropyLoss": ("CategoricalCrossentropy", "SparseCategoricalCrossentropy")}


@dataclass
class Explanation:
    """A difference between the two sides' settings, the convention behind it, and what removes it."""

    key: str  # a row of TORCH_VS_KERAS (or ROW_OF's name for one), or one of NOT_CONVENTIONS
    stage: str  # where it shows first: forward, loss, step
    detail: str
    fix: str | None  # the setting that makes them agree, in words; None where none exists
    settings: Settings | None = None  # the fix as a run's settings, to try it
    verdict: str = ""  # what trying it showed
    adapter: str = ""  # where no setting exists: the adapter of frameworks/ that computes the other's numbers

    @property
    def convention(self):
        return TORCH_VS_KERAS.get(ROW_OF.get(self.key, self.key))

    def text(self) -> str:
        row = self.convention
        head = f"[{self.key}] {row.topic}: " if row else f"[{self.key}] "
        lines = [head + self.detail]
        if row:
            lines.append(f"    torch: {row.torch}")
            lines.append(f"    keras: {row.keras}")
        lines.append(f"    fix: {self.fix}" if self.fix else "    fix: no setting makes them agree")
        if self.adapter:
            lines.append(f"    adapter: {self.adapter}")
        if self.verdict:
            lines.append(f"    tried: {self.verdict}")
        return "\n".join(lines)


def norm_explanations(pair: Pair) -> list[Explanation]:
    """Each paired BatchNorm's momentum (torch's weight of the batch, Keras's of the old value) and each norm's epsilon."""
    found = []
    for point in pair.points:
        if len(point.torch) != 1 or point.torch[0].spec.kind not in ("batchnorm", "layernorm"):
            continue
        t, k = point.torch[0].spec, point.keras[0].spec
        t_m, k_m = t.config.get("momentum"), k.config.get("momentum")
        if t.kind == "batchnorm" and t_m is None:
            found.append(Explanation("batchnorm-momentum", "step", f"{t.where} has momentum=None (a cumulative "
                                     f"average over every batch); Keras has no such setting", None))
        elif t.kind == "batchnorm" and not np.isclose(k_m, 1 - t_m, rtol=0, atol=1e-12):
            found.append(Explanation(
                "batchnorm-momentum", "step", f"{t.where} has momentum={t_m:g} (the new batch's weight: Keras's "
                f"{1 - t_m:g}), {k.where} momentum={k_m:g} (the old value's weight)",
                f"BatchNormalization(momentum={1 - t_m:g}) in Keras, or BatchNorm1d(momentum={1 - k_m:g}) in torch",
                Settings(keras_layers=((k.position, "momentum", 1 - t_m),))))
        if not np.isclose(t.config["epsilon"], k.config["epsilon"], rtol=1e-12, atol=0):
            keras_cls = "BatchNormalization" if t.kind == "batchnorm" else "LayerNormalization"
            found.append(Explanation(
                "norm-epsilon", "forward", f"{t.where} has eps={t.config['epsilon']:g}, {k.where} "
                f"epsilon={k.config['epsilon']:g}", f"{keras_cls}(epsilon={t.config['epsilon']:g}) in Keras",
                Settings(keras_layers=((k.position, "epsilon", t.config["epsilon"]),))))
    return found


def loss_explanations(inputs: Inputs, pair: Pair, torch_output) -> list[Explanation]:
    """The loss classes: a softmax applied twice, BCE at saturated probabilities, two different losses."""
    t_loss, k_loss = type(inputs.torch_loss).__name__, type(inputs.keras_loss).__name__
    last = pair.points[-1]
    t_last = last.torch[-1] if last.torch and last.torch[-1].spec.kind == "activation" else None
    found = []
    if t_last is not None and t_last.activation == "softmax" and t_loss == "CrossEntropyLoss":
        found.append(Explanation(
            "softmax-cross-entropy", "loss", f"the torch model ends with a softmax ({t_last.spec.where}) and "
            "torch's CrossEntropyLoss applies log_softmax to what it is given: a softmax applied twice",
            f"leave {t_last.spec.where} out of the torch model (CrossEntropyLoss takes the logits)",
            Settings(torch_skip=frozenset({t_last.spec.position}))))
    if t_loss in LOSS_PAIRS and k_loss not in LOSS_PAIRS[t_loss] and callable(inputs.keras_loss):
        found.append(Explanation("loss", "loss", f"torch's {t_loss} against Keras's {k_loss}: different losses",
                                 f"keras.losses.{LOSS_PAIRS[t_loss][0]}"))
    if t_loss == "BCELoss" and k_loss == "BinaryCrossentropy" and torch_output is not None:
        p = np.asarray(torch_output)
        saturated = int(np.count_nonzero((p < 1e-7) | (p > 1 - 1e-7)))
        if saturated:
            found.append(Explanation(
                "bce-probabilities", "loss", f"{saturated} output probabilities are within 1e-7 of 0 or 1, where torch's "
                "BCELoss clamps the log at -100 and Keras clips p to [1e-7, 1 - 1e-7] (or reads the logits)",
                "compute both from the logits: nn.BCEWithLogitsLoss without the final Sigmoid, and "
                "BinaryCrossentropy(from_logits=True) without the sigmoid"))
    return found


def zero_gradient_explanations(inputs: Inputs, pair: Pair, torch_values: dict) -> list[Explanation]:
    """A bias in front of a BatchNorm under an optimizer that normalises the gradient (Adam, RMSprop, ...).

    BatchNorm subtracts the batch mean, so such a bias has a zero gradient in exact arithmetic; what
    each framework computes is rounding noise (measured: the gradient's size against its layer's
    kernel gradient), which Adam divides by its own running size and turns into a full step.
    """
    t_name, _ = optimizer_settings(inputs.torch_optimizer, inputs.torch_model)
    if t_name not in ("Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "Adamax", "Adadelta"):
        return []
    found = []
    for before, point in zip(pair.points, pair.points[1:]):
        spec = before.torch[0].spec if before.torch else None
        if spec is None or spec.kind != "dense" or not point.torch or point.torch[0].spec.kind != "batchnorm":
            continue
        bias, kernel = torch_values.get(f"dL/db{before.name[1:]}"), torch_values.get(f"dL/dW{before.name[1:]}")
        # rounding leaves about 1e-16 x (batch size) of the kernel's gradient; any real gradient is far above 1e-9
        if bias is None or kernel is None or np.max(np.abs(bias)) > 1e-9 * max(np.max(np.abs(kernel)), 1e-300):
            continue
        found.append(Explanation(
            "zero-gradient", "step", f"b{before.name[1:]} ({spec.where}) feeds a BatchNorm, which subtracts the batch "
            f"mean: its gradient is rounding noise (at most {np.max(np.abs(bias)):.1e}, against "
            f"{np.max(np.abs(kernel)):.1e} for W{before.name[1:]}), and torch.optim.{t_name} divides it by its own "
            "running size, a full step in each framework's own direction",
            f"no bias before the BatchNorm: bias=False on {spec.where} and use_bias=False on {before.keras[0].spec.where} "
            "(BatchNorm's beta does its work)"))
    return found
