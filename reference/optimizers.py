"""Optimizers: how a gradient becomes a parameter update.

Every optimizer updates a dict of parameters in place from a dict of gradients
with the same names: ``opt.update(params, grads)``.

PyTorch: ``torch.optim.SGD(params, lr)``. Keras 3: ``keras.optimizers.SGD(learning_rate)``.
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Contract: ``update(params, grads)`` changes ``params`` in place."""

    name = "optimizer"

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def config(self) -> dict:
        """Every hyper-parameter, by its Keras name."""
        return dict(vars(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items())})"


class SGD(Optimizer):
    """Plain gradient descent::

        w = w - learning_rate * g

    (torch ``SGD(lr=...)``, Keras ``SGD(learning_rate=...)``: the same formula;
    only their default learning rates differ, 1e-3 vs 1e-2.)
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01):
        if not learning_rate > 0:
            raise ValueError(f"SGD: expected a positive learning_rate. Received: learning_rate={learning_rate}")
        self.learning_rate = float(learning_rate)

    def update(self, params, grads):
        for name, p in params.items():
            p -= self.learning_rate * grads[name]


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD,)}


def get_optimizer(name: str, **hyper) -> Optimizer:
    """The optimizer called ``name`` (a key of ``OPTIMIZERS``) with its hyper-parameters."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}") from None
    return cls(**hyper)
