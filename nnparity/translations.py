"""What ``nnparity translate`` knows: each construction's counterpart in the other framework, and how far apart.

A ``Translation`` says what the other framework's construction is (or that none computes
the same numbers), how far the two drift, measured now by the reference under each
framework's convention (each convention proven against its framework by the conformance
suite: docs/conventions-*.md), and the adapter to use where no setting closes the gap.
Nothing here imports torch or Keras: the reference computes both sides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from conformance.compare import compare
from conformance.optimizer_runs import largest_gap, reference_steps
from conformance.tolerances import tolerance
from reference import SGD, Adagrad, Adam, AdamW, RMSprop
from reference.adaptive_optimizers import Adadelta, Adamax, AMSGrad, NAdam

STEPS = 10  # steps of conformance/optimizer_runs.py's problem that an optimizer's drift is measured over
FLOAT64 = tolerance("float64")


@dataclass
class Translation:
    source: str  # the construction as read, with the source framework's defaults written out
    target: str | None  # the other framework's construction, or None where it has none
    same: bool  # the two compute the same numbers (to the float64 tolerance)
    notes: list[str] = field(default_factory=list)
    drift: list[tuple[str, float]] = field(default_factory=list)  # (what, measured gap), in order
    adapter: str | None = None
    measured_on: str = "a sample (nnparity/layer_translations.py)"


@dataclass(frozen=True)
class Family:
    """An optimizer in both frameworks: class names, positional parameters and the reference's class."""

    torch: str
    keras: str
    reference: type
    torch_params: tuple[str, ...]
    keras_params: tuple[str, ...]
    why: str  # what differs when the numbers differ
    adapters: tuple[str | None, str | None] = (None, None)  # (for a torch user in Keras, for a Keras user in torch)


ADAM_WHY = "torch adds epsilon to the bias-corrected sqrt(v_hat), Keras before the bias correction ('epsilon hat')"
FAMILIES = {
    "sgd": Family("SGD", "SGD", SGD, ("params", "lr", "momentum", "dampening", "weight_decay", "nesterov"),
                  ("learning_rate", "momentum", "nesterov", "weight_decay"),
                  "torch's weight_decay is L2 (through the momentum), Keras's decoupled; with a changing learning "
                  "rate, torch's buffer and Keras's velocity part"),
    "adam": Family("Adam", "Adam", Adam, ("params", "lr", "betas", "eps", "weight_decay", "amsgrad"),
                   ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "weight_decay"), ADAM_WHY,
                   ("frameworks.keras_adapters.TorchAdam", "frameworks.torch_adapters.KerasAdam")),
    "adamw": Family("AdamW", "AdamW", AdamW, ("params", "lr", "betas", "eps", "weight_decay", "amsgrad"),
                    ("learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"), ADAM_WHY),
    "rmsprop": Family("RMSprop", "RMSprop", RMSprop,
                      ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
                      ("learning_rate", "rho", "momentum", "epsilon", "centered", "weight_decay"),
                      "torch divides by sqrt(v) + eps, Keras by sqrt(v + epsilon)",
                      ("frameworks.keras_adapters.TorchRMSprop", "frameworks.torch_adapters.KerasRMSprop")),
    "adagrad": Family("Adagrad", "Adagrad", Adagrad,
                      ("params", "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
                      ("learning_rate", "initial_accumulator_value", "epsilon", "weight_decay"),
                      "torch divides by sqrt(s) + eps, Keras by sqrt(s + epsilon)",
                      ("frameworks.keras_adapters.TorchAdagrad", "frameworks.torch_adapters.KerasAdagrad")),
    "nadam": Family("NAdam", "Nadam", NAdam, ("params", "lr", "betas", "eps", "weight_decay", "momentum_decay"),
                    ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"),
                    "Keras's momentum schedule is torch's momentum_decay=1.0, with 0.96 rounded to float32 on "
                    "TensorFlow; torch keeps the momentum product in float32",
                    ("frameworks.keras_adapters.TorchNAdam", "frameworks.torch_adapters.KerasNadam")),
    "adamax": Family("Adamax", "Adamax", Adamax, ("params", "lr", "betas", "eps", "weight_decay"),
                     ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"),
                     "torch adds epsilon inside the max (max(beta_2 u, |g| + eps)), Keras after it (u + epsilon)",
                     ("frameworks.keras_adapters.TorchAdamax", "frameworks.torch_adapters.KerasAdamax")),
    "adadelta": Family("Adadelta", "Adadelta", Adadelta, ("params", "lr", "rho", "eps", "weight_decay"),
                       ("learning_rate", "rho", "epsilon", "weight_decay"), "one formula; only the defaults differ"),
}
WEIGHT_DECAY = {  # a weight_decay outside AdamW, read in one framework, as the other must write it
    "torch": "torch's weight_decay={wd} is L2 (it joins the gradient); Keras's weight_decay is decoupled (the same "
             "only for plain SGD). For torch's L2, leave it out and give each Keras layer "
             "kernel_regularizer=keras.regularizers.L2({half}) and bias_regularizer likewise: gradient {wd} * p "
             "(in float64 to 2.2e-8 relative: TensorFlow rounds the factor through float32)",
    "keras": "Keras's weight_decay={wd} is decoupled (p -= learning_rate * wd * p before the step); torch's "
             "weight_decay is L2 except in AdamW (the same only for plain SGD)",
}
TORCH_TO_KERAS = {"lr": "learning_rate", "eps": "epsilon", "alpha": "rho"}
UNSUPPORTED = {"dampening": 0, "lr_decay": 0}  # torch options with no Keras counterpart: only their off value


def _format(value) -> str:
    """A number as a user writes it: 1 - 0.99 is 0.01, not 0.010000000000000009 (12 significant digits)."""
    if isinstance(value, (float, np.floating)):
        return repr(float(f"{value:.12g}"))
    if isinstance(value, tuple):
        return f"({', '.join(_format(v) for v in value)})"
    return repr(value)


def _call(name: str, kwargs: dict, first: str | None = None) -> str:
    parts = ([first] if first else []) + [f"{k}={_format(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def reference_hyper(family: Family, framework: str, given: dict) -> tuple[type, dict]:
    """(the reference's class, its hyper-parameters by Keras's names): the framework's defaults, then ``given``."""
    hyper = dict(given)
    for key, off in UNSUPPORTED.items():
        if hyper.pop(key, off) != off:
            raise ValueError(f"{family.torch}: {key}={given[key]!r} has no counterpart in Keras or in the reference")
    if "betas" in hyper:
        hyper["beta_1"], hyper["beta_2"] = hyper.pop("betas")
    hyper = {TORCH_TO_KERAS.get(k, k): v for k, v in hyper.items()}
    cls = AMSGrad if hyper.pop("amsgrad", False) else family.reference
    if cls is AMSGrad and family.reference is not Adam:
        raise ValueError(f"{family.torch}: amsgrad=True is modelled for Adam only (reference.AMSGrad)")
    return cls, {**cls.defaults[framework], **hyper}


def torch_text(family: Family, hyper: dict) -> str:
    names = {"learning_rate": "lr", "epsilon": "eps", "rho": "alpha" if family.torch == "RMSprop" else "rho"}
    out = {names.get(k, k): v for k, v in hyper.items() if k not in ("beta_1", "beta_2")}
    if "beta_1" in hyper:
        out = {"lr": out.pop("lr"), "betas": (hyper["beta_1"], hyper["beta_2"]), **out}
    return _call(f"torch.optim.{family.torch}", out, "model.parameters()")


def keras_text(family: Family, hyper: dict) -> str:
    out = {k: v for k, v in hyper.items() if not (k == "weight_decay" and v == 0) and k != "momentum_decay"}
    return _call(f"keras.optimizers.{family.keras}", out)


def translate_optimizer(key: str, framework: str, given: dict) -> Translation:
    """The optimizer ``FAMILIES[key]`` of ``framework`` with ``given`` arguments, in the other framework."""
    family = FAMILIES[key]
    other = "keras" if framework == "torch" else "torch"
    cls, hyper = reference_hyper(family, framework, given)
    if cls is AMSGrad:
        given = {**given, "amsgrad": True}
    target_hyper = dict(hyper)
    notes = []
    if key == "nadam":
        target_hyper["momentum_decay"] = 1.0 if other == "keras" else hyper["momentum_decay"]
        if other == "keras" and hyper["momentum_decay"] != 1.0:
            notes.append(f"Keras's Nadam has no momentum_decay: it computes torch's momentum_decay=1.0, not "
                         f"{hyper['momentum_decay']}")
    if hyper.get("weight_decay") and key != "adamw":
        notes.append(WEIGHT_DECAY[framework].format(wd=_format(hyper["weight_decay"]),
                                                    half=_format(hyper["weight_decay"] / 2)))
    if key == "sgd" and other == "torch" and hyper["nesterov"] and hyper["momentum"] == 0:
        target_hyper["nesterov"] = False
        notes.append("torch refuses nesterov=True without momentum; Keras computes plain SGD, written here so")
    text = {"torch": torch_text, "keras": keras_text}
    source = text[framework](family, {**hyper, **({"amsgrad": True} if cls is AMSGrad else {})})
    target = text[other](family, {**target_hyper, **({"amsgrad": True} if cls is AMSGrad else {})})
    runs = {framework: reference_steps(cls(convention=framework, **hyper), STEPS),
            other: reference_steps(cls(convention=other, **target_hyper), STEPS)}
    gaps = largest_gap(runs[framework], runs[other])
    same = all(compare(a, b, atol=FLOAT64.atol, rtol=FLOAT64.rtol).passed for a, b in zip(runs[framework], runs[other]))
    if not same:
        notes.insert(0, family.why)
    adapter = None if same else family.adapters[0 if framework == "torch" else 1]
    return Translation(source, target, same, notes, [(f"step {k}", gap) for k, gap in enumerate(gaps, 1)], adapter,
                       "the largest weight difference after each step of conformance/optimizer_runs.py's problem")
