"""Single building blocks in PyTorch, for the component checks (``conformance/checks/components.py``).

The lesson twins only reach what the catalog uses (sigmoid + BCE is always fused, no
lesson has leaky_relu). These functions take one activation or one loss alone, on
inputs chosen to hit its edges, and return its value and its gradient by autograd.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .torch_twin import ACTIVATIONS, half_sum_squared_error

# (loss, convention) -> loss(prediction, y): torch's own modules, in torch's convention.
LOSSES = {
    ("mse", None): lambda p, y: F.mse_loss(p, y),  # nn.MSELoss()
    ("half_sse", None): half_sum_squared_error,
    ("bce", "torch"): lambda p, y: F.binary_cross_entropy(p, y),  # nn.BCELoss() on probabilities
    ("bce_logits", None): lambda z, y: F.binary_cross_entropy_with_logits(z, y),  # nn.BCEWithLogitsLoss()
    ("cce", "torch"): lambda p, y: F.nll_loss(torch.log(p), y.argmax(dim=1)),  # nn.NLLLoss() of log p, one-hot y
    ("cce_logits", None): lambda z, y: F.cross_entropy(z, y),  # nn.CrossEntropyLoss(), probability targets
}


# reference initializer -> torch.nn.init on a weight of torch's layout (out, in), with the lesson's arguments
INITIALIZERS = {
    "zeros": lambda w: nn.init.zeros_(w),
    "normal": lambda w, scale: nn.init.normal_(w, std=scale),
    "uniform": lambda w, low, high: nn.init.uniform_(w, low, high),
    "glorot_uniform": lambda w: nn.init.xavier_uniform_(w),
    "glorot_normal": lambda w: nn.init.xavier_normal_(w),  # not truncated
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),  # not truncated
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "torch_linear_default": lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5)),  # nn.Linear.reset_parameters
}


def _leaf(array):
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def activation(name: str, z: np.ndarray, da: np.ndarray) -> dict[str, np.ndarray]:
    """{"a": f(z), "dz": da * f'(z) (the vector-Jacobian product, by autograd)}."""
    zt = _leaf(z)
    a = ACTIVATIONS[name](zt)
    a.backward(torch.tensor(da, dtype=torch.float64))
    return {"a": a.detach().numpy().copy(), "dz": zt.grad.numpy().copy()}


def loss(name: str, convention: str | None, pred: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """{"loss": L(pred, y), "dpred": dL/dpred}."""
    p = _leaf(pred)
    value = LOSSES[(name, convention)](p, torch.tensor(y, dtype=torch.float64))
    value.backward()
    return {"loss": np.asarray(value.item()), "dpred": p.grad.numpy().copy()}


def initializer(name: str, kwargs: dict, fan_in: int, fan_out: int, seed: int) -> np.ndarray:
    """A kernel drawn by torch's initializer, returned in the reference layout (fan_in, fan_out)."""
    torch.manual_seed(seed)
    w = torch.empty(fan_out, fan_in, dtype=torch.float64)
    with torch.no_grad():
        INITIALIZERS[name](w, **kwargs)
    return w.numpy().T.copy()
