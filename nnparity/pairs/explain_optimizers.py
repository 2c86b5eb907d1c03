"""Why two optimizers step differently: each side's optimizer read, and the conventions between them.

``optimizer_explanations`` compares the algorithm, every hyper-parameter (torch's names mapped to
Keras's: ``HYPER``), NAdam's ``momentum_decay``, weight decay and Keras's clipping; each difference is
named with the setting that removes it, tried by ``compare_models``. ``without_setting`` names what
no setting changes (``NO_SETTING``): where each framework adds its epsilon (Adam and AMSGrad, RMSprop,
Adagrad, Adamax); torch is then made to follow Keras's formula (``torch_follow.py``), and the adapter
of ``frameworks/`` that computes the other side's numbers is named. So for Keras's Nadam (its
momentum product takes 0.96 in float64, each step's mu_t 0.96 rounded through float32: no torch
setting computes it), followed through ``frameworks.torch_adapters.KerasNadam``. Adadelta has one formula in both: only its settings (torch's lr 1.0 against Keras's 0.001) differ.
"""

from __future__ import annotations

import inspect

import numpy as np

from .explain import Explanation
from .keras_side import decimal
from .run import Inputs, Settings
from .torch_follow import ADAPTERS, uncarried
from .torch_side import optimizer_settings

# torch.optim class -> Keras optimizer class of the same algorithm
OPTIMIZER_CLASSES = {"SGD": "SGD", "Adam": "Adam", "AdamW": "AdamW", "RMSprop": "RMSprop", "Adagrad": "Adagrad",
                     "NAdam": "Nadam", "Adamax": "Adamax", "Adadelta": "Adadelta"}
# torch's hyper-parameter (betas split) -> Keras's, and the convention row that covers a difference in it
HYPER = {"lr": ("learning_rate", "sgd-default-lr"), "momentum": ("momentum", None), "nesterov": ("nesterov", None),
         "beta1": ("beta_1", None), "beta2": ("beta_2", None), "eps": ("epsilon", "adam-epsilon"),
         "alpha": ("rho", None), "rho": ("rho", None), "centered": ("centered", None), "amsgrad": ("amsgrad", None),
         "initial_accumulator_value": ("initial_accumulator_value", None)}
# torch class -> (key, the convention torch follows, what differs, the adapters): no setting changes these
_ADAM = ("adam-epsilon", "epsilon-hat", "torch adds eps to sqrt(v_hat), Keras adds epsilon to sqrt(v) before the "
         "bias correction (epsilon-hat): with torch's eps set to epsilon / sqrt(1 - beta_2 ** t) at step t, the pair "
         "agrees", "frameworks.torch_adapters.KerasAdam in torch, or frameworks.keras_adapters.TorchAdam in Keras")
NO_SETTING = {
    "Adam": _ADAM, "AdamW": _ADAM,
    "RMSprop": ("rmsprop-epsilon", "keras-rmsprop", "torch adds eps to the root, sqrt(v) + eps, Keras inside it, "
                "sqrt(v + epsilon) (centered: of v - mean(g)**2)", "frameworks.torch_adapters.KerasRMSprop(learning_rate"
                "=lr, rho=alpha, momentum, epsilon=eps, centered) in torch, or frameworks.keras_adapters.TorchRMSprop in "
                "Keras"),
    "Adagrad": ("adagrad-epsilon", "keras-adagrad", "torch adds eps to the root, sqrt(s) + eps, Keras inside it, "
                "sqrt(s + epsilon)", "frameworks.torch_adapters.KerasAdagrad in torch, or "
                "frameworks.keras_adapters.TorchAdagrad in Keras"),
    "Adamax": ("adamax-epsilon-in-max", "keras-adamax", "torch adds eps inside the max, u = max(beta_2 u, |g| + eps), "
               "Keras after it, m / ((1 - beta_1**t) (u + epsilon))", "frameworks.torch_adapters.KerasAdamax in torch, "
               "or frameworks.keras_adapters.TorchAdamax in Keras"),
    "NAdam": ("nadam-float32-decay", "keras-nadam", "keras.optimizers.Nadam computes torch's momentum_decay=1.0, but on "
              "TensorFlow its mu_t takes 0.96 rounded through float32 and its momentum product 0.96 in float64 (torch's "
              "product is float32): no torch setting computes that (inside the float32 tolerance, outside float64's: "
              "docs/conventions-optimizers.md)", "frameworks.torch_adapters.KerasNadam(learning_rate=lr, beta_1, beta_2, "
              "epsilon=eps) in torch, or frameworks.keras_adapters.TorchNAdam(momentum_decay=1.0) in Keras"),
}


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
    marks = ["torch's default" if _default(torch_cls, torch_name) == value else "",
             "Keras's default" if _default(keras_cls, keras_name) == value else ""]
    return f" ({' and '.join(m for m in marks if m)})" if any(marks) else ""


def _same_algorithm(inputs: Inputs) -> tuple[str, dict, str] | None:
    t_name, group = optimizer_settings(inputs.torch_optimizer, inputs.torch_model)
    k_name = type(inputs.keras_optimizer).__name__
    return (t_name, group, k_name) if OPTIMIZER_CLASSES.get(t_name) == k_name else None


def without_setting(inputs: Inputs, gap: float | None = None) -> list[Explanation]:
    """The optimizer conventions no setting changes that apply here, each with the convention torch can follow.

    ``gap``: how far the user's pair parts over its steps (the greatest |torch - keras| of a weight), said in the
    detail. Where torch's optimizer sets what the adapter leaves out (weight_decay, maximize, Adagrad's lr_decay,
    NAdam's momentum_decay other than 1.0: ``torch_follow.uncarried``), torch keeps its own optimizer, and the
    detail says so: that setting is a difference of its own, named by ``optimizer_explanations``.
    """
    same = _same_algorithm(inputs)
    if same is None or same[0] not in NO_SETTING:
        return []
    key, follow, detail, adapter = NO_SETTING[same[0]]
    if same[0] == "Adam" and same[1].get("amsgrad"):
        key, detail = "amsgrad-epsilon", "Adam(amsgrad=True): " + detail + " (on max(v), as Adam on v)"
    if gap is not None:
        detail += f"; here the pair's weights part by up to {gap:.2e} over its {inputs.steps} steps"
    left_out = uncarried(follow, same[1])
    if left_out:
        detail += (f"; not followed while torch's {', '.join(left_out)} is set (frameworks.torch_adapters."
                   f"{ADAPTERS[follow][0]} does not compute it)")
    return [Explanation(key, "step", detail, None, Settings(follow=frozenset({follow})), adapter=adapter)]


def optimizer_explanations(inputs: Inputs) -> list[Explanation]:
    """The optimizers: their algorithm, each hyper-parameter, weight decay, Keras's clipping."""
    t_name, group = optimizer_settings(inputs.torch_optimizer, inputs.torch_model)
    k_opt = inputs.keras_optimizer
    k_name, config = type(k_opt).__name__, {k: decimal(v) for k, v in k_opt.get_config().items()}
    if OPTIMIZER_CLASSES.get(t_name) != k_name:
        return [Explanation("optimizer", "step", f"torch.optim.{t_name} against keras.optimizers.{k_name}: "
                            "different algorithms", "the same optimizer on both sides")]
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
        applies = {"sgd-default-lr": t_name == "SGD", "adam-epsilon": t_name in ("Adam", "AdamW")}.get(row, False)
        found.append(Explanation(row if applies else "hyper-parameter", "step", detail,
                                 f"keras.optimizers.{k_name}({k_key}={t_value!r}) (or the same value in torch)",
                                 Settings(keras_optimizer=((k_key, t_value),))))
    found += _torch_only(t_name, group) + _decay_and_clipping(t_name, group, k_name, config)
    return found


def _torch_only(t_name, group) -> list[Explanation]:
    """Settings torch has and Keras has not: NAdam's momentum_decay (Keras's is 1.0), Adagrad's lr_decay (none)."""
    found = []
    decay = group.get("momentum_decay")
    if t_name == "NAdam" and decay != 1.0:
        found.append(Explanation(
            "nadam-momentum-decay", "step", f"torch.optim.NAdam has momentum_decay={decay!r}"
            f"{' (torch default)' if decay == 4e-3 else ''}; keras.optimizers.Nadam has no such argument and "
            "computes momentum_decay=1.0 (mu_t = beta_1 (1 - 0.5 * 0.96**t))",
            "torch.optim.NAdam(momentum_decay=1.0), or frameworks.keras_adapters.TorchNAdam(momentum_decay="
            f"{decay!r}) in place of the Keras Nadam", Settings(torch_optimizer=(("momentum_decay", 1.0),))))
    if t_name == "Adagrad" and group.get("lr_decay"):
        found.append(Explanation("hyper-parameter", "step", f"torch.optim.Adagrad has lr_decay={group['lr_decay']!r}, "
                                 "which keras.optimizers.Adagrad has not", "lr_decay=0 in torch (in Keras, a "
                                 "learning-rate schedule lr / (1 + (t - 1) * lr_decay) does the same)",
                                 Settings(torch_optimizer=(("lr_decay", 0),))))
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
            "leave clipping out of the Keras optimizer here (in training, clipnorm is per variable: torch's "
            "clip_grad_norm_ is global, like global_clipnorm)",
            Settings(keras_optimizer=tuple((k, None) for k in clipping))))
    return found
