"""The torch model of a pair, run stage by stage on a copy: every forward quantity, dL/d of each, the
gradients, and the ``steps``-step trajectory of the user's optimizer.

The user's model is never touched: ``copy.deepcopy``, cast to the dtype asked for. Running the
``nn.Sequential``'s modules one after another is what ``Sequential.forward`` does; the pair's stages
skip the Dropout modules (dropout off: ``pairing.py``). A run can change torch's settings, or make
torch follow a convention of Keras that no torch setting reproduces (``torch_follow.py``), so that a
difference they explain can be told from one they do not (``explain.py``). The trajectory takes the
batches it is given, one a step, in order (``run.batches``).
"""

from __future__ import annotations

import copy

import numpy as np

from frameworks.layout import from_torch

from . import torch_follow
from .pairing import Pair

TORCH_DTYPES = ("float64", "float32")


def torch_copy(model, dtype: str):
    """A deep copy of the user's model in ``dtype``, on the CPU (where the comparison runs), in training mode."""
    import torch

    return copy.deepcopy(model).cpu().to(getattr(torch, dtype)).train()


def tensor(array, dtype: str, *, grad: bool = False):
    import torch

    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):  # class indices (CrossEntropyLoss, NLLLoss)
        return torch.as_tensor(array, dtype=torch.long)
    return torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=grad)


_module = torch_follow.module_of


def _forward(model, pair: Pair, x, follow=(), skip=(), corrections=None):
    """{point: output}, the final output; every stage of the pair in order (``skip``: torch positions left out).

    With "biased-running-variance" followed, each BatchNorm's correction of its running variance is
    appended to ``corrections`` (module, amount): applied after the backward pass, which needs the
    running variance as the forward left it.
    """
    import torch

    outs, h = {}, x
    for point in pair.points:
        for stage in point.torch:
            if stage.spec.position in skip:
                continue
            module = _module(model, stage.spec)
            before = h
            followed = torch_follow.activation(module, h, follow) if follow else None
            h = module(h) if followed is None else followed
            if stage.spec.kind == "batchnorm" and "biased-running-variance" in follow:
                with torch.no_grad():
                    corrections.append((module, module.momentum * before.var(0, unbiased=False) / (before.shape[0] - 1)))
        outs[point.name] = h
    return outs, h


def params_of(model, pair: Pair) -> dict[str, np.ndarray]:
    """Every parameter and running statistic, in the reference layout."""
    out = {}
    for p in pair.params:
        spec, attr = p.torch
        value = getattr(_module(model, spec), attr).detach().cpu().numpy().copy()
        out[p.name] = from_torch(p.name, value)
    return out


def inspect(model, pair: Pair, X, y, loss_fn, dtype: str, skip=(), follow=()) -> dict[str, np.ndarray]:
    """One training-mode pass of a copy: forward points, the loss, dL/d each point, each gradient, dL/dX."""
    model = copy.deepcopy(model)
    x = tensor(X, dtype, grad=True)
    outs, h = _forward(model, pair, x, follow, skip, [])
    for value in outs.values():
        if value.requires_grad:
            value.retain_grad()
    loss = loss_fn(h, tensor(y, dtype))
    model.zero_grad()
    loss.backward()
    found = {name: v.detach().numpy().copy() for name, v in outs.items()}
    found["loss"] = loss.detach().numpy().copy()
    for name, v in outs.items():
        found[f"dL/d{name}"] = v.grad.numpy().copy() if v.grad is not None else None
    for p in pair.trained:
        spec, attr = p.torch
        grad = getattr(_module(model, spec), attr).grad
        found[f"dL/d{p.name}"] = from_torch(p.name, grad.numpy().copy())
    found["dL/dX"] = x.grad.numpy().copy()
    return found


def trajectory(model, pair: Pair, X, y, loss_fn, make_optimizer, batches: list, dtype: str,
               settings) -> list[dict[str, np.ndarray]]:
    """The parameters after each step of ``make_optimizer(params)``, one step per batch of ``batches`` (index
    ranges, in order), from a copy, under ``settings`` (``run.Settings``: its follow and torch_optimizer)."""
    model = copy.deepcopy(model)
    follow, skip = settings.follow, settings.torch_skip
    opt = torch_follow.optimizer(make_optimizer, model.parameters(), settings)
    x_all, target_all = tensor(X, dtype), tensor(y, dtype)
    eps0 = [group.get("eps") for group in opt.param_groups]
    out = []
    for k, (start, stop) in enumerate(batches, start=1):
        torch_follow.before_step(opt, k, follow, eps0)
        opt.zero_grad()
        corrections = []
        _, h = _forward(model, pair, x_all[start:stop], follow, skip, corrections)
        loss_fn(h, target_all[start:stop]).backward()
        for module, amount in corrections:
            module.running_var.sub_(amount)
        opt.step()
        out.append(params_of(model, pair))
    return out


def optimizer_settings(make_optimizer, model) -> tuple[str, dict]:
    """(the optimizer's class name, its first parameter group's settings), from one made on a copy."""
    opt = make_optimizer(copy.deepcopy(model).parameters())
    group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    return type(opt).__name__, group
