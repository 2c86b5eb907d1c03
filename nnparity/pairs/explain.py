"""Why a pair disagrees: the known conventions read off the two models, losses and optimizers.

Nothing here is guessed from the numbers alone. Each detector reads the configurations (a
BatchNorm's momentum on each side, the optimizers' hyper-parameters and their defaults, the
activations between two paired layers, the loss classes) and names the convention of
``frameworks/conventions.py`` behind a difference it finds, with the setting that removes it. A
setting is then *tried*: ``compare_models`` runs the pair again with it (``Settings``) and says
whether the two then agree, or where they part next. Where no setting exists (Adam's epsilon-hat,
BatchNorm's unbiased running variance), the probe makes torch follow Keras's formula instead
(``torch_side.py``): if the pair then agrees, that convention is the whole difference.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from frameworks.conventions import TORCH_VS_KERAS

from .keras_side import decimal
from .pairing import Pair
from .run import Inputs, Settings
from .torch_side import optimizer_settings

# torch.optim class -> Keras optimizer class of the same algorithm
OPTIMIZER_CLASSES = {"SGD": "SGD", "Adam": "Adam", "AdamW": "AdamW", "RMSprop": "RMSprop", "Adagrad": "Adagrad",
                     "NAdam": "Nadam", "Adamax": "Adamax", "Adadelta": "Adadelta"}
# torch's hyper-parameter (betas split) -> Keras's, and the convention row that covers a difference in it
HYPER = {"lr": ("learning_rate", "sgd-default-lr"), "momentum": ("momentum", None), "nesterov": ("nesterov", None),
         "beta1": ("beta_1", None), "beta2": ("beta_2", None), "eps": ("epsilon", "adam-epsilon"),
         "alpha": ("rho", None), "centered": ("centered", None), "amsgrad": ("amsgrad", None),
         "rho": ("rho", None)}  # Adadelta's rho (RMSprop's is alpha)
# torch loss class -> the Keras losses that compute the same thing
LOSS_PAIRS = {"MSELoss": ("MeanSquaredError",), "L1Loss": ("MeanAbsoluteError",), "BCELoss": ("BinaryCrossentropy",),
              "BCEWithLogitsLoss": ("BinaryCrossentropy",),
              "CrossEntropyLoss": ("CategoricalCrossentropy", "SparseCategoricalCrossentropy")}


@dataclass
class Explanation:
    """A difference between the two sides' settings, the convention behind it, and what removes it."""

    key: str  # a row of TORCH_VS_KERAS, or a difference of the models themselves ("activation", "loss", ...)
    stage: str  # where it shows first: forward, loss, step
    detail: str
    fix: str | None  # the setting that makes them agree, in words; None where none exists
    settings: Settings | None = None  # the fix as a run's settings, to try it
    verdict: str = ""  # what trying it showed

    @property
    def convention(self):
        return TORCH_VS_KERAS.get(self.key)

    def text(self) -> str:
        row = self.convention
        head = f"[{self.key}] {row.topic}: " if row else f"[{self.key}] "
        lines = [head + self.detail]
        if row:
            lines.append(f"    torch: {row.torch}")
            lines.append(f"    keras: {row.keras}")
        lines.append(f"    fix: {self.fix}" if self.fix else "    fix: no setting makes them agree")
        if self.verdict:
            lines.append(f"    tried: {self.verdict}")
        return "\n".join(lines)


def _default(cls, name):
    try:
        return inspect.signature(cls).parameters[name].default
    except (KeyError, TypeError, ValueError):
        return inspect.Parameter.empty


def _torch_hyper(group: dict) -> dict:
    out = {k: v for k, v in group.items() if k in HYPER}
    if "betas" in group:
        out["beta1"], out["beta2"] = group["betas"]
    return out


def _whose(value, torch_cls, keras_cls, torch_name, keras_name) -> str:
    marks = [f"torch's default" if _default(torch_cls, torch_name) == value else "",
             f"Keras's default" if _default(keras_cls, keras_name) == value else ""]
    return f" ({' and '.join(m for m in marks if m)})" if any(marks) else ""


def optimizer_explanations(inputs: Inputs) -> list[Explanation]:
    """The optimizers: their algorithm, each hyper-parameter, weight decay, Keras's clipping."""
    t_name, group = optimizer_settings(inputs.torch_optimizer, inputs.torch_model)
    k_opt = inputs.keras_optimizer
    k_name, config = type(k_opt).__name__, {k: decimal(v) for k, v in k_opt.get_config().items()}
    if OPTIMIZER_CLASSES.get(t_name) != k_name:
        return [Explanation("optimizer", "step", f"torch.optim.{t_name} against keras.optimizers.{k_name}: "
                            "different algorithms", f"the same optimizer on both sides")]
    t_cls = type(inputs.torch_optimizer(inputs.torch_model.parameters()))
    found = []
    for t_key, t_value in _torch_hyper(group).items():
        k_key, row = HYPER[t_key]
        if k_key not in config or config[k_key] == t_value or (isinstance(t_value, float) and
                                                                np.isclose(config[k_key], t_value, rtol=1e-12, atol=0)):
            continue
        t_arg = "betas" if t_key.startswith("beta") else t_key
        detail = (f"torch.optim.{t_name} has {t_key}={t_value!r}{_whose(t_value, t_cls, type(k_opt), t_arg, k_key)}, "
                  f"keras.optimizers.{k_name} {k_key}={config[k_key]!r}"
                  f"{_whose(config[k_key], t_cls, type(k_opt), t_arg, k_key)}")
        # the table's row where it is about this optimizer (SGD's default learning rate, Adam's epsilon)
        applies = {"sgd-default-lr": t_name == "SGD", "adam-epsilon": "Adam" in t_name}.get(row, False)
        found.append(Explanation(row if applies else "hyper-parameter", "step", detail,
                                 f"keras.optimizers.{k_name}({k_key}={t_value!r}) (or the same value in torch)",
                                 Settings(keras_optimizer=((k_key, t_value),))))
    if t_name == "NAdam" and group.get("momentum_decay") != 1.0:  # Keras's Nadam has no such argument
        found.append(Explanation(
            "nadam-momentum-decay", "step",
            f"torch.optim.NAdam has momentum_decay={group['momentum_decay']!r}; keras.optimizers.Nadam has none: its "
            "schedule is 0.96**t, torch's momentum_decay=1.0",
            "torch.optim.NAdam(..., momentum_decay=1.0) (Keras's schedule but for its float32 0.96: 3.2e-9 apart "
            "after 20 steps), or frameworks.keras_adapters.TorchNAdam in Keras (docs/conventions-optimizers.md)"))
    found += _decay_and_clipping(t_name, group, k_name, config)
    return found


def _decay_and_clipping(t_name, group, k_name, config) -> list[Explanation]:
    found = []
    t_decay, k_decay = group.get("weight_decay") or 0.0, config.get("weight_decay") or 0.0
    if (t_decay or k_decay) and not (t_name == "AdamW" and t_decay == k_decay):
        found.append(Explanation("weight-decay", "step", f"weight decay: torch.optim.{t_name}(weight_decay={t_decay}) "
                                 f"adds it to the gradient (AdamW: decoupled), keras.optimizers.{k_name}"
                                 f"(weight_decay={k_decay}) always decouples it", None))
    clipping = {k: config.get(k) for k in ("clipnorm", "global_clipnorm", "clipvalue") if config.get(k) is not None}
    if clipping:
        setting = ", ".join(f"{k}={v}" for k, v in clipping.items())
        found.append(Explanation(
            "gradient-clipping", "step", f"keras.optimizers.{k_name}({setting}) clips the gradients; torch.optim has "
            "no clipping (torch clips in the training loop, which compare_models writes without it)",
            f"leave clipping out of the Keras optimizer here (in training, clipnorm is per variable: torch's "
            "clip_grad_norm_ is global, like global_clipnorm)",
            Settings(keras_optimizer=tuple((k, None) for k in clipping))))
    return found


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


def _chain(stages) -> list[str]:
    return [s.activation for s in stages]


def activation_explanations(pair: Pair) -> list[Explanation]:
    """Activations that differ between two paired layers: a missing one, another one, another slope."""
    found = []
    for i, point in enumerate(pair.points):
        t, k = _chain(point.torch), _chain(point.keras)
        if t == k or not point.compared or any(s.spec.kind != "activation" and s.part != "activation" for s in point.torch + point.keras):
            continue
        before = pair.points[i - 1] if i else None
        dense = before.keras[0].spec if before and before.keras and before.keras[0].spec.kind == "dense" else None
        if [a.split(":")[0] for a in t] == [a.split(":")[0] for a in k] and t and t[0].startswith("leaky_relu"):
            found.append(Explanation("leaky-relu-slope", "forward", f"after {before.name}: torch {t}, Keras {k} "
                                     "(activation:negative slope)", "pass the slope on both sides: "
                                     "keras.layers.LeakyReLU(negative_slope=...) and nn.LeakyReLU(negative_slope=...)"))
            continue
        detail = (f"after {before.name if before else 'the input'} torch applies {' -> '.join(t) or 'no activation'}, "
                  f"Keras {' -> '.join(k) or 'no activation'}")
        settings, fix = None, "the same activations on both sides"
        if dense is not None and len(t) == 1 and len(k) <= 1 and ":" not in t[0]:
            settings = Settings(keras_layers=((dense.position, "activation", t[0]),))
            fix = f"activation='{t[0]}' on {dense.where} (or the same change in torch)"
        found.append(Explanation("activation", "forward", detail, fix, settings))
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
    if t_name not in ("Adam", "AdamW", "RMSprop", "Adagrad"):
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
