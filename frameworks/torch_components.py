"""Single building blocks in PyTorch, for the component checks (``conformance/components.py``).

The lesson twins only reach what the catalog uses (sigmoid + BCE is always fused, no
lesson has leaky_relu). These functions take one activation or one loss alone, on
inputs chosen to hit its edges, and return its value and its gradient by autograd.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

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
