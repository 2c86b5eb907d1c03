"""A model's trained state in one neutral form, read from and written to each framework.

    params      {W1, b1, gamma1, beta1, moving_mean1, moving_variance1, ...}: the names and the reference
                layout of ``nnparity/pairs/pairing.py`` (a model paired with itself), kernels (fan_in, units)
    optimizer   {"class", "step", "learning_rate", ...} and its arrays, one per trained parameter:
                "momentum/W1"   SGD's momentum in torch's terms, the buffer b of p -= lr * b;
                                Keras keeps -learning_rate * b (its update is p += m)
                "m/W1", "v/W1"  Adam's (AdamW's) first and second moments: the same numbers in both

Supported optimizers: SGD (with or without momentum), Adam and AdamW, each framework's own class.
"""

from __future__ import annotations

import numpy as np

from frameworks.layout import from_keras, from_torch, to_keras, to_torch

from ..pairs.pairing import pair
from ..pairs.specs import PairError, keras_specs, torch_specs

OPTIMIZERS = ("SGD", "Adam", "AdamW")


def is_torch(model) -> bool:
    return hasattr(model, "named_children") and hasattr(model, "state_dict")


def _params(model) -> list:
    """(name, layer object, attribute) of every parameter and running statistic, in order."""
    if is_torch(model):
        specs = torch_specs(model)
        return [(p.name, p.torch[0].layer, p.torch[1], p.trained) for p in pair(specs, specs).params]
    specs = keras_specs(model)
    return [(p.name, p.keras[0].layer, p.keras[1], p.trained) for p in pair(specs, specs).params]


def _optimizer_class(optimizer) -> str:
    name = type(optimizer).__name__
    if name not in OPTIMIZERS:
        raise PairError(f"optimizer {name}: its state cannot be moved; supported: {', '.join(OPTIMIZERS)}")
    return name


def read_torch(model, optimizer=None) -> tuple[dict, dict, dict]:
    """(params, optimizer arrays, optimizer settings) of a torch model and its optimizer."""
    params, arrays, settings = {}, {}, {}
    entries = _params(model)
    for name, layer, attr, _ in entries:
        params[name] = from_torch(name, getattr(layer, attr).detach().cpu().numpy().copy())
    if optimizer is None:
        return params, arrays, settings
    group = optimizer.param_groups[0]
    settings = {"class": _optimizer_class(optimizer), "learning_rate": group["lr"], "step": 0}
    for name, layer, attr, trained in entries:
        state = optimizer.state.get(getattr(layer, attr), {}) if trained else {}
        if state.get("momentum_buffer") is not None:
            arrays[f"momentum/{name}"] = from_torch(name, state["momentum_buffer"].cpu().numpy().copy())
        if "exp_avg" in state:
            arrays[f"m/{name}"] = from_torch(name, state["exp_avg"].cpu().numpy().copy())
            arrays[f"v/{name}"] = from_torch(name, state["exp_avg_sq"].cpu().numpy().copy())
            settings["step"] = int(state["step"])
    return params, arrays, settings


def write_torch(model, params: dict, optimizer=None, arrays=None, settings=None) -> None:
    import torch

    entries = _params(model)
    with torch.no_grad():
        for name, layer, attr, _ in entries:
            target = getattr(layer, attr)
            target.copy_(torch.as_tensor(to_torch(name, params[name]), dtype=target.dtype))
    if optimizer is None or not arrays:
        return
    _optimizer_class(optimizer)
    for name, layer, attr, trained in entries:
        p = getattr(layer, attr)
        if f"momentum/{name}" in arrays:
            optimizer.state[p] = {"momentum_buffer": torch.as_tensor(to_torch(name, arrays[f"momentum/{name}"]),
                                                                     dtype=p.dtype).clone()}
        elif f"m/{name}" in arrays:
            optimizer.state[p] = {
                "step": torch.tensor(float(settings["step"])),
                "exp_avg": torch.as_tensor(to_torch(name, arrays[f"m/{name}"]), dtype=p.dtype).clone(),
                "exp_avg_sq": torch.as_tensor(to_torch(name, arrays[f"v/{name}"]), dtype=p.dtype).clone()}


def _keras_slots(optimizer, variables) -> dict:
    """Keras's optimizer variables by kind, for ``variables`` (the optimizer built on them)."""
    optimizer.build(variables)
    index = {id(v): optimizer._get_variable_index(v) for v in variables}
    slots = {"momentum": getattr(optimizer, "momentums", None) or None,
             "m": getattr(optimizer, "_momentums", None), "v": getattr(optimizer, "_velocities", None)}
    return {kind: {vid: found[i] for vid, i in index.items()} for kind, found in slots.items() if found}


def read_keras(model, optimizer=None) -> tuple[dict, dict, dict]:
    """(params, optimizer arrays, optimizer settings) of a Keras model and its optimizer."""
    entries = _params(model)
    params = {name: from_keras(name, np.array(getattr(layer, attr).numpy())) for name, layer, attr, _ in entries}
    if optimizer is None:
        return params, {}, {}
    lr = float(np.asarray(optimizer.learning_rate))
    settings = {"class": _optimizer_class(optimizer), "learning_rate": lr, "step": int(optimizer.iterations.numpy())}
    trained = [(name, getattr(layer, attr)) for name, layer, attr, t in entries if t]
    arrays = {}
    for kind, by_var in _keras_slots(optimizer, [v for _, v in trained]).items():
        for name, var in trained:
            value = from_keras(name, np.array(by_var[id(var)].numpy()))
            arrays[f"{kind}/{name}"] = -value / lr if kind == "momentum" else value
    return params, arrays, settings


def write_keras(model, params: dict, optimizer=None, arrays=None, settings=None) -> None:
    entries = _params(model)
    for name, layer, attr, _ in entries:
        var = getattr(layer, attr)
        var.assign(np.asarray(to_keras(name, params[name]), dtype=var.dtype))
    if optimizer is None or not arrays:
        return
    _optimizer_class(optimizer)
    lr = float(np.asarray(optimizer.learning_rate))
    trained = [(name, getattr(layer, attr)) for name, layer, attr, t in entries if t]
    for kind, by_var in _keras_slots(optimizer, [v for _, v in trained]).items():
        for name, var in trained:
            if f"{kind}/{name}" in arrays:
                value = to_keras(name, arrays[f"{kind}/{name}"])
                by_var[id(var)].assign(np.asarray(-lr * value if kind == "momentum" else value, dtype=var.dtype))
    optimizer.iterations.assign(settings["step"])
