"""The fully connected layer: z = X @ W + b.

Shapes: ``X`` is ``(N, fan_in)``, the kernel ``W`` is ``(fan_in, units)`` (Keras's
layout), the bias ``b`` is ``(units,)`` and ``z`` is ``(N, units)``.

PyTorch's ``nn.Linear(fan_in, units)`` stores ``weight`` as ``(units, fan_in)`` and
computes ``X @ weight.T + bias``: the same numbers, transposed. nnparity converts
between the two layouts in exactly one place (``frameworks/layout.py``).
Keras 3: ``keras.layers.Dense(units, use_bias=...)`` with ``kernel`` and ``bias``.
"""

from __future__ import annotations

import numpy as np

from .reductions import batch_sum


class Dense:
    """A linear layer. ``forward`` caches its input; ``backward`` returns (dW, db, dX)."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray | None = None):
        if kernel.ndim != 2:
            raise ValueError(f"Dense: kernel must be 2-D (fan_in, units). Received: kernel.shape={kernel.shape}")
        if bias is not None and bias.shape != (kernel.shape[1],):
            raise ValueError(
                f"Dense: bias must have shape ({kernel.shape[1]},) to match kernel {kernel.shape}. "
                f"Received: bias.shape={bias.shape}"
            )
        self.kernel = kernel
        self.bias = bias
        self._x = None

    @property
    def units(self) -> int:
        return self.kernel.shape[1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """z = x @ W + b, keeping x for the backward pass."""
        self._x = x
        z = x @ self.kernel
        if self.bias is not None:
            z = z + self.bias
        return z

    def backward(self, dz: np.ndarray, input_gradient: bool = True):
        """Given dz = dL/dz (N, units): dW = x.T @ dz, db = sum over the batch of dz, dx = dz @ W.T.

        The batch sum (not mean) is right here: the loss's gradient already carries
        the 1/N. ``input_gradient=False`` skips dx (returned as None): a training
        step never needs dL/dX of the data, and for the first layer of a wide
        input (784 pixels) that matmul is over a quarter of the step's arithmetic.
        """
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward")
        dW = self._x.T @ dz
        # db = dz.sum(axis=0)
        db = batch_sum(dz) if self.bias is not None else None  # that sum as one BLAS call (reductions.py)
        dx = dz @ self.kernel.T if input_gradient else None
        return dW, db, dx
