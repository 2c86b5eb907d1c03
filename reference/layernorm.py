"""Layer normalisation: each sample normalised over its own features.

Unlike BatchNorm (``batchnorm.py``), which normalises each feature over the batch,
LayerNorm normalises each row of ``x`` (shape ``(N, units)``) over its ``units``, so it
acts the same in training and inference and keeps no running statistics.

torch ``nn.LayerNorm(units, eps=1e-5)``; Keras ``layers.LayerNormalization(epsilon=1e-3)``.
One formula in both; the default epsilon is 100 times larger in Keras, which matters
for a row whose variance is near epsilon (docs/conventions-layers.md).
"""

from __future__ import annotations

import numpy as np

from .optimizers import CONVENTIONS


class LayerNorm:
    """Forward, per row of x (N, units), with gamma and beta of shape (units,)::

        mu  = mean(x, axis=1)                          (N, 1)
        var = mean((x - mu)**2, axis=1)                (N, 1), biased in both frameworks
        xhat = (x - mu) / sqrt(var + epsilon)
        y = gamma * xhat + beta

    Backward, from dy = dL/dy::

        dgamma = sum over rows of dy * xhat;   dbeta = sum over rows of dy
        dxhat = dy * gamma
        dx = (dxhat - mean(dxhat, axis=1) - xhat * mean(dxhat * xhat, axis=1)) / sqrt(var + epsilon)

    ``epsilon=None`` takes the convention's default: 1e-5 (torch ``eps``), 1e-3 (Keras ``epsilon``).
    """

    defaults = {"torch": 1e-5, "keras": 1e-3}

    def __init__(self, units: int, epsilon: float | None = None, convention: str = "torch"):
        if convention not in CONVENTIONS:
            raise ValueError(f"LayerNorm: convention must be 'torch' or 'keras'. Received: convention={convention!r}")
        self.epsilon = self.defaults[convention] if epsilon is None else float(epsilon)
        if not self.epsilon > 0:
            raise ValueError(f"LayerNorm: expected a positive epsilon. Received: epsilon={epsilon!r}")
        self.convention = convention
        self.gamma, self.beta = np.ones(units), np.zeros(units)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.gamma.shape[0]:
            raise ValueError(f"LayerNorm: expected x of shape (N, {self.gamma.shape[0]}). Received: {x.shape}")
        mu = x.mean(axis=1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
        self.root = np.sqrt(var + self.epsilon)
        self.xhat = (x - mu) / self.root
        return self.gamma * self.xhat + self.beta

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, dict]:
        """(dL/dx, {"gamma": dL/dgamma, "beta": dL/dbeta}) from dy = dL/dy, after ``forward``."""
        xhat = self.xhat
        dxhat = dy * self.gamma
        dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / self.root
        return dx, {"gamma": (dy * xhat).sum(axis=0), "beta": dy.sum(axis=0)}
