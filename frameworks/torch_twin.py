"""A lesson in PyTorch: ``nn.Linear`` layers, torch activations and losses, ``torch.optim``.

The weights are never initialised by torch: they are loaded from the reference
(``set_params``), converted to torch's ``(out, in)`` layout by ``layout.py``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .layout import from_torch, to_torch

# torch's default two intra-op threads were erratic for these tiny nets on a 2-core
# machine (a circles step: 12 ms median vs 0.5 ms single-threaded, PERFORMANCE.md
# and `nnparity bench`). One thread is also what makes float results repeatable
# at a fixed thread count (NUMERICS.md, item 10).
DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice, before pinning (`nnparity bench` times both)
torch.set_num_threads(1)

DTYPES = {"float64": torch.float64, "float32": torch.float32}

# name -> the torch function (a lesson's activation names are the reference's).
ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "softmax": lambda z: torch.softmax(z, dim=1),
    "linear": lambda z: z,
}


def half_sum_squared_error(p, y):
    """0.5 * sum((p - y)**2): the classic XOR lesson's loss."""
    return 0.5 * F.mse_loss(p, y, reduction="sum")


# name -> loss(z_last, a_last, y). torch has no "categorical CE on probabilities"
# module: the idiom is CrossEntropyLoss on the logits (soft targets allowed).
LOSSES = {
    "mse": lambda z, a, y: F.mse_loss(a, y),
    "half_sse": lambda z, a, y: half_sum_squared_error(a, y),
    "bce": lambda z, a, y: F.binary_cross_entropy(a, y),  # nn.BCELoss on the sigmoid's output
    "bce_logits": lambda z, a, y: F.binary_cross_entropy_with_logits(z, y),
    "cce": lambda z, a, y: F.cross_entropy(z, y),  # nn.CrossEntropyLoss on the logits
    "cce_logits": lambda z, a, y: F.cross_entropy(z, y),
}


class TorchMLP(nn.Module):
    """The lesson's network: Linear, activation, Linear, activation, ..."""

    def __init__(self, sizes, activations, use_bias, dtype):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(fan_in, units, bias=use_bias, dtype=dtype)
            for fan_in, units in zip(sizes[:-1], sizes[1:])
        )
        self.activations = [ACTIVATIONS[name] for name in activations]

    def forward(self, x, trace=None):
        for layer, activation in zip(self.layers, self.activations):
            z = layer(x)
            x = activation(z)
            if trace is not None:
                trace.append((z, x))
        return x


class Twin:
    """The torch side of a lesson: same operations as every twin."""

    framework = "torch"

    def __init__(self, lesson, dtype: str):
        self.lesson = lesson
        self.dtype = dtype
        self.torch_dtype = DTYPES[dtype]
        self.model = TorchMLP(lesson.sizes, lesson.activations, lesson.use_bias, self.torch_dtype)
        self.loss_fn = LOSSES[lesson.loss]
        self._named = {}
        for i, layer in enumerate(self.model.layers, start=1):
            self._named[f"W{i}"] = layer.weight
            if layer.bias is not None:
                self._named[f"b{i}"] = layer.bias

    def _tensor(self, array, requires_grad=False):
        return torch.tensor(np.asarray(array), dtype=self.torch_dtype, requires_grad=requires_grad)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name, p in self._named.items():
                p.copy_(self._tensor(to_torch(name, params[name])))

    def get_params(self) -> dict[str, np.ndarray]:
        return {name: from_torch(name, p.detach().numpy().copy()) for name, p in self._named.items()}

    def forward(self, X) -> dict[str, np.ndarray]:
        """Every layer's pre-activation z_l and activation a_l."""
        trace = []
        with torch.no_grad():
            self.model(self._tensor(X), trace)
        out = {}
        for i, (z, a) in enumerate(trace, start=1):
            out[f"z{i}"], out[f"a{i}"] = z.numpy(), a.numpy()
        return out

    def _loss(self, x, y):
        trace = []
        self.model(x, trace)
        z, a = trace[-1]
        return self.loss_fn(z, a, self._tensor(y))

    def loss(self, X, y) -> float:
        with torch.no_grad():
            return float(self._loss(self._tensor(X), y))

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """dL/dparameter for every parameter, and dL/dX, by autograd."""
        x = self._tensor(X, requires_grad=True)
        self.model.zero_grad(set_to_none=True)
        self._loss(x, y).backward()
        grads = {name: from_torch(name, p.grad.numpy().copy()) for name, p in self._named.items()}
        grads["X"] = x.grad.numpy().copy()
        return grads

    def make_optimizer(self, name: str, hyper: dict):
        if name != "sgd":
            raise ValueError(f"torch twin: unknown optimizer {name!r}")
        return torch.optim.SGD(self.model.parameters(), lr=hyper["learning_rate"])

    def step(self, X, y, optimizer: str, hyper: dict) -> dict[str, np.ndarray]:
        """One optimizer step on (X, y) from the current weights; the weights after it."""
        opt = self.make_optimizer(optimizer, hyper)
        opt.zero_grad(set_to_none=True)
        self._loss(self._tensor(X), y).backward()
        opt.step()
        return self.get_params()
