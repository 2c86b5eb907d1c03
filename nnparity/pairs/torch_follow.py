"""Keras's conventions that no torch setting reproduces, followed by torch on request; torch settings changed.

A run's ``Settings`` (``run.py``) says what the torch copy does differently from the user's model:

- ``torch_layers``: a module's attribute set to another value (``nn.GELU``'s ``approximate``, ``nn.ELU``'s
  ``alpha``, ``nn.Softplus``'s ``threshold``): a fix of ``explain.py`` tried on the torch side.
- ``torch_optimizer``: a parameter group's setting changed (``NAdam``'s ``momentum_decay``).
- ``follow``: a convention of Keras that torch is made to compute, so that a difference it explains can be
  told from one it does not (``comparison.py`` decides which apply; ``FOLLOWED`` says what each does):
"""

from __future__ import annotations

import math

import numpy as np

from .pairing import Pair

FOLLOWED = {
    "epsilon-hat": "Adam's epsilon added before the bias correction: torch's eps set before step t to "
                   "eps / sqrt(1 - beta_2 ** t) (the same update, in torch's terms)",
    "biased-running-variance": "BatchNorm's running variance updated with the batch's biased variance",
    "keras-rmsprop": "RMSprop's epsilon inside the root: frameworks.torch_adapters.KerasRMSprop with torch's settings",
    "keras-adagrad": "Adagrad's epsilon inside the root: frameworks.torch_adapters.KerasAdagrad with torch's settings",
    "keras-adamax": "Adamax's epsilon after the max: frameworks.torch_adapters.KerasAdamax with torch's settings",
    "keras-nadam": "Nadam's mu_t from 0.96 rounded through float32, its product in float64: "
                   "frameworks.torch_adapters.KerasNadam with torch's settings",
    "keras-gelu-constants": "GELU's 1/sqrt(2) and 0.044715 rounded through float32, as TensorFlow casts them",
    "keras-selu-derivative": "selu'(0) = scale, as TensorFlow: frameworks.torch_adapters.KerasSELU",
    "keras-hardtanh-edges": "hardtanh's derivative 1 at exactly min_val and max_val, as TensorFlow: torch.clamp",
}
# how a verdict names each: "with it (and torch following Keras's RMSprop formula), ..."
SHORT = {"keras-rmsprop": "RMSprop formula", "keras-adagrad": "Adagrad formula", "keras-adamax": "Adamax formula",
         "keras-nadam": "Nadam formula",
 "keras-gelu-constants": "float32 GELU constants",
         "keras-selu-derivative": "selu'(0)", "keras-hardtanh-edges": "hardtanh edges"}
__doc__ += "\n" + "\n".join(f"    {key:<24} {text}" for key, text in FOLLOWED.items()) + "\n"

# follow -> (the adapter's class name in frameworks.torch_adapters, its keywords from a torch parameter group,
#            the torch settings it does not compute, each at the value that leaves torch's numbers unchanged)
_PLAIN = {"weight_decay": 0, "maximize": False}
ADAPTERS = {
    "keras-rmsprop": ("KerasRMSprop", lambda g: dict(learning_rate=g["lr"], rho=g["alpha"], momentum=g["momentum"],
                                                     epsilon=g["eps"], centered=g["centered"]), _PLAIN),
    "keras-adagrad": ("KerasAdagrad", lambda g: dict(learning_rate=g["lr"], epsilon=g["eps"],
                                                     initial_accumulator_value=g["initial_accumulator_value"]),
                      {**_PLAIN, "lr_decay": 0}),
    "keras-adamax": ("KerasAdamax", lambda g: dict(learning_rate=g["lr"], beta_1=g["betas"][0], beta_2=g["betas"][1],
                                                   epsilon=g["eps"]), _PLAIN),
    "keras-nadam": ("KerasNadam", lambda g: dict(learning_rate=g["lr"], beta_1=g["betas"][0], beta_2=g["betas"][1],
                                                 epsilon=g["eps"]), {**_PLAIN, "momentum_decay": 1.0}),
}


def uncarried(follow: str, group: dict) -> list[str]:
    """The settings of a torch parameter group that ``follow``'s adapter would drop ("weight_decay=0.1"): while
    any is set, torch keeps its own optimizer (a planted difference is never hidden by the adapter)."""
    neutral = ADAPTERS[follow][2] if follow in ADAPTERS else {}
    return [f"{k}={group[k]!r}" for k, v in neutral.items() if k in group and group[k] != v]


GELU_C, GELU_K = float(np.float32(1 / math.sqrt(2))), float(np.float32(0.044715))


def module_of(model, spec):
    return dict(model.named_children())[spec.name]


def set_layers(model, pair: Pair, torch_layers) -> None:
    """Each ``(position, attribute, value)`` of ``torch_layers`` set on the torch copy's module at that position."""
    by_position = {spec.position: spec for spec in pair.torch_specs}
    for position, attribute, value in torch_layers:
        setattr(module_of(model, by_position[position]), attribute, value)


def optimizer(make_optimizer, params, settings):
    """The user's optimizer, its groups changed by ``settings.torch_optimizer``, or Keras's formula in its place
    (where the groups set nothing that formula leaves out: ``uncarried``)."""
    opt = make_optimizer(params)
    for group in opt.param_groups:
        group.update(dict(settings.torch_optimizer))
    for name in sorted(settings.follow & set(ADAPTERS)):
        if any(uncarried(name, g) for g in opt.param_groups):
            continue
        import frameworks.torch_adapters as adapters

        cls, keywords, _ = ADAPTERS[name]
        opt = getattr(adapters, cls)([{"params": g["params"], **keywords(g)} for g in opt.param_groups])
    return opt


def before_step(opt, k: int, follow, eps0: list) -> None:
    """What a followed convention changes before step ``k`` (Adam's epsilon-hat)."""
    if "epsilon-hat" in follow:
        for group, eps in zip(opt.param_groups, eps0):
            group["eps"] = eps / math.sqrt(1 - group["betas"][1] ** k)


def activation(module, h, follow):
    """The module's output under a followed activation convention, or None where none applies."""
    import torch

    cls = type(module).__name__
    if cls == "GELU" and "keras-gelu-constants" in follow:
        if module.approximate == "tanh":
            return 0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + GELU_K * h * h * h)))
        return 0.5 * h * (1 + torch.erf(h * GELU_C))
    if cls == "Hardtanh" and "keras-hardtanh-edges" in follow:  # clamp passes the gradient at its bounds
        return torch.clamp(h, module.min_val, module.max_val)
    if cls == "SELU" and "keras-selu-derivative" in follow:
        from frameworks.torch_adapters import KerasSELU

        return KerasSELU()(h)
    return None
